"""``inspector rules add / activate / list / backtest``: rule set versions in the database (activating one
rescores the done calls from their stored transcripts; ``backtest`` shows what a rules folder or file would
change on the stored calls before it is added or activated, writing nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from inspector.cli import connect

CHANGED_CALLS_SHOWN = 50  # changed calls the table lists (JSON lists them all)


def _read_pack(path: Path) -> dict[str, str]:
    """The YAML files of a rules folder, or the one rule file, as ``rules add`` uploads them."""
    from inspector.errors import RuleFileError
    from inspector.store import rulesets

    if path.is_dir():
        return rulesets.read_bundle(path)
    if not path.is_file():
        raise RuleFileError(path, "文件或目录不存在")
    try:
        return {path.name: path.read_text(encoding="utf-8")}
    except UnicodeDecodeError as err:
        raise RuleFileError(path, f"不是 UTF-8 编码的文本（第 {err.start} 字节）") from None


def cmd_rules_add(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    settings = connect.settings_of(args)
    files = _read_pack(Path(args.path))
    db = connect.database(settings)
    with db.session() as session:
        record, created = rulesets.add_ruleset(session, files)
        rule_set_id = record.id
        print(f"{'已添加' if created else '已存在'}规则集 #{record.id} {record.name} v{record.version}"
              f"（{record.rule_count} 条规则）")  # fmt: skip
    if args.activate:
        from inspector.service.rescore import activate_and_rescore

        scheduled = activate_and_rescore(db, connect.queue(settings), settings, rule_set_id)
        print(f"已启用规则集 #{rule_set_id}，{scheduled} 通已完成的通话将按新规则重新评分")
    return 0


def cmd_rules_activate(args: argparse.Namespace) -> int:
    from inspector.service.rescore import activate_and_rescore

    settings = connect.settings_of(args)
    scheduled = activate_and_rescore(connect.database(settings), connect.queue(settings), settings, args.id)
    print(f"已启用规则集 #{args.id}，{scheduled} 通已完成的通话将按新规则重新评分")
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        for r in rulesets.list_rulesets(session):
            mark = "*" if r.active else " "
            print(f"{mark} #{r.id}\t{r.name}\tv{r.version}\t{r.rule_count} 条规则\t{r.created_at:%Y-%m-%d %H:%M}")
    return 0


def cmd_rules_backtest(args: argparse.Namespace) -> int:
    from datetime import date

    from inspector.people import backtest

    try:
        date_from = date.fromisoformat(args.date_from) if args.date_from else None
        date_to = date.fromisoformat(args.date_to) if args.date_to else None
    except ValueError as err:
        print(f"错误：日期应为 YYYY-MM-DD：{err}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("错误：--workers 至少为 1", file=sys.stderr)
        return 2
    files = _read_pack(Path(args.path))
    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        candidate = backtest.candidate_from_files(session, files)  # validated as rules add does
        result = backtest.backtest(session, candidate, date_from, date_to, workers=args.workers)
    if args.format == "json":
        print(json.dumps(backtest.to_dict(result), ensure_ascii=False))
    else:
        _print_backtest(result)
    return 0


def _print_backtest(result: Any) -> None:
    from inspector.qa.scoring import ALERT_NAMES_ZH

    def rate(value: float) -> str:
        return f"{value:.1%}"

    def alert(level: str) -> str:
        return ALERT_NAMES_ZH.get(level, level)

    span = "全部日期" if result.date_from is None and result.date_to is None else (
        f"{result.date_from or '最早'} 至 {result.date_to or '最新'}")  # fmt: skip
    print(f"回测规则集 {result.candidate} v{result.candidate_version}（{span}）：{result.calls} 通已完成的通话"
          f"（{result.skipped} 通无转写或质检结果，未计入），用时 {result.seconds:.1f} 秒；未写入数据库")  # fmt: skip
    if not result.calls:
        return
    print("\n规则\t名称\t命中通数（现）\t命中通数（回测）\t命中率（现）\t命中率（回测）\t复核精确率")
    for r in result.rules:
        precision = "-" if r.precision_estimate is None else f"{r.precision_estimate:.0%}"
        mark = "" if r.in_candidate else "（已删除）"
        print(f"{r.rule_id}\t{r.name}{mark}\t{r.hits_before}\t{r.hits_after}\t{rate(r.hit_rate_before)}\t"
              f"{rate(r.hit_rate_after)}\t{precision}")  # fmt: skip
    print("\n坐席\t通话数\t平均分（现）\t平均分（回测）\t变化")
    for a in result.agents:
        print(f"{a.agent_id}\t{a.calls}\t{a.score_before:.1f}\t{a.score_after:.1f}\t"
              f"{a.score_after - a.score_before:+.1f}")  # fmt: skip
    print(f"\n得分或预警等级会变化的通话：{result.calls_changed_total} 通")
    if not result.calls_changed:
        return
    print("通话\t坐席\t日期\t得分（现）\t得分（回测）\t预警（现）\t预警（回测）")
    for c in result.calls_changed[:CHANGED_CALLS_SHOWN]:
        alerts = f"{alert(c.alert_before)}\t{alert(c.alert_after)}"
        print(f"{c.call_id}\t{c.agent_id}\t{c.day or '-'}\t{c.score_before:g}\t{c.score_after:g}\t{alerts}")
    hidden = len(result.calls_changed) - CHANGED_CALLS_SHOWN
    if hidden > 0:
        print(f"……另有 {hidden} 通（--format json 列出全部）")


def add_rules(sub: Any) -> None:
    p = sub.add_parser("rules", help="规则集管理（数据库中的版本）")
    rules_sub = p.add_subparsers(dest="rules_command", required=True)
    q = rules_sub.add_parser("add", help="校验并登记规则目录或文件")
    q.add_argument("path", metavar="DIR|FILE")
    q.add_argument("--activate", action="store_true", help="登记后立即启用并重新评分")
    q.set_defaults(func=cmd_rules_add)
    q = rules_sub.add_parser("activate", help="启用规则集并对已完成通话重新评分（复用转写，不重新识别）")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_rules_activate)
    q = rules_sub.add_parser("list", help="列出规则集（* 为生效中）")
    q.set_defaults(func=cmd_rules_list)
    q = rules_sub.add_parser(
        "backtest", help="回测：用规则目录或文件重新评分已存的已完成通话（复用转写），与现有结果对比，不写入数据库"
    )
    q.add_argument("path", metavar="DIR|FILE")
    q.add_argument("--from", dest="date_from", default=None, help="开始日期 YYYY-MM-DD（含，按通话的本地日期）")
    q.add_argument("--to", dest="date_to", default=None, help="结束日期 YYYY-MM-DD（含）")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                   help="评分进程数（通话较多时并行，默认为 CPU 核数，最多 4）")  # fmt: skip
    q.set_defaults(func=cmd_rules_backtest)
