"""The ``agent_days`` rollup as scorecards, leaderboards and the summary export read it: sums per agent.

Every query of the reports reads ``agent_days`` (plus ``agents`` for names and teams), never ``analyses``: an
agent's year is at most 366 rollup rows and a team's year a few thousand, whatever the number of
stored analyses. The rollup holds sums, so every figure is a sum over the days in the range divided by
the calls in the range.

Semantics shared by all reports:

- ``date_from`` / ``date_to`` are inclusive local dates (``calls.day``); ``None`` leaves that end open.
- ``average_score`` = sum of the current analyses' totals / calls, rounded to 1 decimal; ``None``
  with no calls. Rankings and the percentile compare these rounded averages, the figures users see.
- Check rates = calls where the check happened / calls, for every category of ``CHECK_CATEGORIES``
  (0 when never seen), rounded to 3 decimals.
- Dimension averages = sum of the dimension's scores / calls, rounded to 1 decimal.
- Team: a rollup row carries the agent's team as it was when the day was rolled up
  (``agent_days.team_id``); leaderboards and percentiles group by that column, so a day's calls
  count for the team the agent was in, and an agent who changed teams appears in both.

Per agent (leaderboards, exports) the database sums the counters and joins the day rows' JSON texts
(``string_agg`` / ``group_concat``); Python then parses each agent's objects as one JSON array.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy.orm import Session

from inspector.qa.rules.engine import CHECK_CATEGORIES
from inspector.store.db import chunks
from inspector.store.schema import Agent, AgentDay

TREND_PERIODS = ("day", "week", "month")


@dataclass
class Totals:
    """Sums over an agent's rollup rows."""

    calls: int = 0
    score_sum: float = 0.0
    red: int = 0
    yellow: int = 0
    blue: int = 0
    fatal: int = 0
    uncertain: int = 0
    dimensions: dict[str, float] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)


def average(score_sum: float, calls: int) -> float | None:
    return round(score_sum / calls, 1) if calls else None


def rate(count: int, calls: int) -> float:
    return round(count / calls, 3) if calls else 0.0


def check_rates(checks: dict[str, int], calls: int) -> dict[str, float]:
    return {category: rate(int(checks.get(category, 0)), calls) for category in CHECK_CATEGORIES}


def sum_json(texts: Iterable[str | None], keys: Sequence[str] | None = None) -> dict[str, Any]:
    """Key-wise sums of JSON objects given as texts (or as comma-joined runs of them).

    The texts are joined into one JSON array and parsed at once: a team's year is thousands of
    small objects, and one parse of all of them costs a fraction of one parse each.
    """
    parsed = json.loads("[" + ",".join(t for t in texts if t) + "]")
    objects = [o for o in parsed if isinstance(o, dict)]
    if keys is not None:
        return {key: sum(o.get(key, 0) for o in objects) for key in keys}
    sums: dict[str, Any] = {}
    for o in objects:
        for key, value in o.items():
            sums[key] = sums.get(key, 0) + value
    return sums


def json_text(column: Any) -> Any:
    """A JSON column read as its text (parsed by ``sum_json``, not row by row by the driver)."""
    return cast(column, Text)


def check_sums() -> list[Any]:
    """Per group, the sum of each check category of ``agent_days.checks``, read inside the database (jsonb on
    PostgreSQL: no text is parsed per row; JSON text with SQLite's cached parse)."""
    return [func.sum(AgentDay.checks[c].as_integer()) for c in CHECK_CATEGORIES]


def grouped(date_from: date | None, date_to: date | None) -> Select[Any]:
    """Per agent over the range: sums of the counters and of each check category (``check_sums``)."""
    return in_range(
        select(
            AgentDay.agent_id,
            func.sum(AgentDay.calls),
            func.sum(AgentDay.score_sum),
            func.sum(AgentDay.red),
            func.sum(AgentDay.yellow),
            func.sum(AgentDay.blue),
            func.sum(AgentDay.fatal),
            *check_sums(),
        ).group_by(AgentDay.agent_id),
        date_from,
        date_to,
    )


def totals_by_agent(session: Session, query: Select[Any]) -> dict[str, Totals]:
    """The totals per agent of a ``grouped`` query."""
    totals: dict[str, Totals] = {}
    for agent_id, calls, score_sum, red, yellow, blue, fatal, *counts in session.execute(query):
        totals[agent_id] = Totals(
            calls=int(calls),
            score_sum=float(score_sum),
            red=int(red),
            yellow=int(yellow),
            blue=int(blue),
            fatal=int(fatal),
            checks={c: int(n or 0) for c, n in zip(CHECK_CATEGORIES, counts, strict=True)},
        )
    return totals


def in_range(query: Select[Any], date_from: date | None, date_to: date | None) -> Select[Any]:
    if date_from is not None:
        query = query.where(AgentDay.day >= date_from)
    if date_to is not None:
        query = query.where(AgentDay.day <= date_to)
    return query



def period_of(day: date, trend: str) -> str:
    """The trend bucket of a day: the day, the Monday of its ISO week, or its month ("2024-03")."""
    if trend == "day":
        return day.isoformat()
    if trend == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if trend == "month":
        return f"{day.year:04d}-{day.month:02d}"
    raise ValueError(f"未知的趋势粒度 {trend}（可选：{', '.join(TREND_PERIODS)}）")


def percentile_rank(value: float, others: Iterable[float]) -> float | None:
    """Percentage (0..100, 1 decimal) of ``others`` strictly below ``value`` plus half of those equal.

    ``None`` when there is nobody to compare with.
    """
    others = list(others)
    if not others:
        return None
    lower = sum(1 for o in others if o < value)
    equal = sum(1 for o in others if o == value)
    return round((lower + equal / 2) / len(others) * 100, 1)


def names_of(session: Session, agent_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """Agent id → (name, team id) for the known ones."""
    found: dict[str, tuple[str, str | None]] = {}
    for chunk in chunks(list(agent_ids)):
        for agent_id, name, team_id in session.execute(
            select(Agent.id, Agent.name, Agent.team_id).where(Agent.id.in_(chunk))
        ):
            found[agent_id] = (name or "", team_id)
    return found
