"""The error body every 4xx/5xx answers with (``ErrorOut``, built by ``api.errors``) and the OpenAPI
``responses`` that document it per status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldErrorOut(BaseModel):
    field: str = Field(description="字段名")
    message: str = Field(description="中文说明")


class ErrorOut(BaseModel):
    """Every error body (``api.errors``): ``detail`` and ``code`` always, plus fields naming what it is about."""

    model_config = ConfigDict(extra="allow")

    detail: str = Field(description="中文说明")
    code: str = Field(description="稳定的错误代码（英文）")
    field: str | None = Field(None, description="出错的字段（参数校验错误）")
    errors: list[FieldErrorOut] | None = Field(None, description="全部字段错误（参数校验错误）")


ERROR_DESCRIPTIONS = {
    400: "请求无法解析（如表单字段或文件过多）",
    401: "未登录或访问令牌无效",
    403: "没有执行此操作的权限",
    404: "不存在（或无权查看）",
    409: "与当前状态冲突",
    410: "已按保留期限删除（评分与检查结果仍保留）",
    413: "请求体或上传文件过大",
    415: "不支持的文件类型或编码",
    416: "请求的字节范围无效",
    422: "参数无效（field 指出字段）",
    429: "请求过于频繁",
    503: "数据库或 Redis 暂时不可用",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting these error statuses with the real error body."""
    return {status: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


# Every route: any request may be refused for its body size, a bad parameter or an unknown path.
COMMON_ERRORS = (404, 413, 422, 503)
PROTECTED_ERRORS = (401, 403, *COMMON_ERRORS)
