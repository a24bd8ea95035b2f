"""Scorecards and leaderboards of org nodes, from the rollup (SQLite and PostgreSQL): a node sums the teams
under it, its children come with it, and an agent moved between projects counts for each up to and from
the move."""

from __future__ import annotations

from datetime import date

import pytest
from fakecalls import store_scored_calls

from inspector.people.org import apply_org, parse_org
from inspector.reports.leaderboards import leaderboard
from inspector.reports.org_scorecard import node_scorecard
from inspector.store import memberships
from inspector.store.org import load_tree
from inspector.vocab import OrgLevel

ORG = {
    "id": "g", "name": "集团",
    "regions": [
        {"id": "east", "name": "华东", "projects": [
            {"id": "p1", "name": "阳光花园", "teams": ["A组", "B组"]},
            {"id": "p2", "name": "锦绣华庭", "teams": ["C组"]},
        ]},
        {"id": "south", "name": "华南", "projects": [{"id": "p3", "name": "绿苑", "teams": ["D组"]}]},
    ],
}  # fmt: skip
MARCH = (date(2024, 3, 1), date(2024, 3, 31))
D = [date(2024, 3, d) for d in (2, 4, 6, 8)]


@pytest.fixture
def world(database):
    with database.session() as s:
        apply_org(s, parse_org(ORG))
    store_scored_calls(database, "a1", "A组", D[:2], total=90)
    store_scored_calls(database, "a2", "A组", D[:1], total=70, red=True)
    store_scored_calls(database, "b1", "B组", D[:3], total=60)
    store_scored_calls(database, "c1", "C组", D, total=80)  # moved to D组 from D[2] below
    store_scored_calls(database, "x1", "X组", D[:1], total=10)  # a team outside the tree
    with database.session() as s:
        memberships.move_agent(s, "c1", "D组", D[2], date(2024, 3, 20), actor="test")
    return database


def test_a_node_sums_its_teams_and_lists_its_children(world) -> None:
    with world.session() as s:
        card = node_scorecard(s, load_tree(s), "east", *MARCH)
    assert card is not None
    assert [n.id for n in card.path] == ["g", "east"]
    node = card.node
    assert (node.level, node.teams, node.calls, node.agents) == (OrgLevel.REGION, 3, 8, 4)
    # (90 * 2 + 70 + 60 * 3 + 80 * 2) / 8: c1's two calls after the move count for 华南
    assert node.average_score == 73.8
    assert (node.red, node.red_rate) == (1, 0.125)
    children = {c.id: c for c in card.children}
    assert list(children) == ["p1", "p2"]
    assert (children["p1"].calls, children["p1"].agents, children["p1"].average_score) == (6, 3, 71.7)
    assert (children["p2"].calls, children["p2"].agents, children["p2"].average_score) == (2, 1, 80.0)
    with world.session() as s:
        top = node_scorecard(s, load_tree(s), "g", *MARCH)
        south = node_scorecard(s, load_tree(s), "south", *MARCH)
        assert node_scorecard(s, load_tree(s), "X组", *MARCH) is None
    assert top is not None and south is not None
    assert (top.node.calls, top.node.agents) == (10, 4)  # c1 is one agent in both regions; x1 is outside
    assert [(c.id, c.calls) for c in top.children] == [("east", 8), ("south", 2)]
    assert (south.node.calls, south.node.agents) == (2, 1)


def test_the_window_and_an_empty_node(world) -> None:
    with world.session() as s:
        card = node_scorecard(s, load_tree(s), "east", D[1], D[1])
        assert card is not None and card.node.calls == 3  # a1, b1, c1 on the 4th
        empty = node_scorecard(s, load_tree(s), "east", date(2024, 4, 1), date(2024, 4, 30))
    assert empty is not None
    assert (empty.node.calls, empty.node.average_score, empty.node.red_rate) == (0, None, 0.0)


def test_the_leaderboard_of_a_node_ranks_the_agents_of_its_teams(world) -> None:
    with world.session() as s:
        tree = load_tree(s)
        board = leaderboard(s, tree.teams_under("p1"), *MARCH)
        region = leaderboard(s, tree.teams_under("east"), *MARCH)
    assert [(e.rank, e.agent_id, e.calls, e.average_score) for e in board] == [
        (1, "a1", 2, 90.0), (2, "a2", 1, 70.0), (3, "b1", 3, 60.0),
    ]  # fmt: skip
    assert [(e.agent_id, e.calls) for e in region] == [("a1", 2), ("c1", 2), ("a2", 1), ("b1", 3)]
