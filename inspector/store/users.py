"""People who log in (web UI) and their browser sessions.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher`` defaults); a stored hash made with
other parameters is replaced by a fresh one at the next successful login. Only hashes are stored: the
password never, and for a browser session only the sha256 of its cookie value (like API tokens).

Roles are those of ``inspector.store.tokens.USER_ROLES``. An ``agent`` user names the agent id whose
data it sees (``agent_id``); a ``team_lead`` user names the team it leads (``team_id``) and/or the org
node it manages (``scope``: a project for a 项目经理, a region, the group; ``inspector.people.org``), which
wins over the team; other roles have none of them. Usernames are case-insensitive (stored in lower case).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inspector.errors import ErrorKind, InspectorError
from inspector.store.db import utcnow
from inspector.store.schema import OrgUnit, Team, User, WebSession
from inspector.store.tokens import USER_ROLES

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")

# Replaced by tests with cheaper parameters; production keeps argon2-cffi's defaults (argon2id).
HASHER = PasswordHasher()
_dummy: dict[int, str] = {}  # id(hasher) -> a hash to verify against when the user is unknown


class UserError(InspectorError):
    code = "invalid_user_request"
    kind = ErrorKind.INVALID


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    key = id(HASHER)
    if key not in _dummy:
        _dummy[key] = HASHER.hash(secrets.token_urlsafe(16))
    return _dummy[key]


def _check_role(role: str, agent_id: str | None, team_id: str | None, scope: str | None = None) -> None:
    if role not in USER_ROLES:
        raise UserError(f"未知角色 {role!r}（可选：{', '.join(USER_ROLES)}）")
    if role == "agent" and not agent_id:
        raise UserError("坐席角色的用户必须指定坐席工号（--agent-id）")
    if role != "agent" and agent_id:
        raise UserError("只有坐席角色的用户可以指定坐席工号")
    if role == "team_lead" and not team_id and not scope:
        raise UserError("班组长角色的用户必须指定班组（--team）或管辖范围（--scope）")
    if role != "team_lead" and (team_id or scope):
        raise UserError("只有班组长角色的用户可以指定班组或管辖范围")


def check_new_user(
    session: Session,
    username: str,
    role: str,
    agent_id: str | None = None,
    team_id: str | None = None,
    scope: str | None = None,
) -> None:
    """UserError unless a user with these fields can be created (everything but the password)."""
    name = normalize_username(username)
    if not USERNAME_PATTERN.match(name):
        raise UserError("用户名须为 2–64 个字符，只能包含字母、数字和 _ . @ -，并以字母或数字开头")
    _check_role(role, agent_id, team_id, scope)
    if scope:
        check_scope(session, scope)
    if get_user(session, name) is not None:
        raise UserError(f"用户名 {name} 已存在")


def get_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == normalize_username(username))).one_or_none()


def require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise UserError(f"用户 {normalize_username(username)} 不存在")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    agent_id: str | None = None,
    team_id: str | None = None,
    scope: str | None = None,
) -> User:
    name = normalize_username(username)
    agent_id = (agent_id or "").strip() or None
    team_id = (team_id or "").strip() or None
    scope = (scope or "").strip() or None
    check_new_user(session, name, role, agent_id, team_id, scope)
    check_password_policy(password)
    user = User(
        username=name,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
        agent_id=agent_id,
        team_id=team_id,
        scope=scope,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None. Unknown users cost one verification as well
    (against a dummy hash), so the answer time does not tell whether a username exists."""
    user = get_user(session, username)
    if user is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password) or not user.active:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def _end_all_sessions(session: Session, user: User) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; the user's browser sessions end (they log in again)."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    _end_all_sessions(session, user)
    session.flush()


def deactivate(session: Session, user: User) -> None:
    """The user can no longer log in; their sessions end and their API tokens stop working."""
    user.active = False
    _end_all_sessions(session, user)
    session.flush()


def set_pii(session: Session, user: User, allowed: bool, actor: str) -> bool:
    """Grant or revoke the permission to reveal personal data; audited. Returns whether anything changed."""
    from inspector.store import audit

    if bool(user.pii) == allowed:
        return False
    audit.record(session, actor=actor, role="admin", action="pii.grant" if allowed else "pii.revoke", entity="user",
                 entity_id=user.username, before={"pii": bool(user.pii)}, after={"pii": allowed})  # fmt: skip
    user.pii = allowed
    session.flush()
    return True


# --- browser sessions ----------------------------------------------------------------------------


def session_id(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def create_session(session: Session, user: User, hours: float) -> tuple[str, str]:
    """A new browser session: (cookie value, CSRF token). Only sha256(cookie value) is stored."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now))
    cookie_value = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=session_id(cookie_value),
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return cookie_value, csrf_token


def session_user(session: Session, cookie_value: str, now: datetime | None = None) -> tuple[User, WebSession] | None:
    """The active user and session of a cookie value; None when unknown, expired (then deleted) or the
    user is deactivated."""
    if not cookie_value:
        return None
    record = session.get(WebSession, session_id(cookie_value))
    if record is None:
        return None
    if record.expires_at <= (now or utcnow()):
        session.delete(record)
        session.flush()
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    return user, record


def end_session(session: Session, cookie_value: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == session_id(cookie_value)))


def check_scope(session: Session, scope: str) -> None:
    """UserError unless ``scope`` is a node of the org hierarchy or a known team."""
    if session.get(OrgUnit, scope) is None and session.get(Team, scope) is None:
        raise UserError(f"管辖范围 {scope} 不是组织架构中的节点，也不是已有的班组")


def set_scope(session: Session, user: User, scope: str | None, actor: str) -> bool:
    """Give a team lead an org node to manage (None: back to its team); audited. False when unchanged."""
    scope = (scope or "").strip() or None
    if user.role != "team_lead":
        raise UserError(f"只有班组长角色的用户可以指定管辖范围（{user.username} 的角色是 {user.role}）")
    if scope is None and not user.team_id:
        raise UserError(f"用户 {user.username} 没有班组，不能取消管辖范围")
    if scope is not None:
        check_scope(session, scope)
    if user.scope == scope:
        return False
    from inspector.store import audit

    audit.record(session, actor=actor, role="admin", action="user.scope", entity="user", entity_id=user.username,
           before={"scope": user.scope}, after={"scope": scope})  # fmt: skip
    user.scope = scope
    session.flush()
    return True
