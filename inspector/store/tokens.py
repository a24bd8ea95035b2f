"""API bearer tokens: random, shown once, stored as sha256 only.

A token either stands alone (its own ``role`` and, for ``agent``, ``agent_id``) or belongs to a user
(``user_id``). A user's token speaks for that user: the API takes role, agent id and team from the user
at every request, and the token stops working when the user is deactivated. Tokens have no team column,
so a ``team_lead`` token must belong to a team_lead user (its team is the user's team).

A token may expire (``expires_at``, from ``inspector token create --expires 90d``) and can be revoked
(``inspector token revoke ID``); ``verify_token`` refuses both, so the API answers 401.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.errors import ErrorKind, InspectorError
from inspector.store.db import utcnow
from inspector.store.schema import ApiToken, User

# Who a token speaks for. Issue 5 adds people; the token check exists from the start.
USER_ROLES = ("admin", "reviewer", "trainer", "team_lead", "agent")
TOKEN_PREFIX = "insp_"
EXPIRY_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
MAX_EXPIRY = timedelta(days=100 * 365)


class TokenError(InspectorError):
    code = "invalid_token_request"
    kind = ErrorKind.INVALID


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_expiry(text: str) -> timedelta:
    """``90d``, ``12h`` or ``30m`` as a duration; anything else is a ``TokenError`` saying what is expected."""
    found = re.fullmatch(r"([0-9]{1,9})([dhm])", text.strip().lower())
    duration = int(found.group(1)) * EXPIRY_UNITS[found.group(2)] if found else None
    if duration is None or not timedelta(0) < duration <= MAX_EXPIRY:
        raise TokenError(f"有效期 {text!r} 无效：应为正整数加单位 d（天）、h（小时）或 m（分钟），如 90d、12h、30m，"
                         f"最长 {MAX_EXPIRY.days} 天")  # fmt: skip
    return duration


def create_token(
    session: Session,
    role: str | None,
    agent_id: str | None = None,
    name: str = "",
    user: User | None = None,
    expires_in: timedelta | None = None,
) -> str:
    """A new token (returned once). With ``user``: the token belongs to that user and carries its role,
    agent id and team (``role`` / ``agent_id`` may be left out; given, they must match the user's).
    With ``expires_in``: the token stops working after that long."""
    if user is not None:
        if not user.active:
            raise TokenError(f"用户 {user.username} 已停用，不能创建令牌")
        if role is not None and role != user.role:
            raise TokenError(f"用户 {user.username} 的角色是 {user.role}，与 --role {role} 不一致")
        if agent_id and agent_id != user.agent_id:
            raise TokenError(f"用户 {user.username} 的坐席工号是 {user.agent_id or '（无）'}，与 --agent-id 不一致")
        role, agent_id = user.role, user.agent_id
    if role is None or role not in USER_ROLES:
        raise TokenError(f"未知角色 {role!r}（可选：{', '.join(USER_ROLES)}）")
    if role == "agent" and not agent_id:
        raise TokenError("坐席角色的令牌必须指定 --agent-id")
    if role == "team_lead" and user is None:
        raise TokenError("班组长令牌必须属于一名班组长用户（--user 用户名），班组取自该用户")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiToken(
            token_sha256=token_sha256(token),
            role=role,
            agent_id=agent_id,
            name=name,
            created_at=now,
            revoked=False,
            user_id=None if user is None else user.id,
            expires_at=None if expires_in is None else now + expires_in,
        )
    )
    session.flush()
    return token


def verify_token(session: Session, token: str, now: datetime | None = None) -> ApiToken | None:
    """The token's record when it exists, is not revoked and has not expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == token_sha256(token))).one_or_none()
    if record is None or record.revoked:
        return None
    if record.expires_at is not None and record.expires_at <= (now or utcnow()):
        return None
    return record


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token by its id (idempotent); a ``TokenError`` when there is none."""
    record = session.get(ApiToken, token_id)
    if record is None:
        raise TokenError(f"令牌 #{token_id} 不存在（inspector token list 列出全部令牌）")
    record.revoked = True
    session.flush()
    return record
