"""POST /calls: a recording arrives, is stored, sniffed, registered and queued.

Order of work (each step refuses as early as it can):

1. the request's ``Content-Length`` (``api.limits.BodyLimit``, before the body is read);
2. the form fields (422 naming the field) and the file name's ending (415);
3. streaming into the content-addressed store, hashing on the way (413 past ``api.max_upload_bytes``);
4. the same recording already registered: that call is returned (200, ``created: false``);
5. content sniffing with ``inspector.speech.audio.probe`` (415 / 422 with the reason) and the duration cap (413);
6. registration (409 on a call id used by another recording) and queueing.

A refused upload removes its blob unless a call references it: blobs are content-addressed, so the
same bytes may belong to an existing call, or to a concurrent upload of the same recording. The blob
stays pinned (``LocalAudioStore.put_stream_pinned``) from storing to registration; a refusal deletes
it only under the store's exclusive lock, after every other request using it has finished
(``LocalAudioStore.delete_unless``), and only when no call references it then.

Form fields: blank optional fields are absent; text fields refuse control characters; values must be
UTF-8 (a non-UTF-8 value is refused with 422 naming the field, never stored as mojibake); ``call_id``
is restricted to ``api.fields.CALL_ID_PATTERN``; ``started_at`` must lie between 1970 and 2099.
A digitally silent recording is refused at upload (422 ``silent``), as the worker would fail it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path, PurePath
from typing import Annotated, Any, BinaryIO

import av
import numpy as np
import redis
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from api.errors import ApiError, audio_error, invalid_param, validation_error
from api.fields import CALL_ID_PATTERN, CallIdText, SingleLine, datetime_out_of_range, non_utf8
from api.queries import Direction
from api.state import AppState
from inspector.errors import AudioError, SilentAudio
from inspector.intake.placing import metadata_location, project_catalog
from inspector.privacy.audio import masked_blob_referenced
from inspector.privacy.retention import discard_purged_duplicate
from inspector.service.call_job import enqueue_calls
from inspector.speech.audio import AUDIO_SUFFIXES, probe
from inspector.store.blobs import BlobPin, BlobTooLarge
from inspector.store.calls import NewCall, register_calls
from inspector.store.schema import Call

log = logging.getLogger("api")


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


BlankIsNone = BeforeValidator(_blank_is_none)
# The constraints apply to the text only: a blank value has become None before they are checked.
CallId = Annotated[str, Field(json_schema_extra={"pattern": CALL_ID_PATTERN, "maxLength": 128}), CallIdText]
ShortText = Annotated[str, Field(max_length=64), SingleLine]


class UploadFields(BaseModel):
    """The form fields of POST /calls besides ``audio``."""

    agent_id: Annotated[
        str, BeforeValidator(_strip), Field(min_length=1, max_length=64, description="坐席工号（必填）"), SingleLine
    ]
    call_id: Annotated[
        CallId | None, BlankIsNone,
        Field(description="通话编号（字母、数字与 . _ : -，不以点开头，最长 128）；缺省时自动生成"),
    ] = None  # fmt: skip
    started_at: Annotated[
        datetime | None, BlankIsNone, Field(description="开始时间，ISO 8601；不带时区时按呼叫中心本地时间")
    ] = None
    direction: Annotated[Direction | None, BlankIsNone, Field(description="inbound 呼入 / outbound 呼出")] = None
    caller: Annotated[ShortText | None, BlankIsNone, Field(description="主叫号码")] = None
    team: Annotated[ShortText | None, BlankIsNone, Field(description="班组")] = None
    project: Annotated[ShortText | None, BlankIsNone, Field(description="项目/小区（编号、名称或别名）")] = None
    building: Annotated[ShortText | None, BlankIsNone, Field(description="楼栋，如 3号楼")] = None
    unit: Annotated[ShortText | None, BlankIsNone, Field(description="房号，如 3号楼1单元601 或 3-1-601")] = None


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


def _form_error(exc: StarletteHTTPException, max_files: int, max_fields: int) -> ApiError:
    message = str(exc.detail)
    if message.startswith("Too many fields"):
        return ApiError(400, "too_many_fields", f"表单字段过多（最多 {max_fields} 个）", limit=max_fields)
    if message.startswith("Too many files"):
        return ApiError(400, "too_many_files", f"上传的文件过多（最多 {max_files} 个）", limit=max_files)
    if message.startswith("Part exceeded maximum size"):
        return ApiError(400, "form_field_too_large", "表单字段过大")
    return ApiError(400, "malformed_form", "表单无法解析（应为 multipart/form-data）")


@asynccontextmanager
async def read_form(request: Request, *, max_files: int, max_fields: int) -> AsyncIterator[FormData]:
    """``request.form`` whose refusals (too many fields or files, malformed) are 400 with a Chinese reason."""
    try:
        form = await request.form(max_files=max_files, max_fields=max_fields)
    except StarletteHTTPException as exc:
        raise _form_error(exc, max_files, max_fields) from None
    try:
        yield form
    finally:
        await form.close()


def parse_form(form: FormData, tz: tzinfo) -> tuple[UploadFile, UploadFields]:
    """The audio file and the validated fields of the upload form (422 naming the field). ``started_at``
    comes back aware (a naive value is local time in ``tz``)."""
    audio = form.get("audio")
    if not isinstance(audio, UploadFile):
        raise validation_error([{"loc": ("body", "audio"), "type": "missing"}])
    fields = {key: value for key, value in form.multi_items() if key != "audio" and isinstance(value, str)}
    for key, value in fields.items():
        if key in UploadFields.model_fields and non_utf8(value):
            raise invalid_param(key, "不是 UTF-8 编码的文本（表单字段必须使用 UTF-8）")
    try:
        parsed = UploadFields.model_validate(fields)
    except ValidationError as err:
        raise validation_error([{**e, "loc": ("body", *e["loc"])} for e in err.errors()]) from None
    started_at = parsed.started_at
    if started_at is not None:
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=tz)
        reason = datetime_out_of_range(started_at)
        if reason is not None:
            raise invalid_param("started_at", reason)
        parsed = parsed.model_copy(update={"started_at": started_at})
    return audio, parsed


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
    """Remove a refused upload's blob unless a call uses the same recording (checked under the store's
    exclusive lock, once no other request holds the blob). A call whose recording the retention policy purged
    does not count: uploading it again must not bring it back."""

    def referenced() -> bool:
        with state.db.session() as session:
            query = select(Call.id).where(Call.audio_sha256 == digest, Call.audio_purged_at.is_(None))
            return session.scalar(query.limit(1)) is not None or masked_blob_referenced(session, digest)

    state.audio.delete_unless(digest, referenced)


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
    _refuse_silence(state.audio.local_path(digest), state.settings.audio.silence_dbfs)
    return info.duration_s


def _refuse_silence(path: Path, silence_dbfs: float) -> None:
    """422 ``silent`` when no sample of the recording reaches ``silence_dbfs`` (what the worker checks).

    Decodes frame by frame and stops at the first audible one, so a real recording costs milliseconds
    and memory stays one frame; a file that cannot be decoded is left to the worker to report."""
    threshold = 10.0 ** (silence_dbfs / 20.0)
    peak = 0.0
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            resampler: av.AudioResampler | None = None
            for frame in container.decode(stream):
                frame.pts = None
                if resampler is None:
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=frame.sample_rate)
                for out in resampler.resample(frame):
                    samples = out.to_ndarray()
                    if samples.size:
                        peak = max(peak, float(np.abs(samples).max()))
                        if peak >= threshold:
                            return
            if resampler is None:
                return  # nothing decoded
    except (av.error.FFmpegError, IndexError, ValueError):
        return
    reason = "录音无声（数字静音）" if peak <= 0.0 else f"录音无声（峰值 {20.0 * math.log10(peak):.0f} dBFS）"
    raise audio_error(SilentAudio(path, reason))


def receive_call(state: AppState, audio: UploadFile, fields: UploadFields) -> Received:
    """Store, check, register and queue one uploaded recording (blocking: run it in a worker thread)."""
    settings = state.settings
    suffix = _suffix(audio.filename)
    stream: BinaryIO = audio.file
    try:
        pin = state.audio.put_stream_pinned(stream, suffix, settings.api.max_upload_bytes)
    except BlobTooLarge:
        raise too_large(settings.api.max_upload_bytes) from None
    try:
        with pin:
            received = _register(state, pin, audio, fields)
    except BaseException:
        # Refused (or failed): the pin is released, so the deletion waits only for other requests.
        _discard_unreferenced(state, pin.digest)
        raise
    if not received.created:
        discard_purged_duplicate(state.db, state.audio, pin.digest)  # a purged recording is not brought back
    if received.created:
        try:
            enqueue_calls(state.db, state.queue, settings, [received.call_id])
        except redis.RedisError:
            # The call is registered as queued; the workers' reconciler enqueues it once Redis is back.
            log.exception("could not enqueue call %s; the reconciler will pick it up", received.call_id)
    return received


def _register(state: AppState, pin: BlobPin, audio: UploadFile, fields: UploadFields) -> Received:
    digest, size = pin.digest, pin.size
    existing = _existing(state, digest)
    if existing is not None:
        return existing
    duration_s = _probe(state, digest)
    catalog = project_catalog(state.settings.projects_file)
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
        **metadata_location(fields.project, fields.building, fields.unit, catalog),
    )
    try:
        with state.db.session() as session:
            (registered,) = register_calls(session, [new], state.tz)
    except IntegrityError:
        # A concurrent request registered the same recording (or took the same call id) first.
        existing = _existing(state, digest)
        if existing is not None:
            return existing
        call_id = fields.call_id or ""
        raise ApiError(409, "call_id_conflict", f"通话编号 {call_id} 已被另一段录音使用", call_id=call_id) from None
    if registered.error:
        raise ApiError(409, "call_id_conflict", registered.error, call_id=registered.call_id)
    return Received(registered.call_id, registered.status, registered.created)
