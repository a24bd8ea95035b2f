"""Request dependencies: the app state, a database session, and authorization.

Authorization lives here and only here. Routes declare who may call them with ``require_roles(...)``
(or the ready-made ``Admin``, ``Reviewer``, ``ScoreEditor``, ``Coach``, ``Staff``, ``Anyone``) and reach
data through the helpers below, which apply the per-record rules.

Who is asking (``current_principal``):

- ``Authorization: Bearer <token>`` (scripts, integrations) or the ``inspector_session`` cookie set by
  ``POST /api/v1/auth/login`` (the web UI). A bearer header wins when both are present; a bad bearer
  token is 401 even with a valid cookie.
- Every ``/api/v1`` route except ``/healthz``, ``/vocabulary``, ``/auth/login`` and ``/auth/logout`` needs one of
  them; none, or a bad/revoked token, an expired session, a deactivated user → 401 with ``WWW-Authenticate: Bearer``.
- Cookie requests with an unsafe method (anything but GET/HEAD/OPTIONS) must send the session's CSRF
  token in ``X-CSRF-Token`` (returned by login and ``GET /auth/me``), else 403 ``csrf_failed``. Bearer
  requests need none: browsers never attach an ``Authorization`` header on their own.
- A token that belongs to a user speaks for that user (role, agent id, team read from the user at every
  request; a deactivated user's tokens stop working).

What they may see:

- A role not allowed on a route is 403.
- ``agent``: its own agent id only. Other agents' calls do not exist for it (404, so call ids cannot be
  probed), their figures are forbidden (403), lists are narrowed to it.
- ``team_lead``: the agents of the teams in its scope only. The scope is an org node (``users.scope``:
  a project for a 项目经理, a region for a 区域经理; ``inspector.people.org``) and covers every team under it;
  without one, the user's team (``users.team_id``). An agent belongs to the team it is in now
  (``agents.team_id``): moving an agent moves who may see its records, while its figures before the move
  stay with the old team (rollup rows carry the team of their day). Other teams' calls are 404, their
  agents' figures and other teams' leaderboards 403, lists narrowed to the scope.
- Everyone else sees every agent.
- Personal data (the caller's number, phone and ID numbers, bank cards, plates and addresses said on the call)
  is masked for everyone by default. ``admin`` and users granted ``pii`` may ask for it unmasked
  (``reveal=true``, ``pii_revealed``); others get 403 ``pii_forbidden``; every reveal is audited.

For a list of records with an agent id column, filter with ``query.where(agent_filter(principal, col))``;
for one record, ``check_agent(principal, record.agent_id)`` (403) or ``visible_call`` (404).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.errors import ApiError
from api.state import AppState
from inspector.store.db import utcnow
from inspector.store.org import OrgTree, load_tree
from inspector.store.schema import Agent, ApiToken, Call, User
from inspector.store.tokens import USER_ROLES, verify_token
from inspector.store.users import session_user

ADMIN = ("admin",)
REVIEWERS = ("admin", "reviewer")
SCORE_EDITORS = ("admin", "reviewer")  # change scores: verdicts, findings, reviewed score, appeals (not trainers)
COACHES = ("admin", "trainer", "team_lead")  # assign coaching (a team lead: to its own team's agents)
STAFF = ("admin", "reviewer", "trainer", "team_lead")  # everyone but agents
EVERYONE = USER_ROLES

SESSION_COOKIE = "inspector_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# ``last_used_at`` is written at most this often per token (not one write per request).
_LAST_USED_RESOLUTION = timedelta(minutes=1)

_bearer = HTTPBearer(
    auto_error=False,
    description="访问令牌（inspector token create 生成），请求头 Authorization: Bearer <token>",
)
_session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="网页登录会话（POST /api/v1/auth/login 设置）；修改类请求还需请求头 X-CSRF-Token",
)

SessionCookieValue = Annotated[str | None, Depends(_session_cookie)]


@dataclass(frozen=True)
class Principal:
    """Who a request speaks for (a bearer token, or a logged-in user's session)."""

    token_id: int | None
    role: str
    agent_id: str | None
    name: str
    user_id: int | None = None
    username: str | None = None
    team_id: str | None = None  # team_lead: the user's team (its scope when no org node is set)
    scope: str | None = None  # team_lead: the org node it manages (a team, project, region or the group)
    scope_teams: frozenset[str] | None = None  # team_lead: the teams under its scope; None: not limited
    team_agents: frozenset[str] = field(default_factory=frozenset)  # team_lead: the agents of those teams
    csrf_token: str | None = None  # cookie sessions: what X-CSRF-Token must be
    pii: bool = False  # granted the permission to reveal personal data (admins have it by role)

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"user:{self.username}" if self.username else f"token:{self.token_id}"


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool,
# one thread hop each per request, which under concurrent load costs more than the work itself.
async def get_state(request: Request) -> AppState:
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


def csrf_failed() -> ApiError:
    return ApiError(403, "csrf_failed", f"缺少或错误的 CSRF 令牌（请求头 {CSRF_HEADER}），请刷新页面后重试")


def csrf_matches(request: Request, expected: str) -> bool:
    return hmac.compare_digest(request.headers.get(CSRF_HEADER, "").encode(), expected.encode())


def _team_agents(session: Session, teams: frozenset[str] | None) -> frozenset[str]:
    if not teams:
        return frozenset()
    return frozenset(session.scalars(select(Agent.id).where(Agent.team_id.in_(sorted(teams)))))


def _scope_teams(session: Session, scope: str | None) -> frozenset[str]:
    """The teams under an org node (just that team when the node is a team outside the tree)."""
    if not scope:
        return frozenset()
    return load_tree(session).teams_under(scope)


def user_principal(session: Session, user: User, token: ApiToken | None = None, csrf: str | None = None) -> Principal:
    """The principal of a user (logged in, or through one of the user's tokens)."""
    lead = user.role == "team_lead"
    team_id = user.team_id if lead else None
    scope = (user.scope or team_id) if lead else None
    teams = _scope_teams(session, scope) if lead else None
    return Principal(
        token_id=None if token is None else token.id,
        role=user.role,
        agent_id=user.agent_id,
        name=(token.name if token is not None and token.name else "") or user.display_name or user.username,
        user_id=user.id,
        username=user.username,
        team_id=team_id,
        scope=scope,
        scope_teams=teams,
        team_agents=_team_agents(session, teams),
        csrf_token=csrf,
        pii=bool(user.pii),
    )


def _bearer_principal(state: AppState, token: str) -> Principal:
    with state.db.session() as session:
        record = verify_token(session, token)
        if record is None:
            raise _unauthorized("访问令牌无效或已吊销")
        user = None if record.user_id is None else session.get(User, record.user_id)
        if record.user_id is not None and (user is None or not user.active):
            raise _unauthorized("访问令牌所属的用户已停用")
        now = utcnow()
        if record.last_used_at is None or now - record.last_used_at > _LAST_USED_RESOLUTION:
            session.execute(update(ApiToken).where(ApiToken.id == record.id).values(last_used_at=now))
        if user is not None:
            return user_principal(session, user, token=record)
        return Principal(token_id=record.id, role=record.role, agent_id=record.agent_id, name=record.name)


def _cookie_principal(state: AppState, request: Request, cookie_value: str) -> Principal:
    with state.db.session() as session:  # committed even when refused: an expired session is deleted
        found = session_user(session, cookie_value)
        principal = None if found is None else user_principal(session, found[0], csrf=found[1].csrf_token)
    if principal is None or principal.csrf_token is None:
        raise _unauthorized("登录已过期或无效，请重新登录")
    if request.method not in SAFE_METHODS and not csrf_matches(request, principal.csrf_token):
        raise csrf_failed()
    return principal


def current_principal(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie_value: SessionCookieValue,
) -> Principal:
    if credentials is not None and credentials.scheme.lower() == "bearer" and credentials.credentials:
        return _bearer_principal(state, credentials.credentials)
    if cookie_value:
        return _cookie_principal(state, request, cookie_value)
    raise _unauthorized("未登录：请先登录，或在请求头中提供 Authorization: Bearer <token>")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for the others)."""
    unknown = set(roles) - set(USER_ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    async def dependency(principal: CurrentPrincipal) -> Principal:  # no I/O: on the event loop
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"角色 {principal.role} 无权执行此操作", role=principal.role)
        return principal

    return dependency


Admin = Annotated[Principal, Depends(require_roles(*ADMIN))]
Reviewer = Annotated[Principal, Depends(require_roles(*REVIEWERS))]
ScoreEditor = Annotated[Principal, Depends(require_roles(*SCORE_EDITORS))]
Coach = Annotated[Principal, Depends(require_roles(*COACHES))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
Anyone = Annotated[Principal, Depends(require_roles(*EVERYONE))]


# --- per-record rules ----------------------------------------------------------------------------


def agent_scope(principal: Principal) -> str | None:
    """The only agent id this principal may see, or None when it is not limited to one agent."""
    if principal.role == "agent":
        return principal.agent_id or ""  # an agent token without an agent id sees nothing
    return None


def team_scope(principal: Principal) -> frozenset[str] | None:
    """The only teams this principal may see (team_lead: those under its scope), or None when not limited."""
    if principal.role == "team_lead":
        return principal.scope_teams or frozenset()  # a team lead without a scope sees nothing
    return None


def may_see_agent(principal: Principal, agent_id: str) -> bool:
    if principal.role == "agent":
        return agent_id == (principal.agent_id or "")
    if principal.role == "team_lead":
        return agent_id in principal.team_agents
    return True


def agent_filter(principal: Principal, agent_column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """A WHERE condition limiting rows with ``agent_column`` to the agents this principal may see."""
    if principal.role == "agent":
        return agent_column == (principal.agent_id or "")
    if principal.role == "team_lead":
        return agent_column.in_(select(Agent.id).where(Agent.team_id.in_(sorted(principal.scope_teams or ()))))
    return true()


def visible_call(session: Session, principal: Principal, call_id: str) -> Call:
    """The call, or 404 when it does not exist or is not this principal's to see."""
    call = session.get(Call, call_id)
    if call is None or not may_see_agent(principal, call.agent_id):
        raise ApiError(404, "call_not_found", f"通话 {call_id} 不存在", call_id=call_id)
    return call


def check_agent(principal: Principal, agent_id: str) -> None:
    """403 unless the principal may see (and act on) this agent's figures."""
    if may_see_agent(principal, agent_id):
        return
    if principal.role == "team_lead":
        raise ApiError(403, "forbidden", "班组长只能查看本班组坐席的数据", agent_id=agent_id)
    raise ApiError(403, "forbidden", "坐席只能查看自己的数据", agent_id=agent_id)


def check_team(principal: Principal, team_id: str) -> None:
    """403 unless the principal may see this team's figures (a team lead: its own team; agents: none)."""
    if principal.role == "agent":
        raise ApiError(403, "forbidden", "坐席无权查看班组数据", team=team_id)
    scope = team_scope(principal)
    if scope is not None and team_id not in scope:
        raise ApiError(403, "forbidden", "班组长只能查看管辖范围内班组的数据", team=team_id)


def check_node(principal: Principal, tree: OrgTree, node_id: str) -> None:
    """403 unless the principal may see this org node's figures: every team under it is in its scope."""
    if principal.role == "agent":
        raise ApiError(403, "forbidden", "坐席无权查看组织架构的数据", node=node_id)
    scope = team_scope(principal)
    if scope is None:
        return
    inside = principal.scope is not None and any(n.id == principal.scope for n in tree.path(node_id))
    if not inside and not (node_id in scope and node_id not in tree.nodes):
        raise ApiError(403, "forbidden", "只能查看管辖范围内的组织架构数据", node=node_id)


# --- personal data (inspector.privacy) ------------------------------------------------------------


def may_reveal_pii(principal: Principal) -> bool:
    """Whether the principal may reveal masked personal data: admins, and users granted ``pii``."""
    return principal.role == "admin" or principal.pii


def pii_revealed(principal: Principal, reveal: bool) -> bool:
    """Whether this request shows personal data unmasked: only when asked (``reveal=true``) and allowed (else 403).

    Everyone sees masked data first; a reveal is audited by the route (``api.privacy.audit_reveal``)."""
    if reveal and not may_reveal_pii(principal):
        raise ApiError(403, "pii_forbidden", "无权查看未脱敏的个人信息（需要管理员授予 pii 权限）", role=principal.role)
    return reveal
