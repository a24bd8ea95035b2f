"""The review queue (复核队列): which calls people review, and completing a review.

A call gets at most one ``Review`` per analysis (reasons: ``inspector.vocab.ReviewReason``):

- ``on_analysis`` (the worker, right after a call's current analysis is stored): every fatal call
  (reason ``fatal``), every red alert (``red``) and every call with an uncertain finding, one that
  deducts and alerts nothing until a reviewer confirms it (``uncertain``), as ``ReviewSettings`` says;
- ``sample_week`` (weekly, by hand or a scheduler): the lowest ``lowest_percent``% of a local ISO
  week's calls by effective score (``lowest``) and a random ``random_percent``% of each agent's calls
  (``random``). Counts are rounded and at least 1 when the percent is above 0. The random pick is
  seeded by (seed, week, agent), so rerunning over the same calls picks the same ones; a pick that is
  already queued (e.g. a red call) is not queued again, so a rerun adds nothing;
- an accepted appeal (``appeal``), and any change a reviewer makes to a call that is not queued yet
  (``manual``), so every call a person touched is in the queue and can be completed.

Queueing and completing are audit-logged on entity ``review``; automatic queueing as actor ``system``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspector.people import workitem
from inspector.people.errors import ReviewDone, ReviewNotFound, checked_text
from inspector.people.reading import review_of
from inspector.settings import ReviewSettings
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import Analysis, Call, Review
from inspector.vocab import AlertLevel, CallStatus, ReviewReason, ReviewStatus

SYSTEM_ACTOR = "system"
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    call: Call
    analysis: Analysis


def enqueue(
    session: Session, call: Call, analysis_id: int, reason: ReviewReason, actor: str, role: str
) -> tuple[Review, bool]:
    """The review of this analysis, created (pending, audited) when there is none; (review, created)."""
    existing = review_of(session, analysis_id)
    if existing is not None:
        return existing, False
    review = Review(call_id=call.id, analysis_id=analysis_id, reason=reason, status=ReviewStatus.PENDING,
                    created_at=utcnow())  # fmt: skip
    try:
        with session.begin_nested():  # a concurrent writer may have queued it meanwhile (unique per analysis)
            session.add(review)
    except IntegrityError:
        existing = review_of(session, analysis_id)
        assert existing is not None
        return existing, False
    after = {"call_id": call.id, "analysis_id": analysis_id, "reason": reason, "status": ReviewStatus.PENDING}
    audit.record(session, actor=actor, role=role, action="review.queue", entity="review", entity_id=review.id,
                 after=after)  # fmt: skip
    return review, True


def on_analysis(session: Session, settings: ReviewSettings, call: Call, analysis: Analysis) -> Review | None:
    """Queue a freshly analyzed call when it is fatal or a red alert (idempotent); the review, or None."""
    reason = None
    if settings.fatal and analysis.fatal:
        reason = ReviewReason.FATAL
    elif settings.red and analysis.alert == AlertLevel.RED:
        reason = ReviewReason.RED
    elif settings.uncertain and (analysis.score or {}).get("uncertain_rules"):
        reason = ReviewReason.UNCERTAIN
    if reason is None:
        return review_of(session, analysis.id)
    review, _ = enqueue(session, call, analysis.id, reason, SYSTEM_ACTOR, SYSTEM_ROLE)
    return review


def week_monday(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


def _share(count: int, percent: float) -> int:
    """``percent``% of ``count``, rounded half up, at least 1 when both are above 0."""
    if count <= 0 or percent <= 0:
        return 0
    return min(count, max(1, math.floor(count * percent / 100 + 0.5)))


def _picks(calls: list[Call], settings: ReviewSettings, monday: date, seed: str) -> list[tuple[Call, ReviewReason]]:
    """The week's lowest-scoring calls, then each agent's random ones (by agent id), with their reason."""
    by_score = sorted(calls, key=lambda c: (c.score, c.id))
    picks = [(c, ReviewReason.LOWEST) for c in by_score[: _share(len(calls), settings.lowest_percent)]]
    by_agent: dict[str, list[Call]] = {}
    for call in sorted(calls, key=lambda c: c.id):
        by_agent.setdefault(call.agent_id, []).append(call)
    for agent_id in sorted(by_agent):
        agent_calls = by_agent[agent_id]
        rng = random.Random(f"{seed}|{monday.isoformat()}|{agent_id}")
        chosen = rng.sample(agent_calls, _share(len(agent_calls), settings.random_percent))
        picks += [(c, ReviewReason.RANDOM) for c in chosen]
    return picks


def sample_week(
    session: Session,
    settings: ReviewSettings,
    week_start: date,
    seed: str = "",
    *,
    actor: str = SYSTEM_ACTOR,
    role: str = SYSTEM_ROLE,
) -> int:
    """Queue the week's lowest-scoring and random calls (see the module docstring); returns how many were added.

    ``week_start``: any day of the week (the Monday of its ISO week is used).
    """
    monday = week_monday(week_start)
    rows = session.execute(
        select(Call, Review.id)
        .outerjoin(Review, Review.analysis_id == Call.analysis_id)
        .where(
            Call.day >= monday,
            Call.day <= monday + timedelta(days=6),
            Call.status == CallStatus.DONE,
            Call.analysis_id.is_not(None),
            Call.score.is_not(None),
        )
    ).all()
    calls = [call for call, _ in rows]
    queued = {call.id for call, review_id in rows if review_id is not None}
    added = 0
    for call, reason in _picks(calls, settings, monday, seed):
        if call.id in queued:
            continue
        assert call.analysis_id is not None
        _, created = enqueue(session, call, call.analysis_id, reason, actor, role)
        queued.add(call.id)
        added += int(created)
    return added


def complete_review(session: Session, actor: str, role: str, review_id: int, comment: str | None) -> Review:
    """Mark a queued review done by ``actor``."""
    review = session.get(Review, review_id, with_for_update=True)
    if review is None:
        raise ReviewNotFound(f"复核任务 {review_id} 不存在")
    if review.status == ReviewStatus.DONE:
        raise ReviewDone(f"复核任务 {review_id} 已完成（{review.reviewer or ''}）")
    text = checked_text(comment, "复核意见")
    changes = {"status": ReviewStatus.DONE, "reviewer": actor, "completed_at": utcnow(), "comment": text}
    return workitem.transition(session, review, changes, actor=actor, role=role, action="review.complete",
                               entity="review", snapshot=lambda r: {"status": r.status},
                               after=lambda r: {"status": r.status, "call_id": r.call_id}, reason=text)  # fmt: skip


def list_reviews(
    session: Session,
    *,
    status: str | None = None,
    reason: str | None = None,
    agent_id: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[ReviewRow], int]:
    """Queued reviews, newest first, and how many match."""
    conditions = []
    if status is not None:
        conditions.append(Review.status == status)
    if reason is not None:
        conditions.append(Review.reason == reason)
    if agent_id is not None:
        conditions.append(Call.agent_id == agent_id)
    joined = (
        select(Review, Call, Analysis)
        .join(Call, Call.id == Review.call_id)
        .join(Analysis, Analysis.id == Review.analysis_id)
        .where(*conditions)
    )
    query = joined.order_by(Review.created_at.desc(), Review.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = [ReviewRow(review, call, analysis) for review, call, analysis in session.execute(query).all()]
    total = session.scalar(
        select(func.count()).select_from(Review).join(Call, Call.id == Review.call_id).where(*conditions)
    )
    return rows, int(total or 0)
