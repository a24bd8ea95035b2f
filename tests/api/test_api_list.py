"""GET /calls: filters, pagination, ordering and validation errors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
URL = f"{API_PREFIX}/calls"


@pytest.fixture
def calls(make_call) -> dict[str, dict]:
    """Five calls: three agents, two teams, three local days, one failed and one queued."""
    specs = {
        "c1": {"agent_id": "8001", "team": "A组", "started_at": datetime(2024, 3, 14, 9, 0, tzinfo=TZ),
               "transcript_of": "call01_leak_stereo"},
        "c2": {"agent_id": "8001", "team": "A组", "started_at": datetime(2024, 3, 15, 23, 30, tzinfo=TZ),
               "transcript_of": "call02_angry_stereo"},
        "c3": {"agent_id": "8002", "team": "A组", "started_at": datetime(2024, 3, 16, 0, 30, tzinfo=TZ),
               "transcript_of": "call03_parking_fast_stereo"},
        "c4": {"agent_id": "9001", "team": "B组", "started_at": datetime(2024, 3, 16, 10, 0, tzinfo=TZ),
               "status": "failed"},
        "c5": {"agent_id": "9001", "team": "B组", "started_at": datetime(2024, 3, 17, 10, 0, tzinfo=TZ),
               "status": "queued"},
    }  # fmt: skip
    for call_id, spec in specs.items():
        make_call(call_id, **spec)
    return specs


def _ids(client, headers, query: str = "") -> list[str]:
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["call_id"] for item in response.json()["items"]]


def test_list_is_newest_first_with_summary_rows(client, headers, calls) -> None:
    body = client.get(URL, headers=headers["reviewer"]).json()
    assert [c["call_id"] for c in body["items"]] == ["c5", "c4", "c3", "c2", "c1"]
    assert body["total"] == 5 and body["page"] == 1 and body["page_size"] == 50
    c2 = body["items"][3]
    assert c2["started_at"] == "2024-03-15T23:30:00+08:00" and c2["team_id"] == "A组"
    assert (
        c2["status"] == "done" and isinstance(c2["score"], float) and c2["alert"] in {"red", "yellow", "blue", "none"}
    )
    assert c2["caller"] == "138****5678" and c2["agent_name"] == "坐席8001"
    assert body["items"][0]["score"] is None  # queued


def test_filters(client, headers, calls) -> None:
    h = headers["reviewer"]
    assert _ids(client, h, "?agent_id=8001") == ["c2", "c1"]
    assert _ids(client, h, "?team=B组") == ["c5", "c4"]
    assert _ids(client, h, "?status=failed") == ["c4"]
    assert _ids(client, h, "?from=2024-03-15&to=2024-03-16") == ["c4", "c3", "c2"]  # inclusive local days
    assert _ids(client, h, "?to=2024-03-15") == ["c2", "c1"]
    assert _ids(client, h, "?from=2024-03-16T00:00:00&to=2024-03-16T09:59:59") == ["c3"]  # naive = local time
    assert _ids(client, h, "?from=2024-03-15T16:00:00Z") == ["c5", "c4", "c3"]  # = 2024-03-16 00:00 local
    scores = {c["call_id"]: c["score"] for c in client.get(URL, headers=h).json()["items"]}
    low = min(s for s in scores.values() if s is not None)
    assert _ids(client, h, f"?max_score={low}") == [c for c, s in scores.items() if s is not None and s <= low]
    assert set(_ids(client, h, f"?min_score={low}")) == {"c1", "c2", "c3"}
    alerts = {c["call_id"]: c["alert"] for c in client.get(URL, headers=h).json()["items"]}
    level = alerts["c2"]
    assert _ids(client, h, f"?alert={level}") == [c for c in ("c3", "c2", "c1") if alerts[c] == level]


def test_pagination(client, headers, calls) -> None:
    h = headers["admin"]
    pages = [client.get(f"{URL}?page={n}&page_size=2", headers=h).json() for n in (1, 2, 3, 4)]
    assert [[c["call_id"] for c in p["items"]] for p in pages] == [["c5", "c4"], ["c3", "c2"], ["c1"], []]
    assert all(p["total"] == 5 and p["page_size"] == 2 for p in pages)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?page=0", "page"),
        ("?page_size=0", "page_size"),
        ("?page_size=abc", "page_size"),
        ("?page_size=5000", "page_size"),
        ("?from=昨天", "from"),
        ("?to=2024-13-45", "to"),
        ("?status=lost", "status"),
        ("?alert=purple", "alert"),
        ("?min_score=101", "min_score"),
        ("?min_score=80&max_score=60", "min_score"),
    ],
)
def test_invalid_parameters_are_422_in_chinese(client, headers, query, field) -> None:
    response = client.get(f"{URL}{query}", headers=headers["admin"])
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request" and body["field"] == field
    assert body["detail"].startswith(f"参数 {field} 无效：")
    assert body["errors"][0]["field"] == field
