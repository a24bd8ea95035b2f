"""Commands that run the service: ``inspector db upgrade`` (migrate, register the default rule set),
``serve`` (the API, in N processes) and ``worker`` (the queue's worker process). The API is started by
its import string, so this module does not import ``api`` itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from inspector.cli import connect


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    settings = connect.settings_of(args)
    db = connect.database(settings)
    with db.session() as session:
        active = rulesets.ensure_default(session, settings.rules_dir)
        print(f"数据库已升级到最新版本：{connect.safe_url(settings.database)}")
        print(f"当前生效规则集：#{active.id} {active.name} v{active.version}（{active.rule_count} 条规则）")
    return 0


def _cores() -> int:
    """CPUs this process may run on (the container's share, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers is not None and args.workers < 1:
        print(f"错误：--workers 必须是正整数，实际为 {args.workers}", file=sys.stderr)
        return 2
    settings = connect.settings_of(args)
    connect.database(settings).dispose()  # migrate once here, before the worker processes start
    # Every worker process builds its own app (api.app:create_app, settings from the environment /
    # inspector.toml like this process): database pool, Redis connection and metrics are per process.
    uvicorn.run("api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers or _cores(), log_level="info")  # fmt: skip
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from inspector.service.worker import run_worker

    run_worker(connect.settings_of(args), burst=args.burst, name=args.name)
    return 0


def add_db(sub: Any) -> None:
    p = sub.add_parser("db", help="数据库管理")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    q = db_sub.add_parser("upgrade", help="执行数据库迁移（可重复执行），并登记默认规则集")
    q.set_defaults(func=cmd_db_upgrade)


def add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="启动 API 服务")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=None, metavar="N", help="API 进程数（默认：本机可用的 CPU 核数）")
    p.set_defaults(func=cmd_serve)


def add_worker(sub: Any) -> None:
    p = sub.add_parser("worker", help="启动处理队列的工作进程（转写 → 质检 → 入库）")
    p.add_argument("--burst", action="store_true", help="处理完队列中的任务后退出")
    p.add_argument("--name", default=None, help="工作进程名称（默认自动生成）")
    p.set_defaults(func=cmd_worker)
