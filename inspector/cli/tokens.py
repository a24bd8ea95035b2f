"""``inspector token create / list / revoke``: API tokens (a token is shown once, when it is created).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector.cli import connect
from inspector.vocab import UserRole, values


def cmd_token_create(args: argparse.Namespace) -> int:
    from inspector.store.tokens import TokenError, create_token, parse_expiry, verify_token
    from inspector.store.users import require_user

    if args.role is None and args.user is None:
        raise TokenError("请用 --role 指定角色，或用 --user 指定令牌所属的用户")
    expires_in = None if args.expires is None else parse_expiry(args.expires)
    settings = connect.settings_of(args)
    db = connect.database(settings)
    with db.session() as session:
        user = None if args.user is None else require_user(session, args.user)
        token = create_token(session, args.role, agent_id=args.agent_id, name=args.name or "", user=user,
                             expires_in=expires_in)  # fmt: skip
        role = args.role if user is None else user.role
        owner = "" if user is None else f"，属于用户 {user.username}"
        record = verify_token(session, token)
        assert record is not None
        expires = record.expires_at
        expiry = "，永不过期" if expires is None else f"，有效期至 {connect.local_time(settings, expires)}"
        token_id = record.id
    print(f"已创建 {role} 令牌 #{token_id}{owner}{expiry}（只显示这一次，请妥善保存）：", file=sys.stderr)
    print(token)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from inspector.store.db import utcnow
    from inspector.store.schema import User
    from inspector.store.tokens import list_tokens

    settings = connect.settings_of(args)
    db = connect.database(settings)
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
            expires = "永不过期" if t.expires_at is None else connect.local_time(settings, t.expires_at)
            print(f"{t.id}\t{t.role}\t{connect.local_time(settings, t.created_at)}\t{expires}\t"
                  f"{connect.local_time(settings, t.last_used_at)}\t{state}\t{owner}\t{t.name or '-'}")  # fmt: skip
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from inspector.store.tokens import revoke_token

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        record = revoke_token(session, args.id)
        print(f"已吊销令牌 #{record.id}（{record.role}{'，' + record.name if record.name else ''}），立即失效")
    return 0


def add_token(sub: Any) -> None:
    p = sub.add_parser("token", help="API 令牌")
    token_sub = p.add_subparsers(dest="token_command", required=True)
    q = token_sub.add_parser(
        "create",
        help="创建 API 令牌（最后一行输出令牌）",
        description="创建 API 令牌。用 --user 时令牌属于该用户，角色、坐席工号、班组都取自该用户"
        "（用户停用后令牌失效）。令牌本身不记录班组，因此班组长令牌必须用 --user 指定一名班组长用户。",
    )
    q.add_argument("--role", default=None, choices=list(values(UserRole)), help="角色（用 --user 时可省略）")
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
