"""Complaint cases (投诉工单) over the API on SQLite and PostgreSQL: opening from a call and from an alert, the
way through 受理 → 核实 → 处理 → 反馈 → 回访 → 关闭 (with a reopening), the history, the filters, who may see
and act, and the statistics."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.app import API_PREFIX

CASES = f"{API_PREFIX}/cases"


def _alert(database: Any, call_id: str, level: str = "red") -> int:
    from inspector.store.db import utcnow
    from inspector.store.schema import AlertEvent, Call

    with database.session() as session:
        call = session.get(Call, call_id)
        assert call is not None
        alert = AlertEvent(call_id=call_id, analysis_id=call.analysis_id, agent_id=call.agent_id, level=level,
                           reasons=["客户扬言投诉升级"], subject=call_id, status="open", created_at=utcnow(),
                           delivery="none")  # fmt: skip
        session.add(alert)
        session.flush()
        return alert.id


def _advance(client: TestClient, case_id: int, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"{CASES}/{case_id}/advance", json=body, headers=headers)


def test_a_case_from_accepted_to_closed_over_the_api(
    client: TestClient, headers: dict[str, dict[str, str]], make_call: Any, database: Any
) -> None:
    call_id = make_call("case-1", "8001")
    opened = client.post(CASES, json={"call_id": call_id, "note": "业主来电 13812345678 投诉漏水"},
                         headers=headers["reviewer"])  # fmt: skip
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert (case["status"], case["status_label"], case["next_status"]) == ("accepted", "受理", "verifying")
    assert (case["level"], case["source"], case["agent_name"], case["call_ids"]) == ("yellow", "person", "坐席8001",
                                                                                     [call_id])  # fmt: skip
    assert case["respond"]["state"] == "running" and 239 < case["respond"]["minutes_left"] <= 240
    assert "13812345678" not in case["note"]  # personal data masked
    lead = headers["team_lead"]
    wrong = _advance(client, case["id"], lead, status="feedback")
    assert wrong.status_code == 409 and "下一步是核实" in wrong.json()["detail"]
    for status in ("verifying", "handling", "feedback", "revisit"):
        moved = _advance(client, case["id"], lead, status=status, note=f"{status} 完成")
        assert moved.status_code == 200 and moved.json()["status"] == status, moved.text
    assert moved.json()["respond"]["state"] == "met" and moved.json()["next_status"] is None
    missing = _advance(client, case["id"], lead)
    assert missing.status_code == 409 and "回访须填写结果" in missing.json()["detail"]
    reopened = _advance(client, case["id"], lead, outcome="unsatisfied", note="业主不满意")
    assert (reopened.json()["status"], reopened.json()["reopened"]) == ("handling", 1)
    for status in ("feedback", "revisit"):
        assert _advance(client, case["id"], lead, status=status).status_code == 200
    closed = _advance(client, case["id"], lead, status="closed", outcome="satisfied", note="业主满意")
    body = closed.json()
    assert (body["status"], body["revisit_outcome"], body["close"]["state"]) == ("closed", "satisfied", "met")
    labels = [(e["label"], e["actor"]) for e in body["history"]]
    lead_actor = labels[-1][1]
    assert labels[0][0] == "受理（立案）" and labels[-1][0] == "回访满意，关闭" and lead_actor != labels[0][1]
    assert ("回访不满意，重新处理", lead_actor) in labels and len(labels) == 9
    assert body["history"][-1]["note"] == "业主满意" and body["history"][-1]["role"] == "team_lead"
    assert _advance(client, case["id"], lead).status_code == 409  # closed

    listed = client.get(CASES, params={"status": "closed"}, headers=headers["admin"]).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]] and listed["total"] == 1
    assert client.get(CASES, params={"status": "open"}, headers=headers["admin"]).json()["total"] == 0


def test_a_case_from_an_alert_once(
    client: TestClient, headers: dict[str, dict[str, str]], make_call: Any, database: Any
) -> None:
    call_id = make_call("case-red", "8001")
    other = make_call("case-other", "8001")
    alert_id = _alert(database, call_id)
    unrelated = client.post(CASES, json={"call_id": other, "alert_id": alert_id}, headers=headers["reviewer"])
    assert unrelated.status_code == 422 and "alert_id" in unrelated.text
    opened = client.post(CASES, json={"call_id": call_id, "alert_id": alert_id}, headers=headers["reviewer"])
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert (case["level"], case["alert_id"], case["title"]) == ("red", alert_id, "预警：客户扬言投诉升级")
    assert 14 < case["respond"]["minutes_left"] <= 15  # red: 15 minutes
    again = client.post(CASES, json={"call_id": call_id, "alert_id": alert_id}, headers=headers["reviewer"])
    assert again.status_code == 409 and "已有工单" in again.json()["detail"]
    assert client.get(CASES, params={"level": "red", "overdue": "false"}, headers=headers["admin"]).json()["total"] == 1
    assert client.get(CASES, params={"overdue": "true"}, headers=headers["admin"]).json()["total"] == 0


def test_who_sees_and_acts_on_cases(client: TestClient, headers: dict[str, dict[str, str]], make_call: Any) -> None:
    mine = make_call("case-a", "8001", team="A组")
    theirs = make_call("case-b", "8002", team="B组")
    ids = {}
    for call_id in (mine, theirs):
        response = client.post(CASES, json={"call_id": call_id}, headers=headers["admin"])
        assert response.status_code == 201
        ids[call_id] = response.json()["id"]
    listed = client.get(CASES, headers=headers["team_lead"]).json()
    assert [c["call_id"] for c in listed["items"]] == [mine]  # A组's lead: its team only
    assert client.get(f"{CASES}/{ids[theirs]}", headers=headers["team_lead"]).status_code == 404
    assert _advance(client, ids[theirs], headers["team_lead"]).status_code == 404
    assert client.post(CASES, json={"call_id": theirs}, headers=headers["team_lead"]).status_code == 404
    assert client.get(CASES, headers=headers["agent"]).status_code == 403
    assert client.post(CASES, json={"call_id": mine}, headers=headers["trainer"]).status_code == 403
    assert client.get(f"{CASES}/999999", headers=headers["admin"]).status_code == 404
    bad = client.post(CASES, json={"call_id": mine, "level": "purple"}, headers=headers["admin"])
    assert bad.status_code == 422 and "level" in bad.text


def test_case_statistics(client: TestClient, headers: dict[str, dict[str, str]], make_call: Any) -> None:
    for n, agent in enumerate(("8001", "8001", "8002")):
        call_id = make_call(f"case-s{n}", agent, team="A组" if agent == "8001" else "B组")
        case_id = client.post(CASES, json={"call_id": call_id}, headers=headers["admin"]).json()["id"]
        if n == 0:
            assert _advance(client, case_id, headers["admin"]).status_code == 200  # answered at once
    stats = client.get(f"{CASES}/stats", params={"by": "agent"}, headers=headers["admin"])
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["by"] == "agent" and body["overall"]["cases"] == 3 and body["overall"]["open"] == 3
    assert [(g["key"], g["cases"]) for g in body["groups"]] == [("8001", 2), ("8002", 1)]
    assert body["overall"]["respond_sla_rate"] == 1.0 and body["overall"]["respond_median_min"] < 1
    lead = client.get(f"{CASES}/stats", params={"by": "agent"}, headers=headers["team_lead"]).json()
    assert [g["key"] for g in lead["groups"]] == ["8001"]
    by_topic = client.get(f"{CASES}/stats", headers=headers["admin"]).json()
    assert by_topic["by"] == "topic" and sum(g["cases"] for g in by_topic["groups"]) == 3
    bad = client.get(f"{CASES}/stats", params={"by": "weather"}, headers=headers["admin"])
    assert bad.status_code == 422


def test_a_case_shows_its_escalation_notices(
    client: TestClient, headers: dict[str, dict[str, str]], make_call: Any, database: Any
) -> None:
    from datetime import timedelta

    from inspector.people.case_sla import escalate_overdue
    from inspector.settings import CaseSettings
    from inspector.store.db import utcnow

    call_id = make_call("case-notice", "8001")
    opened = client.post(CASES, json={"call_id": call_id, "level": "red"}, headers=headers["reviewer"]).json()
    with database.session() as session:
        [step] = escalate_overdue(session, CaseSettings(), utcnow() + timedelta(minutes=16), notify=True)
    detail = client.get(f"{CASES}/{opened['id']}", headers=headers["team_lead"]).json()
    assert detail["escalated_to"] == "班组长"
    assert [(n["step"], n["role"], n["deadline"], n["status"], n["attempts"]) for n in detail["notices"]] == [
        (1, "班组长", "respond", "pending", 0)]  # fmt: skip
    assert step.notice_id is not None and detail["notices"][0]["created_at"].endswith("+08:00")
