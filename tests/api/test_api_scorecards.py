"""Scorecards and leaderboards over the rollup of done calls."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def done_calls(make_call) -> None:
    make_call("s1", "8001", started_at=datetime(2024, 3, 11, 9, tzinfo=TZ), transcript_of="call01_leak_stereo")
    make_call("s2", "8001", started_at=datetime(2024, 3, 19, 9, tzinfo=TZ), transcript_of="call02_angry_stereo")
    make_call("s3", "8002", started_at=datetime(2024, 3, 12, 9, tzinfo=TZ), transcript_of="call04_fee_hold_stereo")
    make_call("s4", "9001", team="B组", started_at=datetime(2024, 3, 12, 9, tzinfo=TZ))


def test_scorecard_shape(client, headers, done_calls) -> None:
    url = f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-01&to=2024-03-31&trend=week"
    card = client.get(url, headers=headers["trainer"]).json()
    assert set(card) == {"agent_id", "agent_name", "team_id", "from", "to", "calls", "average_score", "dimensions",
                         "checks", "alerts", "fatal", "trend", "most_missed", "team_percentile",
                         "uncertain_calls", "uncertain_share", "repeated_calls", "repeat_rate",
                         "satisfaction"}  # fmt: skip
    assert card["satisfaction"] == {"responses": 0, "csat": None, "csat_responses": 0, "nps": None,
                                    "nps_responses": 0}  # no surveys imported  # fmt: skip
    assert card["agent_id"] == "8001" and card["agent_name"] == "坐席8001" and card["team_id"] == "A组"
    assert card["from"] == "2024-03-01" and card["to"] == "2024-03-31" and card["calls"] == 2
    assert 0.0 <= card["checks"]["empathy"] <= 1.0 and card["checks"]["greeting"] == 1.0
    assert [p["period"] for p in card["trend"]] == ["2024-03-11", "2024-03-18"]  # Mondays
    assert set(card["alerts"]) == {"red", "yellow", "blue"}
    assert card["team_percentile"] is not None  # 8002 is in the same team
    for missed in card["most_missed"]:  # rule names come from the active rule set, in Chinese
        assert CJK.search(missed["name"]), missed

    narrow = client.get(f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-15&to=2024-03-31&trend=day",
                        headers=headers["trainer"]).json()  # fmt: skip
    assert narrow["calls"] == 1 and [p["period"] for p in narrow["trend"]] == ["2024-03-19"]


def test_scorecard_access_and_errors(client, headers, done_calls) -> None:
    url = f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-01&to=2024-03-31"
    assert client.get(url, headers=headers["agent"]).status_code == 200  # its own
    other = client.get(url, headers=headers["other_agent"])
    assert other.status_code == 403 and other.json()["code"] == "forbidden" and CJK.search(other.json()["detail"])
    unknown = client.get(f"{API_PREFIX}/agents/nobody/scorecard", headers=headers["admin"])
    assert unknown.status_code == 404 and unknown.json()["code"] == "agent_not_found"
    bad = client.get(f"{API_PREFIX}/agents/8001/scorecard?trend=year", headers=headers["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "trend"
    backwards = client.get(
        f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-31&to=2024-03-01", headers=headers["admin"]
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "from"
    default_range = client.get(f"{API_PREFIX}/agents/8001/scorecard", headers=headers["admin"]).json()
    assert default_range["calls"] == 0 and default_range["to"] is not None  # the last 30 days: nothing in 2024


def test_leaderboard(client, headers, done_calls) -> None:
    response = client.get(
        f"{API_PREFIX}/teams/A组/leaderboard?from=2024-03-01&to=2024-03-31", headers=headers["team_lead"]
    )
    assert response.status_code == 200
    board = response.json()
    assert board["team_id"] == "A组" and board["from"] == "2024-03-01" and board["to"] == "2024-03-31"
    assert [e["rank"] for e in board["items"]] == [1, 2]
    assert {e["agent_id"] for e in board["items"]} == {"8001", "8002"}
    first = board["items"][0]
    assert set(first) == {"rank", "agent_id", "agent_name", "calls", "average_score", "red", "fatal", "checks"}
    assert "empathy" in first["checks"]
    only_busy = client.get(f"{API_PREFIX}/teams/A组/leaderboard?from=2024-03-01&to=2024-03-31&min_calls=2",
                           headers=headers["team_lead"]).json()  # fmt: skip
    assert [e["agent_id"] for e in only_busy["items"]] == ["8001"]
    missing = client.get(f"{API_PREFIX}/teams/C组/leaderboard", headers=headers["admin"])
    assert missing.status_code == 404 and missing.json()["code"] == "team_not_found"
