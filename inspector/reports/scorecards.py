"""Agent scorecards (坐席质检成绩单): one agent over a date range, from the ``agent_days`` rollup (its
semantics: ``inspector.reports.rollup``), with the trend, the most-missed rules and the team percentile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspector.qa.rules.engine import CHECK_CATEGORIES
from inspector.reports.rollup import (
    TREND_PERIODS,
    Totals,
    average,
    check_rates,
    in_range,
    json_text,
    percentile_rank,
    period_of,
    rate,
    sum_json,
)
from inspector.reports.satisfaction import NO_SURVEYS, SatisfactionSummary, agent_satisfaction
from inspector.store.schema import Agent, AgentDay


@dataclass(frozen=True)
class TrendPoint:
    period: str  # "2024-03-11" (day, or the Monday of a week) or "2024-03" (month)
    calls: int
    average_score: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "calls": self.calls, "average_score": self.average_score}


@dataclass(frozen=True)
class MissedRule:
    rule_id: str
    name: str  # the rule's Chinese name when known, else its id
    calls: int  # calls on which the rule deducted points
    rate: float  # calls / the agent's calls in the range

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "name": self.name, "calls": self.calls, "rate": self.rate}


@dataclass
class Scorecard:
    agent_id: str
    agent_name: str
    team_id: str | None
    date_from: date | None
    date_to: date | None
    calls: int
    average_score: float | None
    dimensions: dict[str, float]  # dimension id → average score
    checks: dict[str, float]  # check category → rate 0..1
    alerts: dict[str, int]  # {"red", "yellow", "blue"} → calls
    fatal: int
    trend: list[TrendPoint] = field(default_factory=list)
    most_missed: list[MissedRule] = field(default_factory=list)
    team_percentile: float | None = None  # 0..100, see ``percentile_rank``
    # Calls with a low-confidence finding awaiting a reviewer (it deducts nothing until confirmed).
    uncertain_calls: int = 0
    # Calls a later call repeats (the same owner, the same topic, within insights.repeat_days: 重复来电).
    repeated_calls: int = 0
    # Post-call surveys of the agent's calls in the range (满意度); empty when none were imported.
    satisfaction: SatisfactionSummary = NO_SURVEYS

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "team_id": self.team_id,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "calls": self.calls,
            "average_score": self.average_score,
            "dimensions": dict(self.dimensions),
            "checks": dict(self.checks),
            "alerts": dict(self.alerts),
            "fatal": self.fatal,
            "trend": [p.to_dict() for p in self.trend],
            "most_missed": [m.to_dict() for m in self.most_missed],
            "team_percentile": self.team_percentile,
            "uncertain_calls": self.uncertain_calls,
            "uncertain_share": rate(self.uncertain_calls, self.calls),
            "repeated_calls": self.repeated_calls,
            "repeat_rate": rate(self.repeated_calls, self.calls),
            "satisfaction": self.satisfaction.to_dict(),
        }


# --- scorecard -----------------------------------------------------------------------------------


def scorecard(
    session: Session,
    agent_id: str,
    date_from: date | None,
    date_to: date | None,
    *,
    trend: str = "week",
    rule_names: dict[str, str] | None = None,
    most_missed: int = 5,
) -> Scorecard | None:
    """One agent's scorecard over the range; ``None`` if the agent is unknown.

    ``trend``: "day", "week" or "month" buckets (only those with calls, oldest first).
    ``most_missed``: how many rules to list, by calls they deducted points on (ties by rule id).
    ``rule_names``: rule id → Chinese name (e.g. ``{r.id: r.name for r in ruleset.rules}``).
    """
    if trend not in TREND_PERIODS:
        raise ValueError(f"未知的趋势粒度 {trend}（可选：{', '.join(TREND_PERIODS)}）")
    agent = session.execute(select(Agent.name, Agent.team_id).where(Agent.id == agent_id)).one_or_none()
    if agent is None:
        return None
    agent_name, team_id = agent

    rows = session.execute(
        in_range(
            select(
                AgentDay.day,
                AgentDay.calls,
                AgentDay.score_sum,
                AgentDay.red,
                AgentDay.yellow,
                AgentDay.blue,
                AgentDay.fatal,
                json_text(AgentDay.dimensions),
                json_text(AgentDay.checks),
                json_text(AgentDay.missed),
                AgentDay.uncertain,
                AgentDay.repeated,
            ).where(AgentDay.agent_id == agent_id),
            date_from,
            date_to,
        ).order_by(AgentDay.day)
    ).all()

    totals = Totals()
    buckets: dict[str, list[float]] = {}  # period → [calls, score sum]
    repeated_calls = 0
    for day, calls, score_sum, red, yellow, blue, fatal, *_, uncertain, repeated in rows:
        repeated_calls += repeated or 0
        totals.calls += calls
        totals.uncertain += uncertain or 0
        totals.score_sum += score_sum
        totals.red += red
        totals.yellow += yellow
        totals.blue += blue
        totals.fatal += fatal
        bucket = buckets.setdefault(period_of(day, trend), [0, 0.0])
        bucket[0] += calls
        bucket[1] += score_sum
    totals.dimensions = sum_json(r[7] for r in rows)
    totals.checks = sum_json((r[8] for r in rows), CHECK_CATEGORIES)
    totals.missed = sum_json(r[9] for r in rows)

    n = totals.calls
    names = rule_names or {}
    ranked = sorted(((rule, count) for rule, count in totals.missed.items() if count > 0), key=lambda x: (-x[1], x[0]))
    own_average = average(totals.score_sum, n)
    return Scorecard(
        agent_id=agent_id,
        agent_name=agent_name or "",
        team_id=team_id,
        date_from=date_from,
        date_to=date_to,
        calls=n,
        average_score=own_average,
        dimensions={dim: round(value / n, 1) for dim, value in totals.dimensions.items()} if n else {},
        checks=check_rates(totals.checks, n),
        alerts={"red": totals.red, "yellow": totals.yellow, "blue": totals.blue},
        fatal=totals.fatal,
        trend=[TrendPoint(period, int(c), average(s, int(c))) for period, (c, s) in buckets.items()],
        most_missed=[
            MissedRule(rule, names.get(rule, rule), count, rate(count, n))
            for rule, count in ranked[: max(0, most_missed)]
        ],
        team_percentile=_team_percentile(session, agent_id, team_id, own_average, date_from, date_to),
        uncertain_calls=totals.uncertain,
        repeated_calls=repeated_calls,
        satisfaction=agent_satisfaction(session, [agent_id], date_from, date_to).get(agent_id, NO_SURVEYS),
    )


def _team_percentile(
    session: Session,
    agent_id: str,
    team_id: str | None,
    own: float | None,
    date_from: date | None,
    date_to: date | None,
) -> float | None:
    if team_id is None or own is None:
        return None
    peers = session.execute(
        in_range(
            select(func.sum(AgentDay.calls), func.sum(AgentDay.score_sum))
            .where(AgentDay.team_id == team_id, AgentDay.agent_id != agent_id)
            .group_by(AgentDay.agent_id),
            date_from,
            date_to,
        )
    ).all()
    return percentile_rank(own, [a for calls, score_sum in peers if (a := average(score_sum, calls)) is not None])
