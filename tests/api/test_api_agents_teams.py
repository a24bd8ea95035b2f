"""GET /agents and GET /teams: the lists behind the web UI's pickers, narrowed for agents and team leads;
``agent_name`` on the review, appeal and alert lists."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import API_PREFIX


@pytest.fixture
def seeded(make_call: Any) -> None:
    make_call("call-a", "8001", team="A组", agent_name="张三")
    make_call("call-a2", "8003", team="A组", agent_name="王五")
    make_call("call-b", "8002", team="B组", agent_name="李四")


def _get(client: Any, path: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(API_PREFIX + path, headers=auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_agents_are_sorted_and_narrowed(client, headers, seeded) -> None:
    assert _get(client, "/agents", headers["admin"]) == [
        {"agent_id": "8001", "name": "张三", "team_id": "A组"},
        {"agent_id": "8002", "name": "李四", "team_id": "B组"},
        {"agent_id": "8003", "name": "王五", "team_id": "A组"},
    ]
    assert [a["agent_id"] for a in _get(client, "/agents?team=B组", headers["trainer"])] == ["8002"]
    assert [a["agent_id"] for a in _get(client, "/agents", headers["team_lead"])] == ["8001", "8003"]
    assert _get(client, "/agents?team=B组", headers["team_lead"]) == []
    assert [a["agent_id"] for a in _get(client, "/agents", headers["other_team_lead"])] == ["8002"]
    assert [a["agent_id"] for a in _get(client, "/agents", headers["agent"])] == ["8001"]
    assert [a["agent_id"] for a in _get(client, "/agents", headers["other_agent"])] == ["8002"]


def test_teams_count_agents_and_are_narrowed_for_team_leads(client, headers, seeded) -> None:
    everyone = _get(client, "/teams", headers["reviewer"])
    assert [(t["team_id"], t["agents"]) for t in everyone] == [("A组", 2), ("B组", 1)]
    assert all(isinstance(t["name"], str) and t["name"] for t in everyone)
    assert [t["team_id"] for t in _get(client, "/teams", headers["team_lead"])] == ["A组"]
    assert [t["team_id"] for t in _get(client, "/teams", headers["other_team_lead"])] == ["B组"]
    assert client.get(f"{API_PREFIX}/teams", headers=headers["agent"]).status_code == 403


def test_review_appeal_and_alert_lists_name_the_agent(client, headers, database, seeded) -> None:
    from inspector.store.db import utcnow
    from inspector.store.schema import AlertEvent, Appeal, Call, Review

    with database.session() as session:
        call = session.get(Call, "call-b")
        assert call is not None and call.analysis_id is not None
        now = utcnow()
        session.add_all([
            Review(call_id=call.id, analysis_id=call.analysis_id, reason="manual", status="pending", created_at=now),
            Appeal(call_id=call.id, analysis_id=call.analysis_id, hit_index=0, rule_id="greeting", agent_id="8002",
                   comment="申诉", status="open", created_at=now),
            AlertEvent(call_id=call.id, analysis_id=call.analysis_id, agent_id="8002", level="red", reasons=["测试"],
                       status="open", created_at=now, delivery="none"),
        ])  # fmt: skip
    for path in ("/reviews", "/appeals", "/alerts"):
        names = {(item["agent_id"], item["agent_name"]) for item in _get(client, path, headers["admin"])}
        assert ("8002", "李四") in names, path
