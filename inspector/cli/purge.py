"""``inspector purge [--dry-run]``: the retention purge (``inspector.privacy.retention``) run once, to the end,
with the periods of ``retention.*`` (environment or ``inspector.toml``). It prints one line of what it removed
(``--dry-run``: what it would remove; ``--format json``: one JSON object); exit code 1 when a recording could
not be removed (the line says how many; the log names them), 0 otherwise, also when no period is set.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from inspector.cli import connect
from inspector.cli.output import EXIT_SOME_FAILED


def cmd_purge(args: argparse.Namespace) -> int:
    from inspector.privacy.retention import purge, retention_enabled
    from inspector.store.blobs import LocalAudioStore
    from inspector.store.db import utcnow

    settings = connect.settings_of(args)
    if not retention_enabled(settings.retention):
        if args.format == "json":
            print(json.dumps({"dry_run": args.dry_run, "retention": None}, ensure_ascii=False))
        else:
            print("未设置保留期限（retention.original_audio_days / masked_audio_days / transcript_days），全部永久保留")
        return 0
    db = connect.database(settings)
    audio = LocalAudioStore(settings.audio_store_dir)
    try:
        report = purge(db, audio, settings.retention, utcnow(), dry_run=args.dry_run)
    finally:
        db.dispose()
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.summary())
    return EXIT_SOME_FAILED if report.failed else 0


def add_purge(sub: Any) -> None:
    p = sub.add_parser("purge", help="按保留期限清除过期的原始录音、脱敏录音和转写（评分与扣分明细保留）")
    p.add_argument("--dry-run", action="store_true", help="只统计将清除的数量，不做任何改动")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_purge)
