"""``inspector org``: the organization hierarchy (组织架构, ``inspector.people.org``): import it from YAML, show
it, and move an agent to another team from a date on (``inspector.store.memberships``)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from inspector.cli import connect
from inspector.cli.output import EXIT_USER_ERROR


def cmd_org_import(args: argparse.Namespace) -> int:
    from inspector.people.org import apply_org, load_org
    from inspector.store import audit

    spec = load_org(args.file)  # a problem: RuleFileError with file and line, before anything is written
    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        tree = apply_org(session, spec)
        audit.record(session, actor=f"cli:{getpass.getuser()}", role="admin", action="org.replace", entity="org",
                     entity_id=spec.id, after={"nodes": len(tree.nodes), "file": str(args.file)})  # fmt: skip
    counts: dict[str, int] = {}
    for node in tree.nodes.values():
        counts[node.level.value] = counts.get(node.level.value, 0) + 1
    regions, projects, teams = (counts.get(level, 0) for level in ("region", "project", "team"))
    print(f"已导入组织架构 {spec.name or spec.id}：区域 {regions} 个，项目 {projects} 个，班组 {teams} 个")
    return 0


def cmd_org_show(args: argparse.Namespace) -> int:
    from inspector.people.org import level_name
    from inspector.store.org import load_tree

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        tree = load_tree(session)
    roots = tree.kids(None)
    if not roots:
        print("尚未配置组织架构（inspector org import FILE.yaml）")
        return 0
    for root in roots:
        for node in tree.subtree(root.id):
            depth = len(tree.path(node.id)) - 1
            print(f"{'  ' * depth}{level_name(node.level)} {node.name}（{node.id}）")
    return 0


def cmd_org_move(args: argparse.Namespace) -> int:
    from inspector.store.memberships import MembershipError, move_agent

    settings = connect.settings_of(args)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    try:
        start = date.fromisoformat(args.date_from) if args.date_from else today
    except ValueError:
        print(f"错误：--from {args.date_from!r} 不是日期 YYYY-MM-DD", file=sys.stderr)
        return EXIT_USER_ERROR
    team = None if args.team == "-" else args.team
    db = connect.database(settings)
    try:
        with db.session() as session:
            move_agent(session, args.agent_id, team, start, today, actor=f"cli:{getpass.getuser()}")
    except MembershipError as err:
        print(f"错误：{err}", file=sys.stderr)
        return EXIT_USER_ERROR
    where = f"调入班组 {team}" if team else "不在任何班组"
    print(f"坐席 {args.agent_id} 自 {start.isoformat()} 起{where}；此前的成绩仍计入原班组")
    return 0


def add_org(sub: Any) -> None:
    p = sub.add_parser("org", help="组织架构：集团 → 区域 → 项目 → 班组")
    o_sub = p.add_subparsers(dest="org_command", required=True)
    q = o_sub.add_parser("import", help="从 YAML 文件导入组织架构（替换现有的；班组随之创建或改名）")
    q.add_argument("file", metavar="FILE.yaml")
    q.set_defaults(func=cmd_org_import)
    q = o_sub.add_parser("show", help="显示组织架构")
    q.set_defaults(func=cmd_org_show)
    q = o_sub.add_parser("move", help="调动坐席到另一班组（从 --from 日期起，缺省今天；- 表示不在任何班组）")
    q.add_argument("agent_id", metavar="AGENT_ID")
    q.add_argument("team", metavar="TEAM")
    q.add_argument("--from", dest="date_from", default=None, metavar="YYYY-MM-DD")
    q.set_defaults(func=cmd_org_move)
