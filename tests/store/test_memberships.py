"""Effective-dated team membership on SQLite and PostgreSQL: a move keeps the figures before it with the old
team, also when those days are rolled up again (a rescore), and metadata naming a new team is a move."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from fakecalls import store_scored_calls as store_calls
from sqlalchemy import select

from inspector.store import calls as store
from inspector.store import memberships
from inspector.store.schema import Agent, AgentDay, Team, TeamMembership

TZ = ZoneInfo("Asia/Shanghai")
DAYS = [date(2024, 3, 1), date(2024, 3, 5), date(2024, 3, 10), date(2024, 3, 15)]


def day_teams(database, agent: str) -> dict[date, str | None]:
    with database.session() as s:
        return dict(s.execute(select(AgentDay.day, AgentDay.team_id).where(AgentDay.agent_id == agent)).all())


@pytest.fixture
def teams(database):
    with database.session() as s:
        s.add_all([Team(id="A组", name="A组"), Team(id="B组", name="B组"), Team(id="C组", name="C组")])
    return database


def test_a_move_keeps_the_days_before_with_the_old_team_even_after_a_rescore(teams) -> None:
    database = teams
    store_calls(database, "8001", "A组", DAYS)
    with database.session() as s:
        memberships.move_agent(s, "8001", "B组", date(2024, 3, 10), date(2024, 3, 20), actor="test")
    expected = {DAYS[0]: "A组", DAYS[1]: "A组", DAYS[2]: "B组", DAYS[3]: "B组"}
    assert day_teams(database, "8001") == expected
    with database.session() as s:  # a rescore rolls every day up again: each keeps the team of its day
        store.refresh_agent_days(s, {("8001", d) for d in DAYS})
        assert s.get(Agent, "8001").team_id == "B组"
    assert day_teams(database, "8001") == expected
    with database.session() as s:
        spans = memberships.spans_of(s, ["8001"])["8001"]
        move = date(2024, 3, 10)
        assert spans == [memberships.Span("A组", None, move), memberships.Span("B组", move, None)]
        assert [memberships.team_on(spans, d) for d in DAYS] == ["A组", "A组", "B组", "B组"]


def test_a_second_move_before_the_first_replaces_it(teams) -> None:
    database = teams
    store_calls(database, "8001", "A组", DAYS)
    with database.session() as s:
        memberships.move_agent(s, "8001", "B组", date(2024, 3, 10), date(2024, 3, 20), actor="test")
        memberships.move_agent(s, "8001", "C组", date(2024, 3, 5), date(2024, 3, 20), actor="test")
        assert [(m.team_id, m.valid_from, m.valid_to) for m in memberships.history(s, "8001")] == [
            ("A组", None, date(2024, 3, 5)),
            ("C组", date(2024, 3, 5), None),
        ]
        store.refresh_agent_days(s, {("8001", d) for d in DAYS})
    assert day_teams(database, "8001") == {DAYS[0]: "A组", DAYS[1]: "C组", DAYS[2]: "C组", DAYS[3]: "C组"}


def test_moves_that_cannot_be_made_are_refused_and_change_nothing(teams) -> None:
    database = teams
    store_calls(database, "8001", "A组", DAYS[:1])
    cases = [
        ("nobody", "B组", date(2024, 3, 1), "agent_id", "坐席 nobody 不存在"),
        ("8001", "Z组", date(2024, 3, 1), "team_id", "班组 Z组 不存在"),
        ("8001", "B组", date(2024, 3, 21), "from", "晚于今天"),
    ]
    for agent, team, start, field, words in cases:
        with database.session() as s, pytest.raises(memberships.MembershipError) as raised:
            memberships.move_agent(s, agent, team, start, date(2024, 3, 20), actor="test")
        assert raised.value.field == field and words in str(raised.value)
    with database.session() as s:
        assert s.scalars(select(TeamMembership)).all() == []
        assert s.get(Agent, "8001").team_id == "A组"


def test_moving_out_of_every_team(teams) -> None:
    database = teams
    store_calls(database, "8001", "A组", DAYS)
    with database.session() as s:
        memberships.move_agent(s, "8001", None, date(2024, 3, 15), date(2024, 3, 20), actor="test")
        assert s.get(Agent, "8001").team_id is None
    assert day_teams(database, "8001")[DAYS[3]] is None
    assert day_teams(database, "8001")[DAYS[2]] == "A组"


def test_metadata_naming_another_team_moves_the_agent_from_that_day(teams) -> None:
    database = teams
    store_calls(database, "8001", "A组", DAYS[:2])
    with database.session() as s:
        store.ensure_agents(s, {"8001": (None, "B组")}, today=date(2024, 3, 10))
        assert s.get(Agent, "8001").team_id == "B组"
        spans = memberships.spans_of(s, ["8001"])["8001"]
        assert memberships.team_on(spans, date(2024, 3, 9)) == "A组"
        assert memberships.team_on(spans, date(2024, 3, 10)) == "B组"
        store.ensure_agents(s, {"8001": (None, "B组")}, today=date(2024, 3, 11))  # the same team: no new span
        assert len(memberships.history(s, "8001")) == 2
    assert day_teams(database, "8001") == {DAYS[0]: "A组", DAYS[1]: "A组"}
