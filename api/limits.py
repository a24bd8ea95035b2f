"""Request body limits, enforced before and while the body is read, and the login limiter.

``BodyLimit``: every route has a body limit — the upload routes their own (``limits``: the file limit
plus room for the form's framing; the routes check the file itself again against the exact setting),
every other route ``api.max_body_bytes``. ``Content-Length`` over the limit is refused at once (the body
is never read); a body sent without one (chunked) is counted as it arrives and refused as soon as it
passes the limit. Both answer 413 JSON naming the limit (``limit_bytes``).

``LoginGuard``: see ``api.routes.auth``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping

import redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from inspector.settings import LoginSettings

# Room for the multipart framing and the small form fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n} 字节"


class BodyLimit:
    """Pure ASGI middleware: ``limits`` maps (method, path) of the upload routes to the most bytes their
    file may have; every other request body may have at most ``default`` bytes."""

    def __init__(self, app: ASGIApp, limits: Mapping[tuple[str, str], int], default: int) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default

    async def _refuse(self, send: Send, limit: int, upload: bool) -> None:
        if upload:
            error = error_body("upload_too_large", f"上传内容超过上限 {_megabytes(limit)}", limit_bytes=limit)
        else:
            error = error_body("request_too_large", f"请求体超过上限 {_megabytes(limit)}", limit_bytes=limit)
        body = json.dumps(error, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload_limit = self.limits.get((scope.get("method", ""), scope.get("path", "")))
        upload = upload_limit is not None
        limit = upload_limit if upload_limit is not None else self.default
        # The limit named to the client is the file limit; the body may carry the form's framing too.
        allowed = limit + FORM_OVERHEAD_BYTES if upload else limit
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > allowed:
                await self._refuse(send, limit, upload)
                return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's own error response to the aborted read is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counted_receive, guarded_send)
        if exceeded and not started:
            await self._refuse(send, limit, upload)


class LoginGuard:
    """Brute-force limits of POST /auth/login, counted in Redis so every API process shares them.

    - ``address_wait_s``: every attempt from a client address counts; past ``attempts_per_minute`` in
      the current minute the address waits for the next one. Checked before the password is hashed, so
      a flood from one address (random user names included) costs no argon2 time.
    - ``user_wait_s`` / ``failed`` / ``succeeded``: failed logins per (user name, client address); after
      ``max_failures`` within ``failure_window_s`` of the first one, that pair waits until the window ends.
      Another address is not locked out, so wrong passwords sent from elsewhere cannot lock a user out.
    Counters are fixed windows (``SET NX EX`` then ``INCR``); each method returns seconds to wait (0: go).
    """

    def __init__(self, connection: redis.Redis, settings: LoginSettings, namespace: str) -> None:
        self.redis = connection
        self.settings = settings
        self.prefix = f"{namespace}:login"

    def _user_key(self, username: str, address: str) -> str:
        name = hashlib.sha256(username.encode()).hexdigest()[:32]
        return f"{self.prefix}:fail:{name}:{address}"

    def _count(self, key: str, window_s: int) -> tuple[int, int]:
        pipe = self.redis.pipeline()
        pipe.set(key, 0, ex=window_s, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def address_wait_s(self, address: str) -> int:
        count, ttl = self._count(f"{self.prefix}:addr:{address}", 60)
        return ttl if count > self.settings.attempts_per_minute else 0

    def user_wait_s(self, username: str, address: str) -> int:
        key = self._user_key(username, address)
        pipe = self.redis.pipeline()
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = pipe.execute()
        if count is None or int(count) < self.settings.max_failures:
            return 0
        return max(1, int(ttl))

    def failed(self, username: str, address: str) -> None:
        self._count(self._user_key(username, address), self.settings.failure_window_s)

    def succeeded(self, username: str, address: str) -> None:
        self.redis.delete(self._user_key(username, address))
