"""Demand forecast (需求预测) over the API on SQLite and PostgreSQL: 30 weeks of stored calls with topics give a
forecast with intervals and a backtest, and a CSV for planning; bad ``weeks`` 422, too short a history says so,
who may ask and what they count."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from hashlib import sha256

import pytest

from api.app import API_PREFIX

URL = f"{API_PREFIX}/insights/forecast"
CJK = re.compile(r"[\u4e00-\u9fff]")
FIRST = date(2023, 9, 4)  # a Monday
WEEKS = 30  # through the week of 2024-03-25
TO = "2024-03-31"


def _leaks(week: int) -> int:
    """漏水/维修 calls of agent 8001 (A组) in week ``week``; 9001 (B组) adds one every week."""
    return 3 + week % 4


@pytest.fixture(autouse=True)
def history(database) -> None:
    """yangguang: every week 漏水/维修 calls by 8001 and one by 9001, and 噪音 by 8001 in even weeks; lanting:
    one 停车 call a week for the last 3 weeks only."""
    from inspector.store.schema import Agent, Call, CallTopic, Team

    def add(call_id: str, day: date, project: str, topic: str, agent: str) -> None:
        at = datetime.combine(day, datetime.min.time()) + timedelta(hours=2)
        digest = sha256(call_id.encode()).hexdigest()
        session.add(Call(id=call_id, agent_id=agent, started_at=at, day=day, audio_sha256=digest, audio_bytes=1,
                         audio_name=f"{call_id}.wav", source="import", status="done", attempts=1,
                         created_at=at, updated_at=at, project=project))  # fmt: skip
        session.flush()
        session.add(CallTopic(call_id=call_id, topic=topic, project=project, day=day, at=at, agent_id=agent,
                              caller=None, unit=None, contact=f"call:{call_id}"))  # fmt: skip

    with database.session() as session:
        now = datetime(2023, 1, 1)
        for team, agent in (("A组", "8001"), ("B组", "9001")):
            session.merge(Team(id=team, name=team))
            session.flush()
            session.merge(Agent(id=agent, name=f"坐席{agent}", team_id=team, created_at=now))
        session.flush()
        for week in range(WEEKS):
            monday = FIRST + timedelta(days=7 * week)
            for i in range(_leaks(week)):
                add(f"y{week}-{i}", monday + timedelta(days=i % 7), "yangguang", "漏水/维修", "8001")
            add(f"b{week}", monday + timedelta(days=2), "yangguang", "漏水/维修", "9001")
            if week % 2 == 0:
                add(f"n{week}", monday + timedelta(days=4), "yangguang", "噪音", "8001")
            if week >= WEEKS - 3:
                add(f"l{week}", monday + timedelta(days=1), "lanting", "停车", "8001")


def test_a_forecast_with_intervals_and_its_backtest(client, headers) -> None:
    response = client.get(f"{URL}?project=yangguang&topic=漏水/维修&to={TO}", headers=headers["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["project"], body["topic"], body["weeks"], body["enough"], body["reason"]) == (
        "yangguang", "漏水/维修", 12, True, None)  # fmt: skip
    assert body["history_weeks"] == WEEKS and body["level"] == 0.8 and CJK.search(body["method"])
    assert [h["calls"] for h in body["history"]] == [_leaks(w) + 1 for w in range(WEEKS)]
    assert body["history"][0]["week"] == FIRST.isoformat() and body["history"][-1]["week"] == "2024-03-25"
    points = body["points"]
    assert [p["week"] for p in points] == [(date(2024, 4, 1) + timedelta(days=7 * i)).isoformat() for i in range(12)]
    for p in points:
        assert 0 <= p["lower"] <= p["predicted"] <= p["upper"]
        assert 2 <= p["predicted"] <= 9  # the history ran 4-7 a week
    backtest = body["backtest"]
    assert backtest["holdout_weeks"] == 12 and backtest["baseline"] == "朴素"
    assert 0 <= backtest["mape"] < 1 and backtest["mase"] > 0 and backtest["baseline_mape"] >= 0
    longer = client.get(f"{URL}?project=yangguang&topic=漏水/维修&to={TO}&weeks=26", headers=headers["admin"])
    assert len(longer.json()["points"]) == 26
    # Without a topic: every call of the project (the noise calls too).
    every = client.get(f"{URL}?project=yangguang&to={TO}", headers=headers["admin"]).json()
    assert [h["calls"] for h in every["history"]] == [_leaks(w) + 1 + (w % 2 == 0) for w in range(WEEKS)]


def test_the_csv_for_staff_planning(client, headers) -> None:
    response = client.get(f"{URL}.csv?project=yangguang&topic=漏水/维修&to={TO}&weeks=8", headers=headers["admin"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the Chinese headers
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["周起始日", "类型", "实际来电量", "预测来电量", "下限", "上限"]
    actual, predicted = [r for r in rows[1:] if r[1] == "实际"], [r for r in rows[1:] if r[1] == "预测"]
    assert len(actual) == WEEKS and len(predicted) == 8 and len(rows) == 1 + WEEKS + 8
    assert [int(r[2]) for r in actual] == [_leaks(w) + 1 for w in range(WEEKS)] and actual[0][3:] == ["", "", ""]
    assert predicted[0][0] == "2024-04-01" and predicted[0][2] == ""
    for r in predicted:
        assert float(r[4]) <= float(r[3]) <= float(r[5])


def test_weeks_out_of_range_and_too_short_a_history(client, headers) -> None:
    for weeks in (0, 27, -1):
        bad = client.get(f"{URL}?project=yangguang&weeks={weeks}", headers=headers["admin"])
        assert bad.status_code == 422 and CJK.search(bad.text) and "weeks" in bad.text, weeks
    bad_date = client.get(f"{URL}?project=yangguang&to=2024-13-01", headers=headers["admin"])
    assert bad_date.status_code == 422 and "to" in bad_date.text
    short = client.get(f"{URL}?project=lanting&to={TO}", headers=headers["reviewer"])
    assert short.status_code == 200
    body = short.json()
    assert body["enough"] is False and body["points"] == [] and body["backtest"] is None
    assert body["history_weeks"] == 3 and "历史数据不足" in body["reason"]
    short_csv = client.get(f"{URL}.csv?project=lanting&to={TO}", headers=headers["reviewer"])
    assert short_csv.status_code == 200 and short_csv.content.decode("utf-8-sig").count(",实际,") == 3


def test_who_may_ask_and_what_they_count(client, headers) -> None:
    query = f"?project=yangguang&topic=漏水/维修&to={TO}"
    assert client.get(URL + query).status_code == 401
    assert client.get(f"{URL}.csv{query}").status_code == 401
    for who in ("agent", "other_agent"):
        assert client.get(URL + query, headers=headers[who]).status_code == 403
        assert client.get(f"{URL}.csv{query}", headers=headers[who]).status_code == 403
    a_team = client.get(URL + query, headers=headers["team_lead"]).json()
    assert [h["calls"] for h in a_team["history"]] == [_leaks(w) for w in range(WEEKS)]
    b_team = client.get(URL + query, headers=headers["other_team_lead"]).json()
    assert [h["calls"] for h in b_team["history"]] == [1] * WEEKS
    assert b_team["enough"] and all(p["lower"] <= p["predicted"] <= p["upper"] for p in b_team["points"])
