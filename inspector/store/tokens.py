"""API bearer tokens: random, shown once, stored as sha256 only.

A token either stands alone (its own ``role`` and, for ``agent``, ``agent_id``) or belongs to a user
(``user_id``). A user's token speaks for that user: the API takes role, agent id and team from the user
at every request, and the token stops working when the user is deactivated. Tokens have no team column,
so a ``team_lead`` token must belong to a team_lead user (its team is the user's team).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.errors import InspectorError
from inspector.store.db import utcnow
from inspector.store.schema import ApiToken, User

# Who a token speaks for. Issue 5 adds people; the token check exists from the start.
USER_ROLES = ("admin", "reviewer", "trainer", "team_lead", "agent")
TOKEN_PREFIX = "insp_"


class TokenError(InspectorError):
    code = "invalid_token_request"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, role: str | None, agent_id: str | None = None, name: str = "", user: User | None = None
) -> str:
    """A new token (returned once). With ``user``: the token belongs to that user and carries its role,
    agent id and team (``role`` / ``agent_id`` may be left out; given, they must match the user's)."""
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
    session.add(
        ApiToken(
            token_sha256=token_sha256(token),
            role=role,
            agent_id=agent_id,
            name=name,
            created_at=utcnow(),
            revoked=False,
            user_id=None if user is None else user.id,
        )
    )
    session.flush()
    return token


def verify_token(session: Session, token: str) -> ApiToken | None:
    """The token's record when it exists and is not revoked."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == token_sha256(token))).one_or_none()
    if record is None or record.revoked:
        return None
    return record
