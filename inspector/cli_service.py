"""Service commands: ``inspector db upgrade``, ``serve``, ``worker``, ``import``, ``token``, ``users``,
``retry``, ``reconcile``, ``rules``, ``status``. Registered on the main parser by ``inspector.cli``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inspector.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "database_url", None):
        settings.database_url = args.database_url
    return settings


def _database(settings: Settings) -> Any:
    from inspector.store.db import Database

    db = Database(settings.database)
    db.upgrade()
    return db


def _queue(settings: Settings) -> Any:
    from inspector.jobs import connect_redis, make_queue

    return make_queue(settings, connect_redis(settings.redis_url))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    settings = _settings(args)
    db = _database(settings)
    with db.session() as session:
        active = rulesets.ensure_default(session, settings.rules_dir)
        print(f"数据库已升级到最新版本：{_safe_url(settings.database)}")
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
    settings = _settings(args)
    _database(settings).dispose()  # migrate once here, before the worker processes start
    # Every worker process builds its own app (api.app:create_app, settings from the environment /
    # inspector.toml like this process): database pool, Redis connection and metrics are per process.
    uvicorn.run("api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers or _cores(), log_level="info")  # fmt: skip
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from inspector.jobs import run_worker

    run_worker(_settings(args), burst=args.burst, name=args.name)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from inspector.importers import CdrMapping, ImportItem, conventions_for, read_cdr, scan
    from inspector.ingest import import_recordings
    from inspector.store.blobs import LocalAudioStore

    settings = _settings(args)
    tz = ZoneInfo(settings.timezone)
    cdr = None
    if args.cdr:
        mapping = CdrMapping.parse(args.cdr_columns) if args.cdr_columns else CdrMapping()
        cdr = read_cdr(Path(args.cdr), mapping, tz)
    conventions = conventions_for(args.pattern)
    found = list(scan(Path(args.directory), glob=args.glob, conventions=conventions, cdr=cdr, tz=tz,
                      require_agent=args.agent_id is None))  # fmt: skip
    db = _database(settings)
    queue = None if args.no_enqueue or args.inline else _queue(settings)

    def enqueue(call_ids: Any) -> int:
        from inspector.jobs import enqueue_calls

        return enqueue_calls(db, queue, settings, call_ids)

    usable = sum(isinstance(f, ImportItem) for f in found)
    with tqdm(total=usable, unit="个", desc="导入录音", disable=args.quiet or not sys.stderr.isatty()) as bar:
        summary = import_recordings(found, db=db, audio_store=LocalAudioStore(settings.audio_store_dir), tz=tz,
                                    enqueue=None if queue is None else enqueue, default_agent=args.agent_id,
                                    team=args.team, progress=bar.update)  # fmt: skip
    failed_inline = _process_inline(settings, db, summary.imported, args.quiet) if args.inline else 0
    cdr_errors = [(f"{e.path}:{e.line}", e.reason) for e in (cdr.errors if cdr else [])]
    if args.format == "json":
        data = summary.to_dict()
        data["cdr_errors"] = [{"line": where, "reason": reason} for where, reason in cdr_errors]
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(f"导入完成：新增 {len(summary.imported)} 通，重复 {len(summary.duplicates)} 通（已存在，未重复登记），"
              f"跳过 {len(summary.skipped)} 个文件，CDR 错误行 {len(cdr_errors)} 行，"
              + (f"本进程处理 {len(summary.imported)} 通（失败 {failed_inline} 通）" if args.inline
                 else f"已排队 {summary.enqueued} 通"))  # fmt: skip
        for path, reason in summary.skipped:
            print(f"跳过 {path}：{reason}")
        for where, reason in cdr_errors:
            print(f"CDR {where}：{reason}")
    return 1 if summary.skipped or cdr_errors or failed_inline else 0


def _process_inline(settings: Settings, db: Any, call_ids: list[str], quiet: bool) -> int:
    """Process new calls in this process (no Redis, no worker): the embedded single-machine mode."""
    from inspector.jobs import WorkerContext, process_call, use_context
    from inspector.store.blobs import LocalAudioStore

    failed = 0
    context = WorkerContext(settings=settings, db=db, audio=LocalAudioStore(settings.audio_store_dir))
    with use_context(context):
        for number, call_id in enumerate(call_ids, 1):
            try:
                status = process_call(call_id)
            except Exception as err:  # transient: the call keeps its error; a worker or a rerun retries it
                status = f"出错（{err}）"
            failed += status != "done"
            if not quiet:
                print(f"[{number}/{len(call_ids)}] {call_id}: {status}", file=sys.stderr, flush=True)
    return failed


def cmd_scorecards(args: argparse.Namespace) -> int:
    from datetime import date

    from inspector.scorecards import agents_summary

    db = _database(_settings(args))
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
        from inspector.analysis import RATE_COLUMNS_ZH

        shown = table.copy()
        for column in RATE_COLUMNS_ZH.values():
            if column in shown:
                shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:.0%}")  # NaN: no calls
        print(shown.to_string(index=False))
    return 0


def _local_time(settings: Settings, value: Any) -> str:
    """A stored (naive UTC) time as local minutes, or ``-``."""
    from datetime import UTC

    if value is None:
        return "-"
    return f"{value.replace(tzinfo=UTC).astimezone(ZoneInfo(settings.timezone)):%Y-%m-%d %H:%M}"


def cmd_token_create(args: argparse.Namespace) -> int:
    from inspector.store.tokens import TokenError, create_token, parse_expiry, verify_token
    from inspector.store.users import require_user

    if args.role is None and args.user is None:
        raise TokenError("请用 --role 指定角色，或用 --user 指定令牌所属的用户")
    expires_in = None if args.expires is None else parse_expiry(args.expires)
    settings = _settings(args)
    db = _database(settings)
    with db.session() as session:
        user = None if args.user is None else require_user(session, args.user)
        token = create_token(session, args.role, agent_id=args.agent_id, name=args.name or "", user=user,
                             expires_in=expires_in)  # fmt: skip
        role = args.role if user is None else user.role
        owner = "" if user is None else f"，属于用户 {user.username}"
        record = verify_token(session, token)
        assert record is not None
        expiry = "，永不过期" if record.expires_at is None else f"，有效期至 {_local_time(settings, record.expires_at)}"
        token_id = record.id
    print(f"已创建 {role} 令牌 #{token_id}{owner}{expiry}（只显示这一次，请妥善保存）：", file=sys.stderr)
    print(token)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from inspector.store.db import utcnow
    from inspector.store.schema import User
    from inspector.store.tokens import list_tokens

    settings = _settings(args)
    db = _database(settings)
    now = utcnow()
    with db.session() as session:
        print("编号\t角色\t创建时间\t到期时间\t最近使用\t状态\t所属用户/坐席\t备注")
        for t in list_tokens(session):
            user = None if t.user_id is None else session.get(User, t.user_id)
            owner = f"用户 {user.username}" if user is not None else (t.agent_id or "-")
            if t.revoked:
                state = "已吊销"
            elif t.expires_at is not None and t.expires_at <= now:
                state = "已过期"
            else:
                state = "有效"
            expires = "永不过期" if t.expires_at is None else _local_time(settings, t.expires_at)
            print(f"{t.id}\t{t.role}\t{_local_time(settings, t.created_at)}\t{expires}\t"
                  f"{_local_time(settings, t.last_used_at)}\t{state}\t{owner}\t{t.name or '-'}")  # fmt: skip
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from inspector.store.tokens import revoke_token

    db = _database(_settings(args))
    with db.session() as session:
        record = revoke_token(session, args.id)
        print(f"已吊销令牌 #{record.id}（{record.role}{'，' + record.name if record.name else ''}），立即失效")
    return 0


# --- users (web login) ---------------------------------------------------------------------------

ROLE_NAMES_ZH = {"admin": "管理员", "reviewer": "质检员", "trainer": "培训师", "team_lead": "班组长", "agent": "坐席"}


def _read_password(from_stdin: bool) -> str:
    """The new password: one line from stdin, or typed twice at a prompt (never an argument)."""
    from inspector.store.users import UserError, check_password_policy

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass("密码：")
        check_password_policy(password)
        if getpass.getpass("再次输入密码：") != password:
            raise UserError("两次输入的密码不一致")
    check_password_policy(password)
    return password


def cmd_users_create(args: argparse.Namespace) -> int:
    from inspector.store.users import check_new_user, create_user

    db = _database(_settings(args))
    with db.session() as session:  # say what is wrong before asking for a password
        check_new_user(session, args.username, args.role, args.agent_id, args.team)
    password = _read_password(args.password_stdin)
    with db.session() as session:
        user = create_user(session, args.username, password, args.role, display_name=args.name or "",
                           agent_id=args.agent_id, team_id=args.team)  # fmt: skip
        print(f"已创建用户 {user.username}（{ROLE_NAMES_ZH[user.role]}）")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from inspector.store.users import list_users

    db = _database(_settings(args))
    with db.session() as session:
        print("用户名\t姓名\t角色\t坐席工号/班组\t状态\t最近登录")
        for u in list_users(session):
            scope = u.agent_id or u.team_id or "-"
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
            state = "启用" if u.active else "已停用"
            role = ROLE_NAMES_ZH.get(u.role, u.role)
            print(f"{u.username}\t{u.display_name or '-'}\t{role}\t{scope}\t{state}\t{last}")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    from inspector.store.users import require_user, set_password

    db = _database(_settings(args))
    with db.session() as session:
        require_user(session, args.username)  # say so before asking for a password
    password = _read_password(args.password_stdin)
    with db.session() as session:
        user = require_user(session, args.username)
        set_password(session, user, password)
        print(f"已修改用户 {user.username} 的密码（其网页登录会话已全部退出）")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from inspector.store.users import deactivate, require_user

    db = _database(_settings(args))
    with db.session() as session:
        user = require_user(session, args.username)
        deactivate(session, user)
        print(f"已停用用户 {user.username}（会话已退出，其 API 令牌也已失效）")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from inspector.jobs import retry_calls

    settings = _settings(args)
    if not args.call_ids and not args.all_failed:
        print("错误：请给出通话编号，或使用 --all-failed 重试全部失败通话", file=sys.stderr)
        return 2
    ids = retry_calls(_database(settings), _queue(settings), settings, args.call_ids or None)
    print(f"已重新排队 {len(ids)} 通失败通话")
    for call_id in ids:
        print(call_id)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from inspector.jobs import reconcile

    settings = _settings(args)
    report = reconcile(_database(settings), _queue(settings), settings)
    print(f"已重新排队 {len(report.requeued)} 通，标记失败 {len(report.failed)} 通")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from inspector.store.calls import count_by_status

    db = _database(_settings(args))
    with db.session() as session:
        counts = count_by_status(session)
    names = {"queued": "排队中", "processing": "处理中", "done": "已完成", "failed": "失败"}
    for status, name in names.items():
        print(f"{name}\t{counts.get(status, 0)}")
    return 0


def cmd_rules_add(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    settings = _settings(args)
    path = Path(args.path)
    files = rulesets.read_bundle(path) if path.is_dir() else {path.name: path.read_text(encoding="utf-8")}
    db = _database(settings)
    with db.session() as session:
        record, created = rulesets.add_ruleset(session, files)
        rule_set_id = record.id
        print(f"{'已添加' if created else '已存在'}规则集 #{record.id} {record.name} v{record.version}"
              f"（{record.rule_count} 条规则）")  # fmt: skip
    if args.activate:
        from inspector.jobs import activate_and_rescore

        scheduled = activate_and_rescore(db, _queue(settings), settings, rule_set_id)
        print(f"已启用规则集 #{rule_set_id}，{scheduled} 通已完成的通话将按新规则重新评分")
    return 0


def cmd_rules_activate(args: argparse.Namespace) -> int:
    from inspector.jobs import activate_and_rescore

    settings = _settings(args)
    scheduled = activate_and_rescore(_database(settings), _queue(settings), settings, args.id)
    print(f"已启用规则集 #{args.id}，{scheduled} 通已完成的通话将按新规则重新评分")
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    from inspector.store import rulesets

    db = _database(_settings(args))
    with db.session() as session:
        for r in rulesets.list_rulesets(session):
            mark = "*" if r.active else " "
            print(f"{mark} #{r.id}\t{r.name}\tv{r.version}\t{r.rule_count} 条规则\t{r.created_at:%Y-%m-%d %H:%M}")
    return 0


ROLES = ["admin", "reviewer", "trainer", "team_lead", "agent"]


def cmd_review_sample(args: argparse.Namespace) -> int:
    from datetime import date, datetime, timedelta

    from inspector import review

    settings = _settings(args)
    if args.week:
        try:
            day = date.fromisoformat(args.week)
        except ValueError:
            print(f"错误：--week 应为日期 YYYY-MM-DD，实际为 {args.week!r}", file=sys.stderr)
            return 2
    else:  # the last complete local week
        day = review.week_monday(datetime.now(ZoneInfo(settings.timezone)).date()) - timedelta(days=7)
    monday = review.week_monday(day)
    db = _database(settings)
    with db.session() as session:
        added = review.sample_week(session, settings.review, monday)
    print(f"已为 {monday.isoformat()} 起的一周抽样，新增 {added} 通待复核通话")
    return 0


def register(sub: Any) -> None:
    """Add the service commands to the main parser's subparsers."""
    p = sub.add_parser("db", help="数据库管理")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    q = db_sub.add_parser("upgrade", help="执行数据库迁移（可重复执行），并登记默认规则集")
    q.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("serve", help="启动 API 服务")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=None, metavar="N", help="API 进程数（默认：本机可用的 CPU 核数）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="启动处理队列的工作进程（转写 → 质检 → 入库）")
    p.add_argument("--burst", action="store_true", help="处理完队列中的任务后退出")
    p.add_argument("--name", default=None, help="工作进程名称（默认自动生成）")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("import", help="从 PBX 录音目录批量导入通话并排队处理")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--cdr", default=None, metavar="FILE.csv", help="话单 CSV（按录音文件名或通话 ID 匹配）")
    p.add_argument("--cdr-columns", default=None, metavar="SPEC",
                   help="话单列映射，如 recording=录音文件,agent_id=坐席工号,caller=主叫,started_at=开始时间")
    p.add_argument("--pattern", default=None,
                   help="自定义文件名模式，如 {agent_id}_{caller}_{datetime}（可用 {agent_id} {caller} {call_id} "
                        "{direction} {date} {time} {datetime} {epoch} {*}）")  # fmt: skip
    p.add_argument("--glob", default="**/*", help="匹配的文件（默认 **/*，含子目录）")
    p.add_argument("--agent-id", default=None, help="文件名与话单都没有坐席工号时使用的工号")
    p.add_argument("--team", default=None, help="把导入通话的坐席归入该班组")
    p.add_argument("--no-enqueue", action="store_true", help="只登记，不排队处理")
    p.add_argument("--inline", action="store_true",
                   help="不经队列，在本进程内逐通转写质检入库（单机/演示用，不需要 Redis 和工作进程）")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("token", help="API 令牌")
    token_sub = p.add_subparsers(dest="token_command", required=True)
    q = token_sub.add_parser(
        "create",
        help="创建 API 令牌（最后一行输出令牌）",
        description="创建 API 令牌。用 --user 时令牌属于该用户，角色、坐席工号、班组都取自该用户"
        "（用户停用后令牌失效）。令牌本身不记录班组，因此班组长令牌必须用 --user 指定一名班组长用户。",
    )
    q.add_argument("--role", default=None, choices=ROLES, help="角色（用 --user 时可省略）")
    q.add_argument("--agent-id", default=None, help="坐席角色对应的工号")
    q.add_argument("--user", default=None, metavar="USERNAME", help="令牌所属的用户")
    q.add_argument("--name", default=None, help="备注（谁在用这个令牌）")
    q.add_argument("--expires", default=None, metavar="90d|12h|30m", help="有效期（默认永不过期），如 90d、12h、30m")
    q.set_defaults(func=cmd_token_create)
    q = token_sub.add_parser("list", help="列出 API 令牌（编号、角色、创建/到期/最近使用时间；不显示令牌本身）")
    q.set_defaults(func=cmd_token_list)
    q = token_sub.add_parser("revoke", help="吊销 API 令牌（立即失效）")
    q.add_argument("id", type=int, metavar="ID", help="令牌编号（inspector token list 中的编号）")
    q.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("users", help="网页登录用户")
    users_sub = p.add_subparsers(dest="users_command", required=True)
    q = users_sub.add_parser("create", help="创建用户（密码不能作为参数给出）")
    q.add_argument("username", metavar="USERNAME")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--agent-id", default=None, help="坐席角色：对应的坐席工号（必填）")
    q.add_argument("--team", default=None, help="班组长角色：所带班组（必填）")
    q.add_argument("--name", default=None, help="显示姓名")
    q.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行），否则提示输入两次")
    q.set_defaults(func=cmd_users_create)
    q = users_sub.add_parser("list", help="列出用户")
    q.set_defaults(func=cmd_users_list)
    q = users_sub.add_parser("passwd", help="修改用户密码（该用户的网页会话全部退出）")
    q.add_argument("username", metavar="USERNAME")
    q.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行），否则提示输入两次")
    q.set_defaults(func=cmd_users_passwd)
    q = users_sub.add_parser("disable", help="停用用户（不能再登录，会话与令牌失效）")
    q.add_argument("username", metavar="USERNAME")
    q.set_defaults(func=cmd_users_disable)

    p = sub.add_parser("retry", help="重新处理失败的通话")
    p.add_argument("call_ids", nargs="*", metavar="CALL_ID")
    p.add_argument("--all-failed", action="store_true", help="重试全部失败通话")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("reconcile", help="以数据库为准，重新排队卡在排队中/处理中的通话（Redis 重启或进程崩溃后）")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("review", help="复核队列")
    review_sub = p.add_subparsers(dest="review_command", required=True)
    q = review_sub.add_parser("sample", help="按抽样策略把一周的通话加入复核队列（可重复执行）")
    q.add_argument("--week", default=None, help="该周任意一天 YYYY-MM-DD（默认上一个完整的本地周）")
    q.set_defaults(func=cmd_review_sample)

    p = sub.add_parser("scorecards", help="各坐席成绩汇总（来自数据库）")
    p.add_argument("--from", dest="date_from", default=None, help="开始日期 YYYY-MM-DD（含）")
    p.add_argument("--to", dest="date_to", default=None, help="结束日期 YYYY-MM-DD（含）")
    p.add_argument("--team", default=None, help="只看该班组")
    p.add_argument("--format", choices=["table", "csv"], default="table")
    p.set_defaults(func=cmd_scorecards)

    p = sub.add_parser("status", help="各状态的通话数")
    p.set_defaults(func=cmd_status)

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
