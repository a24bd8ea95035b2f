"""The reviewed score: a call scored again with the reviewers' verdicts and added findings.

Every verdict or added finding recomputes ``analyses.reviewed_total`` the way the machine scored the
call: the analysis' findings are rebuilt from its ``hits`` JSON with the rules of the rule set it was
scored with, rejected hits are dropped, the reviewers' findings are added, and
``inspector.qa.scoring.score_call`` runs again, so dimension floors and fatal vetoes (一票否决) behave
exactly as in machine scoring. A hit keeps the points it had: rejecting the deducting hit of a
``forbid`` rule restores the rule's points (its other hits stay 0-point evidence); a fatal rule's veto
holds while any of its hits is not rejected. A finding added with the ``rule_id`` of a fatal rule is a
fatal violation. Alert level and the fatal flag of the call stay the machine's (what was flagged).
An ``uncertain`` machine hit (heard with low confidence) counts only once a reviewer confirms it.

An explicit score (``inspector.people.verdicts.adjust_score``) sets ``reviewed_total`` directly; the
latest action wins, so a later recomputation replaces it and says so (``override_replaced``). After
every change the call's effective score (``calls.score``, when the analysis is the call's current one)
and the ``agent_days`` rollup of that agent and day are refreshed, so scorecards follow.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.people.rulesets import compiled_ruleset
from inspector.people.satisfaction import refresh_survey
from inspector.qa.rules.engine import CompiledRuleSet, Finding
from inspector.qa.scoring import CallScore, score_call
from inspector.store.calls import effective_score, refresh_agent_days
from inspector.store.db import utcnow
from inspector.store.schema import AddedFinding, Analysis, AuditEntry, Call, HitVerdict
from inspector.vocab import AlertLevel, SpeakerRole, Verdict

MANUAL_RULE_ID = "manual"  # rule id of a reviewer's finding that names no rule
# Audit actions on a call that set its reviewed score (the latest one tells whether an override is in force).
SCORE_ACTIONS = ("verdict.set", "finding.add", "score.adjust")


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
                       violation=points < 0, fatal=False, alert=AlertLevel.NONE, reason="")  # fmt: skip
    missing = rule.mode == "require" and (points < 0 or (not text and only_hit_of_rule))
    violation = rule.mode == "forbid" or missing
    return Finding(
        rule_id=rule.id, name=rule.name, category=rule.category, dimension=rule.dimension, mode=rule.mode,
        outcome="missing" if missing else "hit", role=hit.get("role", rule.role), start=hit.get("start", 0.0),
        end=hit.get("end", 0.0), text=text, utterance="", points=points, violation=violation,
        fatal=rule.fatal and violation, alert=rule.alert if violation or rule.mode == "detect" else AlertLevel.NONE,
        reason="", confidence=hit.get("confidence", 1.0), uncertain=bool(hit.get("uncertain", False)),
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
        outcome="hit", role=SpeakerRole.AGENT, start=added.start or 0.0, end=added.end or 0.0,
        text=added.description, utterance="", points=added.points, violation=True, fatal=bool(rule and rule.fatal),
        alert=rule.alert if rule else AlertLevel.NONE, reason=added.description,
    )  # fmt: skip


def reviewed_score(session: Session, analysis: Analysis) -> CallScore:
    """The analysis scored again without its rejected hits and with the reviewers' findings."""
    compiled = compiled_ruleset(session, analysis.rule_set_id)
    rows = session.execute(
        select(HitVerdict.hit_index, HitVerdict.verdict).where(HitVerdict.analysis_id == analysis.id)
    )
    verdicts = {index: verdict for index, verdict in rows.tuples()}
    # A rejected hit is dropped; a confirmed one counts even when the machine was uncertain of it.
    kept = [
        replace(f, uncertain=False) if verdicts.get(i) == Verdict.CONFIRMED else f
        for i, f in enumerate(machine_findings(compiled, list(analysis.hits or [])))
        if verdicts.get(i) != Verdict.REJECTED
    ]
    added = session.scalars(
        select(AddedFinding).where(AddedFinding.analysis_id == analysis.id).order_by(AddedFinding.id)
    )
    return score_call(compiled, kept + [added_finding(compiled, a) for a in added])


def override_in_force(session: Session, call_id: str, analysis_id: int) -> bool:
    """Whether the latest score change of this analysis was an explicit ``adjust_score``."""
    last = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "call", AuditEntry.entity_id == call_id, AuditEntry.action.in_(SCORE_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return bool(last and last.action == "score.adjust" and (last.after or {}).get("analysis_id") == analysis_id)


def _sync_call(session: Session, call: Call, analysis: Analysis) -> None:
    """Copy the effective score onto the call (current analysis only), refresh the agent's day and the
    call's survey."""
    if call.analysis_id != analysis.id:
        return
    call.score = effective_score(analysis)
    call.updated_at = utcnow()
    session.flush()
    refresh_agent_days(session, {(call.agent_id, call.day)})
    refresh_survey(session, call, analysis)


def set_reviewed(session: Session, call: Call, analysis: Analysis, total: float, actor: str) -> None:
    """Store ``total`` as the analysis' reviewed score by ``actor`` and bring the call and rollup along."""
    analysis.reviewed_total = total
    analysis.reviewed_at = utcnow()
    analysis.reviewed_by = actor
    session.flush()
    _sync_call(session, call, analysis)


def recompute(session: Session, call: Call, analysis: Analysis, actor: str) -> dict[str, Any]:
    """Recompute and store the reviewed score; returns what the audit entry's ``after`` adds."""
    replaced = override_in_force(session, call.id, analysis.id)
    score = reviewed_score(session, analysis)
    set_reviewed(session, call, analysis, score.total, actor)
    return {"reviewed_total": score.total, "fatal": score.fatal, "override_replaced": replaced}


def score_before(analysis: Analysis) -> dict[str, Any]:
    """What an audit entry's ``before`` keeps of the scores."""
    return {"reviewed_total": analysis.reviewed_total, "effective_score": effective_score(analysis)}
