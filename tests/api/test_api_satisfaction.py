"""Satisfaction surveys over the API on SQLite and PostgreSQL: a CSV import (bad rows reported with their
line, the others stored), a JSON import matched by caller and time, the agent's CSAT and NPS on the scorecard,
the rule-effect analysis, who may import, and a CSV too large or in a wrong encoding."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
IMPORT = f"{API_PREFIX}/satisfaction/import"


def test_csv_import_reports_bad_rows_and_the_scorecard_shows_satisfaction(
    client: TestClient, headers: dict[str, dict[str, str]], make_call: Any
) -> None:
    first = make_call("sat-1", "8001", transcript_of="call02_angry_stereo")  # a call with deductions
    second = make_call("sat-2", "8001", started_at=datetime(2024, 3, 16, 9, 0, tzinfo=TZ), caller="13700000000")
    csv = f"通话编号,满意度,推荐值,评价\n{first},5,10,师傅很快\nnone-such,4,,\n{second},9,,\n"
    response = client.post(IMPORT, params={"columns": "call_id=通话编号,csat=满意度,nps=推荐值,comment=评价"},
                           content=csv.encode("gbk"),
                           headers={**headers["reviewer"], "Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1 and body["replaced"] == 0
    assert body["errors"] == [{"line": 3, "reason": "通话 none-such 不存在"},
                              {"line": 4, "reason": "满意度 '9' 无效（应为 1–5 的整数）"}]  # fmt: skip

    # JSON: the second call by its caller, answered 20 minutes after it ended (local time, no offset).
    response = client.post(f"{API_PREFIX}/satisfaction", headers=headers["admin"], json={"items": [
        {"caller": "13700000000", "answered_at": "2024-03-16T09:21:00", "csat": 2, "nps": 3, "comment": "没解决"},
        {"caller": "13700000000", "answered_at": "2024-03-18T09:21:00", "csat": 5},
    ]})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1
    assert response.json()["errors"][0]["line"] == 2

    card = client.get(f"{API_PREFIX}/agents/8001/scorecard", params={"from": "2024-03-01", "to": "2024-03-31"},
                      headers=headers["agent"]).json()  # fmt: skip
    assert card["satisfaction"] == {"responses": 2, "csat": 3.5, "csat_responses": 2, "nps": 0.0, "nps_responses": 2}

    effects = client.get(f"{API_PREFIX}/satisfaction/effects", params={"from": "2024-03-01", "to": "2024-03-31"},
                         headers=headers["trainer"])  # fmt: skip
    assert effects.status_code == 200, effects.text
    data = effects.json()
    assert data["responses"] == 2 and data["mean_csat"] == 3.5 and data["min_responses"] == 30
    assert data["rules"] and all(not e["enough"] and e["effect"] is None for e in data["rules"])  # 2 surveys: 样本不足
    assert all(e["name"] != e["key"] for e in data["rules"])  # Chinese rule names from the active rule set


def test_who_may_import_and_bad_input(client: TestClient, headers: dict[str, dict[str, str]], make_call: Any) -> None:
    call_id = make_call("sat-3", "8001")
    csv = {"content": f"call_id,csat\n{call_id},4\n".encode(), "headers": {"Content-Type": "text/csv"}}
    for role in ("agent", "trainer", "team_lead"):
        response = client.post(IMPORT, content=csv["content"], headers={**headers[role], **csv["headers"]})
        assert response.status_code == 403, (role, response.text)
    assert client.post(IMPORT, content=csv["content"], headers=csv["headers"]).status_code == 401
    assert client.get(f"{API_PREFIX}/satisfaction/effects", headers=headers["agent"]).status_code == 403

    response = client.post(IMPORT, content=b"call_id,comment\nc1,x\n", headers={**headers["admin"], **csv["headers"]})
    assert response.status_code == 422 and "没有满意度列" in response.json()["detail"]
    response = client.post(IMPORT, params={"columns": "score=满意度"}, content=csv["content"],
                           headers={**headers["admin"], **csv["headers"]})  # fmt: skip
    assert response.status_code == 422 and "未知字段 'score'" in response.json()["detail"]
    response = client.post(f"{API_PREFIX}/satisfaction", json={"items": [{"call_id": call_id}]},
                           headers=headers["admin"])  # fmt: skip
    assert response.status_code == 422 and "至少填一个" in response.text
    response = client.post(f"{API_PREFIX}/satisfaction", json={"items": [{"call_id": call_id, "csat": 6}]},
                           headers=headers["admin"])  # fmt: skip
    assert response.status_code == 422


def test_an_oversize_csv_is_refused_before_it_is_read(
    make_app: Any, settings: Any, headers: dict[str, dict[str, str]]
) -> None:
    small = settings.model_copy(update={"api": settings.api.model_copy(update={"max_survey_bytes": 1000})})
    with TestClient(make_app(small)) as client:
        response = client.post(IMPORT, content=b"call_id,csat\n" + b"c,5\n" * 100_000,
                               headers={**headers["admin"], "Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 413 and response.json()["code"] == "upload_too_large"
