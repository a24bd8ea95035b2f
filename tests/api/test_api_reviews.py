"""Review API: the queue, weekly sampling, a call's review page, verdicts, findings, explicit scores,
rule precision and the audit log, with the role rules."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")
REVIEW_KEYS = {"id", "call_id", "agent_id", "reason", "status", "score", "machine_score", "alert", "started_at",
               "created_at", "reviewer", "completed_at", "comment", "agent_name"}  # fmt: skip
HIT_KEYS = {"index", "rule_id", "name", "category", "role", "start", "end", "text", "points", "dimension",
            "confidence", "uncertain", "verdict", "verdict_by", "verdict_comment", "appeal"}  # fmt: skip
PAGE_KEYS = {"call_id", "analysis_id", "machine_score", "reviewed_score", "effective_score", "review", "hits",
             "added_findings", "audit"}  # fmt: skip


def _index(page: dict, rule_id: str) -> int:
    return next(h["index"] for h in page["hits"] if h["rule_id"] == rule_id and h["points"] < 0)


@pytest.fixture
def week_calls(make_call) -> None:
    """Three calls in the week of Monday 2024-03-11 (8001: 67 red and 95; 8002: 85), one in the next week."""
    make_call("r1", "8001", started_at=datetime(2024, 3, 12, 9, tzinfo=TZ), transcript_of="call02_angry_stereo")
    make_call("r2", "8001", started_at=datetime(2024, 3, 13, 9, tzinfo=TZ), transcript_of="call07_garbage_mono")
    make_call("r3", "8002", started_at=datetime(2024, 3, 14, 9, tzinfo=TZ), transcript_of="call04_fee_hold_stereo")
    make_call("r4", "8002", started_at=datetime(2024, 3, 19, 9, tzinfo=TZ), transcript_of="call02_angry_stereo")


def test_sampling_and_the_review_queue(client, headers, week_calls) -> None:
    url = f"{API_PREFIX}/reviews"
    response = client.post(f"{url}/sample", json={"week": "2024-03-13"}, headers=headers["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["week"] == "2024-03-11"
    # lowest 5% of 3 calls → r1 (67); a random call of each agent (8002 has one: r3).
    assert body["added"] in (2, 3)
    assert client.post(f"{url}/sample", json={"week": "2024-03-11"}, headers=headers["admin"]).json()["added"] == 0

    page = client.get(url, headers=headers["reviewer"]).json()
    assert page["total"] == body["added"] and len(page["items"]) == body["added"]
    assert all(set(item) == REVIEW_KEYS for item in page["items"])
    lowest = client.get(f"{url}?reason=lowest", headers=headers["admin"]).json()["items"]
    assert [(r["call_id"], r["reason"], r["status"], r["score"], r["machine_score"], r["alert"]) for r in lowest] == [
        ("r1", "lowest", "pending", 67.0, 67.0, "red")]  # fmt: skip
    assert lowest[0]["started_at"] == "2024-03-12T09:00:00+08:00" and lowest[0]["reviewer"] is None
    only_8002 = client.get(f"{url}?agent_id=8002", headers=headers["admin"]).json()
    assert [(r["call_id"], r["reason"]) for r in only_8002["items"]] == [("r3", "random")]
    assert client.get(f"{url}?status=done", headers=headers["admin"]).json()["total"] == 0
    paged = client.get(f"{url}?page=1&page_size=1", headers=headers["admin"]).json()
    assert len(paged["items"]) == 1 and paged["total"] == body["added"]

    review_id = lowest[0]["id"]
    done = client.post(f"{url}/{review_id}/complete", json={"comment": "已核实"}, headers=headers["reviewer"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["reviewer"].startswith("token:")
    assert done.json()["comment"] == "已核实" and done.json()["completed_at"]
    again = client.post(f"{url}/{review_id}/complete", headers=headers["reviewer"])
    assert again.status_code == 409 and again.json()["code"] == "review_done" and CJK.search(again.json()["detail"])
    assert client.post(f"{url}/99999/complete", headers=headers["reviewer"]).status_code == 404
    assert client.get(f"{url}?status=done", headers=headers["admin"]).json()["total"] == 1

    audit = client.get(f"{API_PREFIX}/audit?entity=review&entity_id={review_id}", headers=headers["admin"]).json()
    assert [e["action"] for e in audit["items"]] == ["review.queue", "review.complete"]


def test_sampling_defaults_to_the_last_complete_week_and_checks_its_input(app, client, headers) -> None:
    today = app.state.inspector.today()
    last_monday = today - timedelta(days=today.weekday() + 7)
    body = client.post(f"{API_PREFIX}/reviews/sample", headers=headers["admin"]).json()
    assert body == {"added": 0, "week": last_monday.isoformat()}
    bad = client.post(f"{API_PREFIX}/reviews/sample", json={"week": "last week"}, headers=headers["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "week"


REFUSED = [
    ("trainer", "GET", "/reviews"),
    ("team_lead", "GET", "/reviews"),
    ("agent", "GET", "/reviews"),
    ("trainer", "POST", "/reviews/sample"),
    ("agent", "POST", "/reviews/1/complete"),
    ("trainer", "POST", "/calls/c1/hits/0/verdict"),  # a trainer cannot change scores
    ("team_lead", "POST", "/calls/c1/hits/0/verdict"),
    ("agent", "POST", "/calls/c1/hits/0/verdict"),
    ("trainer", "POST", "/calls/c1/findings"),
    ("trainer", "POST", "/calls/c1/score"),
    ("agent", "POST", "/calls/c1/score"),
    ("agent", "GET", "/rules/precision"),
    ("trainer", "GET", "/audit?entity=call&entity_id=c1"),
    ("agent", "GET", "/audit?entity=call&entity_id=c1"),
]


def test_roles_that_cannot_review_get_403(client, headers, make_call) -> None:
    make_call("c1", transcript_of="call04_fee_hold_stereo")
    body = {"verdict": "rejected", "score": 50, "reason": "x", "description": "x", "points": -1, "dimension": "service"}
    for who, method, path in REFUSED:
        response = client.request(method, API_PREFIX + path, headers=headers[who], json=body)
        assert response.status_code == 403, (who, method, path, response.text)
        assert response.json()["code"] == "forbidden" and "无权" in response.json()["detail"]
    page = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["admin"]).json()
    assert page["reviewed_score"] is None and page["audit"] == []  # nothing changed


def test_verdicts_change_the_score_and_the_scorecard_follows(client, headers, make_call) -> None:
    make_call("c1", transcript_of="call04_fee_hold_stereo")  # 85: empathy -5, apology -3, silence -5, slow -2
    url = f"{API_PREFIX}/calls/c1"
    page = client.get(f"{url}/review", headers=headers["reviewer"]).json()
    assert set(page) == PAGE_KEYS
    assert (page["machine_score"], page["reviewed_score"], page["effective_score"]) == (85.0, None, 85.0)
    assert page["review"] is None and page["added_findings"] == [] and page["audit"] == []
    assert all(set(h) == HIT_KEYS for h in page["hits"]) and [h["index"] for h in page["hits"]] == list(
        range(len(page["hits"])))  # fmt: skip
    silence = _index(page, "silence")
    assert page["hits"][silence]["name"] == "长时间静音" and page["hits"][silence]["verdict"] is None

    response = client.post(f"{url}/hits/{silence}/verdict", json={"verdict": "rejected", "comment": "客户要求等待"},
                           headers=headers["reviewer"])  # fmt: skip
    assert response.status_code == 200, response.text
    page = response.json()
    assert (page["machine_score"], page["reviewed_score"], page["effective_score"]) == (85.0, 90.0, 90.0)
    hit = page["hits"][silence]
    assert (hit["verdict"], hit["verdict_comment"]) == ("rejected", "客户要求等待")
    assert hit["verdict_by"].startswith("token:")
    assert page["review"]["reason"] == "manual" and page["review"]["status"] == "pending"
    (entry,) = [e for e in page["audit"] if e["action"] == "verdict.set"]
    assert entry["role"] == "reviewer" and entry["before"]["effective_score"] == 85.0
    assert entry["after"]["reviewed_total"] == 90.0 and entry["reason"] == "客户要求等待"

    listed = client.get(f"{API_PREFIX}/calls?agent_id=8001", headers=headers["admin"]).json()["items"]
    assert [c["score"] for c in listed] == [90.0]  # the call list follows
    card = client.get(f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-15&to=2024-03-15", headers=headers["admin"])
    assert card.json()["average_score"] == 90.0

    confirmed = client.post(f"{url}/hits/{_index(page, 'empathy')}/verdict", json={"verdict": "confirmed"},
                            headers=headers["admin"])  # fmt: skip
    assert confirmed.status_code == 200 and confirmed.json()["effective_score"] == 90.0

    out_of_range = client.post(f"{url}/hits/999/verdict", json={"verdict": "rejected"}, headers=headers["admin"])
    assert out_of_range.status_code == 404 and out_of_range.json()["code"] == "hit_not_found"
    assert CJK.search(out_of_range.json()["detail"])
    bad = client.post(f"{url}/hits/0/verdict", json={"verdict": "maybe"}, headers=headers["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "verdict"
    missing = client.post(f"{API_PREFIX}/calls/nope/hits/0/verdict", json={"verdict": "rejected"},
                          headers=headers["admin"])  # fmt: skip
    assert missing.status_code == 404 and missing.json()["code"] == "call_not_found"


def test_who_sees_the_review_page(client, headers, make_call) -> None:
    make_call("c1", transcript_of="call04_fee_hold_stereo")
    make_call("q1", status="queued")
    url = f"{API_PREFIX}/calls/c1"
    silence = _index(client.get(f"{url}/review", headers=headers["admin"]).json(), "silence")
    client.post(f"{url}/hits/{silence}/verdict", json={"verdict": "rejected"}, headers=headers["reviewer"])
    for who in ("trainer", "team_lead", "admin"):
        page = client.get(f"{url}/review", headers=headers[who]).json()
        assert page["audit"] and page["hits"][silence]["verdict_by"] is not None
    own = client.get(f"{url}/review", headers=headers["agent"])
    assert own.status_code == 200
    page = own.json()  # the agent sees findings and verdicts, not who made them
    assert page["audit"] == [] and page["hits"][silence]["verdict"] == "rejected"
    assert page["hits"][silence]["verdict_by"] is None and page["review"]["reviewer"] is None
    other = client.get(f"{url}/review", headers=headers["other_agent"])
    assert other.status_code == 404 and other.json()["code"] == "call_not_found"
    queued = client.get(f"{API_PREFIX}/calls/q1/review", headers=headers["admin"])
    assert queued.status_code == 409 and queued.json()["code"] == "not_analyzed"


def test_added_findings_and_explicit_scores(client, headers, make_call) -> None:
    make_call("c1", transcript_of="call04_fee_hold_stereo")  # 85
    url = f"{API_PREFIX}/calls/c1"
    finding = {"description": "未核实业主身份", "points": -5, "dimension": "service", "start": 1.0, "end": 2.5}
    response = client.post(f"{url}/findings", json=finding, headers=headers["reviewer"])
    assert response.status_code == 201, response.text
    page = response.json()
    assert page["effective_score"] == 80.0
    (added,) = page["added_findings"]
    assert {k: added[k] for k in finding} == finding and added["rule_id"] is None and added["reviewer"]
    by_rule = client.post(f"{url}/findings", json={"description": "未致歉", "points": -2, "rule_id": "apology"},
                          headers=headers["admin"])  # fmt: skip
    assert by_rule.status_code == 201 and by_rule.json()["added_findings"][1]["dimension"] == "emotion"
    assert by_rule.json()["effective_score"] == 78.0

    for bad, field in (
        ({"description": "x", "points": 5, "dimension": "service"}, "points"),
        ({"points": -5}, "description"),
    ):
        refused = client.post(f"{url}/findings", json=bad, headers=headers["admin"])
        assert refused.status_code == 422 and refused.json()["field"] == field
    unknown = client.post(f"{url}/findings", json={"description": "x", "points": -1, "dimension": "nope"},
                          headers=headers["admin"])  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_review_input"
    assert "nope" in unknown.json()["detail"]

    no_reason = client.post(f"{url}/score", json={"score": 70}, headers=headers["reviewer"])
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    blank = client.post(f"{url}/score", json={"score": 70, "reason": "   "}, headers=headers["reviewer"])
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    too_high = client.post(f"{url}/score", json={"score": 120, "reason": "x"}, headers=headers["reviewer"])
    assert too_high.status_code == 422 and too_high.json()["field"] == "score"
    adjusted = client.post(f"{url}/score", json={"score": 70, "reason": "通话外另有投诉"}, headers=headers["reviewer"])
    assert adjusted.status_code == 200, adjusted.text
    assert (adjusted.json()["reviewed_score"], adjusted.json()["effective_score"]) == (70.0, 70.0)
    assert client.get(f"{API_PREFIX}/calls", headers=headers["admin"]).json()["items"][0]["score"] == 70.0

    audit = client.get(f"{API_PREFIX}/audit?entity=call&entity_id=c1", headers=headers["reviewer"]).json()["items"]
    assert [e["action"] for e in audit] == ["finding.add", "finding.add", "score.adjust"]
    last = audit[-1]
    assert set(last) == {"id", "at", "actor", "role", "action", "entity", "entity_id", "before", "after", "reason"}
    assert (last["before"]["effective_score"], last["after"]["reviewed_total"]) == (78.0, 70.0)
    assert last["reason"] == "通话外另有投诉" and last["actor"].startswith("token:")
    missing = client.get(f"{API_PREFIX}/audit?entity=call", headers=headers["admin"])
    assert missing.status_code == 422 and missing.json()["field"] == "entity_id"


def test_rule_precision(client, headers, make_call) -> None:
    make_call("c1", transcript_of="call04_fee_hold_stereo", started_at=datetime(2024, 3, 12, 9, tzinfo=TZ))
    make_call("c2", transcript_of="call06_elevator_mono", started_at=datetime(2024, 3, 13, 9, tzinfo=TZ))
    for call_id, verdict in (("c1", "rejected"), ("c2", "confirmed")):
        page = client.get(f"{API_PREFIX}/calls/{call_id}/review", headers=headers["admin"]).json()
        client.post(f"{API_PREFIX}/calls/{call_id}/hits/{_index(page, 'silence')}/verdict", json={"verdict": verdict},
                    headers=headers["reviewer"])  # fmt: skip
        client.post(f"{API_PREFIX}/calls/{call_id}/hits/{_index(page, 'empathy')}/verdict",
                    json={"verdict": "confirmed"}, headers=headers["reviewer"])  # fmt: skip
    url = f"{API_PREFIX}/rules/precision"
    for who in ("trainer", "team_lead"):
        response = client.get(f"{url}?from=2024-03-01&to=2024-03-31", headers=headers[who])
        assert response.status_code == 200, response.text
        assert response.json()["items"] == [
            {"rule_id": "silence", "name": "长时间静音", "confirmed": 1, "rejected": 1, "precision": 0.5},
            {"rule_id": "empathy", "name": "共情安抚", "confirmed": 2, "rejected": 0, "precision": 1.0},
        ]
    assert client.get(f"{url}?from=2024-03-13&to=2024-03-13", headers=headers["admin"]).json()["items"][0] == {
        "rule_id": "empathy", "name": "共情安抚", "confirmed": 1, "rejected": 0, "precision": 1.0}  # fmt: skip
    assert client.get(f"{url}?to={date(2024, 3, 1)}", headers=headers["admin"]).json()["items"] == []
    backwards = client.get(f"{url}?from=2024-03-31&to=2024-03-01", headers=headers["admin"])
    assert backwards.status_code == 422 and backwards.json()["field"] == "from"
