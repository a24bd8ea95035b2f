"""Serving a recording to an audio player: ``Accept-Ranges: bytes`` and single HTTP byte ranges.

Implemented here rather than relying on ``starlette.responses.FileResponse`` (which handles ranges
since starlette 0.39) so the behaviour does not depend on the starlette version and an unsatisfiable
range answers JSON like every other 4xx. Rules (RFC 9110 §14):

- ``bytes=first-last``, ``bytes=first-`` and ``bytes=-suffix`` → 206 with ``Content-Range``;
- a range starting at or past the end, or ``bytes=-0`` → 416 with ``Content-Range: bytes */size``;
- anything else (another unit, malformed, several ranges, an ``If-Range`` that no longer matches)
  → the whole file, 200 (a server may ignore ``Range``; players ask for one range at a time).

Recordings are content-addressed, so the strong ``ETag`` is the sha256 and never changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from fastapi.responses import Response, StreamingResponse

from api.errors import ApiError

CHUNK = 64 * 1024
MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
}
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes (inclusive) to send, or None for the whole file; 416 when unsatisfiable."""
    if header is None:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None  # another unit, several ranges or malformed: ignored
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise unsatisfiable(size)
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid range-spec: ignored
    if first >= size:
        raise unsatisfiable(size)
    return first, min(int(last_text), size - 1) if last_text else size - 1


def unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416,
        "range_not_satisfiable",
        f"请求的字节范围超出录音大小（{size} 字节）",
        headers={"Content-Range": f"bytes */{size}"},
        size=size,
    )


def _chunks(path: Path, first: int, last: int) -> Iterator[bytes]:
    remaining = last - first + 1
    with path.open("rb") as f:
        f.seek(first)
        while remaining > 0:
            block = f.read(min(CHUNK, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block


def file_response(path: Path, etag: str, range_header: str | None, if_range: str | None) -> Response:
    size = path.stat().st_size
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{etag}"', "Cache-Control": "private, max-age=3600"}
    wanted = parse_range(range_header, size)
    if wanted is not None and if_range is not None and if_range.strip() != headers["ETag"]:
        wanted = None  # the client's copy is another version: send the whole file
    if wanted is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(_chunks(path, 0, size - 1), media_type=media_type(path), headers=headers)
    first, last = wanted
    headers["Content-Length"] = str(last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(_chunks(path, first, last), status_code=206, media_type=media_type(path), headers=headers)
