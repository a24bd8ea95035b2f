"""POST /rulesets/playground (规则试验台): one rule tried on a pasted dialogue or a stored call, nothing written;
GET /rulesets/playground: the active pack's rules as written, to start from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.app import API_PREFIX
from inspector.store import rulesets
from inspector.store.schema import Analysis, Call, RuleSetRecord

URL = f"{API_PREFIX}/rulesets/playground"

RULE = """\
id: sorry
name: 致歉
category: apology
dimension: emotion
mode: require
points: 5
when:
  keywords: {any: [抱歉, 不好意思]}
"""

DIALOGUE = """\
坐席：您好，物业客服中心。
客户：我家楼上漏水了。

坐席：非常抱歉给您添麻烦了，我马上派人。
客户：好的
"""


def _active(database: Any, settings: Any) -> None:
    with database.session() as session:
        rulesets.ensure_default(session, settings.rules_dir)


def _counts(database: Any) -> tuple[int, int, int]:
    with database.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Analysis, Call, RuleSetRecord))  # type: ignore[return-value]


def test_a_rule_on_a_pasted_dialogue(client, headers, database, settings) -> None:
    _active(database, settings)
    before = _counts(database)
    response = client.post(URL, headers=headers["trainer"], json={"rule_yaml": RULE, "dialogue": DIALOGUE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert _counts(database) == before  # nothing stored
    assert (body["rule_id"], body["source"], body["call_id"], body["ruleset"]["active"]) == ("sorry", "dialogue",
                                                                                               None, True)  # fmt: skip
    assert [(u["index"], u["role"], u["text"]) for u in body["utterances"]] == [
        (0, "agent", "您好，物业客服中心。"), (1, "customer", "我家楼上漏水了。"),
        (2, "agent", "非常抱歉给您添麻烦了，我马上派人。"), (3, "customer", "好的"),
    ]  # fmt: skip
    # Made-up times: 4 characters a second (at least a second), half a second apart.
    assert [(u["start"], u["end"]) for u in body["utterances"]] == [(0.0, 2.5), (3.0, 5.0), (5.5, 9.75),
                                                                    (10.25, 11.25)]  # fmt: skip
    # Without word times a finding spans its utterance.
    assert body["findings"] == [{"rule_id": "sorry", "outcome": "hit", "role": "agent", "start": 5.5, "end": 9.75,
                                 "text": "抱歉", "utterance": 2, "points": 0, "confidence": 1.0, "uncertain": False,
                                 "reason": "命中关键词「抱歉」"}]  # fmt: skip

    # A forbid rule on the customer's words; copied from a pack with its "- " (a one-item list).
    forbid = "- id: leak\n  name: 漏水\n  category: prohibited\n  dimension: compliance\n  mode: forbid\n" \
             "  points: 3\n  role: customer\n  when: {keywords: {any: [漏水]}}\n"  # fmt: skip
    response = client.post(URL, headers=headers["reviewer"], json={"rule_yaml": forbid, "dialogue": DIALOGUE})
    assert response.status_code == 200, response.text
    assert [(f["outcome"], f["role"], f["text"], f["utterance"], f["points"]) for f in response.json()["findings"]] \
        == [("hit", "customer", "漏水", 1, -3)]  # fmt: skip

    # Nothing found by a require rule: one "missing" finding over the whole call.
    response = client.post(URL, headers=headers["admin"], json={"rule_yaml": RULE, "dialogue": "坐席：您好\n客户：嗯"})
    (missing,) = response.json()["findings"]
    assert (missing["outcome"], missing["utterance"], missing["points"], missing["text"]) == ("missing", None, -5, "")


def test_a_rule_on_a_stored_call(client, headers, make_call) -> None:
    make_call("pg1", transcript_of="call02_angry_stereo")
    rule = "id: complaint\nname: 投诉\ncategory: escalation\ndimension: compliance\nmode: detect\nrole: customer\n" \
           "when:\n  keywords: {any: [投诉]}\n"  # fmt: skip
    response = client.post(URL, headers=headers["admin"], json={"rule_yaml": rule, "call_id": "pg1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "call" and body["call_id"] == "pg1"
    complaining = [u["index"] for u in body["utterances"] if u["role"] == "customer" and "投诉" in u["text"]]
    assert complaining and sorted({f["utterance"] for f in body["findings"]}) == complaining
    for f in body["findings"]:
        said = body["utterances"][f["utterance"]]
        assert f["outcome"] == "hit" and f["role"] == said["role"] == "customer" and f["points"] == 0
        assert "投诉" in said["text"] and said["start"] - 0.001 <= f["start"] <= f["end"] <= said["end"] + 0.001


def _error(client: Any, headers: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(URL, headers=headers["admin"], json=body)
    assert response.status_code == 422, response.text
    return response.json()


def test_invalid_rules_and_dialogues_are_422_naming_the_line(client, headers, database, settings) -> None:
    _active(database, settings)
    broken = _error(client, headers, {"rule_yaml": "id: a\nname: [x\n", "dialogue": DIALOGUE})
    assert broken["code"] == "invalid_rule_file" and broken["file"] == "rule_yaml" and broken["line"] == 3
    assert "YAML 语法错误" in broken["detail"]

    unknown = _error(client, headers, {"rule_yaml": RULE.replace("dimension: emotion", "dimension: speed"),
                                       "dialogue": DIALOGUE})  # fmt: skip
    assert (unknown["line"], unknown["rule"]) == (4, "sorry")
    assert "未知的维度 speed" in unknown["detail"] and "emotion" in unknown["detail"]  # the active pack's dimensions

    bad_mode = _error(client, headers, {"rule_yaml": RULE.replace("mode: require", "mode: must"), "dialogue": DIALOGUE})
    assert bad_mode["line"] == 5 and "字段 mode 的值 'must' 无效" in bad_mode["detail"]

    bad_cond = _error(client, headers, {"rule_yaml": RULE.replace("any: [", "anyy: ["), "dialogue": DIALOGUE})
    assert bad_cond["line"] == 8 and bad_cond["rule"] == "sorry"

    no_id = _error(client, headers, {"rule_yaml": RULE.replace("id: sorry\n", ""), "dialogue": DIALOGUE})
    assert no_id["line"] == 1 and "缺少字段 id" in no_id["detail"]

    not_a_rule = _error(client, headers, {"rule_yaml": "just words", "dialogue": DIALOGUE})
    assert "必须是一条规则" in not_a_rule["detail"]

    line = _error(client, headers, {"rule_yaml": RULE, "dialogue": "坐席：您好\n\n主管：我来\n"})
    assert (line["code"], line["field"], line["line"]) == ("invalid_request", "dialogue", 3)
    assert "第 3 行须以「坐席：」或「客户：」开头" in line["detail"]
    empty_line = _error(client, headers, {"rule_yaml": RULE, "dialogue": "坐席：您好\n客户：  \n"})
    assert empty_line["line"] == 2 and "没有内容" in empty_line["detail"]

    too_long = _error(client, headers, {"rule_yaml": RULE, "dialogue": "坐席：好\n" * 201})
    assert too_long["field"] == "dialogue" and "最多 200 行" in too_long["detail"]
    too_big = _error(client, headers, {"rule_yaml": RULE + "description: " + "长" * 7000 + "\n", "dialogue": DIALOGUE})
    assert too_big["field"] == "rule_yaml" and "20480 字节" in too_big["detail"]
    neither = _error(client, headers, {"rule_yaml": RULE})
    both = _error(client, headers, {"rule_yaml": RULE, "dialogue": DIALOGUE, "call_id": "x"})
    assert neither["field"] == both["field"] == "call_id"


def test_agents_see_only_their_calls_and_not_the_rules(client, headers, make_call) -> None:
    make_call("own", agent_id="8001")
    make_call("theirs", agent_id="8002", team="B组")
    mine = client.post(URL, headers=headers["agent"], json={"rule_yaml": RULE, "call_id": "own"})
    assert mine.status_code == 200, mine.text
    for who, call_id in (("agent", "theirs"), ("team_lead", "theirs"), ("admin", "nope")):
        foreign = client.post(URL, headers=headers[who], json={"rule_yaml": RULE, "call_id": call_id})
        assert (foreign.status_code, foreign.json()["code"]) == (404, "call_not_found"), (who, foreign.text)
    # The active pack's rule texts (its keywords) are not for agents.
    refused = client.get(URL, headers=headers["agent"])
    assert refused.status_code == 403, refused.text


def test_the_active_rules_as_written(client, headers, database, settings) -> None:
    _active(database, settings)
    response = client.get(URL, headers=headers["trainer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dimensions"] == ["service", "communication", "emotion", "resolution", "compliance"]
    greeting = body["rules"][0]
    assert (greeting["rule_id"], greeting["name"]) == ("greeting", "开场问候")
    assert greeting["yaml"].startswith("id: greeting\nname: 开场问候\n") and "# 您好/你好" in greeting["yaml"]
    assert not greeting["yaml"].rstrip().endswith("#")  # the next section's comment is not part of it
    for example in body["rules"]:  # each one runs as it is
        tried = client.post(URL, headers=headers["trainer"], json={"rule_yaml": example["yaml"], "dialogue": DIALOGUE})
        assert tried.status_code == 200, (example["rule_id"], tried.text)
        assert tried.json()["rule_id"] == example["rule_id"]
