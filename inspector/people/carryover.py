"""Carrying a call's review (复核) over to the analysis of a new rule set, so reviewer work survives rule changes.

A reviewed score belongs to the analysis it reviewed; rescoring a call with a newly activated rule set
stores a new analysis. ``carry_over`` copies the review of the old analysis onto the new one:

- each verdict goes to the new analysis' hit of the same rule whose time span overlaps the old hit's
  best (a "missing" entry of a ``require`` rule, with no words, only matches another missing entry; each
  new hit takes one verdict at most);
- every added finding is copied (one whose dimension the new rule set no longer has cannot be scored);
- an explicit score (``verdicts.adjust_score``) is kept when it was the latest score action on the old
  analysis, and recorded as a ``score.adjust`` of the new one so the latest-action-wins rule keeps
  holding; otherwise the reviewed score is computed again under the new rules
  (``rescoring.reviewed_score``). Either way ``calls.score`` and ``agent_days`` follow;
- the review queue entry (``Review``) is copied when the new analysis has none, so a reviewed call is
  neither shown as unreviewed nor queued again.

What cannot follow (a verdict whose rule is gone or whose finding vanished, a finding whose dimension is
gone) is stored in ``carry_over_losses`` and listed (call detail, ``GET /reviews/carry-over-losses``),
never dropped silently. One audit entry ``review.carry_over`` per call holds the counts and the losses.
A new analysis that already had review rows (its rule set scored the call before, and the rows refer to
hits that were just replaced) gets the carried review instead; the audit entry counts what it replaced.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from inspector.people.rescoring import override_in_force, reviewed_score, score_before, set_reviewed
from inspector.people.review_queue import SYSTEM_ACTOR, SYSTEM_ROLE
from inspector.people.rulesets import compiled_ruleset
from inspector.store import audit
from inspector.store.calls import effective_score, refresh_agent_days
from inspector.store.db import utcnow
from inspector.store.schema import (
    AddedFinding,
    Analysis,
    AuditEntry,
    Call,
    CarryOverLoss,
    HitVerdict,
    Review,
)
from inspector.vocab import ReviewStatus

ACTION = "review.carry_over"


class LossKind(enum.StrEnum):
    VERDICT = "verdict"
    FINDING = "finding"


class LossReason(enum.StrEnum):
    RULE_REMOVED = "rule_removed"  # the verdict's rule is not in the new rule set
    FINDING_VANISHED = "finding_vanished"  # the rule is there, but no new hit matches the old one
    DIMENSION_REMOVED = "dimension_removed"  # the added finding's dimension is not in the new rule set


LOSS_REASONS: dict[str, str] = {
    LossReason.RULE_REMOVED: "新规则集中已没有该规则",
    LossReason.FINDING_VANISHED: "新规则集下该命中已不存在（规则未再命中同一时段）",
    LossReason.DIMENSION_REMOVED: "新规则集中已没有该扣分维度",
}
LOSS_KINDS: dict[str, str] = {LossKind.VERDICT: "复核结论", LossKind.FINDING: "补充扣分"}


@dataclass(frozen=True)
class CarriedVerdict:
    from_index: int  # the hit in the old analysis
    to_index: int  # the matching hit in the new analysis
    rule_id: str
    verdict: str


@dataclass
class CarryOver:
    """What one call's carry-over did (also the ``after`` of its audit entry, ``to_dict``)."""

    call_id: str
    from_analysis_id: int
    to_analysis_id: int
    verdicts: list[CarriedVerdict] = field(default_factory=list)
    findings: int = 0
    adjustment: bool = False
    review: bool = False
    lost: list[CarryOverLoss] = field(default_factory=list)
    replaced: dict[str, int] = field(default_factory=dict)
    reviewed_total: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_analysis_id": self.from_analysis_id,
            "to_analysis_id": self.to_analysis_id,
            "verdicts_carried": len(self.verdicts),
            "verdicts": [_verdict_dict(v) for v in self.verdicts],
            "findings_carried": self.findings,
            "adjustment_carried": self.adjustment,
            "review_carried": self.review,
            "lost_count": len(self.lost),
            "lost": [_loss_dict(loss) for loss in self.lost],
            "replaced": dict(self.replaced),
            "reviewed_total": self.reviewed_total,
        }


def _verdict_dict(v: CarriedVerdict) -> dict[str, Any]:
    return {"from_index": v.from_index, "to_index": v.to_index, "rule_id": v.rule_id, "verdict": v.verdict}


def _loss_dict(loss: CarryOverLoss) -> dict[str, Any]:
    return {"loss_id": loss.id, "kind": loss.kind, "reason": loss.reason, "rule_id": loss.rule_id,
            "hit_index": loss.hit_index, "verdict": loss.verdict}  # fmt: skip


# --- carrying over -------------------------------------------------------------------------------


def has_review(session: Session, analysis: Analysis) -> bool:
    """Whether people reviewed this analysis: a verdict, an added finding, a reviewed score or a done review."""
    if analysis.reviewed_total is not None:
        return True
    for model in (HitVerdict, AddedFinding):
        if session.scalar(select(model.id).where(model.analysis_id == analysis.id).limit(1)) is not None:
            return True
    done = select(Review.id).where(Review.analysis_id == analysis.id, Review.status == ReviewStatus.DONE)
    return session.scalar(done.limit(1)) is not None


def carry_review(
    session: Session, call: Call, previous_id: int | None, new: Analysis, actor: str = SYSTEM_ACTOR,
    role: str = SYSTEM_ROLE,
) -> CarryOver | None:  # fmt: skip
    """After ``new`` became the call's current analysis in place of ``previous_id``: carry the previous one's
    review over when it had any (``has_review``); None when there was nothing to carry."""
    if previous_id is None or previous_id == new.id:
        return None
    old = session.get(Analysis, previous_id, with_for_update=True)
    if old is None or not has_review(session, old):
        return None
    return carry_over(session, call, old, new, actor, role)


def _span(hit: dict[str, Any]) -> tuple[float, float]:
    return float(hit.get("start") or 0.0), float(hit.get("end") or 0.0)


def match_hit(old_hit: dict[str, Any], new_hits: list[dict[str, Any]], taken: set[int]) -> int | None:
    """The index of the new hit that matches ``old_hit`` best: same rule, same kind (evidence with words, or
    a rule's "missing" entry without), overlapping time spans (or equal ones, or a point within the other);
    the largest overlap first, then the same words (a rule's several keywords in one utterance share its
    span), the same points, the closest start. None when no free hit matches."""
    start, end = _span(old_hit)
    best: tuple[float, bool, bool, float, int] | None = None
    for i, hit in enumerate(new_hits):
        if i in taken or hit.get("rule_id") != old_hit.get("rule_id"):
            continue
        if bool(hit.get("text")) != bool(old_hit.get("text")):
            continue
        s, e = _span(hit)
        overlap = min(end, e) - max(start, s)
        inside = (s <= start and end <= e) or (start <= s and e <= end)  # equal spans, or a point within one
        if overlap < 0 or (overlap == 0 and not inside):
            continue
        rank = (overlap, hit.get("text") == old_hit.get("text"), hit.get("points") == old_hit.get("points"),
                -abs(s - start), -i)  # fmt: skip
        if best is None or rank > best:
            best = rank
    return None if best is None else -best[-1]


def _loss(
    session: Session, call: Call, old: Analysis, new: Analysis, kind: LossKind, reason: LossReason,
    item: dict[str, Any], reviewer: str, comment: str | None, rule_id: str | None, hit_index: int | None = None,
    verdict: str | None = None,
) -> CarryOverLoss:  # fmt: skip
    loss = CarryOverLoss(call_id=call.id, agent_id=call.agent_id, from_analysis_id=old.id, to_analysis_id=new.id,
                         kind=kind, reason=reason, rule_id=rule_id, hit_index=hit_index, verdict=verdict,
                         item=item, reviewer=reviewer, comment=comment, at=utcnow())  # fmt: skip
    session.add(loss)
    return loss


def _clear_target(session: Session, new: Analysis) -> dict[str, int]:
    """Drop the review rows the new analysis had (they refer to hits ``save_analysis`` just replaced)."""
    replaced: dict[str, int] = {}
    for name, model in (("verdicts", HitVerdict), ("findings", AddedFinding)):
        count = session.scalar(select(func.count()).select_from(model).where(model.analysis_id == new.id)) or 0
        if count:
            session.execute(delete(model).where(model.analysis_id == new.id))
            replaced[name] = int(count)
    return replaced


def _carry_verdicts(session: Session, call: Call, old: Analysis, new: Analysis, result: CarryOver) -> None:
    rule_ids = {c.rule.id for c in compiled_ruleset(session, new.rule_set_id).rules}
    old_hits, new_hits = list(old.hits or []), list(new.hits or [])
    taken: set[int] = set()
    query = select(HitVerdict).where(HitVerdict.analysis_id == old.id).order_by(HitVerdict.hit_index)
    rows = list(session.scalars(query))
    for row in rows:
        old_hit = old_hits[row.hit_index] if 0 <= row.hit_index < len(old_hits) else {"rule_id": row.rule_id}
        to = match_hit(old_hit, new_hits, taken) if row.rule_id in rule_ids else None
        if to is None:
            reason = LossReason.FINDING_VANISHED if row.rule_id in rule_ids else LossReason.RULE_REMOVED
            result.lost.append(_loss(session, call, old, new, LossKind.VERDICT, reason, dict(old_hit), row.reviewer,
                                     row.comment, row.rule_id, row.hit_index, row.verdict))  # fmt: skip
            continue
        taken.add(to)
        session.add(HitVerdict(call_id=call.id, analysis_id=new.id, hit_index=to, rule_id=row.rule_id,
                               verdict=row.verdict, reviewer=row.reviewer, at=row.at, comment=row.comment))  # fmt: skip
        result.verdicts.append(CarriedVerdict(row.hit_index, to, row.rule_id, row.verdict))


def _carry_findings(session: Session, call: Call, old: Analysis, new: Analysis, result: CarryOver) -> None:
    dimensions = {d.id for d in compiled_ruleset(session, new.rule_set_id).ruleset.dimensions}
    query = select(AddedFinding).where(AddedFinding.analysis_id == old.id).order_by(AddedFinding.id)
    rows = list(session.scalars(query))
    for row in rows:
        if row.dimension not in dimensions:
            item = {"finding_id": row.id, "description": row.description, "points": row.points,
                    "dimension": row.dimension, "start": row.start, "end": row.end}  # fmt: skip
            result.lost.append(_loss(session, call, old, new, LossKind.FINDING, LossReason.DIMENSION_REMOVED, item,
                                     row.reviewer, row.description, row.rule_id))  # fmt: skip
            continue
        session.add(AddedFinding(call_id=call.id, analysis_id=new.id, rule_id=row.rule_id, dimension=row.dimension,
                                 description=row.description, points=row.points, start=row.start, end=row.end,
                                 reviewer=row.reviewer, at=row.at))  # fmt: skip
        result.findings += 1


def _carry_queue_entry(session: Session, call: Call, old: Analysis, new: Analysis) -> bool:
    review = session.scalars(select(Review).where(Review.analysis_id == old.id)).one_or_none()
    if review is None or session.scalar(select(Review.id).where(Review.analysis_id == new.id)) is not None:
        return False
    session.add(Review(call_id=call.id, analysis_id=new.id, reason=review.reason, status=review.status,
                       created_at=review.created_at, reviewer=review.reviewer, completed_at=review.completed_at,
                       comment=review.comment))  # fmt: skip
    return True


def _adjust_reason(session: Session, call: Call) -> str | None:
    """The reason a person gave for the call's latest explicit score (through earlier carry-overs)."""
    last = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "call", AuditEntry.entity_id == call.id, AuditEntry.action == "score.adjust")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    return str((last.after or {}).get("original_reason") or last.reason or "") or None


def carry_over(
    session: Session, call: Call, old: Analysis, new: Analysis, actor: str, role: str = SYSTEM_ROLE
) -> CarryOver:
    """Carry the review of ``old`` over to ``new`` (the call's current analysis now); see the module docstring."""
    override = old.reviewed_total is not None and override_in_force(session, call.id, old.id)
    before = score_before(new)
    result = CarryOver(call.id, old.id, new.id, replaced=_clear_target(session, new))
    _carry_verdicts(session, call, old, new, result)
    _carry_findings(session, call, old, new, result)
    result.review = _carry_queue_entry(session, call, old, new)
    session.flush()
    reviewer = old.reviewed_by or actor
    if override:
        assert old.reviewed_total is not None
        set_reviewed(session, call, new, old.reviewed_total, reviewer)
        result.adjustment = True
        original = _adjust_reason(session, call)
        audit.record(session, actor=actor, role=role, action="score.adjust", entity="call", entity_id=call.id,
                     before=before, after={"analysis_id": new.id, "reviewed_total": new.reviewed_total,
                                           "carried_from": old.id, "original_reason": original},
                     reason=f"规则集更新，沿用原复核调整分（原因：{original or '无'}）")  # fmt: skip
    elif result.verdicts or result.findings:
        set_reviewed(session, call, new, reviewed_score(session, new).total, reviewer)
    elif old.reviewed_total is not None or new.reviewed_total is not None:
        # Everything was lost: the machine's score counts again (the losses are listed).
        new.reviewed_total, new.reviewed_at, new.reviewed_by = None, None, None
        if call.analysis_id == new.id:
            call.score = effective_score(new)
            call.updated_at = utcnow()
            session.flush()
            refresh_agent_days(session, {(call.agent_id, call.day)})
    if result.adjustment or result.verdicts or result.findings:
        new.reviewed_at = old.reviewed_at or new.reviewed_at
    session.flush()
    result.reviewed_total = new.reviewed_total
    counts = f"沿用复核结论 {len(result.verdicts)} 条、补充扣分 {result.findings} 条"
    if result.adjustment:
        counts += "、调整分 1 项"
    lost = f"；{len(result.lost)} 项无法沿用（见沿用损失清单）" if result.lost else ""
    audit.record(session, actor=actor, role=role, action=ACTION, entity="call", entity_id=call.id, before=before,
                 after=result.to_dict(), reason=f"规则集更新后沿用复核结果：{counts}{lost}")  # fmt: skip
    return result


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarryOverRecord:
    """The latest carry-over into an analysis, as the call detail shows it."""

    entry: AuditEntry
    lost: list[CarryOverLoss]

    @property
    def after(self) -> dict[str, Any]:
        return dict(self.entry.after or {})


def carry_over_of(session: Session, call_id: str, analysis_id: int) -> CarryOverRecord | None:
    """The latest carry-over of the call into ``analysis_id``, with the losses it listed; None if none."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "call", AuditEntry.entity_id == call_id, AuditEntry.action == ACTION)
        .order_by(AuditEntry.id.desc())
    )
    entry = next((e for e in entries if (e.after or {}).get("to_analysis_id") == analysis_id), None)
    if entry is None:
        return None
    ids = [item["loss_id"] for item in (entry.after or {}).get("lost", []) if item.get("loss_id") is not None]
    lost = list(session.scalars(select(CarryOverLoss).where(CarryOverLoss.id.in_(ids)).order_by(CarryOverLoss.id)))
    return CarryOverRecord(entry, lost)


@dataclass(frozen=True)
class LossPage:
    items: list[CarryOverLoss]
    total: int


def list_losses(
    session: Session,
    *,
    visible: ColumnElement[bool] | None = None,
    call_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> LossPage:
    """Review work that could not be carried over, newest first, and how many in all. ``visible``: a condition
    on ``CarryOverLoss.agent_id`` (the API's per-principal filter)."""
    query = select(CarryOverLoss)
    if visible is not None:
        query = query.where(visible)
    if call_id is not None:
        query = query.where(CarryOverLoss.call_id == call_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(CarryOverLoss.at.desc(), CarryOverLoss.id.desc()).offset(offset).limit(limit))
    return LossPage(list(rows), int(total))
