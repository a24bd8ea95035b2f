"""Effective-dated team membership (班组归属): which team an agent was in on a given local day.

``team_memberships`` holds an agent's spans: ``valid_from`` (None: since always) up to, not including,
``valid_to`` (None: still). An agent with no spans has always been in ``agents.team_id``, which is also the
current team of every agent. Moving an agent (``move_agent``) ends the span that covers the day of the move,
starts a new one, and re-stamps the agent's rollup rows from that day on, so figures of the days before stay
with the team the agent was in then: an agent's history does not move with the agent.

Who reads it: ``refresh_agent_days`` stamps every rollup row with the team of its day (a rescore of last
month counts for last month's team), and the org reports group by that stamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inspector.store.db import chunks, utcnow
from inspector.store.schema import Agent, AgentDay, Team, TeamMembership


@dataclass(frozen=True)
class Span:
    team_id: str | None
    valid_from: date | None
    valid_to: date | None  # exclusive

    def covers(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


class MembershipError(ValueError):
    """A move that cannot be made (unknown agent or team, a date in the future); the message is for users,
    ``field`` says which input is wrong (``agent_id``, ``team_id`` or ``from``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def spans_of(session: Session, agent_ids: Iterable[str]) -> dict[str, list[Span]]:
    """Each agent's spans, oldest first; an agent without recorded spans gets one open span of its current team."""
    ids = sorted(set(agent_ids))
    found: dict[str, list[Span]] = {}
    current: dict[str, str | None] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(TeamMembership.agent_id, TeamMembership.team_id, TeamMembership.valid_from, TeamMembership.valid_to)
            .where(TeamMembership.agent_id.in_(chunk))
            .order_by(TeamMembership.agent_id, TeamMembership.valid_from.nulls_first(), TeamMembership.id)
        ).all()
        for agent_id, team_id, valid_from, valid_to in rows:
            found.setdefault(agent_id, []).append(Span(team_id, valid_from, valid_to))
        current.update(dict(session.execute(select(Agent.id, Agent.team_id).where(Agent.id.in_(chunk))).all()))
    return {a: found.get(a) or [Span(current.get(a), None, None)] for a in ids if a in current or a in found}


def team_on(spans: list[Span], day: date) -> str | None:
    """The team of the span covering ``day`` (None when no span covers it)."""
    for span in spans:
        if span.covers(day):
            return span.team_id
    return None


def move_agent(session: Session, agent_id: str, team_id: str | None, from_day: date, today: date, actor: str) -> Span:
    """Put the agent in ``team_id`` (None: no team) from ``from_day`` on (at most ``today``).

    Spans starting on or after ``from_day`` are replaced; the span covering it ends the day before. The agent's
    rollup rows from ``from_day`` on are re-stamped with the new team; ``agents.team_id`` becomes it."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise MembershipError("agent_id", f"坐席 {agent_id} 不存在")
    if team_id is not None and session.get(Team, team_id) is None:
        raise MembershipError("team_id", f"班组 {team_id} 不存在（先在组织架构中添加，或由通话元数据带入）")
    if from_day > today:
        raise MembershipError("from", f"生效日期 {from_day.isoformat()} 晚于今天：调动只能从今天或以前生效")
    now = utcnow()
    rows = list(session.scalars(select(TeamMembership).where(TeamMembership.agent_id == agent_id)))
    if not rows:  # the first move: until now the agent was always in its current team
        rows = [TeamMembership(agent_id=agent_id, team_id=agent.team_id, valid_from=None, valid_to=None,
                               created_at=now, created_by=actor)]  # fmt: skip
        session.add(rows[0])
    for row in rows:
        if row.valid_from is not None and row.valid_from >= from_day:
            session.delete(row)
        elif row.valid_to is None or row.valid_to > from_day:
            row.valid_to = from_day
    span = TeamMembership(agent_id=agent_id, team_id=team_id, valid_from=from_day, valid_to=None, created_at=now,
                          created_by=actor)  # fmt: skip
    session.add(span)
    agent.team_id = team_id
    session.execute(
        update(AgentDay).where(AgentDay.agent_id == agent_id, AgentDay.day >= from_day).values(team_id=team_id)
    )
    session.flush()
    return Span(team_id, from_day, None)


def history(session: Session, agent_id: str) -> list[TeamMembership]:
    """The agent's recorded spans, oldest first (empty when it was never moved)."""
    return list(
        session.scalars(
            select(TeamMembership)
            .where(TeamMembership.agent_id == agent_id)
            .order_by(TeamMembership.valid_from.nulls_first(), TeamMembership.id)
        )
    )

