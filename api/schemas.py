"""Response models (they document the API in /docs) and the functions that build them from rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.state import AppState
from inspector.store.schema import Analysis, Call, RuleSetRecord


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


class CallCreated(BaseModel):
    call_id: str
    status: str
    created: bool = Field(description="false：同一录音已登记过，返回已有通话")


class CallSummary(BaseModel):
    call_id: str
    agent_id: str
    agent_name: str
    team_id: str | None
    status: str
    started_at: str | None = Field(description="ISO 8601，带呼叫中心本地时区偏移")
    direction: str | None
    caller: str | None = Field(description="主叫号码；非管理员看到脱敏号码（138****5678）")
    duration_s: float | None
    score: float | None
    alert: str | None
    fatal: bool | None


class CallPage(BaseModel):
    items: list[CallSummary]
    total: int
    page: int
    page_size: int


class RuleSetRef(BaseModel):
    id: int
    name: str
    version: str


class CallDetail(BaseModel):
    call_id: str
    agent_id: str
    agent_name: str
    team_id: str | None
    status: str
    error: str | None
    attempts: int
    started_at: str | None
    direction: str | None
    caller: str | None
    duration_s: float | None
    audio_sha256: str
    created_at: str | None
    finished_at: str | None
    # Present only once the call is done (same shapes as ``inspector analyze --format json``).
    score: dict[str, Any] | None = None
    checks: dict[str, bool] | None = None
    hits: list[dict[str, Any]] | None = None
    emotion: dict[str, Any] | None = None
    topics: list[str] | None = None
    metrics: dict[str, Any] | None = None
    ruleset: RuleSetRef | None = None
    # ``score.total`` is the machine's; after review (复核) or an accepted appeal, ``effective_score`` is the
    # reviewed score that counts in lists and scorecards (``reviewed_score`` is null until then).
    reviewed_score: float | None = None
    effective_score: float | None = None


class RetryResult(BaseModel):
    requeued: list[str] = Field(description="重新排队的通话编号")
    count: int


class RuleSetOut(BaseModel):
    id: int
    name: str
    version: str
    rule_count: int
    active: bool
    created_at: str | None
    activated_at: str | None


class RuleSetList(BaseModel):
    items: list[RuleSetOut]


class RuleSetCreated(RuleSetOut):
    created: bool = Field(description="false：相同内容的规则集已存在")


class RescoreResult(BaseModel):
    ruleset: RuleSetOut
    scheduled: int = Field(description="排队重新评分的通话数")


class LeaderboardOut(BaseModel):
    team_id: str
    date_from: str | None = Field(alias="from")
    date_to: str | None = Field(alias="to")
    items: list[dict[str, Any]]


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str]


# --- builders ------------------------------------------------------------------------------------


def mask_phone(number: str | None) -> str | None:
    """138****5678: the first 3 and last 4 characters of a number of 8 or more; shorter ones fully hidden."""
    if number is None:
        return None
    text = number.strip()
    if len(text) >= 8:
        return f"{text[:3]}****{text[-4:]}"
    return "*" * len(text)


def call_summary(state: AppState, call: Call, agent_name: str, team_id: str | None, full_caller: bool) -> CallSummary:
    return CallSummary(
        call_id=call.id,
        agent_id=call.agent_id,
        agent_name=agent_name,
        team_id=team_id,
        status=call.status,
        started_at=state.local_iso(call.started_at),
        direction=call.direction,
        caller=call.caller if full_caller else mask_phone(call.caller),
        duration_s=call.duration_s,
        score=call.score,
        alert=call.alert,
        fatal=call.fatal,
    )


def call_detail(
    state: AppState,
    call: Call,
    agent_name: str,
    team_id: str | None,
    full_caller: bool,
    analysis: tuple[Analysis, RuleSetRecord | None] | None,
) -> CallDetail:
    detail = CallDetail(
        call_id=call.id,
        agent_id=call.agent_id,
        agent_name=agent_name,
        team_id=team_id,
        status=call.status,
        error=call.error,
        attempts=call.attempts,
        started_at=state.local_iso(call.started_at),
        direction=call.direction,
        caller=call.caller if full_caller else mask_phone(call.caller),
        duration_s=call.duration_s,
        audio_sha256=call.audio_sha256,
        created_at=state.local_iso(call.created_at),
        finished_at=state.local_iso(call.finished_at),
    )
    if analysis is not None:
        row, record = analysis
        detail.score = row.score
        detail.reviewed_score = row.reviewed_total
        detail.effective_score = row.reviewed_total if row.reviewed_total is not None else row.total
        detail.checks = row.checks
        detail.hits = row.hits
        detail.emotion = row.emotion
        detail.topics = row.topics
        detail.metrics = row.metrics
        detail.ruleset = RuleSetRef(
            id=row.rule_set_id, name=record.name if record else "", version=record.version if record else ""
        )
    return detail


def ruleset_out(state: AppState, record: RuleSetRecord) -> RuleSetOut:
    return RuleSetOut(
        id=record.id,
        name=record.name,
        version=record.version,
        rule_count=record.rule_count,
        active=record.active,
        created_at=state.local_iso(record.created_at),
        activated_at=state.local_iso(record.activated_at),
    )
