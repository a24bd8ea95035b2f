"""The retention purge (个人信息保护法: personal data is kept no longer than needed).

``settings.retention`` gives three periods in days (``0`` or None: kept forever, the default):

- ``original_audio_days``: the recording as it arrived is removed from the audio store and the call gets
  ``audio_purged_at``;
- ``masked_audio_days``: the masked copies (``masked_audio`` rows, ``inspector.privacy.audio``) are removed,
  blob and row;
- ``transcript_days``: the transcript (``transcripts``), its utterance rows and the phrases cut from them
  (``call_phrases``) are deleted and the call gets ``transcript_purged_at``.

Every period counts from the call's age: its start time when the PBX gave one, else when it was registered
(naive UTC, like every stored time). The masked copies go by the call's age too, not by when they were
made: a copy is made on demand, and one made yesterday of a two-year-old call holds the same personal data
as the call. Only calls whose processing ended (done or failed) are purged, never a queued or processing
one. Analyses, findings, reviews and the ``agent_days`` rollup are not touched: scorecards stay the same.

A blob is removed only when nothing else still uses it: an original whose bytes are also a masked copy's
(a recording without personal data masks to itself) stays until that copy goes, and a masked copy shared by
another row or by a call's unpurged original stays. On the local store the check runs under the blob's
exclusive lock (``LocalAudioStore.delete_unless``), so an upload or a masking job that is storing the same
bytes finishes first.

The purge works in batches of ``purge_batch`` calls (or masked copies), one transaction each, blobs first:
a run that dies between a blob and its row leaves a row that the next run finishes (removing a blob that is
gone already does nothing). It is idempotent, and two runs at once (two workers, a worker and
``inspector purge``) do not count twice: a row is marked or deleted by the run whose guarded statement
changed it, and bytes count for the run that found the blob. ``dry_run`` counts what a run would remove and
changes nothing.

Workers run it in their maintenance (``purge_in_maintenance``) at most once per ``PURGE_INTERVAL_S`` over
all workers (a Redis lock), each time for at most ``MAINTENANCE_BUDGET_S``; the rest of a backlog is left
to the next maintenance. ``inspector purge [--dry-run]`` runs it to the end.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import ColumnElement, delete, func, select, update

from inspector.settings import RetentionSettings, Settings
from inspector.store.blobs import AudioStore, LocalAudioStore
from inspector.store.db import Database, chunks, utcnow
from inspector.store.phrases import delete_phrases
from inspector.store.schema import Call, MaskedAudio, TranscriptRecord, UtteranceRecord
from inspector.vocab import CallStatus

log = logging.getLogger(__name__)

# Calls still being processed are never purged. Written as NOT IN (queued, processing), i.e. done or failed:
# SQLite would take ``status IN (done, failed)`` to ix_calls_status_updated and sort every ended call for each
# batch (over 20 minutes for a dry run of 1,000,000 calls); NOT IN lets it walk the primary key.
ACTIVE = (CallStatus.QUEUED.value, CallStatus.PROCESSING.value)
PURGE_INTERVAL_S = 3600  # workers purge at most once an hour (all of them together)
MAINTENANCE_BUDGET_S = 30.0  # seconds a worker's maintenance spends purging before it takes jobs again


class PurgeKind(enum.StrEnum):
    ORIGINAL_AUDIO = "original_audio"
    MASKED_AUDIO = "masked_audio"
    TRANSCRIPT = "transcript"


LABELS: dict[PurgeKind, tuple[str, str]] = {  # (name, measure word) in the summary line
    PurgeKind.ORIGINAL_AUDIO: ("原始录音", "个"),
    PurgeKind.MASKED_AUDIO: ("脱敏录音", "个"),
    PurgeKind.TRANSCRIPT: ("转写", "份"),
}


class RedisLock(Protocol):
    """What ``purge_in_maintenance`` needs of a Redis connection."""

    def set(self, name: str, value: str, *, nx: bool, ex: int) -> Any: ...
    def delete(self, *names: str) -> Any: ...


@dataclass
class KindReport:
    """What one kind's pass removed (or, in a dry run, would remove)."""

    kind: PurgeKind
    days: int | None  # the retention period; None: kept forever (the pass did not run)
    count: int = 0  # calls whose original / transcript was purged; masked copies removed
    bytes: int = 0  # bytes removed from the audio store (0 for transcripts)
    failed: int = 0  # blobs that could not be removed (logged; the next run tries again)

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "count": self.count, "bytes": self.bytes, "failed": self.failed}


@dataclass
class PurgeReport:
    dry_run: bool
    original_audio: KindReport
    masked_audio: KindReport
    transcripts: KindReport
    complete: bool = True  # False: stopped at its time budget, the rest is left for the next run

    @property
    def kinds(self) -> tuple[KindReport, ...]:
        return (self.original_audio, self.masked_audio, self.transcripts)

    @property
    def bytes_freed(self) -> int:
        return sum(k.bytes for k in self.kinds)

    @property
    def failed(self) -> int:
        return sum(k.failed for k in self.kinds)

    @property
    def removed(self) -> int:
        return sum(k.count for k in self.kinds)

    def summary(self) -> str:
        """One Chinese line, e.g. ``已清除：原始录音 12 个（34.5 MB），脱敏录音 3 个（1.2 MB），转写 12 份``."""
        parts = []
        for kind in self.kinds:
            name, unit = LABELS[kind.kind]
            if kind.days is None:
                parts.append(f"{name} 永久保留")
                continue
            part = f"{name} {kind.count} {unit}"
            if kind.kind != PurgeKind.TRANSCRIPT:
                part += f"（{format_bytes(kind.bytes)}）"
            if kind.failed:
                part += f"，{kind.failed} 个删除失败（见日志）"
            parts.append(part)
        line = ("将清除：" if self.dry_run else "已清除：") + "，".join(parts)
        if not self.complete:
            line += "；未清完，其余下次继续"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "complete": self.complete,
            "original_audio": self.original_audio.to_dict(),
            "masked_audio": self.masked_audio.to_dict(),
            "transcripts": self.transcripts.to_dict(),
            "bytes_freed": self.bytes_freed,
        }


@dataclass
class _Clock:
    """The purge's ``now`` (what it compares ages with and stamps) and its optional deadline."""

    now: datetime
    deadline: float | None = None  # time.monotonic() value
    stopped: bool = field(default=False, init=False)

    def out_of_time(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.stopped = True
        return self.stopped


def format_bytes(n: int) -> str:
    """``34.5 MB`` (binary units, one decimal), ``512 字节``."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} 字节"


def period_days(days: int | None) -> int | None:
    """A retention period as set: ``0`` and None both mean kept forever (None)."""
    return days or None


def retention_enabled(settings: RetentionSettings) -> bool:
    """Whether any retention period is set (otherwise the purge has nothing to do)."""
    days = (settings.original_audio_days, settings.masked_audio_days, settings.transcript_days)
    return any(period_days(d) is not None for d in days)


def _ended() -> ColumnElement[bool]:
    """The call's processing has ended (done or failed)."""
    return Call.status.not_in(ACTIVE)


def call_age() -> ColumnElement[datetime]:
    """What a call's age counts from: its start time, else when it was registered."""
    return func.coalesce(Call.started_at, Call.created_at)


def purge(
    db: Database,
    audio: AudioStore,
    settings: RetentionSettings,
    now: datetime,
    *,
    dry_run: bool = False,
    max_seconds: float | None = None,
) -> PurgeReport:
    """Purge what is older than its retention period at ``now`` (naive UTC); see the module docstring.

    ``max_seconds`` bounds the run (checked between batches; the report is then ``complete=False``)."""
    clock = _Clock(now, None if max_seconds is None else time.monotonic() + max_seconds)
    report = PurgeReport(
        dry_run,
        KindReport(PurgeKind.ORIGINAL_AUDIO, period_days(settings.original_audio_days)),
        KindReport(PurgeKind.MASKED_AUDIO, period_days(settings.masked_audio_days)),
        KindReport(PurgeKind.TRANSCRIPT, period_days(settings.transcript_days)),
    )
    batch = settings.purge_batch
    if report.original_audio.days is not None:
        _purge_originals(db, audio, report.original_audio, clock, batch, dry_run)
    if report.masked_audio.days is not None and not clock.stopped:
        _purge_masked(db, audio, report.masked_audio, clock, batch, dry_run)
    if report.transcripts.days is not None and not clock.stopped:
        _purge_transcripts(db, report.transcripts, clock, batch, dry_run)
    report.complete = not clock.stopped
    if report.removed or report.failed:
        log.info("retention purge: %s", report.summary())
    return report


def purge_in_maintenance(
    db: Database, audio: AudioStore, settings: Settings, connection: RedisLock, lock: str, holder: str
) -> PurgeReport | None:
    """The workers' maintenance step: purge when a period is set and no worker purged within the last
    ``PURGE_INTERVAL_S`` (the Redis key ``lock``, held by ``holder``), for at most ``MAINTENANCE_BUDGET_S``.

    None when it did not run. Errors are the caller's to log; an unfinished run frees the lock, so the next
    maintenance (any worker's) goes on with the backlog."""
    if not retention_enabled(settings.retention):
        return None
    if not connection.set(lock, holder, nx=True, ex=PURGE_INTERVAL_S):
        return None
    report = purge(db, audio, settings.retention, utcnow(), max_seconds=MAINTENANCE_BUDGET_S)
    if not report.complete:
        connection.delete(lock)
    return report


# --- the three passes ----------------------------------------------------------------------------------


def _expired_calls(
    db: Database, purged_at: Any, cutoff: datetime, batch: int, clock: _Clock
) -> Iterator[list[tuple[str, str]]]:
    """Batches of (id, audio sha256) of ended calls older than ``cutoff`` whose ``purged_at`` column is
    unset, by id (keyset paging: a dry run, or a row that failed, never comes back in the same run)."""
    after = ""
    while not clock.out_of_time():
        with db.session() as session:
            rows = session.execute(
                select(Call.id, Call.audio_sha256)
                .where(Call.id > after, _ended(), purged_at.is_(None), call_age() < cutoff)
                .order_by(Call.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        yield [(call_id, digest) for call_id, digest in rows]
        after = rows[-1][0]


def _purge_originals(
    db: Database, audio: AudioStore, report: KindReport, clock: _Clock, batch: int, dry_run: bool
) -> None:
    assert report.days is not None
    cutoff = clock.now - timedelta(days=report.days)
    for rows in _expired_calls(db, Call.audio_purged_at, cutoff, batch, clock):
        ids = {call_id for call_id, _ in rows}
        removed = _remove_blobs(audio, rows, lambda digest, ids=ids: partial(_original_in_use, db, digest, ids), report,
                                dry_run)  # fmt: skip
        if dry_run:
            report.count += len(removed)
            continue
        with db.session() as session:
            for chunk in chunks(removed):
                result = session.execute(
                    update(Call)
                    .where(Call.id.in_(chunk), Call.audio_purged_at.is_(None), _ended())
                    .values(audio_purged_at=clock.now)
                )
                report.count += result.rowcount


def _purge_masked(
    db: Database, audio: AudioStore, report: KindReport, clock: _Clock, batch: int, dry_run: bool
) -> None:
    assert report.days is not None
    cutoff = clock.now - timedelta(days=report.days)
    after = 0
    while not clock.out_of_time():
        with db.session() as session:
            rows = session.execute(
                select(MaskedAudio.id, MaskedAudio.masked_sha256)
                .join(Call, Call.id == MaskedAudio.call_id)
                .where(MaskedAudio.id > after, _ended(), call_age() < cutoff)
                .order_by(MaskedAudio.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        after = rows[-1][0]
        ids = {row_id for row_id, _ in rows}
        removed = _remove_blobs(audio, rows, lambda digest, ids=ids: partial(_masked_in_use, db, digest, ids), report,
                                dry_run)  # fmt: skip
        if dry_run:
            report.count += len(removed)
            continue
        with db.session() as session:
            for chunk in chunks(removed):
                report.count += session.execute(delete(MaskedAudio).where(MaskedAudio.id.in_(chunk))).rowcount


def _purge_transcripts(db: Database, report: KindReport, clock: _Clock, batch: int, dry_run: bool) -> None:
    """Transcripts and utterances of expired calls; every such call is marked, with a transcript or not (a
    failed call may have none), and ``count`` is the transcripts deleted."""
    assert report.days is not None
    cutoff = clock.now - timedelta(days=report.days)
    for rows in _expired_calls(db, Call.transcript_purged_at, cutoff, batch, clock):
        with db.session() as session:
            for chunk in chunks([call_id for call_id, _ in rows]):
                if dry_run:
                    stored = (
                        select(func.count()).select_from(TranscriptRecord).where(TranscriptRecord.call_id.in_(chunk))
                    )
                    report.count += session.scalar(stored) or 0
                    continue
                # Mark first, guarded: a concurrent run (or a call that was queued again meanwhile) gets none.
                marked = list(
                    session.scalars(
                        update(Call)
                        .where(Call.id.in_(chunk), Call.transcript_purged_at.is_(None), _ended())
                        .values(transcript_purged_at=clock.now)
                        .returning(Call.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                if not marked:
                    continue
                session.execute(delete(UtteranceRecord).where(UtteranceRecord.call_id.in_(marked)))
                delete_phrases(session, marked)  # cut from the transcript's words: they go with it
                deleted = session.execute(delete(TranscriptRecord).where(TranscriptRecord.call_id.in_(marked)))
                report.count += deleted.rowcount


# --- blobs ---------------------------------------------------------------------------------------------


def _original_in_use(db: Database, digest: str, purging: set[str]) -> bool:
    """An original's bytes are still needed: a masked copy has the same bytes, or a call outside this batch
    (the sha256 is unique among calls, so none should) still has them as its unpurged recording."""
    with db.session() as session:
        if session.scalar(select(MaskedAudio.id).where(MaskedAudio.masked_sha256 == digest).limit(1)) is not None:
            return True
        others = session.scalars(select(Call.id).where(Call.audio_sha256 == digest, Call.audio_purged_at.is_(None)))
        return bool(set(others) - purging)


def _masked_in_use(db: Database, digest: str, purging: set[int]) -> bool:
    """A masked copy's bytes are still needed: another masked row outside this batch, or a call's unpurged
    original with the same bytes."""
    with db.session() as session:
        rows = session.scalars(select(MaskedAudio.id).where(MaskedAudio.masked_sha256 == digest))
        if set(rows) - purging:
            return True
        call = select(Call.id).where(Call.audio_sha256 == digest, Call.audio_purged_at.is_(None)).limit(1)
        return session.scalar(call) is not None


def _remove_blobs(
    audio: AudioStore, rows: Sequence[Any], in_use_of: Callable[[str], Callable[[], bool]], report: KindReport,
    dry_run: bool,
) -> list[Any]:  # fmt: skip
    """Remove each (key, digest) row's blob unless in use; the keys of those removed, counted in ``report``."""
    removed: list[Any] = []
    for key, digest in rows:
        freed = _remove_blob(audio, digest, in_use_of(digest), dry_run)
        if freed is None:
            report.failed += 1
            continue
        report.bytes += freed
        removed.append(key)
    return removed


def _remove_blob(audio: AudioStore, digest: str, in_use: Callable[[], bool], dry_run: bool) -> int | None:
    """Remove ``digest`` from the store unless ``in_use()``; the bytes freed (0: absent or still in use), or
    None when removing it failed (logged). A dry run only measures."""
    freed = 0

    def keep() -> bool:
        nonlocal freed
        if not audio.exists(digest) or in_use():
            return True
        freed = audio.size(digest)
        return dry_run

    try:
        if isinstance(audio, LocalAudioStore) and not dry_run:
            audio.delete_unless(digest, keep)  # under the blob's exclusive lock: writers of it finish first
        elif not keep():
            audio.delete(digest)
    except OSError:
        log.exception("retention purge: could not remove recording %s", digest)
        return None
    return freed


def discard_purged_duplicate(db: Database, audio: AudioStore, digest: str) -> bool:
    """After a recording arrived again (upload or import) whose call's original was purged: remove the blob
    the new arrival put back, unless a call still keeps it or a masked copy is the same bytes. True if removed."""

    def in_use() -> bool:
        with db.session() as session:
            kept = session.scalar(
                select(Call.id).where(Call.audio_sha256 == digest, Call.audio_purged_at.is_(None)).limit(1)
            )
            masked = session.scalar(select(MaskedAudio.id).where(MaskedAudio.masked_sha256 == digest).limit(1))
            return kept is not None or masked is not None

    with db.session() as session:
        purged = session.scalar(
            select(Call.id).where(Call.audio_sha256 == digest, Call.audio_purged_at.is_not(None)).limit(1)
        )
    if purged is None:
        return False
    return bool(_remove_blob(audio, digest, in_use, dry_run=False))
