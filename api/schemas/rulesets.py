"""Rule sets: one rule set, the list, the upload answer, the activate / rescore answer and the backtest."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.fields import MAX_DATE, MIN_DATE, CallIdText, MultiLine
from api.state import AppState
from inspector.store.schema import RuleSetRecord

DEFAULT_CALLS_CHANGED = 100  # changed calls a backtest lists unless asked otherwise
MAX_CALLS_CHANGED = 10_000


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


# --- backtest (回测) -------------------------------------------------------------------------------


class BacktestRequest(BaseModel):
    """Optional body of ``POST /rulesets/{id}/backtest`` (each field may also be given as a query parameter)."""

    model_config = ConfigDict(extra="forbid")

    date_from: date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="开始日期（含，通话的本地日期）")
    date_to: date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="结束日期（含）")
    limit_calls_changed: int | None = Field(
        None, ge=0, le=MAX_CALLS_CHANGED, description=f"最多列出多少通变化的通话（默认 {DEFAULT_CALLS_CHANGED}）"
    )


class BacktestRuleOut(BaseModel):
    rule_id: str
    name: str
    in_candidate: bool = Field(description="false：此规则集删除了该规则（现有结果中有命中）")
    hits_before: int = Field(description="现有结果中该规则命中的通话数")
    hits_after: int = Field(description="用此规则集重新评分后命中的通话数")
    hit_rate_before: float = Field(description="命中通话数 / 回测通话数")
    hit_rate_after: float
    confirmed: int = Field(description="复核确认的命中数（同一日期范围的通话）")
    rejected: int = Field(description="复核驳回（误报）的命中数")
    precision_estimate: float | None = Field(description="确认 /（确认 + 驳回）；没有复核结论时为空")


class BacktestAgentOut(BaseModel):
    agent_id: str
    calls: int
    score_before: float = Field(description="现在计入的平均分（有复核分时为复核分）")
    score_after: float = Field(description="用此规则集重新评分后的平均分")


class BacktestCallOut(BaseModel):
    call_id: str
    agent_id: str
    day: str | None
    score_before: float
    score_after: float
    alert_before: str
    alert_after: str


class BacktestResult(BaseModel):
    ruleset: RuleSetOut
    date_from: str | None
    date_to: str | None
    calls: int = Field(description="回测的已完成通话数")
    skipped: int = Field(description="范围内没有转写或质检结果、未计入的已完成通话数")
    seconds: float = Field(description="用时（秒）")
    rules: list[BacktestRuleOut]
    agents: list[BacktestAgentOut]
    calls_changed: list[BacktestCallOut] = Field(description="得分或预警等级会变化的通话，变化最大的在前")
    calls_changed_total: int = Field(description="得分或预警等级会变化的通话总数（不受条数限制）")


# --- playground (规则试验台) -------------------------------------------------------------------------

MAX_PLAYGROUND_RULE_BYTES = 20 * 1024  # the rule's YAML (UTF-8)
MAX_PLAYGROUND_LINES = 200  # lines of a pasted dialogue
MAX_PLAYGROUND_DIALOGUE_CHARS = 100_000


class PlaygroundRequest(BaseModel):
    """Body of ``POST /rulesets/playground``: one rule's YAML and either a stored call or a pasted dialogue."""

    model_config = ConfigDict(extra="forbid")

    rule_yaml: Annotated[
        str,
        Field(
            min_length=1, max_length=MAX_PLAYGROUND_RULE_BYTES, description="一条规则的 YAML（id、name、mode、when…）"
        ),
    ]
    call_id: Annotated[str, CallIdText] | None = Field(None, description="在这通已存转写的通话上试运行")
    dialogue: Annotated[
        str | None,
        Field(max_length=MAX_PLAYGROUND_DIALOGUE_CHARS, description="粘贴的对话，每行「坐席：…」或「客户：…」"),
        MultiLine,
    ] = None


class PlaygroundFinding(BaseModel):
    rule_id: str
    outcome: str = Field(description="hit：找到了；missing：require 规则没有找到")
    role: str
    start: float
    end: float
    text: str = Field(description="命中的原话（missing 时为空）")
    utterance: int | None = Field(description="所在句子在 utterances 中的序号（missing 时为空）")
    points: int = Field(description="对得分的影响（负数为扣分）")
    confidence: float
    uncertain: bool
    reason: str


class PlaygroundUtterance(BaseModel):
    index: int
    role: str
    start: float
    end: float
    text: str


class PlaygroundResult(BaseModel):
    ruleset: RuleSetOut = Field(description="提供维度的启用中规则集")
    rule_id: str
    source: str = Field(description="call：已存通话；dialogue：粘贴的对话")
    call_id: str | None
    findings: list[PlaygroundFinding]
    utterances: list[PlaygroundUtterance]


class PlaygroundExample(BaseModel):
    rule_id: str
    name: str
    yaml: str = Field(description="该规则在规则文件中的原文")


class PlaygroundExamples(BaseModel):
    ruleset: RuleSetOut
    dimensions: list[str] = Field(description="可用的维度 id")
    rules: list[PlaygroundExample]
