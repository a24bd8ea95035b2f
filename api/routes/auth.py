"""Login for the web UI: a session cookie plus a CSRF token.

- ``POST /auth/login`` ``{"username", "password"}`` → 200 ``{"user", "csrf_token"}`` and the cookie
  ``inspector_session`` (HttpOnly, SameSite=Strict, Path=/, Secure unless ``web.secure_cookies`` is off,
  Max-Age = ``web.session_hours``). Wrong password and unknown user get the same 401. The session ends
  ``web.session_hours`` after login (no sliding renewal).
- ``POST /auth/logout`` → 204, ends the session and clears the cookie (no session: still 204). With a
  valid session cookie it needs ``X-CSRF-Token`` like every other cookie request.
- ``GET /auth/me`` → the login body for the current principal (a bearer token: ``csrf_token`` is null).

Brute force (``api.limits.LoginGuard``, settings ``login.*``, counted in Redis and shared by every API
process): at most ``login.attempts_per_minute`` attempts per client address per minute, checked before
the password is hashed; after ``login.max_failures`` failed logins for one user name from one client
address within ``login.failure_window_s`` seconds, that user name gets 429 (``Retry-After``) from that
address until the window ends — other addresses are not locked out. Unknown user names are counted the
same way, so the 429 does not tell whether a user name exists. The client address is the one uvicorn
reports (behind a reverse proxy, run uvicorn with ``--forwarded-allow-ips`` for the proxy). Redis down:
503 ``login_unavailable`` (bearer tokens keep working).
"""

from __future__ import annotations

import logging
import math
from typing import Annotated

import redis
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import (
    SESSION_COOKIE,
    Anyone,
    DbSession,
    Principal,
    SessionCookieValue,
    State,
    csrf_failed,
    csrf_matches,
    may_reveal_pii,
)
from api.errors import ApiError
from api.fields import SingleLine
from api.limits import LoginGuard
from api.schemas.errors import error_responses
from api.state import AppState
from inspector.store.schema import User
from inspector.store.users import authenticate, create_session, end_session, normalize_username, session_user
from inspector.vocab import UserRole

log = logging.getLogger("api")

public = APIRouter(tags=["登录"])
router = APIRouter(tags=["登录"])

def login_guard(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


def _too_many(wait_s: int, code: str, detail: str) -> ApiError:
    return ApiError(429, code, detail, headers={"Retry-After": str(wait_s)}, retry_after_s=wait_s)


class LoginIn(BaseModel):
    username: Annotated[str, SingleLine] = Field(min_length=1, max_length=64, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")


class UserOut(BaseModel):
    username: str | None
    display_name: str
    role: UserRole
    agent_id: str | None
    team_id: str | None
    pii: bool = Field(False, description="可查看未脱敏的个人信息（管理员，或被授予 pii 权限的用户）")


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str | None = Field(description="修改类请求（POST/PUT/PATCH/DELETE）须放在请求头 X-CSRF-Token 中")


def _user_out(user: User) -> UserOut:
    return UserOut(username=user.username, display_name=user.display_name or user.username, role=user.role,
                   agent_id=user.agent_id, team_id=user.team_id,
                   pii=user.role == "admin" or bool(user.pii))  # fmt: skip


def _clear_cookie(response: Response, state: AppState) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=state.settings.web.secure_cookies, httponly=True,
                           samesite="strict")  # fmt: skip


@public.post(
    "/auth/login",
    response_model=LoginOut,
    summary="网页登录（设置会话 Cookie，返回 CSRF 令牌）",
    responses=error_responses(401, 429),
)
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    state: State,
    session: DbSession,
    old_cookie: SessionCookieValue,
) -> LoginOut:
    guard = login_guard(request)
    address = request.client.host if request.client is not None else "unknown"
    key = normalize_username(body.username)
    try:
        wait_s = guard.address_wait_s(address)
        if wait_s:
            raise _too_many(wait_s, "too_many_requests", f"登录请求过于频繁，请 {wait_s} 秒后再试")
        wait_s = guard.user_wait_s(key, address)
        if wait_s:
            minutes = math.ceil(wait_s / 60)
            raise _too_many(wait_s, "too_many_attempts", f"登录失败次数过多，请 {minutes} 分钟后再试")
        user = authenticate(session, body.username, body.password)
        if user is None:
            guard.failed(key, address)
            raise ApiError(401, "login_failed", "用户名或密码错误", headers={"WWW-Authenticate": "Bearer"})
        guard.succeeded(key, address)
    except redis.RedisError:
        log.exception("login limiter unavailable")
        raise ApiError(503, "login_unavailable", "登录服务暂时不可用，请稍后重试") from None
    if old_cookie:
        end_session(session, old_cookie)
    hours = state.settings.web.session_hours
    cookie_value, csrf_token = create_session(session, user, hours)
    response.set_cookie(SESSION_COOKIE, cookie_value, max_age=int(hours * 3600), path="/",
                        secure=state.settings.web.secure_cookies, httponly=True, samesite="strict")  # fmt: skip
    return LoginOut(user=_user_out(user), csrf_token=csrf_token)


@public.post("/auth/logout", status_code=204, response_class=Response, summary="退出登录（清除会话 Cookie）",
             responses=error_responses(403))
def logout(request: Request, state: State, cookie_value: SessionCookieValue) -> Response:
    if cookie_value:
        with state.db.session() as session:
            found = session_user(session, cookie_value)
            if found is not None and not csrf_matches(request, found[1].csrf_token):
                raise csrf_failed()
            end_session(session, cookie_value)
    response = Response(status_code=204)
    _clear_cookie(response, state)
    return response


def principal_out(principal: Principal) -> LoginOut:
    user = UserOut(username=principal.username, display_name=principal.name, role=principal.role,
                   agent_id=principal.agent_id, team_id=principal.team_id,
                   pii=may_reveal_pii(principal))  # fmt: skip
    return LoginOut(user=user, csrf_token=principal.csrf_token)


@router.get("/auth/me", response_model=LoginOut, summary="当前登录的用户（及 CSRF 令牌）")
def me(principal: Anyone) -> LoginOut:
    return principal_out(principal)
