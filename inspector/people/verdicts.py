"""What reviewers change on a call: verdicts on machine findings, added findings, explicit scores.

A verdict confirms a finding or rejects it (a false alarm, 误报); an added finding is a deduction the
machine missed, in a dimension or under a rule; both recompute the reviewed score
(``inspector.people.rescoring``). An explicit score (``adjust_score``, reason required) sets it
directly; the latest action wins: a later verdict or added finding recomputes the score and replaces
the explicit one, its audit entry then saying ``"override_replaced": true`` (and the replaced value is
its ``before``). Each change queues the call for review (reason ``manual``) when it is not queued yet
and is audit-logged on entity ``call`` with the scores before and after and the comment or reason.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from inspector.people.errors import InvalidReviewInput, checked_text
from inspector.people.reading import current_analysis, hit_at, verdict_of
from inspector.people.rescoring import recompute, score_before, set_reviewed
from inspector.people.review_queue import enqueue
from inspector.people.rulesets import compiled_ruleset
from inspector.qa.rules.engine import CompiledRuleSet
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import AddedFinding, Analysis, Call, HitVerdict
from inspector.vocab import ReviewReason, Verdict, values


def record_verdict(
    session: Session,
    actor: str,
    role: str,
    call: Call,
    analysis: Analysis,
    hit_index: int,
    verdict: str,
    comment: str | None,
    appeal_id: int | None = None,
) -> HitVerdict:
    """Set the verdict on one hit of ``analysis`` (locked by the caller); ``appeal_id``: the appeal it resolves."""
    if verdict not in values(Verdict):
        raise InvalidReviewInput(f"复核结论必须是 {' 或 '.join(values(Verdict))}，不能是 {verdict!r}")
    hit = hit_at(analysis, hit_index)
    text = checked_text(comment, "复核意见")
    enqueue(session, call, analysis.id, ReviewReason.MANUAL, actor, role)
    row = verdict_of(session, analysis.id, hit_index)
    before = {"hit_index": hit_index, "rule_id": hit["rule_id"], "verdict": row.verdict if row else None,
              **score_before(analysis)}  # fmt: skip
    if row is None:
        row = HitVerdict(call_id=call.id, analysis_id=analysis.id, hit_index=hit_index, rule_id=hit["rule_id"],
                         verdict=verdict, reviewer=actor, at=utcnow(), comment=text)  # fmt: skip
        session.add(row)
    else:
        row.verdict, row.reviewer, row.at, row.comment = verdict, actor, utcnow(), text
    session.flush()
    after = {"analysis_id": analysis.id, "hit_index": hit_index, "rule_id": hit["rule_id"], "verdict": verdict,
             **recompute(session, call, analysis, actor)}  # fmt: skip
    if appeal_id is not None:
        after["appeal_id"] = appeal_id
    audit.record(session, actor=actor, role=role, action="verdict.set", entity="call", entity_id=call.id,
                 before=before, after=after, reason=text)  # fmt: skip
    return row


def set_verdict(
    session: Session, actor: str, role: str, call: Call, hit_index: int, verdict: str, comment: str | None
) -> HitVerdict:
    """A reviewer confirms or rejects (false alarm) one machine finding of the call's current analysis."""
    analysis = current_analysis(session, call, lock=True)
    return record_verdict(session, actor, role, call, analysis, hit_index, verdict, comment)


def _finding_dimension(compiled: CompiledRuleSet, points: float, dimension: str | None, rule_id: str | None) -> str:
    """The dimension an added finding deducts from (given, or its rule's); ``InvalidReviewInput`` if invalid."""
    if not -100 <= points < 0:
        raise InvalidReviewInput("扣分分值必须为负数，且不低于 -100")
    rule = None
    if rule_id:
        rule = next((c.rule for c in compiled.rules if c.rule.id == rule_id), None)
        if rule is None:
            raise InvalidReviewInput(f"规则 {rule_id} 不在本通话所用的规则集中")
    dims = [d.id for d in compiled.ruleset.dimensions]
    dimension = dimension or (rule.dimension if rule else None)
    if dimension is None:
        raise InvalidReviewInput("请指定扣分维度或规则")
    if dimension not in dims:
        raise InvalidReviewInput(f"未知的维度 {dimension}（可选：{', '.join(dims)}）")
    return dimension


def add_finding(
    session: Session,
    actor: str,
    role: str,
    call: Call,
    *,
    description: str,
    points: float,
    dimension: str | None = None,
    rule_id: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> AddedFinding:
    """A reviewer adds a deduction the machine missed (``points`` < 0), in a dimension or under a rule."""
    analysis = current_analysis(session, call, lock=True)
    compiled = compiled_ruleset(session, analysis.rule_set_id)
    text = checked_text(description, "扣分说明", required=True)
    dimension = _finding_dimension(compiled, points, dimension, rule_id)
    if start is not None and end is not None and end < start:
        raise InvalidReviewInput("结束时间不能早于开始时间")
    enqueue(session, call, analysis.id, ReviewReason.MANUAL, actor, role)
    before = score_before(analysis)
    added = AddedFinding(call_id=call.id, analysis_id=analysis.id, rule_id=rule_id or None, dimension=dimension,
                         description=text, points=float(points), start=start, end=end, reviewer=actor,
                         at=utcnow())  # fmt: skip
    session.add(added)
    session.flush()
    after = {"analysis_id": analysis.id, "finding_id": added.id, "description": text, "points": added.points,
             "dimension": dimension, "rule_id": added.rule_id}  # fmt: skip
    after.update(recompute(session, call, analysis, actor))
    audit.record(session, actor=actor, role=role, action="finding.add", entity="call", entity_id=call.id,
                 before=before, after=after, reason=text)  # fmt: skip
    return added


def adjust_score(session: Session, actor: str, role: str, call: Call, score: float, reason: str) -> Analysis:
    """Set the reviewed score explicitly (0..100, reason required); the latest change wins (module docstring)."""
    analysis = current_analysis(session, call, lock=True)
    text = checked_text(reason, "调整原因", required=True)
    if not 0 <= score <= 100:  # NaN too
        raise InvalidReviewInput("分数必须在 0 到 100 之间")
    enqueue(session, call, analysis.id, ReviewReason.MANUAL, actor, role)
    before = score_before(analysis)
    set_reviewed(session, call, analysis, round(float(score), 1), actor)
    audit.record(session, actor=actor, role=role, action="score.adjust", entity="call", entity_id=call.id,
                 before=before, after={"analysis_id": analysis.id, "reviewed_total": analysis.reviewed_total},
                 reason=text)  # fmt: skip
    return analysis
