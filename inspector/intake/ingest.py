"""Batch import: recordings found by ``inspector.intake.scan.scan`` → audio store → calls → queue.

Each recording is hashed (sha256) and kept once in the audio store; the same recording imported again,
or already uploaded, is counted as a duplicate and changes nothing. Files that cannot be used and CDR
rows that cannot be read are listed in the summary with their reason — nothing is dropped silently.
Audio is not decoded here (that would cost seconds per thousand files); a recording that turns out
to be corrupt fails in the worker with its reason and stays visible as a failed call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from inspector.intake.placing import metadata_location
from inspector.intake.projects import ProjectCatalog
from inspector.intake.scan import ImportItem, SkippedFile
from inspector.privacy.retention import discard_purged_duplicate
from inspector.store import calls as store
from inspector.store.blobs import AudioStore
from inspector.store.db import Database

BATCH = 1000  # calls registered per transaction


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)  # new call ids
    duplicates: list[tuple[Path, str]] = field(default_factory=list)  # (file, existing call id)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file or CDR line, reason)
    enqueued: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "imported": len(self.imported),
            "duplicates": len(self.duplicates),
            "skipped": [{"file": str(p), "reason": r} for p, r in self.skipped],
            "enqueued": self.enqueued,
        }


def _hash_and_store(audio_store: AudioStore, item: ImportItem) -> tuple[ImportItem, str, int] | tuple[Path, str]:
    try:
        size = item.path.stat().st_size
        digest = audio_store.put_file(item.path, item.path.suffix)
    except OSError as err:
        return item.path, f"无法读取：{err.strerror or err}"
    return item, digest, size


def _new_call(
    item: ImportItem, digest: str, size: int, default_agent: str | None, team: str | None,
    catalog: ProjectCatalog | None,
) -> store.NewCall:
    meta = item.metadata
    return store.NewCall(
        audio_sha256=digest,
        audio_bytes=size,
        audio_name=item.path.name,
        source="import",
        agent_id=meta.agent_id or default_agent or "",
        call_id=meta.call_id,
        started_at=meta.started_at,
        direction=meta.direction,
        caller=meta.caller,
        duration_s=meta.duration_s,
        team_id=team,
        **metadata_location(meta.project, meta.building, meta.unit, catalog),
    )


def import_recordings(
    found: Iterable[ImportItem | SkippedFile],
    *,
    db: Database,
    audio_store: AudioStore,
    tz: object,
    enqueue: Callable[[Sequence[str]], int] | None,
    default_agent: str | None = None,
    team: str | None = None,
    catalog: ProjectCatalog | None = None,
    progress: Callable[[int], None] | None = None,
    threads: int = min(8, (os.cpu_count() or 2) * 2),
) -> ImportSummary:
    """Register every usable recording and enqueue the new calls (``enqueue`` None: register only).

    ``catalog``: the company's projects, to store a project named in the CDR or file name by its id."""
    summary = ImportSummary()
    items: list[ImportItem] = []
    for entry in found:
        if isinstance(entry, SkippedFile):
            summary.skipped.append((entry.path, entry.reason))
        else:
            items.append(entry)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            stored: list[tuple[ImportItem, str, int]] = []
            for result in pool.map(lambda it: _hash_and_store(audio_store, it), batch):
                if len(result) == 2:
                    summary.skipped.append(result)  # type: ignore[arg-type]
                else:
                    stored.append(result)  # type: ignore[arg-type]
            new_calls = [_new_call(item, digest, size, default_agent, team, catalog) for item, digest, size in stored]
            with db.session() as session:
                registered = store.register_calls(session, new_calls, tz)  # type: ignore[arg-type]
            new_ids: list[str] = []
            for (item, digest, _), reg in zip(stored, registered, strict=True):
                if reg.error:
                    summary.skipped.append((item.path, reg.error))
                elif reg.created:
                    new_ids.append(reg.call_id)
                else:
                    summary.duplicates.append((item.path, reg.call_id))
                    discard_purged_duplicate(db, audio_store, digest)  # a purged recording is not brought back
            summary.imported.extend(new_ids)
            if enqueue is not None and new_ids:
                summary.enqueued += enqueue(new_ids)
            if progress is not None:
                progress(len(batch))
    return summary
