"""Training over the API: catalog, competencies, coaching assignments (roles), monthly assessment + Excel."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")
ITEM_KEYS = {"id", "agent_id", "agent_name", "competency", "competency_name", "course_id", "course_name", "evidence",
             "due_date", "status", "trainer", "note", "created_at", "done_at", "overdue", "effect"}  # fmt: skip
EFFECT_KEYS = {"dimension", "before_calls", "before_avg", "after_calls", "after_avg", "delta", "n", "level", "ci_low",
               "ci_high", "min_calls", "enough", "verdict", "label", "team_id", "before_from", "before_to",
               "after_from", "after_to", "team_before_n", "team_before_avg", "team_after_n", "team_after_avg",
               "team_delta", "did", "did_low", "did_high", "team_compared"}  # fmt: skip


@pytest.fixture
def done_calls(make_call) -> dict[str, str]:
    return {
        "angry": make_call("t1", "8001", started_at=datetime(2024, 3, 4, 9, tzinfo=TZ),
                           transcript_of="call02_angry_stereo"),
        "elevator": make_call("t2", "8001", started_at=datetime(2024, 3, 5, 9, tzinfo=TZ),
                              transcript_of="call06_elevator_mono"),
        "good": make_call("t3", "8001", started_at=datetime(2024, 3, 6, 9, tzinfo=TZ)),
        "other": make_call("t4", "8002", started_at=datetime(2024, 3, 6, 9, tzinfo=TZ)),
        "team_b": make_call("t5", "9001", team="B组", started_at=datetime(2024, 3, 6, 9, tzinfo=TZ),
                            transcript_of="call04_fee_hold_stereo"),
    }  # fmt: skip


def _assign(client, who: dict[str, str], **fields):
    body = {"agent_id": "8001", "competency": "professionalism", "course_id": "empathy_soothing", "evidence": [],
            "due_date": "2024-04-01", "note": "加强共情与安抚"} | fields  # fmt: skip
    return client.post(f"{API_PREFIX}/coaching", headers=who, json=body)


def test_catalog(client, headers) -> None:
    competencies = client.get(f"{API_PREFIX}/competencies", headers=headers["agent"])
    assert competencies.status_code == 200
    items = competencies.json()["competencies"]
    assert [c["name"] for c in items] == ["专业知识", "服务技能", "职业素养"]
    assert set(items[0]) >= {"id", "name", "dimensions", "rules"} and items[0]["dimensions"] == {"resolution": 1.0}
    courses = client.get(f"{API_PREFIX}/courses", headers=headers["team_lead"]).json()["courses"]
    assert len(courses) >= 8 and set(courses[0]) >= {"id", "name", "duration_min", "competencies", "rules"}
    assert "共情与安抚话术" in {c["name"] for c in courses}
    assert [c["weight"] for c in items] == [0.35, 0.45, 0.2]  # the skill model's weights (rules/training.yaml)
    assert {c["tier"] for c in courses} == {"basic", "advanced", "leadership"}
    assert client.get(f"{API_PREFIX}/courses").status_code == 401


def test_agent_competencies(client, headers, done_calls) -> None:
    url = f"{API_PREFIX}/agents/8001/competencies?from=2024-03-01&to=2024-03-31"
    response = client.get(url, headers=headers["trainer"])
    assert response.status_code == 200
    body = response.json()
    assert body["agent_id"] == "8001" and [i["id"] for i in body["items"]] == ["knowledge", "service_skills",
                                                                               "professionalism"]  # fmt: skip
    pro = body["items"][2]
    assert set(pro) >= {"id", "name", "score", "weak", "suggested_courses", "evidence_calls"}
    assert pro["name"] == "职业素养" and pro["weak"] and pro["score"] < 80
    assert pro["suggested_courses"] and set(pro["suggested_courses"][0]) == {"id", "name"}
    assert set(pro["evidence_calls"]) == {done_calls["angry"], done_calls["elevator"]}
    assert all(CJK.search(c["name"]) for c in pro["suggested_courses"])
    # 技能综合分: the weighted mean of the three scores, and the tier it picks with that tier's courses
    scores = [i["score"] for i in body["items"]]
    assert body["composite"] == pytest.approx(0.35 * scores[0] + 0.45 * scores[1] + 0.2 * scores[2], abs=0.06)
    expected_tier = "basic" if body["composite"] < 70 else ("leadership" if body["composite"] >= 90 else "advanced")
    assert body["tier"] == expected_tier and body["tier_label"] in {"基础层", "进阶层", "提升层"}
    assert body["tier_courses"] and body["weakest"] == min(body["items"], key=lambda i: i["score"])["id"]

    assert client.get(url, headers=headers["agent"]).status_code == 200  # itself
    assert client.get(url, headers=headers["team_lead"]).status_code == 200  # its team (A组)
    for who in ("other_agent", "other_team_lead"):
        refused = client.get(url, headers=headers[who])
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    missing = client.get(f"{API_PREFIX}/agents/nobody/competencies", headers=headers["admin"])
    assert missing.status_code == 404 and missing.json()["code"] == "agent_not_found"


def test_assigning_coaching(client, headers, done_calls, database) -> None:
    created = _assign(client, headers["trainer"], evidence=[done_calls["angry"]])
    assert created.status_code == 201, created.text
    item = created.json()
    assert set(item) == ITEM_KEYS and set(item["effect"]) == EFFECT_KEYS
    assert item["agent_name"] == "坐席8001" and item["competency_name"] == "职业素养"
    assert item["course_name"] == "共情与安抚话术" and item["evidence"] == [done_calls["angry"]]
    assert item["status"] == "assigned" and item["due_date"] == "2024-04-01" and item["done_at"] is None
    assert item["overdue"] is True  # due 2024-04-01, still open
    assert item["effect"]["dimension"] == "emotion" and item["effect"]["n"] == 0  # no calls after it yet
    assert (item["effect"]["enough"], item["effect"]["label"], item["effect"]["min_calls"]) == (False, "样本不足", 5)
    assert item["trainer"].startswith("token:") and item["created_at"].endswith("+08:00")

    assert _assign(client, headers["team_lead"]).status_code == 201  # 8001 is in its team
    assert _assign(client, headers["admin"], due_date=None, course_id=None).status_code == 201
    for who in ("reviewer", "agent", "other_team_lead"):
        refused = _assign(client, headers[who])
        assert refused.status_code == 403 and CJK.search(refused.json()["detail"]), who
    bad = _assign(client, headers["trainer"], competency="charm")
    assert bad.status_code == 422 and bad.json()["field"] == "competency" and CJK.search(bad.json()["detail"])
    foreign = _assign(client, headers["trainer"], evidence=[done_calls["other"]])
    assert foreign.status_code == 422 and foreign.json()["field"] == "evidence"
    unknown_course = _assign(client, headers["trainer"], course_id="yoga")
    assert unknown_course.status_code == 422 and unknown_course.json()["field"] == "course_id"
    nobody = _assign(client, headers["admin"], agent_id="nobody")
    assert nobody.status_code == 404 and nobody.json()["code"] == "agent_not_found"
    bad_date = _assign(client, headers["trainer"], due_date="2024-13-01")
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "due_date"

    from inspector.store import audit

    with database.session() as session:
        [entry] = audit.history(session, "coaching", item["id"])
        assert entry.action == "coaching.assign" and entry.reason == "加强共情与安抚"


def test_coaching_list_done_and_cancel(client, headers, done_calls) -> None:
    mine = _assign(client, headers["trainer"]).json()
    other = _assign(client, headers["trainer"], agent_id="8002").json()
    team_b = _assign(client, headers["admin"], agent_id="9001", competency="knowledge", course_id="fee_policy").json()
    url = f"{API_PREFIX}/coaching"

    def ids(who: str, query: str = "") -> list[int]:
        response = client.get(url + query, headers=headers[who])
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert ids("trainer") == [team_b["id"], other["id"], mine["id"]]  # newest first
    assert ids("reviewer", "?agent_id=8002") == [other["id"]]
    assert ids("agent") == [mine["id"]] and ids("other_agent") == [other["id"]]
    assert ids("team_lead") == [other["id"], mine["id"]]  # A组 only
    assert client.get(url + "?agent_id=8002", headers=headers["agent"]).status_code == 403
    assert client.get(url + "?agent_id=9001", headers=headers["team_lead"]).status_code == 403
    assert client.get(url + "?status=finished", headers=headers["admin"]).status_code == 422

    done_url = f"{url}/{mine['id']}/done"
    assert client.post(done_url, headers=headers["other_agent"], json={"note": "x"}).status_code == 404
    for who in ("reviewer", "team_lead"):
        assert client.post(done_url, headers=headers[who], json={}).status_code == 403, who
    done = client.post(done_url, headers=headers["agent"], json={"note": "已完成课程学习"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["done_at"] and done.json()["overdue"] is False
    again = client.post(done_url, headers=headers["trainer"])
    assert again.status_code == 409 and again.json()["code"] == "coaching_closed" and CJK.search(again.json()["detail"])
    assert ids("admin", "?status=done") == [mine["id"]]

    cancel_url = f"{url}/{other['id']}/cancel"
    for who in ("agent", "other_agent", "team_lead", "reviewer"):
        assert client.post(cancel_url, headers=headers[who]).status_code == 403, who
    cancelled = client.post(cancel_url, headers=headers["trainer"], json={"note": "重复布置"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"{url}/999999/cancel", headers=headers["admin"]).status_code == 404
    assert client.post(f"{url}/999999/done", headers=headers["admin"]).json()["code"] == "coaching_not_found"


def test_monthly_assessment(client, headers, done_calls) -> None:
    response = client.get(f"{API_PREFIX}/assessments?month=2024-03", headers=headers["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["month"] == "2024-03" and body["team"] is None
    rows = {r["agent_id"]: r for r in body["items"]}
    assert list(rows) == ["8001", "8002", "9001"]
    assert set(rows["8001"]) == {"agent_id", "name", "team", "calls", "average_score", "competencies", "red", "fatal",
                                 "coaching_done", "grade", "composite", "tier", "tier_label"}  # fmt: skip
    assert rows["8002"]["grade"] == "A" and rows["8002"]["average_score"] == 100.0
    assert rows["8001"]["calls"] == 3 and rows["8001"]["red"] == 2 and rows["8001"]["grade"] == "C"  # 75.7
    assert set(rows["8001"]["competencies"]) == {"knowledge", "service_skills", "professionalism"}
    # 技能综合分 = 0.35 × 专业知识 + 0.45 × 服务技能 + 0.2 × 职业素养 (rules/training.yaml)
    scores = rows["8001"]["competencies"]
    expected = round(0.35 * scores["knowledge"] + 0.45 * scores["service_skills"] + 0.2 * scores["professionalism"], 1)
    assert rows["8001"]["composite"] == expected
    tier = "basic" if expected < 70 else "advanced" if expected < 90 else "leadership"
    assert rows["8001"]["tier"] == tier and rows["8001"]["tier_label"] == {"basic": "基础层", "advanced": "进阶层",
                                                                           "leadership": "提升层"}[tier]  # fmt: skip
    assert (rows["8002"]["composite"], rows["8002"]["tier"], rows["8002"]["tier_label"]) == (100.0, "leadership",
                                                                                             "提升层")  # fmt: skip

    lead = client.get(f"{API_PREFIX}/assessments?month=2024-03", headers=headers["team_lead"]).json()
    assert lead["team"] == "A组" and [r["agent_id"] for r in lead["items"]] == ["8001", "8002"]
    team_b = client.get(f"{API_PREFIX}/assessments?month=2024-03&team=B组", headers=headers["trainer"]).json()
    assert [r["agent_id"] for r in team_b["items"]] == ["9001"]
    assert (
        client.get(f"{API_PREFIX}/assessments?month=2024-03&team=B组", headers=headers["team_lead"]).status_code == 403
    )
    assert client.get(f"{API_PREFIX}/assessments?month=2024-03", headers=headers["agent"]).status_code == 403
    bad = client.get(f"{API_PREFIX}/assessments?month=2024-3x", headers=headers["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "month"
    assert client.get(f"{API_PREFIX}/assessments", headers=headers["admin"]).json()["items"] == []  # this month

    export = client.get(f"{API_PREFIX}/exports/assessments.xlsx?month=2024-03", headers=headers["trainer"])
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows_xlsx = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "月度考核"
    assert list(rows_xlsx[0]) == ["坐席", "姓名", "班组", "通话数", "平均分", "专业知识", "服务技能", "职业素养",
                                  "技能综合分", "建议层级", "红色预警数", "一票否决数", "完成辅导数",
                                  "考核等级"]  # fmt: skip
    assert [r[0] for r in rows_xlsx[1:]] == ["8001", "8002", "9001"] and rows_xlsx[2][-1] == "A"
    composite, tier_label = rows_xlsx[0].index("技能综合分"), rows_xlsx[0].index("建议层级")
    assert (rows_xlsx[1][composite], rows_xlsx[1][tier_label]) == (expected, rows["8001"]["tier_label"])
    assert (rows_xlsx[2][composite], rows_xlsx[2][tier_label]) == (100, "提升层")
    assert client.get(f"{API_PREFIX}/exports/assessments.xlsx", headers=headers["agent"]).status_code == 403
