"""Exports: CSV (UTF-8 with BOM) and XLSX with Chinese headers, read back with pandas / openpyxl."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def done_calls(make_call) -> None:
    make_call("e1", "8001", started_at=datetime(2024, 3, 11, 9, tzinfo=TZ))
    make_call("e2", "8002", started_at=datetime(2024, 3, 12, 9, tzinfo=TZ), transcript_of="call02_angry_stereo")
    make_call("e3", "9001", team="B组", started_at=datetime(2024, 3, 13, 9, tzinfo=TZ), status="failed")


def test_calls_csv(client, headers, done_calls) -> None:
    response = client.get(f"{API_PREFIX}/exports/calls.csv?team=A组", headers=headers["reviewer"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    frame = pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig", dtype={"坐席工号": str})
    assert list(frame.columns)[:4] == ["通话编号", "坐席工号", "坐席姓名", "班组"]
    assert list(frame["通话编号"]) == ["e2", "e1"]
    assert set(frame["处理状态"]) == {"已完成"} and set(frame["呼叫方向"]) == {"呼入"}
    assert list(frame["主叫号码"]) == ["138****5678"] * 2
    assert frame["总分"].between(0, 100).all()


def test_calls_xlsx(client, headers, done_calls) -> None:
    response = client.get(f"{API_PREFIX}/exports/calls.xlsx", headers=headers["admin"])
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("通话编号", "坐席工号", "坐席姓名")
    assert [r[0] for r in rows[1:]] == ["e3", "e2", "e1"]
    assert rows[1][8] == "失败" and rows[1][6] == "138****5678"  # personal data: masked in exports for admins too


def test_scorecards_exports(client, headers, done_calls) -> None:
    url = f"{API_PREFIX}/exports/scorecards.csv?from=2024-03-01&to=2024-03-31"
    frame = pd.read_csv(io.BytesIO(client.get(url, headers=headers["team_lead"]).content), encoding="utf-8-sig",
                        dtype={"坐席": str})  # fmt: skip
    assert list(frame.columns[:4]) == ["坐席", "姓名", "班组", "通话数"]
    assert list(frame["坐席"]) == ["8001", "8002"] and list(frame["通话数"]) == [1, 1]
    assert "共情话术使用率" in frame.columns

    team = client.get(f"{API_PREFIX}/exports/scorecards.xlsx?from=2024-03-01&to=2024-03-31&team=A组",
                      headers=headers["team_lead"])  # fmt: skip
    assert team.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(team.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "坐席" and [r[0] for r in rows[1:]] == ["8001", "8002"]

    bad = client.get(f"{API_PREFIX}/exports/scorecards.csv?from=三月", headers=headers["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "from"
