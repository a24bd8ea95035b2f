"""Login for the web UI: a session cookie plus a CSRF token.

- ``POST /auth/login`` ``{"username", "password"}`` → 200 ``{"user", "csrf_token"}`` and the cookie
  ``inspector_session`` (HttpOnly, SameSite=Strict, Path=/, Secure unless ``web.secure_cookies`` is off,
  Max-Age = ``web.session_hours``). Wrong password and unknown user get the same 401. The session ends
  ``web.session_hours`` after login (no sliding renewal).
- ``POST /auth/logout`` → 204, ends the session and clears the cookie (no session: still 204). With a
  valid session cookie it needs ``X-CSRF-Token`` like every other cookie request.
- ``GET /auth/me`` → the login body for the current principal (a bearer token: ``csrf_token`` is null).

Brute force: after ``MAX_FAILURES`` failed logins for one username within ``WINDOW_S`` seconds, that
username gets 429 (``Retry-After``) until the oldest of those failures is ``WINDOW_S`` old. The count is
kept in memory, per API process (each worker process counts on its own; a restart forgets). Unknown
usernames are counted the same way, so the 429 does not tell whether a username exists.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

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
)
from api.errors import ApiError
from api.state import AppState
from inspector.store.schema import User
from inspector.store.users import authenticate, create_session, end_session, normalize_username, session_user

public = APIRouter(tags=["登录"])
router = APIRouter(tags=["登录"])

MAX_FAILURES = 5
WINDOW_S = 600.0
MAX_TRACKED = 10_000  # usernames with recent failures kept in memory at most


class LoginLimiter:
    """Failed logins per username within a sliding window (in memory, thread-safe)."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def blocked_for(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: it may now)."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return 0
            return max(1, math.ceil(times[0] + self.window_s - now))

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            if len(self._failures) > MAX_TRACKED:
                self._prune(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) > MAX_TRACKED:  # still too many: forget the longest-tracked ones
            del self._failures[next(iter(self._failures))]


def login_limiter(request: Request) -> LoginLimiter:
    limiter: LoginLimiter = request.app.state.login_limiter
    return limiter


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")


class UserOut(BaseModel):
    username: str | None
    display_name: str
    role: str
    agent_id: str | None
    team_id: str | None


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str | None = Field(description="修改类请求（POST/PUT/PATCH/DELETE）须放在请求头 X-CSRF-Token 中")


def _user_out(user: User) -> UserOut:
    return UserOut(username=user.username, display_name=user.display_name or user.username, role=user.role,
                   agent_id=user.agent_id, team_id=user.team_id)  # fmt: skip


def _clear_cookie(response: Response, state: AppState) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=state.settings.web.secure_cookies, httponly=True,
                           samesite="strict")  # fmt: skip


@public.post(
    "/auth/login",
    response_model=LoginOut,
    summary="网页登录（设置会话 Cookie，返回 CSRF 令牌）",
    responses={401: {"description": "用户名或密码错误"}, 429: {"description": "失败次数过多，稍后再试"}},
)
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    state: State,
    session: DbSession,
    old_cookie: SessionCookieValue,
) -> LoginOut:
    limiter = login_limiter(request)
    key = normalize_username(body.username)
    wait_s = limiter.blocked_for(key)
    if wait_s:
        minutes = math.ceil(wait_s / 60)
        raise ApiError(429, "too_many_attempts", f"登录失败次数过多，请 {minutes} 分钟后再试",
                       headers={"Retry-After": str(wait_s)}, retry_after_s=wait_s)  # fmt: skip
    user = authenticate(session, body.username, body.password)
    if user is None:
        limiter.failed(key)
        raise ApiError(401, "login_failed", "用户名或密码错误", headers={"WWW-Authenticate": "Bearer"})
    limiter.succeeded(key)
    if old_cookie:
        end_session(session, old_cookie)
    hours = state.settings.web.session_hours
    cookie_value, csrf_token = create_session(session, user, hours)
    response.set_cookie(SESSION_COOKIE, cookie_value, max_age=int(hours * 3600), path="/",
                        secure=state.settings.web.secure_cookies, httponly=True, samesite="strict")  # fmt: skip
    return LoginOut(user=_user_out(user), csrf_token=csrf_token)


@public.post("/auth/logout", status_code=204, response_class=Response, summary="退出登录（清除会话 Cookie）")
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
                   agent_id=principal.agent_id, team_id=principal.team_id)  # fmt: skip
    return LoginOut(user=user, csrf_token=principal.csrf_token)


@router.get("/auth/me", response_model=LoginOut, summary="当前登录的用户（及 CSRF 令牌）")
def me(principal: Anyone) -> LoginOut:
    return principal_out(principal)
