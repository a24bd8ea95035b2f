"""Confidence-aware findings: what the recognizer doubted deducts and alerts nothing until confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.qa.rules.engine import compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.scoring import score_call
from inspector.speech.transcript import Transcript

PACK = """\
kind: ruleset
id: confidence-pack
version: 1
name: 置信度测试
min_confidence: {pack}
dimensions:
  - {{id: service, name: 服务规范, weight: 50}}
  - {{id: compliance, name: 合规, weight: 50}}
rules:
  - id: greeting
    name: 开场问候
    category: greeting
    dimension: service
    mode: require
    points: 5
    when: {{keywords: {{any: [您好]}}, position: {{first: 1}}}}
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
    min_confidence: {abuse}
    when: {{keywords: {{any: [神经病]}}}}
  - id: dead_air
    name: 长时间静音
    category: silence
    dimension: service
    mode: forbid
    points: 3
    when: {{silence: {{min_s: 5}}}}
"""


def _compiled(tmp_path: Path, pack: float = 0.5, abuse: float | None = None):
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(pack=pack, abuse="null" if abuse is None else abuse), encoding="utf-8")
    return compile_ruleset(load_ruleset(path))


def _utt(role: str, start: float, text: str, probability: float | None) -> dict:
    """An utterance whose characters are one word each, all heard with ``probability`` (None: the
    transcript states no confidence at all, as a reference or another recognizer's output)."""
    utt: dict = {"role": role, "speaker": role, "start": start, "end": start + 0.25 * len(text), "text": text}
    if probability is not None:
        utt["confidence"] = probability
        utt["words"] = [
            {"start": start + 0.25 * i, "end": start + 0.25 * (i + 1), "text": ch, "probability": probability}
            for i, ch in enumerate(text)
        ]
    return utt


def _call(*utts: dict) -> Transcript:
    return Transcript.from_dict({"file": "c.wav", "duration_s": 60.0, "utterances": list(utts)})


def _by_rule(findings):
    return {f.rule_id: f for f in findings}


def test_a_taboo_heard_with_low_confidence_is_uncertain_and_costs_nothing(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path)
    doubtful = _call(_utt("agent", 0.0, "您好物业", 0.9), _utt("agent", 2.0, "这个不归我们管", 0.3))
    found = _by_rule(evaluate(compiled, doubtful))["prohibited"]
    assert found.uncertain and found.confidence == pytest.approx(0.3) and found.points == -10
    score = score_call(compiled, evaluate(compiled, doubtful))
    assert score.total == 100.0 and score.alert == "none" and score.alert_reasons == []
    assert score.uncertain_rules == ["prohibited"] and score.deductions == []

    clear = _call(_utt("agent", 0.0, "您好物业", 0.9), _utt("agent", 2.0, "这个不归我们管", 0.8))
    found = _by_rule(evaluate(compiled, clear))["prohibited"]
    assert not found.uncertain and found.confidence == pytest.approx(0.8)
    score = score_call(compiled, evaluate(compiled, clear))
    assert score.total == 90.0 and score.alert == "yellow" and score.uncertain_rules == []


def test_the_confidence_is_that_of_the_words_of_the_hit_not_the_whole_utterance(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path)
    utt = _utt("agent", 2.0, "好的好的这个不归我们管", 0.9)
    for word in utt["words"][:4]:  # 好的好的 badly heard, the taboo itself clearly
        word["probability"] = 0.05
    found = _by_rule(evaluate(compiled, _call(_utt("agent", 0.0, "您好", 0.9), utt)))["prohibited"]
    assert found.confidence == pytest.approx(0.9) and not found.uncertain


def test_a_forbid_rule_deducts_at_its_first_certain_hit(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path)
    call = _call(
        _utt("agent", 0.0, "您好", 0.9),
        _utt("agent", 2.0, "不归我们管", 0.2),
        _utt("agent", 6.0, "真的不归我们管", 0.9),
    )
    hits = [f for f in evaluate(compiled, call) if f.rule_id == "prohibited"]
    assert [(f.points, f.uncertain) for f in hits] == [(0, True), (-10, False)]
    assert score_call(compiled, evaluate(compiled, call)).total == 90.0


def test_a_missing_item_is_uncertain_where_the_stretch_it_belongs_to_was_badly_heard(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path)
    garbled = _call(_utt("agent", 0.0, "喂物业", 0.2), _utt("customer", 2.0, "我家漏水", 0.9))
    missing = _by_rule(evaluate(compiled, garbled))["greeting"]
    assert missing.outcome == "missing" and missing.uncertain and missing.confidence == pytest.approx(0.2)
    assert score_call(compiled, evaluate(compiled, garbled)).total == 100.0

    clear = _call(_utt("agent", 0.0, "喂物业", 0.9), _utt("customer", 2.0, "我家漏水", 0.1))
    missing = _by_rule(evaluate(compiled, clear))["greeting"]  # only the agent's first utterance counts
    assert not missing.uncertain and missing.confidence == pytest.approx(0.9)
    assert score_call(compiled, evaluate(compiled, clear)).total == 95.0


def test_unheard_speech_where_the_greeting_belongs_makes_its_absence_uncertain(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path)
    unheard = {"role": "agent", "speaker": "agent", "start": 0.0, "end": 2.0, "text": "", "confidence": 0.0,
               "flags": ["unheard"]}  # fmt: skip
    call = _call(unheard, _utt("agent", 3.0, "请讲", 0.9), _utt("customer", 4.0, "我家漏水", 0.9))
    missing = _by_rule(evaluate(compiled, call))["greeting"]
    assert missing.outcome == "missing" and missing.uncertain


def test_time_based_findings_are_always_certain(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, pack=0.99)
    call = _call(_utt("agent", 0.0, "您好", 0.99), _utt("agent", 10.0, "请讲", 0.1))
    silence = _by_rule(evaluate(compiled, call))["dead_air"]
    assert silence.confidence == 1.0 and not silence.uncertain and silence.points == -3


def test_a_fatal_violation_heard_with_doubt_vetoes_nothing_and_a_rule_may_set_its_own_threshold(
    tmp_path: Path,
) -> None:
    call = _call(_utt("agent", 0.0, "您好", 0.9), _utt("agent", 2.0, "你神经病", 0.4))
    compiled = _compiled(tmp_path)  # pack 0.5: 0.4 is doubtful
    score = score_call(compiled, evaluate(compiled, call))
    assert not score.fatal and score.total == 100.0 and score.uncertain_rules == ["abuse"]
    strict = _compiled(tmp_path, abuse=0.3)  # the rule trusts 0.4
    score = score_call(strict, evaluate(strict, call))
    assert score.fatal and score.total == 0.0 and score.alert == "red"
    never = _compiled(tmp_path, pack=0.0)
    assert score_call(never, evaluate(never, call)).fatal


def test_a_transcript_without_confidence_is_scored_as_certain(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, pack=0.9)
    call = _call(_utt("agent", 0.0, "喂", None), _utt("agent", 2.0, "不归我们管", None))
    findings = evaluate(compiled, call)
    assert all(f.confidence == 1.0 and not f.uncertain for f in findings)
    assert score_call(compiled, findings).total == 85.0


def test_min_confidence_out_of_range_is_refused_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(pack=1.5, abuse="null"), encoding="utf-8")
    with pytest.raises(Exception, match="min_confidence"):
        load_ruleset(path)
