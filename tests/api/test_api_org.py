"""The organization hierarchy over the API (SQLite and PostgreSQL, real Redis): replacing the tree, what each
scope sees, node scorecards and leaderboards, and moving an agent with its history kept where it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
ORG = {
    "id": "huaxia", "name": "华夏物业集团",
    "regions": [
        {"id": "east", "name": "华东区域", "projects": [
            {"id": "yangguang", "name": "阳光花园", "teams": ["A组", "B组"]},
            {"id": "jinxiu", "name": "锦绣华庭", "teams": [{"id": "C组", "name": "锦绣客服组"}]},
        ]},
        {"id": "south", "name": "华南区域", "projects": [{"id": "lvyuan", "name": "绿苑", "teams": ["D组"]}]},
    ],
}  # fmt: skip
MARCH = "from=2024-03-01&to=2024-03-31"


@pytest.fixture
def org(client, headers, make_call) -> None:
    for call_id, agent, team in (("a1", "8001", "A组"), ("a2", "8003", "A组"), ("b1", "8002", "B组"),
                                 ("c1", "8004", "C组"), ("d1", "8005", "D组")):  # fmt: skip
        make_call(call_id, agent, team=team, started_at=datetime(2024, 3, 15, 10, tzinfo=TZ))
    response = client.put(f"{API_PREFIX}/org", json=ORG, headers=headers["admin"])
    assert response.status_code == 200, response.text


def scoped_user(database, username: str, scope: str) -> dict[str, str]:
    """A team-lead user scoped to an org node, and the bearer header of a token of it."""
    from inspector.store.tokens import create_token
    from inspector.store.users import create_user

    with database.session() as session:
        user = create_user(session, username, "correct-horse-battery", "team_lead", scope=scope)
        token = create_token(session, None, name=f"test {username}", user=user)
    return {"Authorization": f"Bearer {token}"}


def _get(client, path: str, auth: dict[str, str]) -> Any:
    response = client.get(API_PREFIX + path, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_tree_counts_agents_and_is_cut_to_the_scope(client, headers, database, org) -> None:
    tree = _get(client, "/org", headers["admin"])
    assert tree["configured"] is True and tree["unattached"] == []
    root = tree["root"]
    assert (root["id"], root["level"], root["level_name"], root["agents"]) == ("huaxia", "group", "集团", 5)
    east = root["children"][0]
    assert [(p["id"], p["agents"]) for p in east["children"]] == [("yangguang", 3), ("jinxiu", 1)]
    assert east["children"][1]["children"] == [
        {"id": "C组", "level": "team", "level_name": "班组", "name": "锦绣客服组", "agents": 1, "children": []}
    ]
    manager = scoped_user(database, "pm_east", "east")
    assert _get(client, "/org", manager)["root"]["id"] == "east"
    lead = _get(client, "/org", headers["team_lead"])  # lead_a: its team A组
    assert (lead["root"]["id"], lead["root"]["agents"]) == ("A组", 2)
    assert client.get(f"{API_PREFIX}/org", headers=headers["agent"]).status_code == 403


def test_a_project_manager_sees_the_agents_and_calls_of_its_project_only(client, headers, database, org) -> None:
    manager = scoped_user(database, "pm_yangguang", "yangguang")
    assert {a["agent_id"] for a in _get(client, "/agents", manager)["items"]} == {"8001", "8002", "8003"}
    assert {c["call_id"] for c in _get(client, "/calls", manager)["items"]} == {"a1", "a2", "b1"}
    assert {t["team_id"] for t in _get(client, "/teams", manager)["items"]} == {"A组", "B组"}
    assert client.get(f"{API_PREFIX}/calls/c1", headers=manager).status_code == 404
    assert client.get(f"{API_PREFIX}/agents/8004/scorecard", headers=manager).status_code == 403
    assert client.get(f"{API_PREFIX}/agents/8002/scorecard?{MARCH}", headers=manager).status_code == 200
    for node, status in (("yangguang", 200), ("A组", 200), ("B组", 200), ("jinxiu", 403), ("east", 403),
                         ("huaxia", 403), ("nowhere", 403)):  # fmt: skip
        response = client.get(f"{API_PREFIX}/org/{node}/scorecard?{MARCH}", headers=manager)
        assert response.status_code == status, (node, response.text)
    board = _get(client, f"/org/yangguang/leaderboard?{MARCH}", manager)
    assert {e["agent_id"] for e in board["items"]} == {"8001", "8002", "8003"}
    region = scoped_user(database, "rm_south", "south")
    assert {c["call_id"] for c in _get(client, "/calls", region)["items"]} == {"d1"}
    export = client.get(f"{API_PREFIX}/exports/scorecards.csv?{MARCH}", headers=region)
    assert export.status_code == 200
    assert [line.split(",")[0] for line in export.content.decode("utf-8-sig").splitlines()[1:]] == ["8005"]


def test_node_scorecards_drill_down_from_the_group(client, headers, org) -> None:
    card = _get(client, f"/org/huaxia/scorecard?{MARCH}", headers["reviewer"])
    assert card["from"] == "2024-03-01" and card["to"] == "2024-03-31"
    assert [n["id"] for n in card["path"]] == ["huaxia"]
    assert (card["node"]["calls"], card["node"]["agents"], card["node"]["teams"]) == (5, 5, 4)
    assert [(c["id"], c["calls"]) for c in card["children"]] == [("east", 4), ("south", 1)]
    project = _get(client, f"/org/yangguang/scorecard?{MARCH}", headers["reviewer"])
    assert [n["id"] for n in project["path"]] == ["huaxia", "east", "yangguang"]
    assert [(c["id"], c["calls"], c["agents"]) for c in project["children"]] == [("A组", 2, 2), ("B组", 1, 1)]
    assert set(project["node"]["checks"]) >= {"greeting", "closing"}
    missing = client.get(f"{API_PREFIX}/org/nowhere/scorecard", headers=headers["reviewer"])
    assert missing.status_code == 404 and missing.json()["code"] == "org_node_not_found"


def test_replacing_the_tree_validates_it_names_the_field_and_is_audited(client, headers, database, org) -> None:
    bad = {**ORG, "teams": [{"id": "east"}]}
    response = client.put(f"{API_PREFIX}/org", json=bad, headers=headers["admin"])
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "teams[0].id" and "重复" in response.json()["detail"]
    response = client.put(f"{API_PREFIX}/org", json={**ORG, "owner": "x"}, headers=headers["admin"])
    assert response.status_code == 422
    assert _get(client, "/org", headers["admin"])["root"]["children"][0]["id"] == "east"  # unchanged
    from inspector.store.schema import AuditEntry

    with database.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "org")))
    assert actions == ["org.replace"]


def test_moving_an_agent_keeps_its_figures_with_the_old_team(client, headers, database, org, make_call) -> None:
    make_call("a3", "8003", team=None, started_at=datetime(2024, 3, 25, 10, tzinfo=TZ))
    url = f"{API_PREFIX}/agents/8003/team"
    moved = client.post(url, json={"team_id": "C组", "from": "2024-03-20"}, headers=headers["admin"])
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"agent_id": "8003", "team_id": "C组", "items": [
        {"team_id": "A组", "team_name": "A组", "from": None, "to": "2024-03-20"},
        {"team_id": "C组", "team_name": "锦绣客服组", "from": "2024-03-20", "to": None},
    ]}  # fmt: skip
    project = _get(client, f"/org/yangguang/scorecard?{MARCH}", headers["admin"])
    assert [(c["id"], c["calls"]) for c in project["children"]] == [("A组", 2), ("B组", 1)]  # 3/15: still A组
    jinxiu = _get(client, f"/org/jinxiu/scorecard?{MARCH}", headers["admin"])
    assert (jinxiu["node"]["calls"], jinxiu["node"]["agents"]) == (2, 2)  # 8004, and 8003's call of 3/25
    # who may see the agent's records follows its current team
    assert client.get(f"{API_PREFIX}/agents/8003/scorecard", headers=headers["team_lead"]).status_code == 403
    assert client.get(f"{API_PREFIX}/agents/8003/teams", headers=headers["agent"]).status_code == 403  # not its own
    assert _get(client, "/agents/8003/teams", headers["reviewer"])["team_id"] == "C组"
    for body, field in (({"team_id": "Z组"}, "team_id"), ({"team_id": "B组", "from": "2999-01-01"}, "from"),
                        ({"team_id": "B组", "from": "2024-13-01"}, "from")):  # fmt: skip
        response = client.post(url, json=body, headers=headers["admin"])
        assert response.status_code == 422 and response.json()["field"] == field, response.text
    missing = client.post(f"{API_PREFIX}/agents/9999/team", json={"team_id": "B组"}, headers=headers["admin"])
    assert missing.status_code == 404 and missing.json()["code"] == "agent_not_found"
    from inspector.store.schema import AuditEntry

    with database.session() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.move")))
    assert [(e.entity_id, e.before, e.after) for e in entries] == [
        ("8003", {"team_id": "A组"}, {"team_id": "C组", "from": "2024-03-20"})
    ]
