"""The alert queue over the API: list (filters, paging, team scope), acknowledge, deliveries, redeliver."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq import Queue

from api.app import API_PREFIX
from inspector.settings import AlertSettings

TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")
ITEM_KEYS = {"id", "kind", "call_id", "call_ids", "project", "topic", "agent_id", "level", "reasons", "status",
             "created_at", "handled_by", "handled_at", "note", "delivery", "updated_at", "agent_name"}  # fmt: skip


@pytest.fixture
def raised(make_call, database) -> dict[str, int]:
    """Alerts of three calls: red (8001, A组), blue (8002, A组), red (9001, B组); oldest first."""
    from inspector.people import alerts
    from inspector.store.schema import Analysis, Call

    made = {
        "red_a": make_call("r1", "8001", started_at=datetime(2024, 3, 4, 9, tzinfo=TZ),
                           transcript_of="call02_angry_stereo"),
        "blue_a": make_call("r2", "8002", started_at=datetime(2024, 3, 5, 9, tzinfo=TZ),
                            transcript_of="call03_parking_fast_stereo"),
        "red_b": make_call("r3", "9001", team="B组", started_at=datetime(2024, 3, 6, 9, tzinfo=TZ),
                           transcript_of="call06_elevator_mono"),
    }  # fmt: skip
    ids: dict[str, int] = {}
    for key, call_id in made.items():
        with database.session() as session:
            call = session.get(Call, call_id)
            alert = alerts.raise_alert(session, AlertSettings(), call, session.get(Analysis, call.analysis_id))
            assert alert is not None
            ids[key] = alert.id
    return ids


def test_list_alerts(client, headers, raised) -> None:
    url = f"{API_PREFIX}/alerts"
    response = client.get(url, headers=headers["trainer"])
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3 and [a["id"] for a in body["items"]] == [
        raised["red_b"],
        raised["blue_a"],
        raised["red_a"],
    ]
    first = body["items"][-1]
    assert set(first) == ITEM_KEYS
    assert (first["call_id"], first["agent_id"], first["level"], first["status"]) == ("r1", "8001", "red", "open")
    assert first["delivery"] == "none" and first["handled_by"] is None and first["created_at"].endswith("+08:00")
    assert first["reasons"] and all(CJK.search(r) for r in first["reasons"])
    assert first["kind"] == "call" and first["call_ids"] == ["r1"] and first["project"] is None

    def ids(who: str, query: str) -> list[int]:
        return [a["id"] for a in client.get(url + query, headers=headers[who]).json()["items"]]

    assert ids("admin", "?level=red") == [raised["red_b"], raised["red_a"]]
    assert ids("reviewer", "?agent_id=8002") == [raised["blue_a"]]
    assert ids("admin", "?status=acknowledged") == []
    page = client.get(url + "?page=2&page_size=1", headers=headers["admin"]).json()
    assert page["total"] == 3 and [a["id"] for a in page["items"]] == [raised["blue_a"]]
    assert ids("team_lead", "") == [raised["blue_a"], raised["red_a"]]  # A组 only
    assert ids("other_team_lead", "") == [raised["red_b"]]
    for who in ("agent", "other_agent"):
        assert client.get(url, headers=headers[who]).status_code == 403
    assert client.get(url + "?level=purple", headers=headers["admin"]).status_code == 422


def test_acknowledge(client, headers, raised, database) -> None:
    url = f"{API_PREFIX}/alerts/{raised['red_a']}/ack"
    for who in ("trainer", "agent", "other_team_lead"):  # role not allowed / another team's alert
        refused = client.post(url, headers=headers[who], json={"note": "x"})
        assert refused.status_code == 403 and CJK.search(refused.json()["detail"]), who
    done = client.post(url, headers=headers["team_lead"], json={"note": "已回访业主，情绪平复"})
    assert done.status_code == 200, done.text
    item = done.json()
    assert item["status"] == "acknowledged" and item["note"] == "已回访业主，情绪平复"
    assert item["handled_by"] == "user:lead_a" and item["handled_at"].endswith("+08:00")
    again = client.post(url, headers=headers["admin"], json={})
    assert again.status_code == 409 and CJK.search(again.json()["detail"])
    assert client.post(f"{API_PREFIX}/alerts/{raised['red_b']}/ack", headers=headers["reviewer"]).status_code == 200
    missing = client.post(f"{API_PREFIX}/alerts/999999/ack", headers=headers["admin"])
    assert missing.status_code == 404 and missing.json()["code"] == "alert_not_found"

    from inspector.store import audit

    with database.session() as session:
        [entry] = audit.history(session, "alert", raised["red_a"])
        assert entry.action == "alert.acknowledge" and entry.actor_role == "team_lead"


def test_deliveries_and_redeliver(client, headers, raised) -> None:
    url = f"{API_PREFIX}/alerts/{raised['red_a']}"
    attempts = client.get(f"{url}/deliveries", headers=headers["reviewer"])
    assert attempts.status_code == 200
    assert attempts.json() == {"alert_id": raised["red_a"], "delivery": "none", "items": []}
    for who in ("trainer", "team_lead", "agent"):
        assert client.get(f"{url}/deliveries", headers=headers[who]).status_code == 403, who
    assert client.get(f"{API_PREFIX}/alerts/999999/deliveries", headers=headers["admin"]).status_code == 404
    for who in ("reviewer", "team_lead"):
        assert client.post(f"{url}/redeliver", headers=headers[who]).status_code == 403, who
    unconfigured = client.post(f"{url}/redeliver", headers=headers["admin"])
    assert unconfigured.status_code == 409 and "webhook_url" in unconfigured.json()["detail"]


def test_redeliver_queues_a_delivery(make_app, settings, headers, raised, redis_conn) -> None:
    from fastapi.testclient import TestClient

    hooked = settings.model_copy(update={"alerts": AlertSettings(webhook_url="http://127.0.0.1:9/hooks/qa")})
    with TestClient(make_app(hooked)) as client:
        response = client.post(f"{API_PREFIX}/alerts/{raised['red_a']}/redeliver", headers=headers["admin"])
        assert response.status_code == 202, response.text
        assert response.json()["delivery"] == "pending" and response.json()["id"] == raised["red_a"]
        listed = client.get(f"{API_PREFIX}/alerts?agent_id=8001", headers=headers["admin"]).json()["items"]
        assert listed[0]["delivery"] == "pending"
    queue = Queue(settings.queue.name, connection=redis_conn)
    [job] = queue.get_jobs()
    assert job.func_name == "inspector.service.webhooks.deliver_alert" and job.args == (raised["red_a"],)


def test_a_cluster_alert_lists_its_calls_and_is_filtered_by_kind(client, headers, raised, database) -> None:
    from inspector.people import alerts
    from inspector.store.schema import Analysis, Call
    from inspector.vocab import AlertKind, AlertLevel

    with database.session() as session:
        call = session.get(Call, "r2")
        group = alerts.GroupAlert(kind=AlertKind.CLUSTER, subject="yangguang|停车|r1", level=AlertLevel.RED,
                                  reasons=["项目 yangguang 24 小时内 3 位来电人反映「停车」（群体性投诉预警）"],
                                  call_ids=["r1", "r2", "r3"], project="yangguang", topic="停车")  # fmt: skip
        cluster = alerts.group_alert(session, AlertSettings(), call, session.get(Analysis, call.analysis_id), group)
        assert cluster is not None
        cluster_id = cluster.id
    url = f"{API_PREFIX}/alerts?kind=cluster"
    [item] = client.get(url, headers=headers["reviewer"]).json()["items"]
    assert (item["id"], item["kind"], item["call_id"]) == (cluster_id, "cluster", "r2")
    assert item["call_ids"] == ["r1", "r2", "r3"]
    assert (item["project"], item["topic"], item["level"]) == ("yangguang", "停车", "red")
    calls_only = client.get(f"{API_PREFIX}/alerts?kind=call", headers=headers["reviewer"]).json()
    assert calls_only["total"] == 3 and cluster_id not in [a["id"] for a in calls_only["items"]]
    # It belongs to the agent of the call that raised it (8002, A组): B组's lead does not see it.
    assert [a["id"] for a in client.get(url, headers=headers["team_lead"]).json()["items"]] == [cluster_id]
    assert client.get(url, headers=headers["other_team_lead"]).json()["items"] == []
    assert client.get(f"{API_PREFIX}/alerts?kind=other", headers=headers["admin"]).status_code == 422
