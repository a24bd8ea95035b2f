"""API bearer tokens: random, shown once, stored as sha256 only."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.errors import InspectorError
from inspector.store.db import utcnow
from inspector.store.schema import ApiToken

# Who a token speaks for. Issue 5 adds people; the token check exists from the start.
USER_ROLES = ("admin", "reviewer", "trainer", "team_lead", "agent")
TOKEN_PREFIX = "insp_"


class TokenError(InspectorError):
    code = "invalid_token_request"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, agent_id: str | None = None, name: str = "") -> str:
    if role not in USER_ROLES:
        raise TokenError(f"未知角色 {role!r}（可选：{', '.join(USER_ROLES)}）")
    if role == "agent" and not agent_id:
        raise TokenError("坐席角色的令牌必须指定 --agent-id")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_sha256=token_sha256(token),
            role=role,
            agent_id=agent_id,
            name=name,
            created_at=utcnow(),
            revoked=False,
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
