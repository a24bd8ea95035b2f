"""Review (复核): a queue entry, a call's review page (hits with verdicts and appeals, added findings,
audit), the sampling answer and rule precision, with the builders from rows.

``people=False`` (an agent asking) leaves out who did what: reviewer names are null, the audit empty.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import AuditEntryOut, Number
from api.state import AppState
from inspector.people.reading import CallReview, ReviewedHit
from inspector.store import audit
from inspector.store.calls import effective_score
from inspector.store.schema import AddedFinding, Analysis, Call, Review
from inspector.vocab import AlertLevel, AppealStatus, ReviewReason, ReviewStatus, Verdict


class ReviewOut(BaseModel):
    id: int
    call_id: str
    agent_id: str
    reason: ReviewReason = Field(description="入队原因")
    status: ReviewStatus
    score: float | None = Field(description="当前有效分（复核后为复核分）")
    machine_score: float | None = Field(description="机器评分")
    alert: AlertLevel | None
    started_at: str | None
    created_at: str | None
    reviewer: str | None = Field(description="复核人（坐席看到 null）")
    completed_at: str | None
    comment: str | None


class NamedReviewOut(ReviewOut):
    agent_name: str | None = Field(description="坐席姓名（未知时为 null）")


class ReviewPage(BaseModel):
    items: list[NamedReviewOut]
    total: int
    page: int
    page_size: int


class SampleResult(BaseModel):
    added: int = Field(description="新入队的通话数")
    week: str = Field(description="抽样周的周一 YYYY-MM-DD")


class FindingOut(BaseModel):
    """A finding the machine missed, added by a reviewer."""

    id: int
    description: str
    points: float = Field(description="扣分（负数）")
    dimension: str | None
    rule_id: str | None
    start: float | None
    end: float | None
    reviewer: str | None
    at: str | None


class HitAppealOut(BaseModel):
    id: int
    status: AppealStatus
    comment: str
    resolution: str | None


class ReviewedHitOut(BaseModel):
    """One machine finding with the reviewer's verdict and the agent's appeal."""

    index: int = Field(description="在分析结果 hits 中的位置")
    rule_id: str
    name: str = Field(description="规则名称")
    category: str | None
    role: str | None
    start: Number | None
    end: Number | None
    text: str | None
    points: Number | None
    dimension: str | None
    confidence: Number | None = Field(None, description="识别器对这些字词的置信度（0-1）；无识别置信度时为 1")
    uncertain: bool = Field(False, description="置信度低于规则阈值：确认前不扣分、不预警")
    verdict: Verdict | None
    verdict_by: str | None
    verdict_comment: str | None
    appeal: HitAppealOut | None


class CallReviewOut(BaseModel):
    call_id: str
    analysis_id: int
    machine_score: float | None
    reviewed_score: float | None
    effective_score: float | None
    review: ReviewOut | None
    hits: list[ReviewedHitOut]
    added_findings: list[FindingOut]
    audit: list[AuditEntryOut] = Field(description="操作记录（坐席看到空列表）")


class PrecisionOut(BaseModel):
    rule_id: str
    name: str
    confirmed: int
    rejected: int
    precision: float | None = Field(description="confirmed / (confirmed + rejected)；无复核结论时为 null")


class PrecisionList(BaseModel):
    items: list[PrecisionOut]


# --- builders ------------------------------------------------------------------------------------


def review_out(state: AppState, review: Review, call: Call, analysis: Analysis, people: bool) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        call_id=call.id,
        agent_id=call.agent_id,
        reason=review.reason,
        status=review.status,
        score=effective_score(analysis),
        machine_score=analysis.total,
        alert=analysis.alert,
        started_at=state.local_iso(call.started_at),
        created_at=state.local_iso(review.created_at),
        reviewer=review.reviewer if people else None,
        completed_at=state.local_iso(review.completed_at),
        comment=review.comment,
    )


def named(review: ReviewOut, agent_name: str | None) -> NamedReviewOut:
    return NamedReviewOut(**dict(review), agent_name=agent_name)


def _finding_out(state: AppState, added: AddedFinding, people: bool) -> FindingOut:
    return FindingOut(
        id=added.id,
        description=added.description,
        points=added.points,
        dimension=added.dimension,
        rule_id=added.rule_id,
        start=added.start,
        end=added.end,
        reviewer=added.reviewer if people else None,
        at=state.local_iso(added.at),
    )


def _hit_out(hit: ReviewedHit, people: bool) -> ReviewedHitOut:
    h, verdict, appeal = hit.hit, hit.verdict, hit.appeal
    return ReviewedHitOut(
        index=hit.index,
        rule_id=h["rule_id"],
        name=hit.name,
        category=h.get("category"),
        role=h.get("role"),
        start=h.get("start"),
        end=h.get("end"),
        text=h.get("text"),
        points=h.get("points"),
        dimension=h.get("dimension"),
        confidence=h.get("confidence"),
        uncertain=bool(h.get("uncertain", False)),
        verdict=verdict.verdict if verdict else None,
        verdict_by=verdict.reviewer if verdict and people else None,
        verdict_comment=verdict.comment if verdict else None,
        appeal=None
        if appeal is None
        else HitAppealOut(id=appeal.id, status=appeal.status, comment=appeal.comment, resolution=appeal.resolution),
    )


def call_review_out(state: AppState, page: CallReview, people: bool) -> CallReviewOut:
    call, analysis = page.call, page.analysis
    return CallReviewOut(
        call_id=call.id,
        analysis_id=analysis.id,
        machine_score=analysis.total,
        reviewed_score=analysis.reviewed_total,
        effective_score=effective_score(analysis),
        review=None if page.review is None else review_out(state, page.review, call, analysis, people),
        hits=[_hit_out(hit, people) for hit in page.hits],
        added_findings=[_finding_out(state, added, people) for added in page.added],
        audit=[AuditEntryOut(**audit.to_dict(entry)) for entry in page.audit] if people else [],
    )
