"""Calls: the upload answer, the list, the detail, the transcript and the retry answer, with the caller
masking (``mask_phone``) and the builders from rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.carryover import CarryOverOut
from api.state import AppState
from inspector.store.schema import Analysis, Call, RuleSetRecord
from inspector.vocab import AlertLevel, CallDirection, CallStatus


class CallCreated(BaseModel):
    call_id: str
    status: CallStatus
    created: bool = Field(description="false：同一录音已登记过，返回已有通话")


class CallSummary(BaseModel):
    call_id: str
    agent_id: str
    agent_name: str
    team_id: str | None
    status: CallStatus
    started_at: str | None = Field(description="ISO 8601，带呼叫中心本地时区偏移")
    direction: CallDirection | None
    caller: str | None = Field(description="主叫号码；非管理员看到脱敏号码（138****5678）")
    duration_s: float | None
    score: float | None
    alert: AlertLevel | None
    fatal: bool | None
    project: str | None = Field(None, description="项目/小区编号")
    building: str | None = Field(None, description="楼栋，如 3号楼")


class CallPage(BaseModel):
    items: list[CallSummary]
    total: int = Field(description="符合条件的通话数；total_exact 为 false 时是下限（实际更多）")
    total_exact: bool = Field(
        True, description="总数是否精确：超过 settings.api.count_limit 条时只计到该数，列表仍可翻页"
    )
    page: int
    page_size: int


class RuleSetRef(BaseModel):
    id: int
    name: str
    version: str


class LocationOut(BaseModel):
    project: str | None = Field(description="项目/小区编号（有项目清单时）或登记时的名称")
    building: str | None = Field(description="楼栋，如 3号楼")
    unit: str | None = Field(description="房号，如 3号楼1单元601；无权查看个人信息时只显示到单元（3号楼1单元***）")
    source: str = Field(description="metadata：登记时给出；transcript：从通话内容中识别")
    confidence: float | None


def mask_unit(unit: str | None) -> str | None:
    """3号楼1单元*** — the room (the household) hidden, the building and unit kept."""
    if unit is None:
        return None
    head = unit.rstrip("0123456789室号房")
    return f"{head}***" if head != unit else unit


class ChainLinkOut(BaseModel):
    call_id: str
    started_at: str | None
    agent_id: str
    topics: list[str]
    repeat_of: str | None = Field(description="重复的是哪一通（链首为 null）")


class RepeatChainRef(BaseModel):
    chain_id: str = Field(description="链编号（链上第一通通话的编号）")
    calls: list[ChainLinkOut] = Field(description="同一业主同一问题的来电，先后顺序（只含可查看的通话）")
    resolved: bool = Field(description="是否已解决（见 GET /insights/repeat-contacts）")


class CallDetail(BaseModel):
    call_id: str
    agent_id: str
    agent_name: str
    team_id: str | None
    status: CallStatus
    error: str | None
    attempts: int
    started_at: str | None
    direction: CallDirection | None
    caller: str | None
    duration_s: float | None
    audio_sha256: str
    created_at: str | None
    finished_at: str | None
    audio_purged_at: str | None = Field(None, description="原始录音按保留期限删除的时间（未删除为 null）")
    transcript_purged_at: str | None = Field(None, description="转写按保留期限删除的时间（评分与检查结果仍保留）")
    location: LocationOut | None = Field(None, description="通话涉及的项目、楼栋与房号（无则为 null）")
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
    # Done calls: the review carried over from the previous rule set's analysis into the current one, what was
    # carried and what was lost (null when the current analysis got no carried-over review).
    carry_over: CarryOverOut | None = Field(None, description="规则集更新后沿用的复核结果（无则为 null）")
    repeat_chain: RepeatChainRef | None = Field(None, description="重复来电链（该通话不在任何链上时为 null）")


class TranscriptOut(BaseModel):
    """The stored transcript (``inspector.speech.transcript.Transcript.to_dict``); ``file`` is the
    recording's name, never the worker's path. Utterances carry ``words`` only with ``words=true``."""

    call_id: str
    file: str
    duration_s: float
    channels: int
    sample_rate: int
    utterances: list[dict[str, Any]] = Field(
        description="逐句：start、end、speaker、role、text、raw_text、confidence、（words=true 时）words、flags"
    )
    diarization: dict[str, Any] = Field(description="说话人分离：method、role_confidence、agent_speaker 等")
    timings: dict[str, float] = Field(description="各处理阶段耗时（秒）")
    language: str
    masked: bool = Field(True, description="个人信息是否已脱敏（reveal=true 且有权限时为 false）")
    pii: list[str] = Field(default_factory=list, description="转写中识别到的个人信息类型（mobile、id_number 等）")


class RetryResult(BaseModel):
    requeued: list[str] = Field(description="重新排队的通话编号")
    count: int


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
        project=call.project,
        building=call.building,
    )


def call_detail(
    state: AppState,
    call: Call,
    agent_name: str,
    team_id: str | None,
    full_caller: bool,
    analysis: tuple[Analysis, RuleSetRecord | None] | None,
    carry_over: CarryOverOut | None = None,
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
        audio_purged_at=state.local_iso(call.audio_purged_at),
        transcript_purged_at=state.local_iso(call.transcript_purged_at),
    )
    if call.location_source is not None:
        detail.location = LocationOut(
            project=call.project,
            building=call.building,
            unit=call.unit if full_caller else mask_unit(call.unit),
            source=call.location_source,
            confidence=call.location_confidence,
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
        detail.carry_over = carry_over
    return detail
