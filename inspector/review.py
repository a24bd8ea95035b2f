"""Review (复核) and appeals (申诉): the review queue, reviewers' verdicts, the reviewed score, rule precision.

Review queue. A call gets at most one ``Review`` per analysis (``reasons``):

- ``on_analysis`` (the worker, right after a call's current analysis is stored): every fatal call
  (reason ``fatal``) and every red alert (``red``), as ``ReviewSettings`` says;
- ``sample_week`` (weekly, by hand or a scheduler): the lowest ``lowest_percent``% of a local ISO
  week's calls by effective score (``lowest``) and a random ``random_percent``% of each agent's calls
  (``random``). Counts are rounded and at least 1 when the percent is above 0. The random pick is
  seeded by (seed, week, agent), so rerunning over the same calls picks the same ones; a pick that is
  already queued (e.g. a red call) is not queued again, so a rerun adds nothing;
- an accepted appeal (``appeal``), and any change a reviewer makes to a call that is not queued yet
  (``manual``), so every call a person touched is in the queue and can be completed.

Reviewed score. Every verdict or added finding recomputes ``analyses.reviewed_total`` the way the
machine scored the call: the analysis' findings are rebuilt from its ``hits`` JSON with the rules of the
rule set it was scored with, rejected hits are dropped, the reviewers' findings are added, and
``inspector.scoring.score_call`` runs again, so dimension floors and fatal vetoes (一票否决) behave
exactly as in machine scoring. A hit keeps the points it had: rejecting the deducting hit of a
``forbid`` rule restores the rule's points (its other hits stay 0-point evidence); a fatal rule's veto
holds while any of its hits is not rejected. A finding added with the ``rule_id`` of a fatal rule is a
fatal violation. Alert level and the fatal flag of the call stay the machine's (what was flagged).

Explicit score (``adjust_score``, reason required) sets ``reviewed_total`` directly. The latest
action wins: a later verdict or added finding recomputes the score and replaces the explicit one; its
audit entry then says ``"override_replaced": true`` (and the replaced value is its ``before``).

After every change the call's effective score (``calls.score``, when the analysis is the call's
current one) and the ``agent_days`` rollup of that agent and day are refreshed, so scorecards follow.

Every change is written to the audit log (``inspector.store.audit``): on entity ``call`` (verdicts,
findings, scores), ``review`` (queued, completed) and ``appeal`` (created, resolved), with the actor,
their role, the value before and after, and the reason or comment given. Automatic queueing is
recorded as actor ``system``.
"""

from __future__ import annotations

import math
import random
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspector.errors import InspectorError
from inspector.rules.engine import CompiledRuleSet, Finding, compile_ruleset
from inspector.rules.loader import load_ruleset
from inspector.scoring import CallScore, score_call
from inspector.settings import ReviewSettings
from inspector.store import audit
from inspector.store.calls import effective_score, refresh_agent_days
from inspector.store.db import utcnow
from inspector.store.rulesets import active_ruleset, materialize
from inspector.store.schema import (
    AddedFinding,
    Analysis,
    Appeal,
    AuditEntry,
    Call,
    CallStatus,
    HitVerdict,
    Review,
    RuleSetRecord,
)

REASONS = ("red", "fatal", "lowest", "random", "appeal", "manual")
REVIEW_STATUSES = ("pending", "done")
VERDICTS = ("confirmed", "rejected")
APPEAL_STATUSES = ("open", "accepted", "rejected")
DECISIONS = ("accepted", "rejected")
SYSTEM_ACTOR = "system"
SYSTEM_ROLE = "system"
MANUAL_RULE_ID = "manual"  # rule id of a reviewer's finding that names no rule
# Audit actions on a call that set its reviewed score (the latest one tells whether an override is in force).
SCORE_ACTIONS = ("verdict.set", "finding.add", "score.adjust")
_MAX_TEXT = 2000


# --- errors --------------------------------------------------------------------------------------


class ReviewError(InspectorError):
    """Base of the review/appeal errors a user can cause (the API maps each subclass to a 4xx)."""

    code = "review_error"


class ReviewNotFound(ReviewError):
    code = "review_not_found"


class AppealNotFound(ReviewError):
    code = "appeal_not_found"


class HitNotFound(ReviewError):
    code = "hit_not_found"


class NotAnalyzed(ReviewError):
    """The call has no current analysis yet (not done)."""

    code = "not_analyzed"


class InvalidReviewInput(ReviewError):
    code = "invalid_review_input"


class AppealNotAllowed(ReviewError):
    """Not the agent's call, not a deduction, or the deduction was already withdrawn."""

    code = "appeal_not_allowed"


class DuplicateAppeal(ReviewError):
    code = "appeal_exists"


class AppealResolved(ReviewError):
    code = "appeal_resolved"


class ReviewDone(ReviewError):
    code = "review_done"


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RulePrecision:
    """How often reviewers agreed with a rule: confirmed / (confirmed + rejected)."""

    rule_id: str
    name: str
    confirmed: int
    rejected: int
    precision: float | None  # None: no verdicts

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "name": self.name, "confirmed": self.confirmed, "rejected": self.rejected,
                "precision": self.precision}  # fmt: skip


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


@dataclass(frozen=True)
class AppealRow:
    appeal: Appeal
    hit: dict[str, Any]
    rule_name: str


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    call: Call
    analysis: Analysis


# --- rule sets -----------------------------------------------------------------------------------

_compiled: dict[str, CompiledRuleSet] = {}  # bundle sha256 → compiled rule set (content-addressed)
_compiled_lock = threading.Lock()


def compiled_ruleset(session: Session, rule_set_id: int) -> CompiledRuleSet:
    """The compiled rule set of a stored bundle, loaded once per process (cached by content hash)."""
    record = session.get(RuleSetRecord, rule_set_id)
    if record is None:
        raise InvalidReviewInput(f"规则集 {rule_set_id} 不存在")
    with _compiled_lock:
        cached = _compiled.get(record.sha256)
    if cached is not None:
        return cached
    with tempfile.TemporaryDirectory(prefix="inspector-review-") as tmp:
        compiled = compile_ruleset(load_ruleset(materialize(record, Path(tmp))))
    with _compiled_lock:
        _compiled[record.sha256] = compiled
    return compiled


def rule_names(session: Session, rule_set_id: int) -> dict[str, str]:
    """Rule id → Chinese name in a stored rule set."""
    return {rule.id: rule.name for rule in compiled_ruleset(session, rule_set_id).ruleset.rules}


# --- the reviewed score --------------------------------------------------------------------------


def machine_finding(compiled: CompiledRuleSet, hit: dict[str, Any], only_hit_of_rule: bool) -> Finding:
    """A ``Finding`` rebuilt from one hits JSON entry with its rule (what scoring needs of it).

    A ``require`` rule's entry is its "missing" finding when it deducted points, or when it is the
    rule's only entry with no words (a 0-point require rule that was not met).
    """
    rule = next((c.rule for c in compiled.rules if c.rule.id == hit["rule_id"]), None)
    points = hit.get("points", 0)
    text = hit.get("text", "")
    if rule is None:  # not in the rule set it was scored with: keep what the JSON says
        return Finding(rule_id=hit["rule_id"], name=hit["rule_id"], category=hit.get("category", ""),
                       dimension=hit["dimension"], mode="detect", outcome="hit", role=hit.get("role", ""),
                       start=hit.get("start", 0.0), end=hit.get("end", 0.0), text=text, utterance="", points=points,
                       violation=points < 0, fatal=False, alert="none", reason="")  # fmt: skip
    missing = rule.mode == "require" and (points < 0 or (not text and only_hit_of_rule))
    violation = rule.mode == "forbid" or missing
    return Finding(
        rule_id=rule.id, name=rule.name, category=rule.category, dimension=rule.dimension, mode=rule.mode,
        outcome="missing" if missing else "hit", role=hit.get("role", rule.role), start=hit.get("start", 0.0),
        end=hit.get("end", 0.0), text=text, utterance="", points=points, violation=violation,
        fatal=rule.fatal and violation, alert=rule.alert if violation or rule.mode == "detect" else "none", reason="",
    )  # fmt: skip


def machine_findings(compiled: CompiledRuleSet, hits: list[dict[str, Any]]) -> list[Finding]:
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit["rule_id"]] = counts.get(hit["rule_id"], 0) + 1
    return [machine_finding(compiled, hit, counts[hit["rule_id"]] == 1) for hit in hits]


def added_finding(compiled: CompiledRuleSet, added: AddedFinding) -> Finding:
    """A reviewer's finding as a ``Finding``: a violation of its rule (fatal/alert as the rule's) or manual."""
    rule = next((c.rule for c in compiled.rules if c.rule.id == added.rule_id), None)
    return Finding(
        rule_id=added.rule_id or MANUAL_RULE_ID, name=rule.name if rule else added.description,
        category=rule.category if rule else MANUAL_RULE_ID, dimension=added.dimension or "", mode="forbid",
        outcome="hit", role="agent", start=added.start or 0.0, end=added.end or 0.0, text=added.description,
        utterance="", points=added.points, violation=True, fatal=bool(rule and rule.fatal),
        alert=rule.alert if rule else "none", reason=added.description,
    )  # fmt: skip


def reviewed_score(session: Session, analysis: Analysis) -> CallScore:
    """The analysis scored again without its rejected hits and with the reviewers' findings."""
    compiled = compiled_ruleset(session, analysis.rule_set_id)
    rejected = set(
        session.scalars(
            select(HitVerdict.hit_index).where(HitVerdict.analysis_id == analysis.id, HitVerdict.verdict == "rejected")
        )
    )
    kept = [f for i, f in enumerate(machine_findings(compiled, list(analysis.hits or []))) if i not in rejected]
    added = session.scalars(
        select(AddedFinding).where(AddedFinding.analysis_id == analysis.id).order_by(AddedFinding.id)
    )
    return score_call(compiled, kept + [added_finding(compiled, a) for a in added])


def _override_in_force(session: Session, call_id: str, analysis_id: int) -> bool:
    """Whether the latest score change of this analysis was an explicit ``adjust_score``."""
    last = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "call", AuditEntry.entity_id == call_id, AuditEntry.action.in_(SCORE_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return bool(last and last.action == "score.adjust" and (last.after or {}).get("analysis_id") == analysis_id)


def _sync_call(session: Session, call: Call, analysis: Analysis) -> None:
    """Copy the effective score onto the call (current analysis only) and refresh the agent's day."""
    if call.analysis_id != analysis.id:
        return
    call.score = effective_score(analysis)
    call.updated_at = utcnow()
    session.flush()
    refresh_agent_days(session, {(call.agent_id, call.day)})


def _set_reviewed(session: Session, call: Call, analysis: Analysis, total: float, actor: str) -> None:
    analysis.reviewed_total = total
    analysis.reviewed_at = utcnow()
    analysis.reviewed_by = actor
    session.flush()
    _sync_call(session, call, analysis)


def _recompute(session: Session, call: Call, analysis: Analysis, actor: str) -> dict[str, Any]:
    """Recompute and store the reviewed score; returns what the audit entry's ``after`` adds."""
    replaced = _override_in_force(session, call.id, analysis.id)
    score = reviewed_score(session, analysis)
    _set_reviewed(session, call, analysis, score.total, actor)
    return {"reviewed_total": score.total, "fatal": score.fatal, "override_replaced": replaced}


# --- lookups -------------------------------------------------------------------------------------


def current_analysis(session: Session, call: Call, lock: bool = False) -> Analysis:
    """The call's current analysis (locked for update when ``lock``); ``NotAnalyzed`` when there is none."""
    analysis = None
    if call.status == CallStatus.DONE.value and call.analysis_id is not None:
        analysis = session.get(Analysis, call.analysis_id, with_for_update=lock or None)
    if analysis is None:
        raise NotAnalyzed(f"通话 {call.id} 尚未完成分析，无法复核")
    return analysis


def _hit(analysis: Analysis, hit_index: int) -> dict[str, Any]:
    hits = list(analysis.hits or [])
    if not 0 <= hit_index < len(hits):
        raise HitNotFound(f"命中序号 {hit_index} 超出范围（本通话共 {len(hits)} 条命中，序号从 0 开始）")
    hit: dict[str, Any] = hits[hit_index]
    return hit


def _verdict(session: Session, analysis_id: int, hit_index: int) -> HitVerdict | None:
    return session.scalars(
        select(HitVerdict).where(HitVerdict.analysis_id == analysis_id, HitVerdict.hit_index == hit_index)
    ).one_or_none()


def review_of(session: Session, analysis_id: int) -> Review | None:
    return session.scalars(select(Review).where(Review.analysis_id == analysis_id)).one_or_none()


def _text(value: str | None, field: str, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise InvalidReviewInput(f"{field}不能为空")
    if len(text) > _MAX_TEXT:
        raise InvalidReviewInput(f"{field}不能超过 {_MAX_TEXT} 个字")
    return text or None


# --- the review queue ----------------------------------------------------------------------------


def _queue(session: Session, call: Call, analysis_id: int, reason: str, actor: str, role: str) -> tuple[Review, bool]:
    """The review of this analysis, created (pending, audited) when there is none; (review, created)."""
    existing = review_of(session, analysis_id)
    if existing is not None:
        return existing, False
    review = Review(call_id=call.id, analysis_id=analysis_id, reason=reason, status="pending", created_at=utcnow())
    try:
        with session.begin_nested():  # a concurrent writer may have queued it meanwhile (unique per analysis)
            session.add(review)
    except IntegrityError:
        existing = review_of(session, analysis_id)
        assert existing is not None
        return existing, False
    after = {"call_id": call.id, "analysis_id": analysis_id, "reason": reason, "status": "pending"}
    audit.record(session, actor=actor, role=role, action="review.queue", entity="review", entity_id=review.id,
                 after=after)  # fmt: skip
    return review, True


def on_analysis(session: Session, settings: ReviewSettings, call: Call, analysis: Analysis) -> Review | None:
    """Queue a freshly analyzed call when it is fatal or a red alert (idempotent); the review, or None."""
    reason = None
    if settings.fatal and analysis.fatal:
        reason = "fatal"
    elif settings.red and analysis.alert == "red":
        reason = "red"
    if reason is None:
        return review_of(session, analysis.id)
    review, _ = _queue(session, call, analysis.id, reason, SYSTEM_ACTOR, SYSTEM_ROLE)
    return review


def week_monday(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


def _share(count: int, percent: float) -> int:
    """``percent``% of ``count``, rounded half up, at least 1 when both are above 0."""
    if count <= 0 or percent <= 0:
        return 0
    return min(count, max(1, math.floor(count * percent / 100 + 0.5)))


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
            Call.status == CallStatus.DONE.value,
            Call.analysis_id.is_not(None),
            Call.score.is_not(None),
        )
    ).all()
    calls = [call for call, _ in rows]
    queued = {call.id for call, review_id in rows if review_id is not None}
    picks: list[tuple[Call, str]] = []

    by_score = sorted(calls, key=lambda c: (c.score, c.id))
    picks += [(c, "lowest") for c in by_score[: _share(len(calls), settings.lowest_percent)]]

    by_agent: dict[str, list[Call]] = {}
    for call in sorted(calls, key=lambda c: c.id):
        by_agent.setdefault(call.agent_id, []).append(call)
    for agent_id in sorted(by_agent):
        agent_calls = by_agent[agent_id]
        rng = random.Random(f"{seed}|{monday.isoformat()}|{agent_id}")
        picks += [(c, "random") for c in rng.sample(agent_calls, _share(len(agent_calls), settings.random_percent))]

    added = 0
    for call, reason in picks:
        if call.id in queued:
            continue
        assert call.analysis_id is not None
        _, created = _queue(session, call, call.analysis_id, reason, actor, role)
        queued.add(call.id)
        added += int(created)
    return added


def complete_review(session: Session, actor: str, role: str, review_id: int, comment: str | None) -> Review:
    """Mark a queued review done by ``actor``."""
    review = session.get(Review, review_id, with_for_update=True)
    if review is None:
        raise ReviewNotFound(f"复核任务 {review_id} 不存在")
    if review.status == "done":
        raise ReviewDone(f"复核任务 {review_id} 已完成（{review.reviewer or ''}）")
    text = _text(comment, "复核意见")
    before = {"status": review.status}
    review.status = "done"
    review.reviewer = actor
    review.completed_at = utcnow()
    review.comment = text
    session.flush()
    audit.record(session, actor=actor, role=role, action="review.complete", entity="review", entity_id=review.id,
                 before=before, after={"status": "done", "call_id": review.call_id}, reason=text)  # fmt: skip
    return review


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


# --- verdicts, findings, explicit scores ---------------------------------------------------------


def _score_before(analysis: Analysis) -> dict[str, Any]:
    return {"reviewed_total": analysis.reviewed_total, "effective_score": effective_score(analysis)}


def _set_verdict(
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
    if verdict not in VERDICTS:
        raise InvalidReviewInput(f"复核结论必须是 {' 或 '.join(VERDICTS)}，不能是 {verdict!r}")
    hit = _hit(analysis, hit_index)
    text = _text(comment, "复核意见")
    _queue(session, call, analysis.id, "manual", actor, role)
    row = _verdict(session, analysis.id, hit_index)
    before = {"hit_index": hit_index, "rule_id": hit["rule_id"], "verdict": row.verdict if row else None,
              **_score_before(analysis)}  # fmt: skip
    if row is None:
        row = HitVerdict(call_id=call.id, analysis_id=analysis.id, hit_index=hit_index, rule_id=hit["rule_id"],
                         verdict=verdict, reviewer=actor, at=utcnow(), comment=text)  # fmt: skip
        session.add(row)
    else:
        row.verdict, row.reviewer, row.at, row.comment = verdict, actor, utcnow(), text
    session.flush()
    after = {"analysis_id": analysis.id, "hit_index": hit_index, "rule_id": hit["rule_id"], "verdict": verdict,
             **_recompute(session, call, analysis, actor)}  # fmt: skip
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
    return _set_verdict(session, actor, role, call, analysis, hit_index, verdict, comment)


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
    text = _text(description, "扣分说明", required=True)
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
    if start is not None and end is not None and end < start:
        raise InvalidReviewInput("结束时间不能早于开始时间")
    _queue(session, call, analysis.id, "manual", actor, role)
    before = _score_before(analysis)
    added = AddedFinding(call_id=call.id, analysis_id=analysis.id, rule_id=rule_id or None, dimension=dimension,
                         description=text, points=float(points), start=start, end=end, reviewer=actor,
                         at=utcnow())  # fmt: skip
    session.add(added)
    session.flush()
    after = {"analysis_id": analysis.id, "finding_id": added.id, "description": text, "points": added.points,
             "dimension": dimension, "rule_id": added.rule_id}  # fmt: skip
    after.update(_recompute(session, call, analysis, actor))
    audit.record(session, actor=actor, role=role, action="finding.add", entity="call", entity_id=call.id,
                 before=before, after=after, reason=text)  # fmt: skip
    return added


def adjust_score(session: Session, actor: str, role: str, call: Call, score: float, reason: str) -> Analysis:
    """Set the reviewed score explicitly (0..100, reason required); the latest change wins (module docstring)."""
    analysis = current_analysis(session, call, lock=True)
    text = _text(reason, "调整原因", required=True)
    if not 0 <= score <= 100:  # NaN too
        raise InvalidReviewInput("分数必须在 0 到 100 之间")
    _queue(session, call, analysis.id, "manual", actor, role)
    before = _score_before(analysis)
    _set_reviewed(session, call, analysis, round(float(score), 1), actor)
    audit.record(session, actor=actor, role=role, action="score.adjust", entity="call", entity_id=call.id,
                 before=before, after={"analysis_id": analysis.id, "reviewed_total": analysis.reviewed_total},
                 reason=text)  # fmt: skip
    return analysis


# --- appeals -------------------------------------------------------------------------------------


def create_appeal(
    session: Session, actor: str, role: str, agent_id: str, call: Call, hit_index: int, comment: str
) -> Appeal:
    """The agent ``agent_id`` contests one deduction on their own call (one appeal per finding)."""
    if call.agent_id != agent_id:
        raise AppealNotAllowed("只能对自己的通话提出申诉")
    analysis = current_analysis(session, call)
    hit = _hit(analysis, hit_index)
    text = _text(comment, "申诉理由", required=True)
    if hit.get("points", 0) >= 0:
        raise AppealNotAllowed(f"命中 {hit_index} 没有扣分，无需申诉")
    verdict = _verdict(session, analysis.id, hit_index)
    if verdict is not None and verdict.verdict == "rejected":
        raise AppealNotAllowed(f"命中 {hit_index} 的扣分已在复核中撤销，无需申诉")
    existing = session.scalars(
        select(Appeal).where(Appeal.analysis_id == analysis.id, Appeal.hit_index == hit_index)
    ).one_or_none()
    if existing is not None:
        raise DuplicateAppeal(f"命中 {hit_index} 已提出过申诉（申诉 {existing.id}，状态：{existing.status}）")
    appeal = Appeal(call_id=call.id, analysis_id=analysis.id, hit_index=hit_index, rule_id=hit["rule_id"],
                    agent_id=agent_id, comment=text, status="open", created_at=utcnow())  # fmt: skip
    try:
        with session.begin_nested():
            session.add(appeal)
    except IntegrityError:
        raise DuplicateAppeal(f"命中 {hit_index} 已提出过申诉") from None
    audit.record(session, actor=actor, role=role, action="appeal.create", entity="appeal", entity_id=appeal.id,
                 after={"call_id": call.id, "analysis_id": analysis.id, "hit_index": hit_index,
                        "rule_id": hit["rule_id"], "points": hit.get("points"), "status": "open"},
                 reason=text)  # fmt: skip
    return appeal


def resolve_appeal(session: Session, actor: str, role: str, appeal_id: int, decision: str, resolution: str) -> Appeal:
    """Accept (the finding is rejected, its points restored, the call queued for review) or reject an appeal."""
    if decision not in DECISIONS:
        raise InvalidReviewInput(f"处理结果必须是 {' 或 '.join(DECISIONS)}，不能是 {decision!r}")
    appeal = session.get(Appeal, appeal_id, with_for_update=True)
    if appeal is None:
        raise AppealNotFound(f"申诉 {appeal_id} 不存在")
    if appeal.status != "open":
        raise AppealResolved(f"申诉 {appeal_id} 已处理（{appeal.status}）")
    text = _text(resolution, "处理意见", required=True)
    call = session.get(Call, appeal.call_id)
    analysis = session.get(Analysis, appeal.analysis_id, with_for_update=True)
    assert call is not None and analysis is not None  # appeals cascade with their call and analysis
    appeal.status = decision
    appeal.resolver = actor
    appeal.resolved_at = utcnow()
    appeal.resolution = text
    session.flush()
    audit.record(session, actor=actor, role=role, action="appeal.resolve", entity="appeal", entity_id=appeal.id,
                 before={"status": "open"}, after={"status": decision, "call_id": call.id,
                                                   "hit_index": appeal.hit_index}, reason=text)  # fmt: skip
    if decision == "accepted":
        _queue(session, call, analysis.id, "appeal", actor, role)
    verdict = "rejected" if decision == "accepted" else "confirmed"
    _set_verdict(session, actor, role, call, analysis, appeal.hit_index, verdict, text, appeal_id=appeal.id)
    return appeal


def list_appeals(
    session: Session,
    *,
    status: str | None = None,
    agent_id: str | None = None,
    appeal_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[AppealRow], int]:
    """Appeals, newest first, with the finding they contest, and how many match.

    ``visible``: a condition on ``Appeal.agent_id`` narrowing to the agents the caller may see.
    """
    conditions: list[ColumnElement[bool]] = [] if visible is None else [visible]
    if appeal_id is not None:
        conditions.append(Appeal.id == appeal_id)
    if status is not None:
        conditions.append(Appeal.status == status)
    if agent_id is not None:
        conditions.append(Appeal.agent_id == agent_id)
    query = (
        select(Appeal, Analysis.hits, Analysis.rule_set_id)
        .join(Analysis, Analysis.id == Appeal.analysis_id)
        .where(*conditions)
        .order_by(Appeal.created_at.desc(), Appeal.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows: list[AppealRow] = []
    names: dict[int, dict[str, str]] = {}
    for appeal, hits, rule_set_id in session.execute(query).all():
        if rule_set_id not in names:
            names[rule_set_id] = rule_names(session, rule_set_id)
        hit = hits[appeal.hit_index] if 0 <= appeal.hit_index < len(hits or []) else {}
        rows.append(AppealRow(appeal, hit, names[rule_set_id].get(appeal.rule_id, appeal.rule_id)))
    total = session.scalar(select(func.count()).select_from(Appeal).where(*conditions))
    return rows, int(total or 0)


# --- reading -------------------------------------------------------------------------------------


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


def rule_precision(session: Session, date_from: date | None, date_to: date | None) -> list[RulePrecision]:
    """Per rule, reviewers' confirmed vs rejected verdicts on calls of the (local, inclusive) date range.

    Noisiest first: lowest precision, then most rejections, then rule id. Names from the active rule set.
    """
    query = (
        select(HitVerdict.rule_id, HitVerdict.verdict, func.count())
        .join(Call, Call.id == HitVerdict.call_id)
        .group_by(HitVerdict.rule_id, HitVerdict.verdict)
    )
    if date_from is not None:
        query = query.where(Call.day >= date_from)
    if date_to is not None:
        query = query.where(Call.day <= date_to)
    counts: dict[str, dict[str, int]] = {}
    for rule_id, verdict, count in session.execute(query).all():
        counts.setdefault(rule_id, {"confirmed": 0, "rejected": 0})[verdict] = int(count)
    active = active_ruleset(session)
    names = rule_names(session, active.id) if active is not None else {}
    result = []
    for rule_id, c in counts.items():
        judged = c["confirmed"] + c["rejected"]
        precision = round(c["confirmed"] / judged, 3) if judged else None
        result.append(RulePrecision(rule_id, names.get(rule_id, rule_id), c["confirmed"], c["rejected"], precision))
    return sorted(result, key=lambda r: (r.precision if r.precision is not None else 2.0, -r.rejected, r.rule_id))
