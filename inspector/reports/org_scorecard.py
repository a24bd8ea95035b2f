"""Scorecards of the organization hierarchy (组织架构成绩单): a group, region, project or team over a date range.

Read from the ``agent_days`` rollup like the agent scorecards (``inspector.reports.rollup``): a node's figures
are the sums over the rows whose team (the team of that day, ``inspector.store.memberships``) is under the
node, so an agent moved to another project last week counts for the old one up to the move and for the new
one after it. Per node:

- ``calls``, ``agents`` (distinct agents with calls), ``average_score`` (score sum / calls, 1 decimal);
- ``red`` / ``yellow`` / ``blue`` alerts and ``fatal`` calls, with ``red_rate`` (red / calls);
- ``repeat_rate`` (重复来电率: calls followed by a repeat contact / calls) and the check rates.

``node_scorecard`` gives the node, its path from the root, and the same figures for each child node, so a
page can drill down 集团 → 区域 → 项目 → 班组. Agents ranked under a node: ``leaderboards.leaderboard``
with the node's teams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspector.qa.rules.engine import CHECK_CATEGORIES
from inspector.reports.rollup import average, check_rates, check_sums, in_range, rate
from inspector.store.org import Node, OrgTree
from inspector.store.schema import AgentDay
from inspector.vocab import OrgLevel


@dataclass
class NodeTotals:
    calls: int = 0
    score_sum: float = 0.0
    red: int = 0
    yellow: int = 0
    blue: int = 0
    fatal: int = 0
    repeated: int = 0
    agents: set[str] = field(default_factory=set)
    checks: dict[str, int] = field(default_factory=dict)

    def add(self, other: NodeTotals) -> None:
        self.calls += other.calls
        self.score_sum += other.score_sum
        self.red += other.red
        self.yellow += other.yellow
        self.blue += other.blue
        self.fatal += other.fatal
        self.repeated += other.repeated
        self.agents |= other.agents
        for key, value in other.checks.items():
            self.checks[key] = self.checks.get(key, 0) + value


@dataclass(frozen=True)
class NodeFigures:
    id: str
    level: OrgLevel
    name: str
    teams: int  # teams under the node
    calls: int
    agents: int
    average_score: float | None
    red: int
    yellow: int
    blue: int
    fatal: int
    red_rate: float
    repeat_rate: float
    checks: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level.value,
            "name": self.name,
            "teams": self.teams,
            "calls": self.calls,
            "agents": self.agents,
            "average_score": self.average_score,
            "red": self.red,
            "yellow": self.yellow,
            "blue": self.blue,
            "fatal": self.fatal,
            "red_rate": self.red_rate,
            "repeat_rate": self.repeat_rate,
            "checks": dict(self.checks),
        }


@dataclass(frozen=True)
class NodeScorecard:
    node: NodeFigures
    path: list[Node]  # root first, the node last
    children: list[NodeFigures]
    date_from: date | None
    date_to: date | None


def team_totals(
    session: Session, teams: frozenset[str], date_from: date | None, date_to: date | None
) -> dict[str, NodeTotals]:
    """Per team (the rollup rows' team of the day), the sums over the range; teams without calls are left out.

    One query, grouped by team and agent (so a node counts an agent who moved between two of its teams once),
    sums the counters and each check category inside the database: the JSON objects are never parsed in
    Python, where a group's year would be hundreds of thousands of them."""
    if not teams:
        return {}
    checks = check_sums()
    query = in_range(
        select(
            AgentDay.team_id,
            AgentDay.agent_id,
            func.sum(AgentDay.calls),
            func.sum(AgentDay.score_sum),
            func.sum(AgentDay.red),
            func.sum(AgentDay.yellow),
            func.sum(AgentDay.blue),
            func.sum(AgentDay.fatal),
            func.sum(AgentDay.repeated),
            *checks,
        )
        .where(AgentDay.team_id.in_(sorted(teams)))
        .group_by(AgentDay.team_id, AgentDay.agent_id),
        date_from,
        date_to,
    )
    out: dict[str, NodeTotals] = {}
    for team_id, agent_id, calls, score_sum, red, yellow, blue, fatal, repeated, *counts in session.execute(query):
        out.setdefault(team_id, NodeTotals()).add(NodeTotals(
            calls=int(calls), score_sum=float(score_sum), red=int(red), yellow=int(yellow), blue=int(blue),
            fatal=int(fatal), repeated=int(repeated or 0), agents={agent_id},
            checks={c: int(n or 0) for c, n in zip(CHECK_CATEGORIES, counts, strict=True)},
        ))  # fmt: skip
    return out


def figures(node: Node, teams: frozenset[str], by_team: dict[str, NodeTotals]) -> NodeFigures:
    total = NodeTotals()
    for team in sorted(teams):
        if team in by_team:
            total.add(by_team[team])
    return NodeFigures(
        id=node.id,
        level=node.level,
        name=node.name,
        teams=len(teams),
        calls=total.calls,
        agents=len(total.agents),
        average_score=average(total.score_sum, total.calls),
        red=total.red,
        yellow=total.yellow,
        blue=total.blue,
        fatal=total.fatal,
        red_rate=rate(total.red, total.calls),
        repeat_rate=rate(total.repeated, total.calls),
        checks=check_rates(total.checks, total.calls),
    )


def node_scorecard(
    session: Session, tree: OrgTree, node_id: str, date_from: date | None, date_to: date | None
) -> NodeScorecard | None:
    """The node's figures and its children's (None for a node not in the tree)."""
    node = tree.nodes.get(node_id)
    if node is None:
        return None
    teams = tree.teams_under(node_id)
    by_team = team_totals(session, teams, date_from, date_to)
    children = [figures(child, tree.teams_under(child.id), by_team) for child in tree.kids(node_id)]
    return NodeScorecard(
        node=figures(node, teams, by_team),
        path=tree.path(node_id),
        children=children,
        date_from=date_from,
        date_to=date_to,
    )
