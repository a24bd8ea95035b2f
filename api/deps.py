"""Request dependencies: the app state, a database session, and authorization.

Authorization lives here and only here. Routes declare who may call them with ``require_roles(...)``
and reach data through the helpers below (``visible_call``, ``check_agent``, ``agent_scope``,
``sees_full_caller``), which apply the per-record rules:

- Every ``/api/v1`` route except ``/healthz`` needs ``Authorization: Bearer <token>``; no token or a
  bad/revoked one is 401 with ``WWW-Authenticate: Bearer``.
- A role not allowed on a route is 403.
- An ``agent`` token sees only its own agent id: other agents' calls do not exist for it (404, so
  call ids cannot be probed), their scorecards are forbidden (403), and call lists are narrowed to it.
- The caller's phone number is shown in full to ``admin`` only, masked (138****5678) to everyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.state import AppState
from inspector.store.db import utcnow
from inspector.store.schema import ApiToken, Call
from inspector.store.tokens import USER_ROLES, verify_token

ADMIN = ("admin",)
REVIEWERS = ("admin", "reviewer")
STAFF = ("admin", "reviewer", "trainer", "team_lead")  # everyone but agents
EVERYONE = USER_ROLES

# ``last_used_at`` is written at most this often per token (not one write per request).
_LAST_USED_RESOLUTION = timedelta(minutes=1)

_bearer = HTTPBearer(
    auto_error=False,
    description="访问令牌（inspector token create 生成），请求头 Authorization: Bearer <token>",
)


@dataclass(frozen=True)
class Principal:
    """Who a request speaks for (from its bearer token)."""

    token_id: int
    role: str
    agent_id: str | None
    name: str


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.inspector
    return state


State = Annotated[AppState, Depends(get_state)]


def get_session(state: State) -> Iterator[Session]:
    """A session in one transaction, committed when the route returns (before the response is sent)."""
    with state.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def current_principal(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise _unauthorized("缺少访问令牌，请在请求头中提供 Authorization: Bearer <token>")
    with state.db.session() as session:
        record = verify_token(session, credentials.credentials)
        if record is None:
            raise _unauthorized("访问令牌无效或已吊销")
        now = utcnow()
        if record.last_used_at is None or now - record.last_used_at > _LAST_USED_RESOLUTION:
            session.execute(update(ApiToken).where(ApiToken.id == record.id).values(last_used_at=now))
        return Principal(token_id=record.id, role=record.role, agent_id=record.agent_id, name=record.name)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for the others)."""
    unknown = set(roles) - set(USER_ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"角色 {principal.role} 无权执行此操作", role=principal.role)
        return principal

    return dependency


Admin = Annotated[Principal, Depends(require_roles(*ADMIN))]
Reviewer = Annotated[Principal, Depends(require_roles(*REVIEWERS))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
Anyone = Annotated[Principal, Depends(require_roles(*EVERYONE))]


# --- per-record rules ----------------------------------------------------------------------------


def agent_scope(principal: Principal) -> str | None:
    """The only agent id this principal may see, or None when it may see every agent."""
    if principal.role == "agent":
        return principal.agent_id or ""  # an agent token without an agent id sees nothing
    return None


def visible_call(session: Session, principal: Principal, call_id: str) -> Call:
    """The call, or 404 when it does not exist or is not this principal's to see."""
    call = session.get(Call, call_id)
    scope = agent_scope(principal)
    if call is None or (scope is not None and call.agent_id != scope):
        raise ApiError(404, "call_not_found", f"通话 {call_id} 不存在", call_id=call_id)
    return call


def check_agent(principal: Principal, agent_id: str) -> None:
    """403 unless the principal may see this agent's figures."""
    scope = agent_scope(principal)
    if scope is not None and agent_id != scope:
        raise ApiError(403, "forbidden", "坐席只能查看自己的数据", agent_id=agent_id)


def sees_full_caller(principal: Principal) -> bool:
    return principal.role == "admin"
