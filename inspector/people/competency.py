"""Agents' competency scores (能力项得分), from their scorecard over a date range (the rollup).

Each score is 0..100:

- each dimension of the competency: its average score as a percentage of the dimension's weight in the
  active rule set (weights normalized to sum to 100, as scoring does), capped at 100;
- the competency: the mean of those percentages weighted by the competency's own dimension weights;
- a competency without dimensions (or none of whose dimensions the rule set has): 100 × (1 − the mean
  miss rate of its rules), a rule's miss rate being the share of calls it deducted points on;
- ``None`` with no calls in the range. ``weak``: below the catalog's ``weak_below``.

Evidence: the competency's rules the agent missed (by rate) and the calls with the most points
deducted by its rules or dimensions. Suggested courses (weak competencies only): the skill courses
(进阶层) training the competency, those training the most-missed rules first. The scores need a scorecard
(``inspector.reports``) and the catalog, so they are computed here rather than in ``inspector.qa``.

The skill model on top (``skill_profile``): the 技能综合分 (``composite_score``) is the mean of the
competency scores weighted by the catalog's normalized weights, renormalized over the competencies that
have a score (``None`` when none has); the tier (基础层 / 进阶层 / 提升层) follows from it by the catalog's
``tiers``; the tier's courses are suggested, those training the weakest competency (lowest score, the
first in the file on a tie) first, otherwise in catalog order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.people.catalog import Competency, TrainingCatalog
from inspector.people.errors import TrainingNotFound
from inspector.people.rulesets import RuleSetInfo, ruleset_info
from inspector.reports import scorecards
from inspector.store.schema import Analysis, Call
from inspector.vocab import CourseTier, label


@dataclass(frozen=True)
class RuleMiss:
    rule_id: str
    name: str
    calls: int  # calls the rule deducted points on
    rate: float  # of the agent's calls in the range

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "name": self.name, "calls": self.calls, "rate": self.rate}


@dataclass(frozen=True)
class CourseRef:
    id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class CompetencyScore:
    id: str
    name: str
    score: float | None  # 0..100; None without calls
    weak: bool
    evidence_rules: list[RuleMiss]
    suggested_courses: list[CourseRef]
    evidence_calls: list[str] = field(default_factory=list)  # most points deducted first

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "weak": self.weak,
            "evidence_rules": [r.to_dict() for r in self.evidence_rules],
            "suggested_courses": [c.to_dict() for c in self.suggested_courses],
            "evidence_calls": list(self.evidence_calls),
        }


@dataclass(frozen=True)
class SkillProfile:
    """The skill model's view of an agent over a range: 技能综合分, its tier and that tier's courses."""

    composite: float | None  # 0..100; None when no competency has a score
    tier: CourseTier | None  # None without a composite
    weakest: str | None  # the competency id with the lowest score
    tier_courses: list[CourseRef]

    @property
    def tier_label(self) -> str | None:
        return label(self.tier) if self.tier is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "composite": self.composite,
            "tier": self.tier.value if self.tier is not None else None,
            "tier_label": self.tier_label,
            "weakest": self.weakest,
            "tier_courses": [c.to_dict() for c in self.tier_courses],
        }


def composite_score(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """The weighted mean of ``scores`` (competency id → score) with ``weights`` (competency id → weight),
    renormalized over the competencies that have a score and a positive weight; ``None`` when none has."""
    present = [(weights[c], score) for c, score in scores.items() if score is not None and weights.get(c, 0.0) > 0]
    if not present:
        return None
    return round(sum(w * s for w, s in present) / sum(w for w, _ in present), 1)


def weakest_competency(scores: Mapping[str, float | None]) -> str | None:
    """The competency with the lowest score (the first on a tie); ``None`` when none has a score."""
    scored = [(score, i, competency_id) for i, (competency_id, score) in enumerate(scores.items()) if score is not None]
    return min(scored)[2] if scored else None


def suggest_by_tier(catalog: TrainingCatalog, composite: float | None, weakest: str | None) -> list[CourseRef]:
    """The courses of the tier ``composite`` calls for, those training ``weakest`` first (then catalog order)."""
    tier = catalog.tiers.tier_for(composite)
    if tier is None:
        return []
    courses = catalog.courses_of_tier(tier)
    ranked = sorted(courses, key=lambda c: weakest is None or weakest not in c.competencies)  # stable
    return [CourseRef(c.id, c.name) for c in ranked]


def skill_profile(catalog: TrainingCatalog, scores: list[CompetencyScore]) -> SkillProfile:
    """Composite, tier, weakest competency and tier courses from an agent's competency scores."""
    by_id = {s.id: s.score for s in scores}
    composite = composite_score(by_id, catalog.weights())
    weakest = weakest_competency(by_id)
    return SkillProfile(composite, catalog.tiers.tier_for(composite), weakest,
                        suggest_by_tier(catalog, composite, weakest))  # fmt: skip


def competency_score(
    competency: Competency, card: scorecards.Scorecard, weights: dict[str, float], miss_rates: dict[str, float]
) -> float | None:
    """The competency's score from a scorecard (see the module docstring)."""
    if card.calls == 0:
        return None
    parts: list[tuple[float, float]] = []  # (competency weight, percentage of the dimension's weight)
    for dimension, weight in competency.dimensions.items():
        full = weights.get(dimension, 0.0)
        if weight <= 0 or full <= 0 or dimension not in card.dimensions:
            continue
        parts.append((weight, min(100.0, card.dimensions[dimension] / full * 100.0)))
    if parts:
        return round(sum(w * p for w, p in parts) / sum(w for w, _ in parts), 1)
    if competency.rules:
        missed = sum(miss_rates.get(rule_id, 0.0) for rule_id in competency.rules) / len(competency.rules)
        return round(100.0 * (1.0 - missed), 1)
    return None


def _suggest(catalog: TrainingCatalog, competency: Competency, miss_rates: dict[str, float]) -> list[CourseRef]:
    courses = [
        (i, c)
        for i, c in enumerate(catalog.courses)
        if competency.id in c.competencies and c.tier == CourseTier.ADVANCED  # skill courses; tiers: skill_profile
    ]
    ranked = sorted(courses, key=lambda item: (-sum(miss_rates.get(r, 0.0) for r in item[1].rules), item[0]))
    return [CourseRef(c.id, c.name) for _, c in ranked]


def competencies_from_scorecard(
    catalog: TrainingCatalog, card: scorecards.Scorecard, info: RuleSetInfo
) -> list[CompetencyScore]:
    """Competency scores from a scorecard built with every missed rule (``most_missed`` large)."""
    misses = {m.rule_id: m for m in card.most_missed}
    miss_rates = {rule_id: m.rate for rule_id, m in misses.items()}
    scores: list[CompetencyScore] = []
    for competency in catalog.competencies:
        score = competency_score(competency, card, info.weights, miss_rates)
        weak = score is not None and score < catalog.weak_below
        evidence = sorted(
            (
                RuleMiss(rule_id, info.rule_names.get(rule_id, rule_id), misses[rule_id].calls, misses[rule_id].rate)
                for rule_id in competency.rules
                if rule_id in misses and misses[rule_id].calls > 0
            ),
            key=lambda m: (-m.rate, m.rule_id),
        )
        suggested = _suggest(catalog, competency, miss_rates) if weak else []
        scores.append(CompetencyScore(competency.id, competency.name, score, weak, evidence, suggested))
    return scores


def _evidence_calls(
    session: Session,
    catalog: TrainingCatalog,
    agent_id: str,
    date_from: date | None,
    date_to: date | None,
    limit: int,
) -> dict[str, list[str]]:
    """Per competency, the agent's calls with the most points deducted by its rules or dimensions."""
    query = (
        select(Call.id, Call.started_at, Analysis.hits)
        .join(Analysis, Analysis.id == Call.analysis_id)
        .where(Call.agent_id == agent_id, Analysis.total < 100)  # a call at 100 lost no points
    )
    if date_from is not None:
        query = query.where(Call.day >= date_from)
    if date_to is not None:
        query = query.where(Call.day <= date_to)
    rows = session.execute(query).all()
    found: dict[str, list[str]] = {}
    for competency in catalog.competencies:
        rules, dimensions = set(competency.rules), set(competency.dimensions)
        lost: list[tuple[float, datetime, str]] = []
        for call_id, started_at, hits in rows:
            points = sum(
                -float(h.get("points", 0))
                for h in hits or ()
                if h.get("points", 0) < 0 and (h.get("rule_id") in rules or h.get("dimension") in dimensions)
            )
            if points > 0:
                lost.append((points, started_at or datetime.min, call_id))
        lost.sort(key=lambda item: item[2])  # ties: newer calls first, then by id (stable sorts)
        lost.sort(key=lambda item: item[1], reverse=True)
        lost.sort(key=lambda item: -item[0])
        found[competency.id] = [call_id for _, _, call_id in lost[: max(0, limit)]]
    return found


def agent_competencies(
    session: Session,
    catalog: TrainingCatalog,
    agent_id: str,
    date_from: date | None,
    date_to: date | None,
    *,
    evidence_limit: int = 5,
) -> list[CompetencyScore]:
    """The agent's competency scores over the range (inclusive local dates); ``TrainingNotFound`` if the
    agent is unknown."""
    card = scorecards.scorecard(session, agent_id, date_from, date_to, trend="month", most_missed=10_000)
    if card is None:
        raise TrainingNotFound(f"坐席 {agent_id} 不存在", "agent_not_found")
    scores = competencies_from_scorecard(catalog, card, ruleset_info(session))
    if card.calls:
        evidence = _evidence_calls(session, catalog, agent_id, date_from, date_to, evidence_limit)
        for score in scores:
            score.evidence_calls = evidence.get(score.id, [])
    return scores
