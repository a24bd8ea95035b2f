"""Reading a call's review (复核): the lookups the review modules share (the current analysis, one of
its hits, a verdict, the review of an analysis) and the review page of a call, which shows the hits
with their verdicts and appeals, the reviewers' added findings and the audit log of the call, its
reviews and its appeals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from inspector.people.errors import HitNotFound, NotAnalyzed
from inspector.people.rulesets import rule_names
from inspector.store.schema import AddedFinding, Analysis, Appeal, AuditEntry, Call, HitVerdict, Review
from inspector.vocab import CallStatus


@dataclass(frozen=True)
class ReviewedHit:
    """One machine finding of an analysis with the reviewer's verdict and the agent's appeal, if any."""

    index: int
    hit: dict[str, Any]  # the analysis' hits JSON entry
    name: str  # the rule's Chinese name
    verdict: HitVerdict | None
    appeal: Appeal | None


@dataclass(frozen=True)
class CallReview:
    """Everything the review page of one call shows."""

    call: Call
    analysis: Analysis
    review: Review | None
    hits: list[ReviewedHit]
    added: list[AddedFinding]
    audit: list[AuditEntry]


# --- lookups -------------------------------------------------------------------------------------


def current_analysis(session: Session, call: Call, lock: bool = False) -> Analysis:
    """The call's current analysis (locked for update when ``lock``); ``NotAnalyzed`` when there is none."""
    analysis = None
    if call.status == CallStatus.DONE and call.analysis_id is not None:
        analysis = session.get(Analysis, call.analysis_id, with_for_update=lock or None)
    if analysis is None:
        raise NotAnalyzed(f"通话 {call.id} 尚未完成分析，无法复核")
    return analysis


def hit_at(analysis: Analysis, hit_index: int) -> dict[str, Any]:
    """The analysis' hits JSON entry ``hit_index``; ``HitNotFound`` when out of range."""
    hits = list(analysis.hits or [])
    if not 0 <= hit_index < len(hits):
        raise HitNotFound(f"命中序号 {hit_index} 超出范围（本通话共 {len(hits)} 条命中，序号从 0 开始）")
    hit: dict[str, Any] = hits[hit_index]
    return hit


def verdict_of(session: Session, analysis_id: int, hit_index: int) -> HitVerdict | None:
    return session.scalars(
        select(HitVerdict).where(HitVerdict.analysis_id == analysis_id, HitVerdict.hit_index == hit_index)
    ).one_or_none()


def review_of(session: Session, analysis_id: int) -> Review | None:
    return session.scalars(select(Review).where(Review.analysis_id == analysis_id)).one_or_none()


# --- the review page -----------------------------------------------------------------------------


def call_audit(session: Session, call_id: str) -> list[AuditEntry]:
    """The audit entries of a call, its reviews and its appeals, oldest first."""
    review_ids = [str(i) for i in session.scalars(select(Review.id).where(Review.call_id == call_id))]
    appeal_ids = [str(i) for i in session.scalars(select(Appeal.id).where(Appeal.call_id == call_id))]
    about = [and_(AuditEntry.entity == "call", AuditEntry.entity_id == call_id)]
    if review_ids:
        about.append(and_(AuditEntry.entity == "review", AuditEntry.entity_id.in_(review_ids)))
    if appeal_ids:
        about.append(and_(AuditEntry.entity == "appeal", AuditEntry.entity_id.in_(appeal_ids)))
    return list(session.scalars(select(AuditEntry).where(or_(*about)).order_by(AuditEntry.at, AuditEntry.id)))


def call_review(session: Session, call: Call) -> CallReview:
    """The review page of a call: its current analysis' hits with verdicts and appeals, added findings, audit."""
    analysis = current_analysis(session, call)
    names = rule_names(session, analysis.rule_set_id)
    verdicts = {
        v.hit_index: v for v in session.scalars(select(HitVerdict).where(HitVerdict.analysis_id == analysis.id))
    }
    appeals = {a.hit_index: a for a in session.scalars(select(Appeal).where(Appeal.analysis_id == analysis.id))}
    hits = [
        ReviewedHit(i, hit, names.get(hit["rule_id"], hit["rule_id"]), verdicts.get(i), appeals.get(i))
        for i, hit in enumerate(analysis.hits or [])
    ]
    added = list(
        session.scalars(select(AddedFinding).where(AddedFinding.analysis_id == analysis.id).order_by(AddedFinding.id))
    )
    return CallReview(call, analysis, review_of(session, analysis.id), hits, added, call_audit(session, call.id))
