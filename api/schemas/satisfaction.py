"""Satisfaction surveys (满意度): what an import did, and the effect of each rule and dimension on CSAT."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from api.fields import CallIdText, MultiLine, SingleLine
from inspector.people.satisfaction import Effect, Effects


class SurveyIn(BaseModel):
    call_id: Annotated[str, CallIdText] | None = Field(None, description="通话编号（与 caller + answered_at 二选一）")
    caller: Annotated[str, SingleLine] | None = Field(None, max_length=64, description="来电号码")
    answered_at: datetime | None = Field(None, description="回访时间（无时区时按呼叫中心时区）")
    csat: int | None = Field(None, ge=1, le=5, description="满意度 1–5")
    nps: int | None = Field(None, ge=0, le=10, description="推荐值 0–10")
    comment: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="评价")

    @model_validator(mode="after")
    def _usable(self) -> SurveyIn:
        if self.csat is None and self.nps is None:
            raise ValueError("满意度（csat）和 NPS（nps）至少填一个")
        if self.call_id is None and (self.caller is None or self.answered_at is None):
            raise ValueError("需要通话编号（call_id），或来电号码（caller）加回访时间（answered_at）")
        return self


class SurveysIn(BaseModel):
    items: list[SurveyIn] = Field(min_length=1, max_length=10000)


class ImportErrorOut(BaseModel):
    line: int = Field(description="CSV 的行号（表头为第 1 行）；JSON 导入时为 items 的序号（从 1 起）")
    reason: str


class ImportOut(BaseModel):
    imported: int
    replaced: int = Field(description="替换了原有回访的通话数")
    errors: list[ImportErrorOut] = Field(description="未导入的行及原因")


class EffectOut(BaseModel):
    key: str
    name: str
    with_calls: int = Field(description="该项扣分的已回访通话数")
    without_calls: int
    csat_with: float | None = Field(description="该项扣分的通话的平均满意度")
    csat_without: float | None
    effect: float | None = Field(description="扣分时满意度的变化（已校正其他扣分项；null：样本不足）")
    low: float | None = Field(description="置信区间下限")
    high: float | None = Field(description="置信区间上限")
    p_value: float | None
    enough: bool = Field(description="样本是否足够给出估计")


class EffectsOut(BaseModel):
    date_from: str | None
    date_to: str | None
    responses: int = Field(description="有满意度评分的已回访通话数")
    mean_csat: float | None
    confidence: float = Field(description="置信水平，例如 0.95")
    min_responses: int = Field(description="扣分与未扣分两侧各至少多少通才给出估计")
    rules: list[EffectOut] = Field(description="各规则（最拉低满意度的在前）")
    dimensions: list[EffectOut] = Field(description="各维度（该维度任一规则扣分）")
    per_10_points: EffectOut | None = Field(description="质检得分每高 10 分，满意度的变化")
    elapsed_s: float


def effect_out(found: Effect) -> EffectOut:
    return EffectOut(**found.__dict__, enough=found.enough)


def effects_out(found: Effects, min_responses: int) -> EffectsOut:
    return EffectsOut(
        date_from=found.date_from.isoformat() if found.date_from else None,
        date_to=found.date_to.isoformat() if found.date_to else None,
        responses=found.responses, mean_csat=found.mean_csat, confidence=found.confidence,
        min_responses=min_responses, rules=[effect_out(e) for e in found.rules],
        dimensions=[effect_out(e) for e in found.dimensions],
        per_10_points=effect_out(found.per_10_points) if found.per_10_points else None, elapsed_s=found.elapsed_s,
    )  # fmt: skip
