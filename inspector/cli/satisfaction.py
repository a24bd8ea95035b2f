"""``inspector satisfaction import FILE``: post-call surveys (满意度回访) from a CSV file, matched to calls
(``inspector.intake.survey``, ``inspector.people.satisfaction``). Every row not imported is printed with its
line and reason, and the exit code is then 1, as ``inspector import`` does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inspector.cli import connect


def cmd_satisfaction_import(args: argparse.Namespace) -> int:
    from inspector.intake.survey import SurveyColumns, read_surveys
    from inspector.people.satisfaction import import_surveys
    from inspector.store.db import utcnow

    settings = connect.settings_of(args)
    columns, named = SurveyColumns.parse(args.columns) if args.columns else (SurveyColumns(), frozenset())
    found = read_surveys(Path(args.file), ZoneInfo(settings.timezone), columns, named)
    db = connect.database(settings)
    with db.session() as session:
        result = import_surveys(session, found.rows, settings.satisfaction, source="csv", now=utcnow(),
                                errors=found.errors)  # fmt: skip
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(f"满意度导入完成：导入 {result.imported} 条（其中替换原有回访 {result.replaced} 条），"
              f"未导入 {len(result.errors)} 行")  # fmt: skip
        for error in result.errors:
            print(f"{args.file}:{error.line}: {error.reason}")
    return 1 if result.errors else 0


def add_satisfaction(sub: Any) -> None:
    p = sub.add_parser("satisfaction", help="满意度回访：导入并与通话关联")
    s_sub = p.add_subparsers(dest="satisfaction_command", required=True)
    q = s_sub.add_parser("import", help="导入满意度 CSV（UTF-8 或 GBK；默认列 call_id,csat,nps,comment）")
    q.add_argument("file", metavar="FILE.csv")
    q.add_argument("--columns", default=None, metavar="SPEC",
                   help="列映射，如 call_id=通话编号,csat=满意度,nps=推荐值,comment=评价；无通话编号时用 "
                        "caller=来电号码,answered_at=回访时间 按号码和时间匹配")  # fmt: skip
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.set_defaults(func=cmd_satisfaction_import)
