"""Review carried over to a new rule set's analysis (``inspector.people.carryover``): what the call detail
shows of the latest carry-over into the current analysis, and the staff list of what could not be carried.

``people=False`` (an agent asking) leaves out who reviewed: ``reviewer`` is null.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Number
from api.state import AppState
from inspector.people.carryover import LOSS_KINDS, LOSS_REASONS, CarryOverRecord, LossKind, LossReason
from inspector.privacy.masking import mask_text
from inspector.store.schema import CarryOverLoss
from inspector.vocab import Verdict


class CarryOverLossOut(BaseModel):
    """A verdict or added finding that could not follow the call to the new rule set's analysis."""

    id: int
    call_id: str
    agent_id: str
    from_analysis_id: int = Field(description="原分析（复核所在的分析）")
    to_analysis_id: int = Field(description="新规则集的分析")
    kind: LossKind = Field(description="verdict：复核结论；finding：补充扣分")
    kind_text: str = Field(description="类型（中文）")
    reason: LossReason
    reason_text: str = Field(description="无法沿用的原因（中文）")
    rule_id: str | None
    hit_index: int | None = Field(description="复核结论：该命中在原分析 hits 中的位置")
    verdict: Verdict | None
    text: str | None = Field(description="原命中的文字，或补充扣分的说明")
    start: Number | None
    end: Number | None
    points: Number | None
    reviewer: str | None = Field(description="复核人（坐席看到 null）")
    comment: str | None
    at: str | None = Field(description="沿用（并丢失）的时间")


class CarriedVerdictOut(BaseModel):
    from_index: int = Field(description="原分析中的命中序号")
    to_index: int = Field(description="新分析中对应的命中序号")
    rule_id: str
    verdict: Verdict


class CarryOverOut(BaseModel):
    """The latest carry-over of the call's review into its current analysis."""

    from_analysis_id: int
    to_analysis_id: int
    at: str | None = Field(description="沿用时间")
    verdicts: list[CarriedVerdictOut] = Field(description="沿用的复核结论")
    findings_carried: int = Field(description="沿用的补充扣分条数")
    adjustment_carried: bool = Field(description="是否沿用了人工调整的分数")
    review_carried: bool = Field(description="是否沿用了复核任务（状态、复核人）")
    lost: list[CarryOverLossOut] = Field(description="无法沿用的项（并列入沿用损失清单）")


class CarryOverLossPage(BaseModel):
    items: list[CarryOverLossOut]
    total: int
    page: int
    page_size: int


# --- builders ------------------------------------------------------------------------------------


def loss_out(state: AppState, loss: CarryOverLoss, people: bool) -> CarryOverLossOut:
    item = loss.item or {}
    return CarryOverLossOut(
        id=loss.id,
        call_id=loss.call_id,
        agent_id=loss.agent_id,
        from_analysis_id=loss.from_analysis_id,
        to_analysis_id=loss.to_analysis_id,
        kind=LossKind(loss.kind),
        kind_text=LOSS_KINDS.get(loss.kind, loss.kind),
        reason=LossReason(loss.reason),
        reason_text=LOSS_REASONS.get(loss.reason, loss.reason),
        rule_id=loss.rule_id,
        hit_index=loss.hit_index,
        verdict=Verdict(loss.verdict) if loss.verdict else None,
        text=_masked(item.get("text", item.get("description"))),
        start=item.get("start"),
        end=item.get("end"),
        points=item.get("points"),
        reviewer=loss.reviewer if people else None,
        comment=loss.comment,
        at=state.local_iso(loss.at),
    )


def carry_over_out(state: AppState, record: CarryOverRecord, people: bool) -> CarryOverOut:
    after = record.after
    return CarryOverOut(
        from_analysis_id=int(after["from_analysis_id"]),
        to_analysis_id=int(after["to_analysis_id"]),
        at=state.local_iso(record.entry.at),
        verdicts=[CarriedVerdictOut(**v) for v in after.get("verdicts", [])],
        findings_carried=int(after.get("findings_carried", 0)),
        adjustment_carried=bool(after.get("adjustment_carried", False)),
        review_carried=bool(after.get("review_carried", False)),
        lost=[loss_out(state, loss, people) for loss in record.lost],
    )


def _masked(text: str | None) -> str | None:
    """The words of a finding with personal data masked (``inspector.privacy``)."""
    return None if text is None else mask_text(text)
