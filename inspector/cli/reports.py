"""Reports read from the database: ``inspector report`` (the Chinese QA report of stored calls, as
``inspector analyze`` prints it, from their stored transcripts: nothing is transcribed again) and
``scorecards`` (the per-agent scorecards).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector.cli import connect
from inspector.cli.output import EXIT_SOME_FAILED, print_analysis, print_summary, report_failure
from inspector.errors import InspectorError


def cmd_report(args: argparse.Namespace) -> int:
    from inspector.reports.stored_calls import stored_analyses

    settings = connect.settings_of(args)
    db = connect.database(settings)
    analyses: list[Any] = []
    failed = 0
    for call_id, item in stored_analyses(db, settings, args.call_ids or None):
        if isinstance(item, InspectorError):
            failed += 1
            report_failure({"call_id": call_id}, item, args.format)
            continue
        analyses.append(item)
        print_analysis(item, args.format, {"call_id": call_id})
    if not args.call_ids and not analyses and args.format == "table":
        print("没有已完成质检的通话")
    print_summary(analyses, args.format)
    return EXIT_SOME_FAILED if failed else 0


def cmd_scorecards(args: argparse.Namespace) -> int:
    from datetime import date

    from inspector.reports.agent_summary import agents_summary

    db = connect.database(connect.settings_of(args))
    try:
        date_from = date.fromisoformat(args.date_from) if args.date_from else None
        date_to = date.fromisoformat(args.date_to) if args.date_to else None
    except ValueError as err:
        print(f"错误：日期应为 YYYY-MM-DD：{err}", file=sys.stderr)
        return 2
    with db.session() as session:
        table = agents_summary(session, date_from, date_to, team_id=args.team)
    if args.format == "csv":
        print(table.to_csv(index=False), end="")
    elif table.empty:
        print("没有已完成质检的通话")
    else:
        from inspector.reports.call_report import RATE_COLUMNS_ZH

        shown = table.copy()
        for column in RATE_COLUMNS_ZH.values():
            if column in shown:
                shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:.0%}")  # NaN: no calls
        print(shown.to_string(index=False))
    return 0


def add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="已完成通话的质检报告（来自数据库，复用已存转写，不重新识别）")
    p.add_argument("call_ids", nargs="*", metavar="CALL_ID", help="通话编号（默认：全部已完成的通话）")
    p.add_argument("--format", choices=["table", "json"], default="table",
                   help="table：逐通报告并在最后输出坐席汇总（同 analyze）；json：每通一行 JSON")
    p.set_defaults(func=cmd_report)


def add_scorecards(sub: Any) -> None:
    p = sub.add_parser("scorecards", help="各坐席成绩汇总（来自数据库）")
    p.add_argument("--from", dest="date_from", default=None, help="开始日期 YYYY-MM-DD（含）")
    p.add_argument("--to", dest="date_to", default=None, help="结束日期 YYYY-MM-DD（含）")
    p.add_argument("--team", default=None, help="只看该班组")
    p.add_argument("--format", choices=["table", "csv"], default="table")
    p.set_defaults(func=cmd_scorecards)
