"""``inspector rules add / activate / list``: rule set versions in the database (activating one rescores
the done calls from their stored transcripts).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from inspector.cli import connect


def cmd_rules_add(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    settings = connect.settings_of(args)
    path = Path(args.path)
    files = rulesets.read_bundle(path) if path.is_dir() else {path.name: path.read_text(encoding="utf-8")}
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
