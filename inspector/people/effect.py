"""The effect of coaching (辅导效果): the targeted dimension before vs. after an assignment.

The dimension is measured as a percentage of its weight, per call, from the calls' current analyses,
over the agent's last ``n`` calls started before the assignment was created vs. the first ``n`` calls
started after it was done (after it was created while not done). Both sides use the same number of
calls, ``n_used = min(n, calls before, calls after)``; with ``n_used == 0`` the averages and the delta
are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.store.schema import Analysis, Call, CoachingAssignment
from inspector.vocab import CallStatus


@dataclass(frozen=True)
class Effect:
    dimension: str | None
    before_calls: list[str]  # call ids, oldest first
    before_avg: float | None  # 0..100: the dimension's score as a percentage of its weight
    after_calls: list[str]
    after_avg: float | None
    delta: float | None  # after_avg - before_avg
    n_used: int  # calls on each side

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "before_calls": list(self.before_calls),
            "before_avg": self.before_avg,
            "after_calls": list(self.after_calls),
            "after_avg": self.after_avg,
            "delta": self.delta,
            "n": self.n_used,
        }


def _dimension_percent(score: dict[str, Any], dimension: str) -> float | None:
    value = (score.get("dimensions") or {}).get(dimension)
    if not isinstance(value, dict) or not value.get("weight"):
        return None
    return min(100.0, float(value.get("score", 0.0)) / float(value["weight"]) * 100.0)


def _dimension_series(
    session: Session, agent_id: str, dimension: str, moment: datetime, n: int, before: bool
) -> list[tuple[str, float]]:
    """(call id, percentage) of up to ``n`` done calls nearest to ``moment`` on one side, oldest first."""
    query = (
        select(Call.id, Analysis.score)
        .join(Analysis, Analysis.id == Call.analysis_id)
        .where(Call.agent_id == agent_id, Call.status == CallStatus.DONE, Call.started_at.is_not(None))
    )
    if before:
        query = query.where(Call.started_at < moment).order_by(Call.started_at.desc(), Call.id.desc())
    else:
        query = query.where(Call.started_at >= moment).order_by(Call.started_at, Call.id)
    series = [
        (call_id, percent)
        for call_id, score in session.execute(query.limit(n))
        if (percent := _dimension_percent(score, dimension)) is not None
    ]
    return series[::-1] if before else series


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def coaching_effect(session: Session, assignment: CoachingAssignment, n: int = 10) -> Effect:
    """The targeted dimension before vs. after the coaching (see the module docstring); ``n`` is
    ``settings.training.effect_calls``."""
    dimension = assignment.dimension
    if dimension is None or n <= 0:
        return Effect(dimension, [], None, [], None, None, 0)
    after_moment = assignment.done_at or assignment.created_at
    before = _dimension_series(session, assignment.agent_id, dimension, assignment.created_at, n, before=True)
    after = _dimension_series(session, assignment.agent_id, dimension, after_moment, n, before=False)
    n_used = min(n, len(before), len(after))
    before = before[len(before) - n_used :]  # the last n_used before
    after = after[:n_used]  # the first n_used after
    before_avg = _mean([p for _, p in before])
    after_avg = _mean([p for _, p in after])
    delta = round(after_avg - before_avg, 1) if before_avg is not None and after_avg is not None else None
    return Effect(dimension, [c for c, _ in before], before_avg, [c for c, _ in after], after_avg, delta, n_used)
