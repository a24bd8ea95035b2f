"""Review carried over to a new rule set (``inspector.people.carryover``) in the API: the call detail's
``carry_over`` (what was carried, what was lost and why, in Chinese) and the staff-only list
``GET /reviews/carry-over-losses`` (narrowed for a team lead, refused to agents)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from api.app import API_PREFIX
from inspector.service import rescore
from inspector.service.context import WorkerContext, use_context
from inspector.settings import Settings
from inspector.store import rulesets
from inspector.store.blobs import LocalAudioStore

CJK = re.compile(r"[\u4e00-\u9fff]")
LOSS_KEYS = {"id", "call_id", "agent_id", "from_analysis_id", "to_analysis_id", "kind", "kind_text", "reason",
             "reason_text", "rule_id", "hit_index", "verdict", "text", "start", "end", "points", "reviewer", "comment",
             "at"}  # fmt: skip
LOSSES = f"{API_PREFIX}/reviews/carry-over-losses"


def _without_escalation(settings: Settings) -> dict[str, str]:
    files = rulesets.read_bundle(settings.rules_dir)
    data = yaml.safe_load(files["property-default.yaml"])
    data["version"] = 2
    data["rules"] = [r for r in data["rules"] if r["id"] != "escalation"]
    files["property-default.yaml"] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return files


def _activate_and_rescore(database: Any, settings: Settings, files: dict[str, str], call_ids: list[str]) -> int:
    with database.session() as s:
        record, _ = rulesets.add_ruleset(s, files)
        rulesets.activate(s, record.id)
        rule_set_id = record.id
    ctx = WorkerContext(settings, database, LocalAudioStore(settings.audio_store_dir))
    with use_context(ctx):
        assert rescore.rescore_calls(call_ids, rule_set_id) == len(call_ids)
    return rule_set_id


def _hit(page: dict, rule_id: str, deducting: bool) -> int:
    return next(h["index"] for h in page["hits"] if h["rule_id"] == rule_id and (h["points"] < 0) == deducting)


def test_the_call_detail_and_the_losses_list_show_the_carry_over(client, headers, make_call, database, settings):
    make_call("c1", "8001", transcript_of="call02_angry_stereo")
    make_call("c2", "8002", team="B组", transcript_of="call02_angry_stereo")
    make_call("c3", "8001")  # done, never reviewed
    reviewer = headers["reviewer"]
    page = client.get(f"{API_PREFIX}/calls/c1/review", headers=reviewer).json()
    prohibited, escalation = _hit(page, "prohibited", True), _hit(page, "escalation", False)
    for call_id, index, verdict in (("c1", prohibited, "rejected"), ("c1", escalation, "confirmed"),
                                    ("c2", escalation, "confirmed")):  # fmt: skip
        response = client.post(f"{API_PREFIX}/calls/{call_id}/hits/{index}/verdict",
                               json={"verdict": verdict, "comment": "复核"}, headers=reviewer)  # fmt: skip
        assert response.status_code == 200, response.text
    response = client.post(f"{API_PREFIX}/calls/c1/findings", headers=reviewer,
                           json={"description": "未告知处理时限", "points": -2, "dimension": "service"})  # fmt: skip
    assert response.status_code == 201 and response.json()["effective_score"] == 75.0  # 67 + 10 - 2
    before = client.get(f"{API_PREFIX}/calls/c1", headers=reviewer).json()
    assert before["carry_over"] is None

    new_rule_set = _activate_and_rescore(database, settings, _without_escalation(settings), ["c1", "c2", "c3"])

    detail = client.get(f"{API_PREFIX}/calls/c1", headers=headers["admin"]).json()
    assert detail["ruleset"]["id"] == new_rule_set and detail["effective_score"] == 75.0
    carry = detail["carry_over"]
    assert carry["to_analysis_id"] != carry["from_analysis_id"] and carry["at"].endswith("+08:00")
    assert [(v["rule_id"], v["verdict"]) for v in carry["verdicts"]] == [("prohibited", "rejected")]
    assert carry["findings_carried"] == 1 and carry["adjustment_carried"] is False and carry["review_carried"]
    [lost] = carry["lost"]
    assert set(lost) == LOSS_KEYS
    assert (lost["kind"], lost["reason"], lost["rule_id"], lost["hit_index"], lost["verdict"]) == (
        "verdict", "rule_removed", "escalation", escalation, "confirmed")  # fmt: skip
    assert lost["reason_text"] == "新规则集中已没有该规则" and lost["kind_text"] == "复核结论"
    assert lost["reviewer"].startswith("token:") and lost["text"] and lost["to_analysis_id"] == carry["to_analysis_id"]
    review = client.get(f"{API_PREFIX}/calls/c1/review", headers=reviewer).json()
    assert review["analysis_id"] == carry["to_analysis_id"] and review["effective_score"] == 75.0
    assert [h["verdict"] for h in review["hits"] if h["verdict"]] == ["rejected"]
    # The agent sees what happened to its call, not who reviewed it.
    mine = client.get(f"{API_PREFIX}/calls/c1", headers=headers["agent"]).json()["carry_over"]
    assert mine["lost"][0]["reviewer"] is None and mine["verdicts"] == carry["verdicts"]
    unreviewed = client.get(f"{API_PREFIX}/calls/c3", headers=headers["admin"]).json()
    assert "carry_over" in unreviewed and unreviewed["carry_over"] is None

    listed = client.get(LOSSES, headers=headers["admin"]).json()
    assert listed["total"] == 2 and listed["page"] == 1
    assert sorted(item["call_id"] for item in listed["items"]) == ["c1", "c2"]
    assert all(set(item) == LOSS_KEYS and CJK.search(item["reason_text"]) for item in listed["items"])
    for who in ("reviewer", "trainer"):
        assert client.get(LOSSES, headers=headers[who]).json()["total"] == 2
    assert [i["call_id"] for i in client.get(LOSSES, headers=headers["team_lead"]).json()["items"]] == ["c1"]
    assert [i["call_id"] for i in client.get(LOSSES, headers=headers["other_team_lead"]).json()["items"]] == ["c2"]
    only = client.get(f"{LOSSES}?call_id=c2", headers=headers["admin"]).json()
    assert only["total"] == 1 and only["items"][0]["agent_id"] == "8002"
    paged = client.get(f"{LOSSES}?page=2&page_size=1", headers=headers["admin"]).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1 and paged["page_size"] == 1
    for who in ("agent", "other_agent"):
        refused = client.get(LOSSES, headers=headers[who])
        assert refused.status_code == 403 and CJK.search(refused.json()["detail"])
