"""Every error the API returns is JSON: ``{"detail": "<中文说明>", "code": "<stable_code>", ...fields}``.

``detail`` is for people (Simplified Chinese), ``code`` is a stable English identifier for programs,
and extra fields name what the error is about (``field``, ``file``, ``line``, ``limit_bytes``...).

- ``ApiError``: raised by the API itself (auth, limits, a record the caller may not see, parameters).
- ``InspectorError`` from the core: mapped here and only here (``inspector_error``), by its ``kind``:
  invalid → 422 (400 for token and user requests), not_found → 404, conflict → 409, unavailable → 503;
  a recording by what is wrong with it (413 / 415 / 422). Routes let domain errors propagate; a route
  that must answer differently (e.g. 404 instead of 403 to hide another agent's data) says so itself.
- Framework errors (unknown route, wrong method, malformed body, parameter validation): translated.
- Anything else: 500 with a generic message (the traceback goes to the log, never to the client).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inspector.errors import (
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    ErrorKind,
    InspectorError,
    NotAudio,
    RuleFileError,
    UnsupportedCodec,
    UnsupportedSampleRate,
)
from inspector.store.db import DatabaseError
from inspector.store.tokens import TokenError
from inspector.store.users import UserError

log = logging.getLogger("api")


class ApiError(Exception):
    """An error answered as ``{"detail", "code", **fields}`` with ``status_code``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.fields = fields


def error_body(code: str, detail: str, **fields: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, **fields}


def error_response(
    status_code: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **fields: Any
) -> JSONResponse:
    return JSONResponse(error_body(code, detail, **fields), status_code=status_code, headers=dict(headers or {}))


def invalid_param(field: str, message: str) -> ApiError:
    """422 for one request parameter, shaped like a validation error."""
    return ApiError(
        422,
        "invalid_request",
        f"参数 {field} 无效：{message}",
        field=field,
        errors=[{"field": field, "message": message}],
    )


# --- domain errors: the one mapping of ``InspectorError`` to an answer ----------------------------

KIND_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAVAILABLE: 503,
}
# Invalid requests answered 400, not 422, as they always were: token and user requests.
BAD_REQUEST: tuple[type[InspectorError], ...] = (TokenError, UserError)


def audio_error_status(err: AudioError) -> int:
    """415: not a recording we can decode at all; 413: too long / too large; 422: a damaged recording."""
    if isinstance(err, AudioTooLong | AudioTooLarge):
        return 413
    if isinstance(err, NotAudio | UnsupportedCodec | UnsupportedSampleRate):
        return 415
    return 422


def error_status(err: InspectorError) -> int:
    """The status of a domain error: from its ``kind``; recordings by what is wrong with them."""
    if isinstance(err, AudioError):
        return audio_error_status(err)
    if isinstance(err, BAD_REQUEST):
        return 400
    return KIND_STATUS[err.kind]


def _detail_and_fields(err: InspectorError) -> tuple[str, dict[str, Any]]:
    if isinstance(err, AudioError):
        # ``err.reason`` only: the message would name the file's path inside the audio store.
        return f"录音无法使用：{err.reason}", {"reason": err.reason}
    if isinstance(err, RuleFileError):
        fields = {"file": err.path, "line": err.line, "rule": err.rule_id, "reason": err.reason}
        return f"规则文件无效：{err.message}", fields
    if isinstance(err, DatabaseError):
        return "数据库暂时不可用，请稍后重试", {}
    if err.kind is ErrorKind.INVALID and hasattr(err, "field"):
        # The input at fault (coaching, calibration rounds...; null when none).
        return err.message, {"field": err.field}
    return err.message, {}


def inspector_error(err: InspectorError) -> ApiError:
    """The answer to a domain error: status from ``kind``, its ``code``, a Chinese ``detail`` and the
    fields naming what it is about (a recording's ``reason``; a rule file's ``file``/``line``/``rule``)."""
    detail, fields = _detail_and_fields(err)
    return ApiError(error_status(err), err.code, detail, **fields)


def audio_error(err: AudioError) -> ApiError:
    return inspector_error(err)


# --- framework errors ----------------------------------------------------------------------------

_HTTP_ZH: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求无法解析"),
    401: ("unauthorized", "未登录或访问令牌无效"),
    403: ("forbidden", "没有执行此操作的权限"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "该地址不支持此请求方法"),
    406: ("not_acceptable", "无法提供请求的内容格式"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    416: ("range_not_satisfiable", "请求的字节范围无效"),
    422: ("invalid_request", "请求参数无效"),
    429: ("too_many_requests", "请求过于频繁"),
}

BODY_FIELD = "请求体"
_LOCATIONS_ZH = {"query": "查询参数", "path": "路径参数", "body": "表单字段", "header": "请求头", "cookie": "Cookie"}


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS_ZH:
        parts = parts[1:]
    return ".".join(parts) or BODY_FIELD


def _constraint(ctx: Mapping[str, Any], key: str) -> Any:
    return ctx.get(key, "")


def validation_message(error: Mapping[str, Any]) -> str:
    """One pydantic error in Chinese (the original English message as a fallback hint)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    messages: dict[str, str] = {
        "missing": "缺少必填项",
        "int_parsing": "必须是整数",
        "int_type": "必须是整数",
        "int_from_float": "必须是整数",
        "float_parsing": "必须是数字",
        "float_type": "必须是数字",
        "bool_parsing": "必须是 true 或 false",
        "date_parsing": "日期格式无效，应为 YYYY-MM-DD",
        "date_from_datetime_parsing": "日期格式无效，应为 YYYY-MM-DD",
        "date_from_datetime_inexact": "日期不能带时间部分",
        "datetime_parsing": "时间格式无效，应为 ISO 8601（如 2024-03-15T09:30:00+08:00）",
        "datetime_from_date_parsing": "时间格式无效，应为 ISO 8601（如 2024-03-15T09:30:00+08:00）",
        "string_type": "必须是文本",
        "string_too_short": f"长度至少为 {_constraint(ctx, 'min_length')}",
        "string_too_long": f"长度不能超过 {_constraint(ctx, 'max_length')}",
        "string_pattern_mismatch": "格式不正确",
        "greater_than": f"必须大于 {_constraint(ctx, 'gt')}",
        "greater_than_equal": f"必须大于或等于 {_constraint(ctx, 'ge')}",
        "less_than": f"必须小于 {_constraint(ctx, 'lt')}",
        "less_than_equal": f"必须小于或等于 {_constraint(ctx, 'le')}",
        "literal_error": f"必须是以下之一：{_constraint(ctx, 'expected')}",
        "enum": f"必须是以下之一：{_constraint(ctx, 'expected')}",
        "json_invalid": "不是有效的 JSON",
        "model_attributes_type": "格式不正确",
        "list_type": "必须是列表",
        "value_error": "取值无效",
    }
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])  # our own validators raise ValueError with a Chinese reason
    message = messages.get(kind)
    if message is None:
        return f"取值无效（{error.get('msg', kind)}）"
    return message


def _error_field(error: Mapping[str, Any]) -> str:
    # A JSON decode error's location is ("body", <character offset>): the offset is no field name.
    if error.get("type") == "json_invalid":
        return BODY_FIELD
    return _field_name(error.get("loc", ()))


def validation_error(errors: Sequence[Mapping[str, Any]]) -> ApiError:
    items = [{"field": _error_field(e), "message": validation_message(e)} for e in errors]
    first = items[0] if items else {"field": "请求", "message": "无效"}
    more = f"（另有 {len(items) - 1} 处错误）" if len(items) > 1 else ""
    return ApiError(
        422,
        "invalid_request",
        f"参数 {first['field']} 无效：{first['message']}{more}",
        field=first["field"],
        errors=items,
    )


# --- handlers ------------------------------------------------------------------------------------


def _respond(err: ApiError) -> JSONResponse:
    return error_response(err.status_code, err.code, err.detail, err.headers, **err.fields)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _respond(exc)


async def _inspector_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InspectorError)
    return _respond(inspector_error(exc))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a JSON body that is not UTF-8 with a bare 400 ("error parsing the body"), malformed
        # JSON with a 422: to a client both are the same mistake, so both are the documented 422.
        return _respond(validation_error([{"type": "json_invalid", "loc": ("body",)}]))
    code, detail = _HTTP_ZH.get(exc.status_code, ("http_error", "请求失败"))
    return error_response(exc.status_code, code, detail, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _respond(validation_error(exc.errors()))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "服务器内部错误，请稍后重试或联系管理员")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(InspectorError, _inspector_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
