"""The retention purge on SQLite and PostgreSQL, with a real audio store: each kind goes at its own period,
nothing else changes (scorecards, analyses), and runs are idempotent, batched and safe side by side.

Calls go through the production path (``register_calls``, ``claim``, ``save_transcript``, ``save_analysis``
with the default rules, ``finish`` / ``mark_failed``); masked copies are rows plus blobs, as
``inspector.privacy.audio`` leaves them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fakecalls import four_turn_transcript
from sqlalchemy import func, select, update

from inspector.privacy import retention
from inspector.privacy.retention import (
    PurgeReport,
    format_bytes,
    purge,
    purge_in_maintenance,
    retention_enabled,
)
from inspector.qa.analysis import Analyzer, CallAnalysis
from inspector.reports.emerging import PHRASES_VERSION, phrases_of_call
from inspector.reports.scorecards import scorecard
from inspector.settings import QueueSettings, RetentionSettings, Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database
from inspector.store.phrases import save_phrases
from inspector.store.schema import (
    AgentDay,
    Analysis,
    Call,
    CallPhrases,
    MaskedAudio,
    TranscriptRecord,
    UtteranceRecord,
)
from inspector.vocab import CallStatus

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, 12, 0)  # naive UTC, like every stored time
GREETING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
ASK = "我家厨房漏水了，麻烦派人来看看，我的电话是13912345678。"
CARING = "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"
TRANSCRIPTS = {
    "closing": four_turn_transcript((GREETING, ASK, CARING, "感谢您的来电，再见。")),
    "no_closing": four_turn_transcript((GREETING, ASK, CARING, "好的。")),
}
PERIODS = RetentionSettings(original_audio_days=30, masked_audio_days=60, transcript_days=90)


@pytest.fixture(scope="module")
def analyses() -> dict[str, CallAnalysis]:
    analyzer = Analyzer(Settings())
    return {name: analyzer.analyze_transcript(t, "8001") for name, t in TRANSCRIPTS.items()}


@dataclass
class Seeded:
    db: Database
    audio: LocalAudioStore
    analyses: dict[str, CallAnalysis]
    tmp: Path
    rule_set_id: int = 0

    def add(
        self,
        call_id: str,
        age_days: float,
        *,
        status: CallStatus = CallStatus.DONE,
        agent: str = "8001",
        started: bool = True,
        created_age_days: float | None = None,
        masked: int = 0,
        masked_blob: bytes | None = None,
        transcript: str = "closing",
    ) -> str:
        """A call ``age_days`` old (by its start time, or by registration when ``started`` is False) with
        ``masked`` masked copies; returns its recording's sha256."""
        path = self.tmp / f"{call_id}.wav"
        path.write_bytes(f"RIFF{call_id}".encode() * (200 + len(call_id)))
        digest = self.audio.put_file(path, ".wav")
        started_at = NOW - timedelta(days=age_days) if started else None  # naive UTC
        new = store.NewCall(audio_sha256=digest, audio_bytes=path.stat().st_size, audio_name=path.name,
                            source="import", agent_id=agent, call_id=call_id, started_at=started_at)  # fmt: skip
        with self.db.session() as s:
            if not self.rule_set_id:
                self.rule_set_id = rulesets.ensure_default(s, Settings().rules_dir).id
            store.register_calls(s, [new], TZ)
            created = NOW - timedelta(days=age_days if created_age_days is None else created_age_days)
            s.execute(update(Call).where(Call.id == call_id).values(created_at=created))
            if status is CallStatus.QUEUED:
                return digest
            call = store.claim(s, call_id, lease_s=600)
            assert call is not None
            if status is CallStatus.PROCESSING:
                store.save_transcript(s, call_id, TRANSCRIPTS[transcript])  # a worker that died after ASR
                return digest
            if status is CallStatus.FAILED:
                store.mark_failed(s, call_id, "录音无法解码")
                return digest
            store.save_transcript(s, call_id, TRANSCRIPTS[transcript])
            store.save_analysis(s, call, self.analyses[transcript], self.rule_set_id, True)
            save_phrases(s, call_id, phrases_of_call(s, call_id), PHRASES_VERSION)  # as after_analysis does
            store.finish(s, call)
        for n in range(masked):
            self.mask(call_id, f"v{n}", masked_blob)
        return digest

    def mask(self, call_id: str, fingerprint: str, blob: bytes | None = None) -> str:
        path = self.tmp / f"{call_id}-{fingerprint}.masked.wav"
        path.write_bytes(blob if blob is not None else f"MASK{call_id}{fingerprint}".encode() * 150)
        digest = self.audio.put_file(path, ".wav")
        with self.db.session() as s:
            source = s.scalar(select(Call.audio_sha256).where(Call.id == call_id))
            s.add(MaskedAudio(call_id=call_id, source_sha256=source, fingerprint=fingerprint, masked_sha256=digest,
                              masked_bytes=path.stat().st_size, spans=1, created_at=NOW))  # fmt: skip
        return digest

    def state(self) -> dict[str, Any]:
        """Everything the purge may touch: calls' marks, masked rows, transcripts, utterances, blobs."""
        with self.db.session() as s:
            calls = {c.id: (c.audio_purged_at, c.transcript_purged_at) for c in s.scalars(select(Call))}
            masked = sorted(tuple(r) for r in s.execute(select(MaskedAudio.call_id, MaskedAudio.masked_sha256)))
            transcripts = sorted(s.scalars(select(TranscriptRecord.call_id)))
            utterances = s.scalar(select(func.count()).select_from(UtteranceRecord))
        blobs = sorted(p.name for p in self.audio.root.rglob("*") if p.is_file())
        return {"calls": calls, "masked": masked, "transcripts": transcripts, "utterances": utterances, "blobs": blobs}

    def results(self) -> dict[str, Any]:
        """What must survive every purge: analyses, the calls' scores, the rollup, the scorecards."""
        with self.db.session() as s:
            analysis = select(Analysis.call_id, Analysis.total, Analysis.alert, Analysis.hits, Analysis.checks,
                              Analysis.score)  # fmt: skip
            analyses = sorted((tuple(r) for r in s.execute(analysis)), key=repr)
            call = select(Call.id, Call.status, Call.score, Call.alert, Call.analysis_id, Call.day)
            calls = sorted((tuple(r) for r in s.execute(call)), key=repr)
            days = sorted((d.agent_id, d.day, d.calls, d.score_sum, d.missed, d.checks) for d in s.scalars(
                select(AgentDay)))  # fmt: skip
            cards = {agent: card.to_dict() for agent in ("8001", "8002") if (card := scorecard(s, agent, None, None))}
        return {"analyses": analyses, "calls": calls, "days": days, "cards": cards}

    def size(self, digest: str) -> int:
        return self.audio.size(digest)


@pytest.fixture
def seeded(database: Database, tmp_path: Path, analyses: dict[str, CallAnalysis]) -> Seeded:
    return Seeded(database, LocalAudioStore(tmp_path / "audio"), analyses, tmp_path)


def _marks(seeded: Seeded, call_id: str) -> tuple[datetime | None, datetime | None]:
    return seeded.state()["calls"][call_id]


def _masked_of(seeded: Seeded, call_id: str) -> list[str]:
    return [digest for owner, digest in seeded.state()["masked"] if owner == call_id]


def test_each_kind_goes_at_its_own_period(seeded: Seeded) -> None:
    fresh = seeded.add("fresh", 10, masked=1)
    a45 = seeded.add("a45", 45, masked=1)
    a75 = seeded.add("a75", 75, masked=2, transcript="no_closing")
    a120 = seeded.add("a120", 120, masked=1)
    late = seeded.add("late", 120, created_age_days=1)  # an old recording imported yesterday: its start counts
    nostart = seeded.add("nostart", 120, started=False)  # no start time: registered 120 days ago
    recent_start = seeded.add("recent", 5, created_age_days=400)  # started 5 days ago: kept
    masked = {c: _masked_of(seeded, c) for c in ("fresh", "a45", "a75", "a120")}
    sizes_original = sum(seeded.size(d) for d in (a45, a75, a120, late, nostart))
    sizes_masked = sum(seeded.size(d) for c in ("a75", "a120") for d in masked[c])

    report = purge(seeded.db, seeded.audio, PERIODS, NOW)

    assert (report.original_audio.count, report.masked_audio.count, report.transcripts.count) == (5, 3, 3)
    assert report.original_audio.bytes == sizes_original and report.masked_audio.bytes == sizes_masked
    assert report.transcripts.bytes == 0 and report.bytes_freed == sizes_original + sizes_masked
    assert report.complete and not report.dry_run and report.failed == 0
    for digest in (a45, a75, a120, late, nostart):
        assert not seeded.audio.exists(digest)
    for digest in (fresh, recent_start, *masked["fresh"], *masked["a45"]):
        assert seeded.audio.exists(digest)
    for digest in masked["a75"] + masked["a120"]:
        assert not seeded.audio.exists(digest)
    state = seeded.state()
    assert state["calls"]["fresh"] == (None, None) and state["calls"]["recent"] == (None, None)
    assert state["calls"]["a45"] == (NOW, None) and state["calls"]["a75"] == (NOW, None)
    assert state["calls"]["a120"] == (NOW, NOW)
    assert state["calls"]["late"] == (NOW, NOW) and state["calls"]["nostart"] == (NOW, NOW)
    assert {owner for owner, _ in state["masked"]} == {"fresh", "a45"}
    assert state["transcripts"] == ["a45", "a75", "fresh", "recent"]
    with seeded.db.session() as s:
        left = set(s.scalars(select(UtteranceRecord.call_id)))
        phrases_left = set(s.scalars(select(CallPhrases.call_id)))
    assert left == {"a45", "a75", "fresh", "recent"}
    assert phrases_left == left  # the phrases cut from a transcript go with it
    original, masked_size = format_bytes(sizes_original), format_bytes(sizes_masked)
    expected = f"已清除：原始录音 5 个（{original}），脱敏录音 3 个（{masked_size}），转写 3 份"
    assert report.summary() == expected


def test_calls_still_in_processing_are_never_purged(seeded: Seeded) -> None:
    queued = seeded.add("queued", 400, status=CallStatus.QUEUED)
    processing = seeded.add("processing", 400, status=CallStatus.PROCESSING)
    failed = seeded.add("failed", 400, status=CallStatus.FAILED)
    done = seeded.add("done", 400)
    seeded.mask("processing", "p")

    report = purge(seeded.db, seeded.audio, PERIODS, NOW)

    assert (report.original_audio.count, report.masked_audio.count, report.transcripts.count) == (2, 0, 1)
    assert seeded.audio.exists(queued) and seeded.audio.exists(processing)
    assert not seeded.audio.exists(failed) and not seeded.audio.exists(done)
    state = seeded.state()
    assert state["calls"]["queued"] == (None, None) and state["calls"]["processing"] == (None, None)
    assert state["calls"]["failed"] == (NOW, NOW)  # it had no transcript: marked, not counted
    assert state["transcripts"] == ["processing"] and [c for c, _ in state["masked"]] == ["processing"]


def test_dry_run_counts_what_a_run_removes_and_changes_nothing(seeded: Seeded) -> None:
    for n, age in enumerate((10, 45, 75, 120, 200)):
        seeded.add(f"c{n}", age, masked=n % 3, status=CallStatus.FAILED if n == 4 else CallStatus.DONE)
    before, results = seeded.state(), seeded.results()

    dry = purge(seeded.db, seeded.audio, PERIODS, NOW, dry_run=True)

    assert seeded.state() == before and seeded.results() == results
    assert dry.dry_run and dry.removed > 0 and dry.summary().startswith("将清除：")
    real = purge(seeded.db, seeded.audio, PERIODS, NOW)
    assert {**dry.to_dict(), "dry_run": False} == real.to_dict()
    assert seeded.state() != before


def test_purging_is_idempotent_and_batched(seeded: Seeded) -> None:
    for n in range(7):
        seeded.add(f"c{n}", 100 + n, masked=1)
    small = RetentionSettings(original_audio_days=30, masked_audio_days=60, transcript_days=90, purge_batch=2)

    first = purge(seeded.db, seeded.audio, small, NOW)
    after_first = seeded.state()
    second = purge(seeded.db, seeded.audio, small, NOW + timedelta(days=1))

    assert (first.original_audio.count, first.masked_audio.count, first.transcripts.count) == (7, 7, 7)
    assert second.removed == 0 and second.bytes_freed == 0
    assert seeded.state() == after_first  # not even the marks move
    assert after_first["blobs"] == [] and after_first["masked"] == [] and after_first["transcripts"] == []


def test_two_runs_at_once_remove_everything_once(seeded: Seeded) -> None:
    digests = [seeded.add(f"c{n:02d}", 100 + n, masked=1) for n in range(12)]
    total = sum(seeded.size(d) for d in digests) + sum(seeded.size(d) for _, d in seeded.state()["masked"])
    settings = RetentionSettings(original_audio_days=30, masked_audio_days=30, transcript_days=30, purge_batch=3)
    reports: list[PurgeReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        reports.append(purge(seeded.db, seeded.audio, settings, NOW))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(reports) == 2
    assert sum(r.original_audio.count for r in reports) == 12
    assert sum(r.masked_audio.count for r in reports) == 12
    assert sum(r.transcripts.count for r in reports) == 12
    assert sum(r.bytes_freed for r in reports) == total
    assert seeded.state()["blobs"] == [] and purge(seeded.db, seeded.audio, settings, NOW).removed == 0


def test_shared_bytes_stay_while_something_uses_them(seeded: Seeded) -> None:
    # A recording without personal data masks to itself: its original goes at 30 days, the bytes at 60.
    same = seeded.add("same", 45)
    source_bytes = seeded.audio.local_path(same).read_bytes()
    seeded.mask("same", "none", source_bytes)
    # Two expired masked rows sharing a blob (in the same batch): the blob goes.
    seeded.add("old1", 100, masked=1, masked_blob=b"SHARED" * 100)
    seeded.add("old2", 100, masked=1, masked_blob=b"SHARED" * 100)
    # A blob shared by an expired masked row and a recent call's masked row stays.
    seeded.add("old3", 100, masked=1, masked_blob=b"KEPT" * 100)
    seeded.add("new3", 1, masked=1, masked_blob=b"KEPT" * 100)
    [shared_blob] = _masked_of(seeded, "old1")
    [kept_blob] = _masked_of(seeded, "old3")
    assert _masked_of(seeded, "old2") == [shared_blob] and _masked_of(seeded, "new3") == [kept_blob]

    first = purge(seeded.db, seeded.audio, PERIODS, NOW)

    assert _marks(seeded, "same")[0] == NOW and seeded.audio.exists(same)  # purged, bytes still a masked copy
    assert not seeded.audio.exists(shared_blob) and seeded.audio.exists(kept_blob)
    assert first.masked_audio.count == 3  # old1, old2, old3; new3's row stays
    assert _masked_of(seeded, "new3") == [kept_blob] and _masked_of(seeded, "same") == [same]
    assert first.masked_audio.bytes == len(b"SHARED" * 100)

    later = purge(seeded.db, seeded.audio, PERIODS, NOW + timedelta(days=30))
    assert later.masked_audio.count == 1 and later.masked_audio.bytes == len(source_bytes)
    assert not seeded.audio.exists(same) and seeded.audio.exists(kept_blob)


def test_scores_findings_and_scorecards_are_untouched(seeded: Seeded) -> None:
    for n, age in enumerate((5, 40, 70, 100, 130, 160)):
        seeded.add(f"c{n}", age, agent="8001" if n % 2 else "8002", masked=1,
                   transcript="closing" if n % 3 else "no_closing")  # fmt: skip
    before = seeded.results()
    assert before["cards"]["8001"]["calls"] == 3 and before["cards"]["8002"]["calls"] == 3

    report = purge(seeded.db, seeded.audio, PERIODS, NOW)

    assert report.transcripts.count == 3 and report.original_audio.count == 5
    assert seeded.results() == before


def test_zero_or_none_keeps_everything_forever(seeded: Seeded) -> None:
    seeded.add("ancient", 3000, masked=1)
    before = seeded.state()
    for settings in (RetentionSettings(), RetentionSettings(original_audio_days=0, masked_audio_days=0,
                                                            transcript_days=None)):  # fmt: skip
        assert not retention_enabled(settings)
        report = purge(seeded.db, seeded.audio, settings, NOW)
        assert report.removed == 0 and [k.days for k in report.kinds] == [None, None, None]
        assert report.summary() == "已清除：原始录音 永久保留，脱敏录音 永久保留，转写 永久保留"
    assert seeded.state() == before
    only_text = purge(seeded.db, seeded.audio, RetentionSettings(transcript_days=1), NOW)
    assert (only_text.original_audio.days, only_text.transcripts.count) == (None, 1)
    assert only_text.summary() == "已清除：原始录音 永久保留，脱敏录音 永久保留，转写 1 份"


def test_a_blob_that_cannot_be_removed_is_counted_and_retried(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    stuck = seeded.add("stuck", 100)
    seeded.add("other", 100)
    real_delete = LocalAudioStore.delete

    def delete(self: LocalAudioStore, digest: str) -> None:
        if digest == stuck:
            raise PermissionError(13, "Permission denied", digest)
        real_delete(self, digest)

    monkeypatch.setattr(LocalAudioStore, "delete", delete)
    report = purge(seeded.db, seeded.audio, RetentionSettings(original_audio_days=30), NOW)
    assert report.original_audio.failed == 1 and report.original_audio.count == 1
    assert "1 个删除失败" in report.summary()
    assert _marks(seeded, "stuck") == (None, None) and seeded.audio.exists(stuck)
    monkeypatch.setattr(LocalAudioStore, "delete", real_delete)
    again = purge(seeded.db, seeded.audio, RetentionSettings(original_audio_days=30), NOW)
    assert again.original_audio.count == 1 and again.failed == 0 and not seeded.audio.exists(stuck)


def test_a_run_out_of_time_stops_between_batches(seeded: Seeded) -> None:
    for n in range(3):
        seeded.add(f"c{n}", 100)
    report = purge(seeded.db, seeded.audio, PERIODS, NOW, max_seconds=0)
    assert not report.complete and report.removed == 0 and report.summary().endswith("；未清完，其余下次继续")
    assert purge(seeded.db, seeded.audio, PERIODS, NOW, max_seconds=600).original_audio.count == 3


def test_format_bytes() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, int(34.5 * 1024**2), 3 * 1024**3)] == [
        "0 字节", "1023 字节", "1.0 KB", "1.5 KB", "34.5 MB", "3.0 GB",
    ]  # fmt: skip


# --- the workers' maintenance hook -----------------------------------------------------------------------


def _settings(seeded: Seeded, redis_url: str, retention_settings: RetentionSettings) -> Settings:
    return Settings(database_url=seeded.db.url, redis_url=redis_url, data_dir=seeded.tmp / "data",
                    queue=QueueSettings(name="purge-tests"), retention=retention_settings)  # fmt: skip


def test_maintenance_purges_once_per_interval_over_all_workers(seeded: Seeded, redis_url: str) -> None:
    from inspector.service.queue import connect_redis

    seeded.add("old", 100)
    connection = connect_redis(redis_url)
    connection.flushdb()
    try:
        off = _settings(seeded, redis_url, RetentionSettings())
        assert purge_in_maintenance(seeded.db, seeded.audio, off, connection, "lock", "w1") is None
        assert connection.get("lock") is None  # nothing set: nothing locked
        on = _settings(seeded, redis_url, PERIODS)
        report = purge_in_maintenance(seeded.db, seeded.audio, on, connection, "lock", "w1")
        assert report is not None and report.original_audio.count == 1 and report.complete
        assert connection.get("lock") == b"w1" and 0 < connection.ttl("lock") <= retention.PURGE_INTERVAL_S
        seeded.add("old2", 100)
        assert purge_in_maintenance(seeded.db, seeded.audio, on, connection, "lock", "w2") is None  # within the hour
        assert _marks(seeded, "old2") == (None, None)
    finally:
        connection.close()


def test_an_unfinished_maintenance_run_leaves_the_rest_to_the_next(
    seeded: Seeded, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspector.service.queue import connect_redis

    seeded.add("old", 100)
    monkeypatch.setattr(retention, "MAINTENANCE_BUDGET_S", 0.0)
    connection = connect_redis(redis_url)
    connection.flushdb()
    try:
        on = _settings(seeded, redis_url, PERIODS)
        report = purge_in_maintenance(seeded.db, seeded.audio, on, connection, "lock", "w1")
        assert report is not None and not report.complete and connection.get("lock") is None
        monkeypatch.setattr(retention, "MAINTENANCE_BUDGET_S", 600.0)
        report = purge_in_maintenance(seeded.db, seeded.audio, on, connection, "lock", "w2")
        assert report is not None and report.complete and report.original_audio.count == 1
    finally:
        connection.close()


def test_the_worker_runs_the_purge_in_its_maintenance(
    seeded: Seeded, redis_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from inspector.service import worker as worker_module
    from inspector.service.context import WorkerContext
    from inspector.service.queue import connect_redis, make_queue
    from inspector.service.worker import InspectorWorker

    old = seeded.add("old", 100)
    seeded.add("old2", 100)
    settings = _settings(seeded, redis_url, PERIODS)
    connection = connect_redis(redis_url)
    connection.flushdb()
    try:
        worker = InspectorWorker(make_queue(settings, connection), WorkerContext(settings, seeded.db, seeded.audio))
        # The purge goes by the real clock: these calls are years older than their periods.
        with seeded.db.session() as s:
            s.execute(update(Call).values(started_at=datetime(2001, 1, 1), created_at=datetime(2001, 1, 1)))
        worker.run_maintenance_tasks()
        assert not seeded.audio.exists(old) and _marks(seeded, "old")[0] is not None
        assert connection.exists("inspector:purge:purge-tests")

        connection.delete("inspector:purge:purge-tests")

        def fail(*_: object) -> None:
            raise RuntimeError("database down")

        monkeypatch.setattr(worker_module, "purge_in_maintenance", fail)
        with caplog.at_level("ERROR"):
            worker.run_maintenance_tasks()  # logged, not raised
        assert "retention purge failed" in caplog.text
    finally:
        connection.close()


def test_retention_settings_default_to_forever_and_refuse_negative_days(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    defaults = Settings().retention
    assert (defaults.original_audio_days, defaults.masked_audio_days, defaults.transcript_days) == (None, None, None)
    assert not retention_enabled(defaults)
    monkeypatch.setenv("INSPECTOR_RETENTION__MASKED_AUDIO_DAYS", "180")
    assert Settings().retention.masked_audio_days == 180 and retention_enabled(Settings().retention)
    for field, value in (("original_audio_days", -1), ("purge_batch", 0)):
        with pytest.raises(ValidationError):
            RetentionSettings(**{field: value})
