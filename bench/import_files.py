"""Batch import benchmark: register and enqueue N PBX recordings, then import the same folder again.

    .venv/bin/python bench/import_files.py --files 10000 --seconds 10

Writes N distinct WAV files (8 kHz 16-bit mono, ``--seconds`` long, Asterisk MixMonitor names) into a
temporary folder, then runs the same path as ``inspector import``: scan → sha256 + audio store →
register in a fresh SQLite database (or ``--db URL``) → enqueue on real Redis (a scratch queue that is
deleted afterwards). Prints the seconds of each phase for the first import and for the re-import.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.intake.ingest import import_recordings  # noqa: E402
from inspector.intake.scan import scan  # noqa: E402
from inspector.service.call_job import enqueue_calls  # noqa: E402
from inspector.service.queue import connect_redis, make_queue  # noqa: E402
from inspector.settings import Settings  # noqa: E402
from inspector.store.blobs import LocalAudioStore  # noqa: E402
from inspector.store.db import Database  # noqa: E402


def wav_bytes(seconds: float, seed: int) -> bytes:
    rate = 8000
    n = int(rate * seconds)
    # Cheap distinct content: a counter-seeded sawtooth (no numpy needed, unique per file).
    frame = struct.pack("<h", seed % 30000) + struct.pack("<h", -(seed % 30000))
    data = (frame * (n // 2 + 1))[: n * 2]
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate,
                                                                                      rate * 2, 2, 16)  # fmt: skip
    return header + b"data" + struct.pack("<I", len(data)) + data


def write_files(folder: Path, count: int, seconds: float) -> None:
    for i in range(count):
        day = 1 + i % 28
        name = f"in-{8001 + i % 200}-138{i:08d}-202403{day:02d}-{9 + i % 9:02d}{i % 60:02d}00-1710466{i:06d}.{i}.wav"
        (folder / name).write_bytes(wav_bytes(seconds, i + 1))


def run(settings: Settings, db: Database, folder: Path) -> dict[str, float]:
    tz = ZoneInfo(settings.timezone)
    queue = make_queue(settings, connect_redis(settings.redis_url))
    t0 = time.perf_counter()
    found = list(scan(folder, tz=tz))
    t1 = time.perf_counter()
    summary = import_recordings(found, db=db, audio_store=LocalAudioStore(settings.audio_store_dir), tz=tz,
                                enqueue=lambda ids: enqueue_calls(db, queue, settings, ids))  # fmt: skip
    t2 = time.perf_counter()
    return {"scan_s": t1 - t0, "register_enqueue_s": t2 - t1, "total_s": t2 - t0,
            "imported": len(summary.imported), "duplicates": len(summary.duplicates),
            "skipped": len(summary.skipped), "enqueued": summary.enqueued}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each recording")
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="inspector-import-") as tmp:
        root = Path(tmp)
        (root / "pbx").mkdir()
        write_files(root / "pbx", args.files, args.seconds)
        queue_name = f"bench-import-{int(time.time())}"
        settings = Settings(data_dir=root / "data", database_url=args.db or f"sqlite:///{root / 'bench.db'}",
                            queue={"name": queue_name})  # fmt: skip
        db = Database(settings.database)
        db.upgrade()
        try:
            size_mb = sum(p.stat().st_size for p in (root / "pbx").iterdir()) / 1e6
            print(f"{args.files} files, {size_mb:.0f} MB, database {db.dialect}")
            for label in ("first import", "re-import"):
                r = run(settings, db, root / "pbx")
                print(f"{label:12s}  scan {r['scan_s']:.2f} s  register+enqueue {r['register_enqueue_s']:.2f} s  "
                      f"total {r['total_s']:.2f} s  imported {r['imported']}  duplicates {r['duplicates']}  "
                      f"skipped {r['skipped']}  enqueued {r['enqueued']}")  # fmt: skip
        finally:
            queue = make_queue(settings, connect_redis(settings.redis_url))
            queue.delete(delete_jobs=True)
            db.dispose()


if __name__ == "__main__":
    main()
