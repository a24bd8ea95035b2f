"""POST /rulesets/{id}/backtest: a stored (not active) rule set tried on the done calls, nothing written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.app import API_PREFIX
from inspector.settings import PROJECT_ROOT
from inspector.store.schema import Analysis, Call

URL = f"{API_PREFIX}/rulesets"
DEFAULT = (PROJECT_ROOT / "rules" / "property-default.yaml").read_text(encoding="utf-8")


def _without_closing() -> str:
    """The default pack, version 2, without 规范结束语 (closing: require, 5 points)."""
    start = DEFAULT.index("  - id: closing\n")
    text = DEFAULT[:start] + DEFAULT[DEFAULT.index("  # ----", start) :]
    return text.replace("version: 1", "version: 2", 1)


def _upload(client: Any, headers: dict[str, dict[str, str]]) -> int:
    files = [("files", ("property-default.yaml", _without_closing().encode("utf-8"), "application/yaml"))]
    created = client.post(URL, headers=headers["admin"], files=files)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _written(database: Any) -> tuple[Any, ...]:
    with database.session() as s:
        calls = s.execute(select(Call.id, Call.analysis_id, Call.score, Call.alert)).all()
        return s.scalar(select(func.count()).select_from(Analysis)), sorted(map(tuple, calls))


def test_backtest_a_stored_rule_set(client, headers, make_call, database) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    make_call("r1")  # call01: 100, no alert
    make_call("r2", transcript_of="call02_angry_stereo", started_at=datetime(2024, 3, 16, 9, tzinfo=tz))  # 67, red
    make_call("r3", status="queued")
    rule_set_id = _upload(client, headers)
    before = _written(database)

    response = client.post(f"{URL}/{rule_set_id}/backtest", headers=headers["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert _written(database) == before  # nothing stored, the rule set not activated
    assert body["ruleset"]["id"] == rule_set_id and body["ruleset"]["active"] is False
    assert (body["calls"], body["skipped"], body["date_from"], body["date_to"]) == (2, 0, None, None)
    rules = {r["rule_id"]: r for r in body["rules"]}
    assert rules["closing"] == {"rule_id": "closing", "name": "规范结束语", "in_candidate": False, "hits_before": 1,
                                "hits_after": 0, "hit_rate_before": 0.5, "hit_rate_after": 0.0, "confirmed": 0,
                                "rejected": 0, "precision_estimate": None}  # fmt: skip
    assert rules["prohibited"]["hits_before"] == rules["prohibited"]["hits_after"] == 1
    assert body["calls_changed"] == [{"call_id": "r2", "agent_id": "8001", "day": "2024-03-16", "score_before": 67.0,
                                      "score_after": 72.0, "alert_before": "red", "alert_after": "red"}]  # fmt: skip
    assert body["agents"] == [{"agent_id": "8001", "calls": 2, "score_before": 83.5, "score_after": 86.0}]
    assert body["calls_changed_total"] == 1

    # The range and the limit, as a JSON body or as query parameters.
    one_day = {"date_from": "2024-03-15", "date_to": "2024-03-15"}
    for kwargs in ({"json": one_day}, {"params": one_day}):
        narrowed = client.post(f"{URL}/{rule_set_id}/backtest", headers=headers["admin"], **kwargs).json()
        assert (narrowed["calls"], narrowed["calls_changed"], narrowed["date_from"]) == (1, [], "2024-03-15")
    limited = client.post(f"{URL}/{rule_set_id}/backtest", headers=headers["admin"], json={"limit_calls_changed": 0})
    assert limited.json()["calls_changed"] == [] and limited.json()["calls_changed_total"] == 1

    bad = client.post(f"{URL}/{rule_set_id}/backtest", headers=headers["admin"],
                      json={"date_from": "2024-03-16", "date_to": "2024-03-15"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["field"] == "date_from"
    bad = client.post(f"{URL}/{rule_set_id}/backtest", headers=headers["admin"], params={"date_to": "15/03/2024"})
    assert bad.status_code == 422 and bad.json()["field"] == "date_to"


def test_backtest_unknown_rule_set_and_roles(client, headers, make_call) -> None:
    make_call("r1")
    missing = client.post(f"{URL}/9999/backtest", headers=headers["admin"])
    assert missing.status_code == 404
    assert missing.json() == {"detail": "规则集 9999 不存在", "code": "ruleset_not_found", "ruleset_id": 9999}
    rule_set_id = _upload(client, headers)
    for who in ("agent", "trainer", "team_lead"):
        refused = client.post(f"{URL}/{rule_set_id}/backtest", headers=headers[who])
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", who
    assert client.post(f"{URL}/{rule_set_id}/backtest").status_code == 401
