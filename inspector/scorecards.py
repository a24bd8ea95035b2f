"""Agent scorecards, team leaderboards and per-agent summary exports, read from the ``agent_days`` rollup.

Every query here reads ``agent_days`` (plus ``agents`` for names and teams), never ``analyses``: an
agent's year is at most 366 rollup rows and a team's year a few thousand, whatever the number of
stored analyses. The rollup holds sums, so every figure is a sum over the days in the range divided by
the calls in the range.

Semantics shared by all functions:

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

import pandas as pd
from sqlalchemy import Select, Text, cast, func, literal, select
from sqlalchemy.orm import Session

from inspector.analysis import RATE_COLUMNS_ZH
from inspector.rules.engine import CHECK_CATEGORIES
from inspector.store.db import chunks
from inspector.store.schema import Agent, AgentDay

TREND_PERIODS = ("day", "week", "month")

# Columns of ``agents_summary``: the names of inspector.analysis.SUMMARY_COLUMNS where they mean the
# same, plus what the rollup adds. 最低分 is not there: the rollup keeps sums, not minimums.
AGENT_SUMMARY_COLUMNS = (
    "坐席", "姓名", "班组", "通话数", "平均分", "红色预警数", "黄色预警数", "蓝色预警数", "一票否决数",
    *RATE_COLUMNS_ZH.values(),
)  # fmt: skip


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
        }


@dataclass
class LeaderboardEntry:
    rank: int  # 1-based position in the sorted board
    agent_id: str
    agent_name: str
    calls: int
    average_score: float | None
    red: int
    fatal: int
    checks: dict[str, float]  # check category → rate 0..1

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "calls": self.calls,
            "average_score": self.average_score,
            "red": self.red,
            "fatal": self.fatal,
            "checks": dict(self.checks),
        }


@dataclass
class _Totals:
    """Sums over an agent's rollup rows."""

    calls: int = 0
    score_sum: float = 0.0
    red: int = 0
    yellow: int = 0
    blue: int = 0
    fatal: int = 0
    dimensions: dict[str, float] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)


# --- helpers -------------------------------------------------------------------------------------


def average(score_sum: float, calls: int) -> float | None:
    return round(score_sum / calls, 1) if calls else None


def _rate(count: int, calls: int) -> float:
    return round(count / calls, 3) if calls else 0.0


def _check_rates(checks: dict[str, int], calls: int) -> dict[str, float]:
    return {category: _rate(int(checks.get(category, 0)), calls) for category in CHECK_CATEGORIES}


def _sum_json(texts: Iterable[str | None], keys: Sequence[str] | None = None) -> dict[str, Any]:
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


def _json_text(column: Any) -> Any:
    """A JSON column read as its text (parsed by ``_sum_json``, not row by row by the driver)."""
    return cast(column, Text)


def _json_concat(session: Session, column: Any) -> Any:
    """Per group, the JSON texts of ``column`` joined by commas."""
    if session.get_bind().dialect.name == "postgresql":
        return func.string_agg(_json_text(column), literal(",", Text))
    return func.group_concat(_json_text(column), literal(",", Text))


def _grouped(session: Session, date_from: date | None, date_to: date | None) -> Select[Any]:
    """Per agent over the range: sums of the counters and the checks' JSON texts (see ``_json_concat``)."""
    return _in_range(
        select(
            AgentDay.agent_id,
            func.sum(AgentDay.calls),
            func.sum(AgentDay.score_sum),
            func.sum(AgentDay.red),
            func.sum(AgentDay.yellow),
            func.sum(AgentDay.blue),
            func.sum(AgentDay.fatal),
            _json_concat(session, AgentDay.checks),
        ).group_by(AgentDay.agent_id),
        date_from,
        date_to,
    )


def _totals_by_agent(session: Session, query: Select[Any]) -> dict[str, _Totals]:
    """The totals per agent of a ``_grouped`` query."""
    totals: dict[str, _Totals] = {}
    for agent_id, calls, score_sum, red, yellow, blue, fatal, checks in session.execute(query):
        totals[agent_id] = _Totals(
            calls=int(calls),
            score_sum=float(score_sum),
            red=int(red),
            yellow=int(yellow),
            blue=int(blue),
            fatal=int(fatal),
            checks=_sum_json([checks], CHECK_CATEGORIES),
        )
    return totals


def _in_range(query: Select[Any], date_from: date | None, date_to: date | None) -> Select[Any]:
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


def _names(session: Session, agent_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """Agent id → (name, team id) for the known ones."""
    found: dict[str, tuple[str, str | None]] = {}
    for chunk in chunks(list(agent_ids)):
        for agent_id, name, team_id in session.execute(
            select(Agent.id, Agent.name, Agent.team_id).where(Agent.id.in_(chunk))
        ):
            found[agent_id] = (name or "", team_id)
    return found


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
        _in_range(
            select(
                AgentDay.day,
                AgentDay.calls,
                AgentDay.score_sum,
                AgentDay.red,
                AgentDay.yellow,
                AgentDay.blue,
                AgentDay.fatal,
                _json_text(AgentDay.dimensions),
                _json_text(AgentDay.checks),
                _json_text(AgentDay.missed),
            ).where(AgentDay.agent_id == agent_id),
            date_from,
            date_to,
        ).order_by(AgentDay.day)
    ).all()

    totals = _Totals()
    buckets: dict[str, list[float]] = {}  # period → [calls, score sum]
    for day, calls, score_sum, red, yellow, blue, fatal, *_ in rows:
        totals.calls += calls
        totals.score_sum += score_sum
        totals.red += red
        totals.yellow += yellow
        totals.blue += blue
        totals.fatal += fatal
        bucket = buckets.setdefault(period_of(day, trend), [0, 0.0])
        bucket[0] += calls
        bucket[1] += score_sum
    totals.dimensions = _sum_json(r[7] for r in rows)
    totals.checks = _sum_json((r[8] for r in rows), CHECK_CATEGORIES)
    totals.missed = _sum_json(r[9] for r in rows)

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
        checks=_check_rates(totals.checks, n),
        alerts={"red": totals.red, "yellow": totals.yellow, "blue": totals.blue},
        fatal=totals.fatal,
        trend=[TrendPoint(period, int(c), average(s, int(c))) for period, (c, s) in buckets.items()],
        most_missed=[
            MissedRule(rule, names.get(rule, rule), count, _rate(count, n))
            for rule, count in ranked[: max(0, most_missed)]
        ],
        team_percentile=_team_percentile(session, agent_id, team_id, own_average, date_from, date_to),
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
        _in_range(
            select(func.sum(AgentDay.calls), func.sum(AgentDay.score_sum))
            .where(AgentDay.team_id == team_id, AgentDay.agent_id != agent_id)
            .group_by(AgentDay.agent_id),
            date_from,
            date_to,
        )
    ).all()
    return percentile_rank(own, [a for calls, score_sum in peers if (a := average(score_sum, calls)) is not None])


# --- leaderboard ---------------------------------------------------------------------------------


def leaderboard(
    session: Session, team_id: str, date_from: date | None, date_to: date | None, *, min_calls: int = 1
) -> list[LeaderboardEntry]:
    """The team's agents with at least ``min_calls`` calls in the range, best average first.

    Ties (equal rounded averages) go to more calls, then to the smaller agent id.
    """
    query = _grouped(session, date_from, date_to).where(AgentDay.team_id == team_id)
    totals = {a: t for a, t in _totals_by_agent(session, query).items() if t.calls >= max(1, min_calls)}
    names = _names(session, sorted(totals))
    board = sorted(
        totals.items(), key=lambda item: (-(average(item[1].score_sum, item[1].calls) or 0.0), -item[1].calls, item[0])
    )
    return [
        LeaderboardEntry(
            rank=rank,
            agent_id=agent_id,
            agent_name=names.get(agent_id, ("", None))[0],
            calls=t.calls,
            average_score=average(t.score_sum, t.calls),
            red=t.red,
            fatal=t.fatal,
            checks=_check_rates(t.checks, t.calls),
        )
        for rank, (agent_id, t) in enumerate(board, start=1)
    ]


# --- export --------------------------------------------------------------------------------------


def agents_summary(
    session: Session,
    date_from: date | None,
    date_to: date | None,
    agent_ids: Sequence[str] | None = None,
    team_id: str | None = None,
) -> pd.DataFrame:
    """One row per agent (sorted by id) for CSV/XLSX export, columns ``AGENT_SUMMARY_COLUMNS``.

    Rows: the agents with calls in the range, narrowed to ``agent_ids`` and/or to the rollup rows of
    ``team_id``. An agent named in ``agent_ids`` that exists (and, with ``team_id``, is in that team)
    but has no calls gets a row with 0 calls and an empty average; unknown ids are left out.
    """
    query = _grouped(session, date_from, date_to)
    if team_id is not None:
        query = query.where(AgentDay.team_id == team_id)
    totals: dict[str, _Totals] = {}
    if agent_ids is None:
        totals = _totals_by_agent(session, query)
    else:
        for chunk in chunks(sorted(set(agent_ids))):
            totals.update(_totals_by_agent(session, query.where(AgentDay.agent_id.in_(chunk))))

    ids = sorted(set(totals) | set(agent_ids or ()))
    names = _names(session, ids)
    rows: list[dict[str, Any]] = []
    for agent_id in ids:
        if agent_id not in names:
            continue  # unknown agent id asked for
        name, agent_team = names[agent_id]
        if agent_id not in totals and team_id is not None and agent_team != team_id:
            continue  # asked for, no calls, and not in the team
        t = totals.get(agent_id, _Totals())
        row: dict[str, Any] = {
            "坐席": agent_id,
            "姓名": name,
            "班组": team_id if team_id is not None else (agent_team or ""),
            "通话数": t.calls,
            "平均分": average(t.score_sum, t.calls),
            "红色预警数": t.red,
            "黄色预警数": t.yellow,
            "蓝色预警数": t.blue,
            "一票否决数": t.fatal,
        }
        for category, column in RATE_COLUMNS_ZH.items():
            row[column] = _rate(int(t.checks.get(category, 0)), t.calls)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(AGENT_SUMMARY_COLUMNS))
