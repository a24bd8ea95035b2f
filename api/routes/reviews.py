"""Review (复核): the review queue, sampling, a call's review page, verdicts, added findings, explicit scores,
rule precision, the audit log and the review work a rule change could not carry over (staff only; a team
lead sees its team's).

Who may do what (roles from ``api.deps``): reviewers and admins change scores and work the queue;
trainers and team leads read (a call's review page, rule precision) but cannot change a score (403); an
agent reads the review page of their own call only (others' calls are 404). Agents see the findings,
verdicts and appeals, but not who made them: the audit list is empty and reviewer names are null.

The POST routes on a call answer with the call's review page as ``GET /calls/{call_id}/review`` does
(``api.schemas.reviews``). Domain errors (``inspector.people.errors.ReviewError``) propagate to the one
mapping in ``api.errors``: 404 (unknown review/appeal/hit), 409 (a call not analyzed yet, an appeal or review
already handled, a duplicate appeal) or 422 (invalid input).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from api.deps import (
    Admin,
    Anyone,
    DbSession,
    Principal,
    Reviewer,
    Staff,
    State,
    agent_filter,
    agent_scope,
    pii_revealed,
    visible_call,
)
from api.errors import invalid_param
from api.fields import AgentQuery, HitIndexPath, IdPath, MultiLine, PageQuery, PageSizeQuery, RevealQuery, SingleLine
from api.privacy import audit_reveal, mask_tree, reveals
from api.queries import agent_names, parse_date
from api.schemas.carryover import CarryOverLossPage, loss_out
from api.schemas.common import AuditEntryOut, AuditList, AuditPage
from api.schemas.errors import error_responses
from api.schemas.reviews import (
    CallReviewOut,
    NamedReviewOut,
    PrecisionList,
    PrecisionOut,
    ReviewPage,
    SampleResult,
    call_review_out,
    named,
    review_out,
)
from api.state import AppState
from inspector.people import carryover, precision, reading, review_queue, verdicts
from inspector.store import audit
from inspector.store.schema import Analysis, Call, CarryOverLoss

router = APIRouter(tags=["复核"], responses=error_responses(409))


def shows_people(principal: Principal) -> bool:
    """Whether the principal sees who reviewed (names, audit): everyone but agents."""
    return agent_scope(principal) is None


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MultiLine]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), MultiLine]


class SampleIn(BaseModel):
    week: date | None = Field(None, description="要抽样的周（该周任意一天，按所在周一计）；缺省为上一个完整的本地周")


class CompleteIn(BaseModel):
    comment: Text | None = Field(None, description="复核意见")


class VerdictIn(BaseModel):
    verdict: Literal["confirmed", "rejected"] = Field(description="confirmed：确认命中；rejected：误报，撤销扣分")
    comment: Text | None = None


class FindingIn(BaseModel):
    description: RequiredText = Field(description="漏检问题说明")
    points: float = Field(lt=0, ge=-100, description="扣分（负数）")
    dimension: Annotated[str, SingleLine] | None = Field(None, max_length=64, description="扣分维度；缺省为规则的维度")
    rule_id: Annotated[str, SingleLine] | None = Field(None, max_length=128, description="对应的规则（可选）")
    start: float | None = Field(None, ge=0, description="开始时间（秒）")
    end: float | None = Field(None, ge=0, description="结束时间（秒）")


class ScoreIn(BaseModel):
    score: float = Field(ge=0, le=100, description="复核后的总分")
    reason: RequiredText = Field(description="调整原因（必填）")


def call_review(state: AppState, session: Session, call: Call, people: bool, revealed: bool = False) -> CallReviewOut:
    """The review page; the words it quotes (findings, notes) masked unless ``revealed``."""
    out = call_review_out(state, reading.call_review(session, call), people)
    return out if revealed else CallReviewOut.model_validate(mask_tree(out.model_dump()))


# --- the queue -----------------------------------------------------------------------------------


@router.get("/reviews", response_model=ReviewPage, summary="复核队列（筛选、分页，按入队时间倒序）")
def list_reviews(
    _: Reviewer,
    state: State,
    session: DbSession,
    status: Annotated[Literal["pending", "done"] | None, Query(description="状态")] = None,
    reason: Annotated[
        Literal["red", "fatal", "lowest", "random", "appeal", "manual"] | None, Query(description="入队原因")
    ] = None,
    agent_id: AgentQuery = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
) -> ReviewPage:
    size = page_size or state.settings.api.page_size
    rows, total = review_queue.list_reviews(session, status=status, reason=reason, agent_id=agent_id or None,
                                            offset=(page - 1) * size, limit=size)  # fmt: skip
    names = agent_names(session, [row.call.agent_id for row in rows])
    items = [named(review_out(state, row.review, row.call, row.analysis, True), names.get(row.call.agent_id))
             for row in rows]  # fmt: skip
    return ReviewPage(items=items, total=total, page=page, page_size=size)


@router.post("/reviews/sample", response_model=SampleResult, summary="按周抽样入队（最低分 N% + 每位坐席随机 X%）")
def sample(
    principal: Reviewer, state: State, session: DbSession, body: Annotated[SampleIn | None, Body()] = None
) -> SampleResult:
    week = (
        body.week
        if body is not None and body.week is not None
        else review_queue.week_monday(state.today()) - timedelta(days=7)
    )
    monday = review_queue.week_monday(week)
    added = review_queue.sample_week(session, state.settings.review, monday, actor=principal.actor,
                                     role=principal.role)  # fmt: skip
    return SampleResult(added=added, week=monday.isoformat())


@router.post("/reviews/{review_id}/complete", response_model=NamedReviewOut, summary="完成复核")
def complete(
    review_id: IdPath,
    principal: Reviewer,
    state: State,
    session: DbSession,
    body: Annotated[CompleteIn | None, Body()] = None,
) -> NamedReviewOut:
    review = review_queue.complete_review(session, principal.actor, principal.role, review_id,
                                          body.comment if body else None)  # fmt: skip
    call = session.get(Call, review.call_id)
    analysis = session.get(Analysis, review.analysis_id)
    assert call is not None and analysis is not None
    name = agent_names(session, [call.agent_id]).get(call.agent_id)
    return named(review_out(state, review, call, analysis, True), name)


# --- one call ------------------------------------------------------------------------------------


@router.get(
    "/calls/{call_id}/review",
    response_model=CallReviewOut,
    summary="通话复核页（命中、复核结论、申诉、补充扣分、操作记录）",
)
def get_call_review(
    call_id: str, principal: Anyone, state: State, session: DbSession, reveal: RevealQuery = False
) -> CallReviewOut:
    revealed = pii_revealed(principal, reveal)
    call = visible_call(session, principal, call_id)
    if revealed:
        audit_reveal(session, principal, call.id, "review", [])
    return call_review(state, session, call, shows_people(principal), revealed)


@router.post(
    "/calls/{call_id}/hits/{index}/verdict", response_model=CallReviewOut, summary="复核结论：确认命中或判定误报"
)
def post_verdict(
    call_id: str, index: HitIndexPath, body: VerdictIn, principal: Reviewer, state: State, session: DbSession
) -> CallReviewOut:
    call = visible_call(session, principal, call_id)
    verdicts.set_verdict(session, principal.actor, principal.role, call, index, body.verdict, body.comment)
    return call_review(state, session, call, True)


@router.post("/calls/{call_id}/findings", status_code=201, response_model=CallReviewOut, summary="补充漏检扣分项")
def post_finding(call_id: str, body: FindingIn, principal: Reviewer, state: State, session: DbSession) -> CallReviewOut:
    call = visible_call(session, principal, call_id)
    verdicts.add_finding(session, principal.actor, principal.role, call, description=body.description,
                         points=body.points, dimension=body.dimension or None, rule_id=body.rule_id or None,
                         start=body.start, end=body.end)  # fmt: skip
    return call_review(state, session, call, True)


@router.post("/calls/{call_id}/score", response_model=CallReviewOut, summary="直接调整复核分数（须填写原因）")
def post_score(call_id: str, body: ScoreIn, principal: Reviewer, state: State, session: DbSession) -> CallReviewOut:
    call = visible_call(session, principal, call_id)
    verdicts.adjust_score(session, principal.actor, principal.role, call, body.score, body.reason)
    return call_review(state, session, call, True)


# --- reports -------------------------------------------------------------------------------------


@router.get("/rules/precision", response_model=PrecisionList, summary="各规则的复核准确率（误报最多的在前）")
def get_precision(
    _: Staff,
    session: DbSession,
    date_from: Annotated[str | None, Query(alias="from", description="起始日期（含），YYYY-MM-DD；缺省不限")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="结束日期（含），YYYY-MM-DD；缺省不限")] = None,
) -> PrecisionList:
    start, end = parse_date("from", date_from), parse_date("to", date_to)
    if start is not None and end is not None and start > end:
        raise invalid_param("from", "起始日期不能晚于结束日期")
    items = precision.rule_precision(session, start, end)
    return PrecisionList(items=[PrecisionOut(**item.to_dict()) for item in items])


@router.get("/audit", response_model=AuditList, summary="操作记录（谁在何时把什么从什么改成什么，原因）")
def get_audit(
    _: Reviewer,
    session: DbSession,
    entity: Annotated[
        str, Query(min_length=1, max_length=32, description="对象类型：call、review、appeal 等"), SingleLine
    ],
    entity_id: Annotated[str, Query(min_length=1, max_length=128, description="对象编号"), SingleLine],
) -> AuditList:
    entries = audit.history(session, entity, entity_id)
    return AuditList(items=[AuditEntryOut(**mask_tree(audit.to_dict(entry))) for entry in entries])


@router.get("/audit/reveals", response_model=AuditPage, summary="个人信息查看记录（谁在何时查看了哪通电话的什么）")
def get_reveals(
    _: Admin, state: State, session: DbSession, page: PageQuery = 1, page_size: PageSizeQuery = None
) -> AuditPage:
    size = page_size or state.settings.api.page_size
    entries, total = reveals(session, limit=size, offset=(page - 1) * size)
    return AuditPage(items=[AuditEntryOut(**audit.to_dict(e)) for e in entries], total=total, page=page, page_size=size)


@router.get(
    "/reviews/carry-over-losses",
    response_model=CarryOverLossPage,
    summary="规则集更新后无法沿用的复核结论与补充扣分（最新在前）",
)
def list_carry_over_losses(
    principal: Staff,
    state: State,
    session: DbSession,
    call_id: Annotated[str | None, Query(min_length=1, max_length=128, description="只看该通话"), SingleLine] = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
) -> CarryOverLossPage:
    size = page_size or state.settings.api.page_size
    found = carryover.list_losses(session, visible=agent_filter(principal, CarryOverLoss.agent_id), call_id=call_id,
                                  offset=(page - 1) * size, limit=size)  # fmt: skip
    return CarryOverLossPage(items=[loss_out(state, loss, True) for loss in found.items], total=found.total,
                             page=page, page_size=size)  # fmt: skip
