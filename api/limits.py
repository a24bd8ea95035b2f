"""Request body limits for the upload routes, enforced before and while the body is read.

``Content-Length`` over the limit is refused at once (the body is never read); a body sent without
one (chunked) is counted as it arrives and refused as soon as it passes the limit. Both answer 413
JSON naming the limit. The routes check the file itself again against the exact setting.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

# Room for the multipart framing and the small form fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n} 字节"


class BodyLimit:
    """Pure ASGI middleware: ``limits`` maps (method, path) to the most bytes a request body may have."""

    def __init__(self, app: ASGIApp, limits: Mapping[tuple[str, str], int]) -> None:
        self.app = app
        self.limits = dict(limits)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            error_body("upload_too_large", f"上传内容超过上限 {_megabytes(limit)}", limit_bytes=limit),
            ensure_ascii=False,
        ).encode()
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
        limit = self.limits.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        # The limit named to the client is the file limit; the body may carry the form's framing too.
        allowed = limit + FORM_OVERHEAD_BYTES
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > allowed:
                await self._refuse(send, limit)
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
            await self._refuse(send, limit)
