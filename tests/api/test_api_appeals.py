"""Appeals API: an agent appeals a deduction on their own call; reviewers resolve; who sees what."""

from __future__ import annotations

import re

import pytest

from api.app import API_PREFIX

CJK = re.compile(r"[\u4e00-\u9fff]")
APPEAL_KEYS = {"id", "call_id", "agent_id", "hit_index", "rule_id", "rule_name", "text", "points", "comment", "status",
               "created_at", "resolver", "resolved_at", "resolution", "agent_name"}  # fmt: skip


@pytest.fixture
def hits(client, headers, make_call) -> dict[str, int]:
    """Call c1 of agent 8001 (85: silence -5, slow_reply -2 ...), c2 of agent 8002; hit indexes of c1 by rule."""
    make_call("c1", "8001", transcript_of="call04_fee_hold_stereo")
    make_call("c2", "8002", transcript_of="call04_fee_hold_stereo")
    page = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["admin"]).json()
    found = {h["rule_id"]: h["index"] for h in reversed(page["hits"])}  # the first hit of each rule
    found["no_points"] = next(h["index"] for h in page["hits"] if h["points"] == 0)
    return found


def _appeal(client, headers, who: str, call_id: str, index: int, comment: str = "当时在查系统，已告知客户稍等"):
    return client.post(f"{API_PREFIX}/calls/{call_id}/hits/{index}/appeal", json={"comment": comment},
                       headers=headers[who])  # fmt: skip


def test_an_agent_appeals_a_deduction_on_their_own_call(client, headers, hits) -> None:
    response = _appeal(client, headers, "agent", "c1", hits["silence"])
    assert response.status_code == 201, response.text
    appeal = response.json()
    assert set(appeal) == APPEAL_KEYS
    assert (appeal["call_id"], appeal["agent_id"], appeal["hit_index"], appeal["rule_id"]) == (
        "c1", "8001", hits["silence"], "silence")  # fmt: skip
    assert (appeal["rule_name"], appeal["points"], appeal["status"]) == ("长时间静音", -5, "open")
    assert appeal["comment"] == "当时在查系统，已告知客户稍等" and appeal["resolver"] is None

    duplicate = _appeal(client, headers, "agent", "c1", hits["silence"])
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "appeal_exists"
    assert CJK.search(duplicate.json()["detail"])
    no_points = _appeal(client, headers, "agent", "c1", hits["no_points"])
    assert no_points.status_code == 422 and no_points.json()["code"] == "appeal_not_allowed"
    out_of_range = _appeal(client, headers, "agent", "c1", 999)
    assert out_of_range.status_code == 404 and out_of_range.json()["code"] == "hit_not_found"
    blank = _appeal(client, headers, "agent", "c1", hits["slow_reply"], comment="  ")
    assert blank.status_code == 422 and blank.json()["field"] == "comment"

    others = _appeal(client, headers, "agent", "c2", hits["silence"])  # agent 8002's call
    assert others.status_code == 404 and others.json()["code"] == "call_not_found"
    for who in ("admin", "reviewer", "trainer", "team_lead"):
        refused = _appeal(client, headers, who, "c1", hits["slow_reply"])
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"

    page = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["agent"]).json()
    assert page["hits"][hits["silence"]]["appeal"] == {"id": appeal["id"], "status": "open",
                                                        "comment": appeal["comment"], "resolution": None}  # fmt: skip


def test_appeal_lists(client, headers, hits) -> None:
    mine = _appeal(client, headers, "agent", "c1", hits["silence"]).json()
    theirs = _appeal(client, headers, "other_agent", "c2", hits["slow_reply"]).json()
    url = f"{API_PREFIX}/appeals"
    for who in ("admin", "reviewer", "trainer", "team_lead"):
        page = client.get(url, headers=headers[who]).json()
        assert page["total"] == 2 and {a["id"] for a in page["items"]} == {mine["id"], theirs["id"]}
    own = client.get(url, headers=headers["agent"]).json()
    assert own["total"] == 1 and [a["id"] for a in own["items"]] == [mine["id"]]
    assert all(set(a) == APPEAL_KEYS for a in own["items"])
    asked = client.get(f"{url}?agent_id=8002", headers=headers["agent"])
    assert asked.status_code == 403 and asked.json()["code"] == "forbidden"
    filtered = client.get(f"{url}?agent_id=8002&status=open", headers=headers["reviewer"]).json()
    assert [a["id"] for a in filtered["items"]] == [theirs["id"]]
    assert client.get(f"{url}?status=accepted", headers=headers["reviewer"]).json()["total"] == 0
    bad = client.get(f"{url}?status=pending", headers=headers["reviewer"])
    assert bad.status_code == 422 and bad.json()["field"] == "status"


def test_resolving_appeals(client, headers, hits) -> None:
    accepted = _appeal(client, headers, "agent", "c1", hits["silence"]).json()
    rejected = _appeal(client, headers, "agent", "c1", hits["slow_reply"]).json()
    url = f"{API_PREFIX}/appeals"
    for who in ("trainer", "team_lead", "agent"):
        refused = client.post(f"{url}/{accepted['id']}/resolve", json={"decision": "accepted", "resolution": "x"},
                              headers=headers[who])  # fmt: skip
        assert refused.status_code == 403

    no_resolution = client.post(f"{url}/{accepted['id']}/resolve", json={"decision": "accepted"},
                                headers=headers["reviewer"])  # fmt: skip
    assert no_resolution.status_code == 422 and no_resolution.json()["field"] == "resolution"
    decision = {"decision": "accepted", "resolution": "确认已告知客户"}
    response = client.post(f"{url}/{accepted['id']}/resolve", json=decision, headers=headers["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["resolution"]) == ("accepted", "确认已告知客户")
    assert body["resolver"].startswith("token:") and body["resolved_at"]

    page = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["admin"]).json()
    assert (page["machine_score"], page["effective_score"]) == (85.0, 90.0)  # the silence points are back
    hit = page["hits"][hits["silence"]]
    assert hit["verdict"] == "rejected" and hit["appeal"]["status"] == "accepted"
    assert page["review"]["reason"] == "appeal"
    queue = client.get(f"{API_PREFIX}/reviews?reason=appeal", headers=headers["reviewer"]).json()
    assert [r["call_id"] for r in queue["items"]] == ["c1"]
    card = client.get(f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-15&to=2024-03-15", headers=headers["agent"])
    assert card.json()["average_score"] == 90.0

    again = client.post(f"{url}/{accepted['id']}/resolve", json={"decision": "rejected", "resolution": "x"},
                        headers=headers["admin"])  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "appeal_resolved"
    response = client.post(f"{url}/{rejected['id']}/resolve", json={"decision": "rejected", "resolution": "确有超时"},
                           headers=headers["admin"])  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    page = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["admin"]).json()
    assert page["effective_score"] == 90.0 and page["hits"][hits["slow_reply"]]["verdict"] == "confirmed"
    actions = [e["action"] for e in page["audit"]]
    assert actions.count("appeal.create") == 2 and actions.count("appeal.resolve") == 2

    agent_view = client.get(f"{url}?status=accepted", headers=headers["agent"]).json()["items"]
    assert [a["resolution"] for a in agent_view] == ["确认已告知客户"] and agent_view[0]["resolver"] is None
    missing = client.post(f"{url}/99999/resolve", json={"decision": "accepted", "resolution": "x"},
                          headers=headers["admin"])  # fmt: skip
    assert missing.status_code == 404 and missing.json()["code"] == "appeal_not_found"
