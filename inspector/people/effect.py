"""The effect of coaching (辅导效果): the targeted dimension before vs. after an assignment, and how sure it is.

The dimension is measured as a percentage of its weight, per call, from the calls' current analyses,
over the agent's last ``n`` calls started before the assignment was created vs. the first ``n`` calls
started after it was done (after it was created while not done). Both sides use the same number of
calls, ``n_used = min(n, calls before, calls after)``; with ``n_used == 0`` the averages and the delta
are ``None``.

How sure (``level``, 95 % by default):

- ``ci_low``/``ci_high``: a Welch t-interval for the delta (after minus before), each call one
  observation, the two sides independent samples with their own variances. A t-interval rather than a
  bootstrap: with the 5–20 calls a side that coaching looks at, a bootstrap's percentiles are rough
  and change from run to run, and the Welch interval is the one ``scipy.stats.ttest_ind(...,
  equal_var=False).confidence_interval()`` gives (the tests check it against scipy). Needs two calls a
  side; when every call on both sides scored the same the interval is the delta itself.
- ``enough``: ``n_used >= min_calls`` (``settings.training.min_calls``); below it the label is 样本不足
  and no verdict is drawn.
- The team (团队对照): the same dimension over the calls of the other agents of the agent's team
  (``Agent.team_id``) in the same time spans: from the agent's first counted call before to the
  assignment's creation, and from the coaching's end (``after`` moment) to the agent's last counted
  call after; at most ``TEAM_CALLS_MAX`` calls a side, the nearest to the coaching. ``did`` is the
  difference in differences, the agent's delta minus the team's, so that a change the whole team saw
  (season, a new rule pack, a campaign) is not credited to the course; its interval is the Welch
  interval of the contrast of four independent means (Welch–Satterthwaite degrees of freedom).
- ``verdict``: from the difference-in-differences interval when the team has ``min_calls`` calls on
  each side (``team_compared``), else from the delta's interval: above zero 有提升, below zero 有下降,
  containing zero 无明显变化; 样本不足 when not ``enough``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from scipy import stats
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from inspector.store.schema import Agent, Analysis, Call, CoachingAssignment
from inspector.vocab import CallStatus

LEVEL = 0.95
TEAM_CALLS_MAX = 1000  # team calls a side


class EffectVerdict(enum.StrEnum):
    INSUFFICIENT = "insufficient"
    IMPROVED = "improved"
    DECLINED = "declined"
    UNCLEAR = "unclear"


VERDICT_LABELS: dict[EffectVerdict, str] = {
    EffectVerdict.INSUFFICIENT: "样本不足",
    EffectVerdict.IMPROVED: "有提升",
    EffectVerdict.DECLINED: "有下降",
    EffectVerdict.UNCLEAR: "无明显变化",
}


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    df: float | None  # degrees of freedom (None when every sample had no spread)


@dataclass(frozen=True)
class Effect:
    dimension: str | None
    before_calls: list[str]  # call ids, oldest first
    before_avg: float | None  # 0..100: the dimension's score as a percentage of its weight
    after_calls: list[str]
    after_avg: float | None
    delta: float | None  # after_avg - before_avg
    n_used: int  # calls on each side
    level: float = LEVEL
    ci_low: float | None = None  # the delta's interval
    ci_high: float | None = None
    min_calls: int = 5
    enough: bool = False  # n_used >= min_calls
    verdict: EffectVerdict = EffectVerdict.INSUFFICIENT
    # The team over the same spans (UTC, naive like the stored times); None without counted calls.
    team_id: str | None = None
    before_from: datetime | None = None
    before_to: datetime | None = None
    after_from: datetime | None = None
    after_to: datetime | None = None
    team_before_n: int = 0
    team_before_avg: float | None = None
    team_after_n: int = 0
    team_after_avg: float | None = None
    team_delta: float | None = None
    did: float | None = None  # delta - team_delta
    did_low: float | None = None
    did_high: float | None = None
    team_compared: bool = False  # the verdict is drawn from the difference in differences

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "before_calls": list(self.before_calls),
            "before_avg": self.before_avg,
            "after_calls": list(self.after_calls),
            "after_avg": self.after_avg,
            "delta": self.delta,
            "n": self.n_used,
            "level": self.level,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "min_calls": self.min_calls,
            "enough": self.enough,
            "verdict": self.verdict.value,
            "label": self.label,
            "team_id": self.team_id,
            "team_before_n": self.team_before_n,
            "team_before_avg": self.team_before_avg,
            "team_after_n": self.team_after_n,
            "team_after_avg": self.team_after_avg,
            "team_delta": self.team_delta,
            "did": self.did,
            "did_low": self.did_low,
            "did_high": self.did_high,
            "team_compared": self.team_compared,
        }


def contrast_interval(terms: Sequence[tuple[float, Sequence[float]]], level: float = LEVEL) -> Interval | None:
    """Welch t-interval of ``sum(coefficient * mean(sample))`` over independent samples.

    ``terms`` are (coefficient, sample) pairs: ``[(1, after), (-1, before)]`` is Welch's two-sample
    interval for ``mean(after) - mean(before)``; four terms give a difference in differences. The degrees
    of freedom are Welch–Satterthwaite's. None when a sample has fewer than two values."""
    if not terms or any(len(sample) < 2 for _, sample in terms):
        return None
    estimate = 0.0
    parts: list[tuple[float, int]] = []  # (c² s² / n, n)
    for coefficient, sample in terms:
        n = len(sample)
        mean = math.fsum(sample) / n
        variance = math.fsum((x - mean) ** 2 for x in sample) / (n - 1)
        estimate += coefficient * mean
        parts.append((coefficient * coefficient * variance / n, n))
    variance_sum = math.fsum(v for v, _ in parts)
    if variance_sum <= 0.0:
        return Interval(estimate, estimate, estimate, None)
    df = variance_sum**2 / math.fsum(v * v / (n - 1) for v, n in parts)
    half = float(stats.t.ppf((1.0 + level) / 2.0, df)) * math.sqrt(variance_sum)
    return Interval(estimate, estimate - half, estimate + half, df)


def _dimension_percent(score: dict[str, Any], dimension: str) -> float | None:
    value = (score.get("dimensions") or {}).get(dimension)
    if not isinstance(value, dict) or not value.get("weight"):
        return None
    return min(100.0, float(value.get("score", 0.0)) / float(value["weight"]) * 100.0)


def _done_calls() -> Select[tuple[str, dict[str, Any]]]:
    return (
        select(Call.id, Analysis.score)
        .join(Analysis, Analysis.id == Call.analysis_id)
        .where(Call.status == CallStatus.DONE, Call.started_at.is_not(None))
    )


def _dimension_series(
    session: Session, agent_id: str, dimension: str, moment: datetime, n: int, before: bool
) -> list[tuple[str, float, datetime]]:
    """(call id, percentage, start) of up to ``n`` done calls nearest to ``moment`` on one side, oldest first."""
    query = _done_calls().add_columns(Call.started_at).where(Call.agent_id == agent_id)
    if before:
        query = query.where(Call.started_at < moment).order_by(Call.started_at.desc(), Call.id.desc())
    else:
        query = query.where(Call.started_at >= moment).order_by(Call.started_at, Call.id)
    series = [
        (call_id, percent, started)
        for call_id, score, started in session.execute(query.limit(n))
        if (percent := _dimension_percent(score, dimension)) is not None
    ]
    return series[::-1] if before else series


def _team_values(
    session: Session, team_id: str, agent_id: str, dimension: str, start: datetime, end: datetime, before: bool
) -> list[float]:
    """The dimension's percentages on the team's other agents' done calls in ``[start, end)`` (before) or
    ``[start, end]`` (after), at most ``TEAM_CALLS_MAX``, the nearest to the coaching."""
    others = select(Agent.id).where(Agent.team_id == team_id, Agent.id != agent_id)
    query = _done_calls().where(Call.agent_id.in_(others), Call.started_at >= start)
    if before:
        query = query.where(Call.started_at < end).order_by(Call.started_at.desc(), Call.id.desc())
    else:
        query = query.where(Call.started_at <= end).order_by(Call.started_at, Call.id)
    return [
        percent
        for _, score in session.execute(query.limit(TEAM_CALLS_MAX))
        if (percent := _dimension_percent(score, dimension)) is not None
    ]


def _mean(values: Sequence[float]) -> float | None:
    return round(math.fsum(values) / len(values), 1) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _verdict(interval: Interval | None) -> EffectVerdict:
    if interval is None:
        return EffectVerdict.UNCLEAR
    if interval.low > 0.0:
        return EffectVerdict.IMPROVED
    if interval.high < 0.0:
        return EffectVerdict.DECLINED
    return EffectVerdict.UNCLEAR


def coaching_effect(
    session: Session, assignment: CoachingAssignment, n: int = 10, min_calls: int = 5, level: float = LEVEL
) -> Effect:
    """The targeted dimension before vs. after the coaching with its interval and the team's change over
    the same spans (see the module docstring); ``n`` is ``settings.training.effect_calls``, ``min_calls``
    ``settings.training.min_calls``."""
    dimension = assignment.dimension
    if dimension is None or n <= 0:
        return Effect(dimension, [], None, [], None, None, 0, level=level, min_calls=min_calls)
    after_moment = assignment.done_at or assignment.created_at
    before = _dimension_series(session, assignment.agent_id, dimension, assignment.created_at, n, before=True)
    after = _dimension_series(session, assignment.agent_id, dimension, after_moment, n, before=False)
    n_used = min(n, len(before), len(after))
    before = before[len(before) - n_used :]  # the last n_used before
    after = after[:n_used]  # the first n_used after
    before_values = [p for _, p, _ in before]
    after_values = [p for _, p, _ in after]
    before_avg = _mean(before_values)
    after_avg = _mean(after_values)
    delta = round(after_avg - before_avg, 1) if before_avg is not None and after_avg is not None else None
    own = contrast_interval([(1.0, after_values), (-1.0, before_values)], level)
    enough = n_used >= min_calls
    team_id = session.scalar(select(Agent.team_id).where(Agent.id == assignment.agent_id))

    base = Effect(
        dimension, [c for c, _, _ in before], before_avg, [c for c, _, _ in after], after_avg, delta, n_used,
        level=level, ci_low=_round(own.low) if own else None, ci_high=_round(own.high) if own else None,
        min_calls=min_calls, enough=enough, verdict=_verdict(own) if enough else EffectVerdict.INSUFFICIENT,
        team_id=team_id,
    )  # fmt: skip
    if n_used == 0:
        return base
    spans = {"before_from": before[0][2], "before_to": assignment.created_at, "after_from": after_moment,
             "after_to": after[-1][2]}  # fmt: skip
    if team_id is None:
        return replace(base, **spans)
    team_before = _team_values(
        session, team_id, assignment.agent_id, dimension, spans["before_from"], spans["before_to"], before=True
    )
    team_after = _team_values(
        session, team_id, assignment.agent_id, dimension, spans["after_from"], spans["after_to"], before=False
    )
    team_before_avg, team_after_avg = _mean(team_before), _mean(team_after)
    team_delta = did = None
    if team_before_avg is not None and team_after_avg is not None and delta is not None:
        team_delta = round(team_after_avg - team_before_avg, 1)
        did = round(delta - team_delta, 1)
    did_interval = contrast_interval(
        [(1.0, after_values), (-1.0, before_values), (-1.0, team_after), (1.0, team_before)], level
    )
    team_compared = enough and min(len(team_before), len(team_after)) >= min_calls and did_interval is not None
    return replace(
        base, **spans, team_before_n=len(team_before), team_before_avg=team_before_avg,
        team_after_n=len(team_after), team_after_avg=team_after_avg, team_delta=team_delta, did=did,
        did_low=_round(did_interval.low) if did_interval else None,
        did_high=_round(did_interval.high) if did_interval else None, team_compared=team_compared,
        verdict=_verdict(did_interval) if team_compared else base.verdict,
    )  # fmt: skip
