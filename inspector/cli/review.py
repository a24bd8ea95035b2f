"""``inspector review sample``: add a week's calls to the review queue (复核) by the sampling policy.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from zoneinfo import ZoneInfo

from inspector.cli import connect


def cmd_review_sample(args: argparse.Namespace) -> int:
    from datetime import date, datetime, timedelta

    from inspector.people import review_queue

    settings = connect.settings_of(args)
    if args.week:
        try:
            day = date.fromisoformat(args.week)
        except ValueError:
            print(f"错误：--week 应为日期 YYYY-MM-DD，实际为 {args.week!r}", file=sys.stderr)
            return 2
    else:  # the last complete local week
        day = review_queue.week_monday(datetime.now(ZoneInfo(settings.timezone)).date()) - timedelta(days=7)
    monday = review_queue.week_monday(day)
    db = connect.database(settings)
    with db.session() as session:
        added = review_queue.sample_week(session, settings.review, monday)
    print(f"已为 {monday.isoformat()} 起的一周抽样，新增 {added} 通待复核通话")
    return 0


def add_review(sub: Any) -> None:
    p = sub.add_parser("review", help="复核队列")
    review_sub = p.add_subparsers(dest="review_command", required=True)
    q = review_sub.add_parser("sample", help="按抽样策略把一周的通话加入复核队列（可重复执行）")
    q.add_argument("--week", default=None, help="该周任意一天 YYYY-MM-DD（默认上一个完整的本地周）")
    q.set_defaults(func=cmd_review_sample)
