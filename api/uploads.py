"""POST /calls: a recording arrives, is stored, sniffed, registered and queued.

Order of work (each step refuses as early as it can):

1. the request's ``Content-Length`` (``api.limits.BodyLimit``, before the body is read);
2. the form fields (422 naming the field) and the file name's ending (415);
3. streaming into the content-addressed store, hashing on the way (413 past ``api.max_upload_bytes``);
4. the same recording already registered: that call is returned (200, ``created: false``);
5. content sniffing with ``inspector.audio.probe`` (415 / 422 with the reason) and the duration cap (413);
6. registration (409 on a call id used by another recording) and queueing.

A refused upload removes its blob unless a call references it: blobs are content-addressed, so the
same bytes may belong to an existing call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Annotated, Any, BinaryIO

import redis
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from api.errors import ApiError, audio_error, validation_error
from api.queries import Direction
from api.state import AppState
from inspector import jobs
from inspector.audio import AUDIO_SUFFIXES, probe
from inspector.errors import AudioError
from inspector.store.blobs import BlobTooLarge
from inspector.store.calls import NewCall, register_calls
from inspector.store.schema import Call

log = logging.getLogger("api")


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


BlankIsNone = BeforeValidator(_blank_is_none)


class UploadFields(BaseModel):
    """The form fields of POST /calls besides ``audio``."""

    agent_id: Annotated[str, Field(min_length=1, max_length=64, description="坐席工号（必填）")]
    call_id: Annotated[str | None, BlankIsNone, Field(max_length=128, description="通话编号；缺省时自动生成")] = None
    started_at: Annotated[
        datetime | None, BlankIsNone, Field(description="开始时间，ISO 8601；不带时区时按呼叫中心本地时间")
    ] = None
    direction: Annotated[Direction | None, BlankIsNone, Field(description="inbound 呼入 / outbound 呼出")] = None
    caller: Annotated[str | None, BlankIsNone, Field(max_length=64, description="主叫号码")] = None
    team: Annotated[str | None, BlankIsNone, Field(max_length=64, description="班组")] = None


def upload_openapi() -> dict[str, Any]:
    """The multipart body of POST /calls for the OpenAPI document (the route parses the form itself)."""
    schema = UploadFields.model_json_schema()
    audio = {"type": "string", "format": "binary", "description": "录音文件"}
    schema["properties"] = {"audio": audio, **schema["properties"]}
    schema["required"] = ["audio", *schema.get("required", [])]
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


@dataclass(frozen=True)
class Received:
    call_id: str
    status: str
    created: bool


def parse_form(form: FormData) -> tuple[UploadFile, UploadFields]:
    """The audio file and the validated fields of the upload form (422 naming the field)."""
    audio = form.get("audio")
    if not isinstance(audio, UploadFile):
        raise validation_error([{"loc": ("body", "audio"), "type": "missing"}])
    fields = {key: value for key, value in form.multi_items() if key != "audio" and isinstance(value, str)}
    try:
        return audio, UploadFields.model_validate(fields)
    except ValidationError as err:
        raise validation_error([{**e, "loc": ("body", *e["loc"])} for e in err.errors()]) from None


def _suffix(filename: str | None) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise ApiError(
            415,
            "unsupported_file_type",
            f"不支持的文件类型 {suffix or '（无扩展名）'}，可上传：{'、'.join(AUDIO_SUFFIXES)}",
            accepted=list(AUDIO_SUFFIXES),
        )
    return suffix


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n} 字节"


def too_large(limit: int) -> ApiError:
    return ApiError(413, "upload_too_large", f"上传文件超过上限 {_megabytes(limit)}", limit_bytes=limit)


def _discard_unreferenced(state: AppState, digest: str) -> None:
    """Remove a refused upload's blob unless a call uses the same recording."""
    with state.db.session() as session:
        if session.scalar(select(Call.id).where(Call.audio_sha256 == digest)) is not None:
            return
    state.audio.delete(digest)


def _existing(state: AppState, digest: str) -> Received | None:
    with state.db.session() as session:
        call = session.scalars(select(Call).where(Call.audio_sha256 == digest)).one_or_none()
        return None if call is None else Received(call.id, call.status, False)


def _probe(state: AppState, digest: str) -> float:
    """The recording's duration; ``ApiError`` (413/415/422) when it cannot be used."""
    limit = state.settings.api.max_upload_duration_s
    try:
        info = probe(state.audio.local_path(digest), state.settings.audio)
    except AudioError as err:
        raise audio_error(err) from None
    if info.duration_s > limit:
        raise ApiError(
            413,
            "too_long",
            f"录音时长 {info.duration_s:.0f} 秒，超过上限 {limit:.0f} 秒",
            duration_s=info.duration_s,
            limit_s=limit,
        )
    return info.duration_s


def receive_call(state: AppState, audio: UploadFile, fields: UploadFields) -> Received:
    """Store, check, register and queue one uploaded recording (blocking: run it in a worker thread)."""
    settings = state.settings
    suffix = _suffix(audio.filename)
    stream: BinaryIO = audio.file
    try:
        digest, size = state.audio.put_stream(stream, suffix, settings.api.max_upload_bytes)
    except BlobTooLarge:
        raise too_large(settings.api.max_upload_bytes) from None

    existing = _existing(state, digest)
    if existing is not None:
        return existing
    try:
        duration_s = _probe(state, digest)
    except ApiError:
        _discard_unreferenced(state, digest)
        raise

    started_at = fields.started_at
    if started_at is not None and started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=state.tz)
    new = NewCall(
        audio_sha256=digest,
        audio_bytes=size,
        audio_name=PurePath(audio.filename or digest).name,
        source="upload",
        agent_id=fields.agent_id,
        call_id=fields.call_id,
        started_at=started_at,
        direction=fields.direction,
        caller=fields.caller,
        duration_s=duration_s,
        team_id=fields.team,
    )
    with state.db.session() as session:
        (registered,) = register_calls(session, [new], state.tz)
    if registered.error:
        _discard_unreferenced(state, digest)
        raise ApiError(409, "call_id_conflict", registered.error, call_id=registered.call_id)
    if registered.created:
        try:
            jobs.enqueue_calls(state.db, state.queue, settings, [registered.call_id])
        except redis.RedisError:
            # The call is registered as queued; the workers' reconciler enqueues it once Redis is back.
            log.exception("could not enqueue call %s; the reconciler will pick it up", registered.call_id)
    return Received(registered.call_id, registered.status, registered.created)
