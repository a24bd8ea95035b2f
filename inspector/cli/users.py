"""``inspector users create / list / passwd / pii / disable``: web login users. A password is never an
argument: it is typed twice at a prompt, or read as one line from stdin.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector.cli import connect
from inspector.vocab import UserRole, label, values


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

    db = connect.database(connect.settings_of(args))
    with db.session() as session:  # say what is wrong before asking for a password
        check_new_user(session, args.username, args.role, args.agent_id, args.team, args.scope)
    password = _read_password(args.password_stdin)
    with db.session() as session:
        user = create_user(session, args.username, password, args.role, display_name=args.name or "",
                           agent_id=args.agent_id, team_id=args.team, scope=args.scope)  # fmt: skip
        print(f"已创建用户 {user.username}（{label(user.role, UserRole)}）")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from inspector.store.users import list_users

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        print("用户名\t姓名\t角色\t坐席工号/管辖范围\t个人信息\t状态\t最近登录")
        for u in list_users(session):
            scope = u.agent_id or u.scope or u.team_id or "-"
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
            state = "启用" if u.active else "已停用"
            role = label(u.role, UserRole)
            pii = "可查看" if u.pii or u.role == UserRole.ADMIN else "脱敏"
            print(f"{u.username}\t{u.display_name or '-'}\t{role}\t{scope}\t{pii}\t{state}\t{last}")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    from inspector.store.users import require_user, set_password

    db = connect.database(connect.settings_of(args))
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

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        user = require_user(session, args.username)
        deactivate(session, user)
        print(f"已停用用户 {user.username}（会话已退出，其 API 令牌也已失效）")
    return 0


def cmd_users_pii(args: argparse.Namespace) -> int:
    import getpass

    from inspector.store.users import require_user, set_pii

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        user = require_user(session, args.username)
        changed = set_pii(session, user, not args.revoke, actor=f"cli:{getpass.getuser()}")
        what = "已收回" if args.revoke else "已授予"
        note = "" if changed else "（原本如此，未改动）"
        admin = "；管理员角色始终可查看" if user.role == UserRole.ADMIN else ""
        print(f"{what}用户 {user.username} 查看未脱敏个人信息的权限{note}{admin}")
    return 0


def cmd_users_scope(args: argparse.Namespace) -> int:
    import getpass

    from inspector.store.users import require_user, set_scope

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        user = require_user(session, args.username)
        node = None if args.node == "-" else args.node
        changed = set_scope(session, user, node, actor=f"cli:{getpass.getuser()}")
        note = "" if changed else "（原本如此，未改动）"
        print(f"用户 {user.username} 的管辖范围：{node or f'班组 {user.team_id}'}{note}")
    return 0


def add_users(sub: Any) -> None:
    p = sub.add_parser("users", help="网页登录用户")
    users_sub = p.add_subparsers(dest="users_command", required=True)
    q = users_sub.add_parser("create", help="创建用户（密码不能作为参数给出）")
    q.add_argument("username", metavar="USERNAME")
    q.add_argument("--role", required=True, choices=list(values(UserRole)))
    q.add_argument("--agent-id", default=None, help="坐席角色：对应的坐席工号（必填）")
    q.add_argument("--team", default=None, help="班组长角色：所带班组（与 --scope 至少给一个）")
    q.add_argument("--scope", default=None,
                   help="班组长角色：管辖的组织架构节点（项目经理给项目编号，区域经理给区域编号）")  # fmt: skip
    q.add_argument("--name", default=None, help="显示姓名")
    q.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行），否则提示输入两次")
    q.set_defaults(func=cmd_users_create)
    q = users_sub.add_parser("list", help="列出用户")
    q.set_defaults(func=cmd_users_list)
    q = users_sub.add_parser("passwd", help="修改用户密码（该用户的网页会话全部退出）")
    q.add_argument("username", metavar="USERNAME")
    q.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行），否则提示输入两次")
    q.set_defaults(func=cmd_users_passwd)
    q = users_sub.add_parser("pii", help="授予（或 --revoke 收回）查看未脱敏个人信息的权限（记入操作记录）")
    q.add_argument("username", metavar="USERNAME")
    q.add_argument("--revoke", action="store_true", help="收回权限")
    q.set_defaults(func=cmd_users_pii)
    q = users_sub.add_parser("scope", help="设置班组长的管辖范围（组织架构节点；- 表示恢复为所带班组；记入操作记录）")
    q.add_argument("username", metavar="USERNAME")
    q.add_argument("node", metavar="NODE")
    q.set_defaults(func=cmd_users_scope)
    q = users_sub.add_parser("disable", help="停用用户（不能再登录，会话与令牌失效）")
    q.add_argument("username", metavar="USERNAME")
    q.set_defaults(func=cmd_users_disable)
