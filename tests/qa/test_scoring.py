"""Call scoring: dimensions, deductions, 一票否决, alert levels, and the reference calls' ranking."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.qa.rules.engine import CompiledRuleSet, Finding, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.scoring import CallScore, score_call, to_dict
from inspector.settings import PROJECT_ROOT
from inspector.speech.transcript import Transcript

PACK = """\
kind: ruleset
id: test-pack
version: 1
name: 测试规则
dimensions:
  - {{id: service, name: 服务规范, weight: {service}}}
  - {{id: compliance, name: 合规, weight: {compliance}}}
rules:
  - id: greeting
    name: 开场问候
    category: greeting
    dimension: service
    mode: require
    points: 5
    when: {{keywords: {{any: [您好]}}, position: {{first: 1}}}}
  - id: closing
    name: 规范结束语
    category: closing
    dimension: service
    mode: require
    points: 8
    when: {{keywords: {{any: [再见]}}}}
  - id: prohibited
    name: 服务禁语
    category: prohibited
    dimension: compliance
    mode: forbid
    points: 10
    alert: yellow
    when: {{keywords: {{any: [不归我们管]}}}}
  - id: abuse
    name: 辱骂客户
    category: prohibited
    dimension: compliance
    mode: forbid
    points: 20
    fatal: true
    alert: none
    when: {{keywords: {{any: [神经病]}}}}
  - id: escalation
    name: 客户扬言投诉升级
    category: escalation
    dimension: compliance
    mode: detect
    alert: red
    role: customer
    when: {{keywords: {{any: ["12345", 曝光]}}}}
  - id: customer_interrupts
    name: 客户抢话
    category: interruption
    dimension: compliance
    mode: detect
    alert: blue
    role: customer
    when: {{interruption: {{min_overlap_s: 1.0}}}}
"""


def _pack(tmp_path: Path, service: int = 60, compliance: int = 40) -> CompiledRuleSet:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(service=service, compliance=compliance), encoding="utf-8")
    return compile_ruleset(load_ruleset(path))


def _call(*lines: tuple[str, str], overlap: bool = False) -> Transcript:
    """A transcript of (role, text) lines, 3 s each, back to back (or overlapping by 1.5 s)."""
    step = 1.5 if overlap else 3.0
    utterances = [
        {"start": i * step, "end": i * step + 3.0, "role": role, "text": text} for i, (role, text) in enumerate(lines)
    ]
    return Transcript.from_dict({"duration_s": len(lines) * 3.0, "utterances": utterances})


GOOD = (("agent", "您好，物业客服。"), ("customer", "我家漏水了。"), ("agent", "马上派人，再见。"))


def _score(compiled: CompiledRuleSet, transcript: Transcript) -> CallScore:
    return score_call(compiled, evaluate(compiled, transcript))


def test_full_marks_without_deductions(tmp_path: Path):
    compiled = _pack(tmp_path)
    score = _score(compiled, _call(*GOOD))
    assert score.total == 100.0
    assert {d.id: (d.weight, d.score) for d in score.dimensions.values()} == {
        "service": (60.0, 60.0),
        "compliance": (40.0, 40.0),
    }
    assert not score.fatal and score.fatal_rules == []
    assert score.alert == "none" and score.alert_reasons == []
    assert score.deductions == []


def test_deduction_lowers_only_its_dimension(tmp_path: Path):
    compiled = _pack(tmp_path)
    score = _score(compiled, _call(("agent", "您好，物业客服。"), ("customer", "我家漏水了。"), ("agent", "好的。")))
    assert score.deductions == [("closing", 8)]
    assert score.dimensions["service"].score == 52.0
    assert score.dimensions["compliance"].score == 40.0
    assert score.total == 92.0


def test_forbid_rule_deducts_once_and_alerts(tmp_path: Path):
    compiled = _pack(tmp_path)
    call = _call(("agent", "您好，物业客服。"), ("agent", "不归我们管。"), ("agent", "真的不归我们管，再见。"))
    score = _score(compiled, call)
    assert score.deductions == [("prohibited", 10)]
    assert score.dimensions["compliance"].score == 30.0 and score.total == 90.0
    assert score.alert == "yellow"
    assert score.alert_reasons == ["黄色预警：服务禁语（「不归我们管」）"]


def test_dimension_floored_at_zero(tmp_path: Path):
    compiled = _pack(tmp_path, service=10, compliance=90)
    score = _score(compiled, _call(("customer", "喂？"), ("agent", "嗯。")))  # no greeting (5), no closing (8)
    assert sorted(score.deductions) == [("closing", 8), ("greeting", 5)]
    assert score.dimensions["service"].score == 0.0  # 10 - 13, floored
    assert score.dimensions["compliance"].score == 90.0
    assert score.total == 90.0


def test_weights_are_normalized_to_100(tmp_path: Path):
    compiled = _pack(tmp_path, service=3, compliance=1)
    full = _score(compiled, _call(*GOOD))
    assert full.dimensions["service"].weight == pytest.approx(75.0)
    assert full.dimensions["compliance"].weight == pytest.approx(25.0)
    assert full.total == 100.0
    # Points are on the 100-point scale, whatever the raw weights were.
    missing = _score(compiled, _call(("agent", "您好，物业客服。"), ("agent", "好的。")))
    assert missing.dimensions["service"].score == pytest.approx(67.0)
    assert missing.total == 92.0


def test_all_zero_weights_share_equally(tmp_path: Path):
    compiled = _pack(tmp_path, service=0, compliance=0)
    score = _score(compiled, _call(*GOOD))
    assert [d.weight for d in score.dimensions.values()] == [50.0, 50.0]
    assert score.total == 100.0


def test_fatal_violation_zeroes_total_and_is_red(tmp_path: Path):
    compiled = _pack(tmp_path)
    score = _score(compiled, _call(("agent", "您好，物业客服。"), ("agent", "你神经病吧，再见。")))
    assert score.fatal and score.fatal_rules == ["abuse"]
    assert score.total == 0.0
    # The dimensions keep their scores for coaching: only the total is vetoed.
    assert score.dimensions["service"].score == 60.0
    assert score.dimensions["compliance"].score == 20.0
    assert score.alert == "red"  # the rule says alert: none, a fatal violation is red regardless
    assert score.alert_reasons == ["红色预警：一票否决：辱骂客户（「神经病」）"]


def test_alert_is_the_highest_level(tmp_path: Path):
    compiled = _pack(tmp_path)
    call = _call(
        ("agent", "您好，物业客服。"),
        ("customer", "你们再不修我就打12345，还要找媒体曝光。"),
        ("agent", "这个不归我们管。"),
        ("customer", "什么？"),
        ("agent", "再见。"),
        overlap=True,
    )
    findings = evaluate(compiled, call)
    assert {f.alert for f in findings} >= {"red", "yellow", "blue"}
    score = score_call(compiled, findings)
    assert score.alert == "red"
    assert score.alert_reasons[0] == "红色预警：客户扬言投诉升级（「12345」、「曝光」）"
    assert score.alert_reasons[1] == "黄色预警：服务禁语（「不归我们管」）"
    assert score.alert_reasons[2].startswith("蓝色预警：客户抢话")
    assert len(score.alert_reasons) == 3


def test_hand_built_findings_and_unknown_dimension(tmp_path: Path):
    compiled = _pack(tmp_path)
    base = Finding(
        rule_id="x", name="某规则", category="other", dimension="service", mode="detect", outcome="hit",
        role="agent", start=0.0, end=1.0, text="", utterance="", points=0, violation=False, fatal=False,
        alert="blue", reason="",
    )  # fmt: skip
    score = score_call(compiled, [base, replace(base, rule_id="y", name="另一规则", alert="yellow", text="词")])
    assert score.alert == "yellow"
    assert score.alert_reasons == ["黄色预警：另一规则（「词」）", "蓝色预警：某规则"]
    with pytest.raises(ValueError, match="nowhere"):
        score_call(compiled, [replace(base, dimension="nowhere")])


def test_to_dict_shape(tmp_path: Path):
    compiled = _pack(tmp_path, service=2, compliance=1)
    data = to_dict(_score(compiled, _call(("agent", "您好，物业客服。"), ("agent", "不归我们管，再见。"))))
    assert data == {
        "total": 90.0,
        "dimensions": {
            "service": {"name": "服务规范", "weight": 66.7, "score": 66.7},
            "compliance": {"name": "合规", "weight": 33.3, "score": 23.3},
        },
        "fatal": False,
        "fatal_rules": [],
        "alert": "yellow",
        "alert_reasons": ["黄色预警：服务禁语（「不归我们管」）"],
        "uncertain_rules": [],
    }
    json.dumps(data, ensure_ascii=False)  # plain JSON


def test_default_pack_ranks_good_calls_above_bad(samples_dir: Path):
    compiled = compile_ruleset(load_ruleset(PROJECT_ROOT / "rules" / "property-default.yaml"))
    files = sorted(samples_dir.glob("*.json"))
    assert len(files) == 7
    scored: list[tuple[str, str, CallScore]] = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        scored.append((path.stem, data["labels"]["quality"], _score(compiled, Transcript.from_dict(data))))
    summary = "\n".join(f"{stem} {quality} {s.total} alert={s.alert} {s.deductions}" for stem, quality, s in scored)
    good = [s.total for _, quality, s in scored if quality == "good"]
    bad = [s.total for _, quality, s in scored if quality == "bad"]
    assert good and bad, summary
    assert min(good) > max(bad), summary
    assert all(0.0 <= s.total <= 100.0 for *_, s in scored), summary
