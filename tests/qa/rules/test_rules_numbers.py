"""Numbers match as numbers: a keyword, regex or phrase with digits matches whole numbers only, however
the recognizer wrote them (digits, Chinese numerals, spaced digits), and never a piece of a longer one."""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.qa.rules.engine import CompiledRuleSet, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.rules.schema import RuleSet
from inspector.settings import PROJECT_ROOT
from inspector.speech.transcript import Transcript

A, C = "agent", "customer"


def call(*utts: tuple[str, str]) -> Transcript:
    rows = [{"start": 2.0 * i, "end": 2.0 * i + 1.5, "role": r, "text": t} for i, (r, t) in enumerate(utts)]
    return Transcript.from_dict({"duration_s": 2.0 * len(utts), "utterances": rows})


@cache
def default_pack() -> CompiledRuleSet:
    return compile_ruleset(load_ruleset(PROJECT_ROOT / "rules" / "property-default.yaml"))


def escalation(text: str) -> list[str]:
    return [f.text for f in evaluate(default_pack(), call((C, text))) if f.rule_id == "escalation"]


def compiled(when: dict[str, Any], role: str = "any") -> CompiledRuleSet:
    return compile_ruleset(RuleSet.model_validate({
        "kind": "ruleset", "id": "t", "version": 1, "name": "测试",
        "dimensions": [{"id": "d", "name": "维度", "weight": 1}],
        "rules": [{"id": "r", "name": "规则", "category": "other", "dimension": "d", "mode": "detect",
                   "points": 0, "role": role, "when": when}],
    }))  # fmt: skip


def hits(when: dict[str, Any], *texts: str) -> list[str]:
    return [f.text for f in evaluate(compiled(when), call(*((A, t) for t in texts)))]


# --- the default pack: 12345 (市长热线) ---------------------------------------------------------------


def test_a_phone_number_never_raises_the_hotline_alert():
    for text in ["我的手机号是13912345678，你们记一下。", "电话幺三九幺二三四五六七八", "139 1234 5678",
                 "139-1234-5678", "尾号123456", "座机是012345"]:  # fmt: skip
        assert escalation(text) == [], text
    findings = evaluate(default_pack(), call((A, "您好，阳光物业客服中心。"), (C, "我手机13912345678，快来修。")))
    assert not any(f.alert == "red" for f in findings)


def test_12345_said_as_digits_or_chinese_numerals_raises_it():
    for text in ["我要打12345！", "我要打一二三四五", "幺二三四五热线", "我打 1 2 3 4 5", "打12345，电话13912345678",
                 "打一二三四五一直打不通", "我打12345一下就通了"]:  # fmt: skip
        assert escalation(text) == ["12345"], text
    findings = [f for f in evaluate(default_pack(), call((C, "我要打一二三四五！"))) if f.rule_id == "escalation"]
    assert findings[0].alert == "red" and findings[0].reason == "命中关键词「12345」"


def test_12345_as_an_amount_or_an_id_is_not_the_hotline():
    assert escalation("我交了一万二千三百四十五块") == []
    assert escalation("12345元的维修费") == []
    assert escalation("工号12345的客服") == []
    assert escalation("工号12345的客服太差了，我要投诉") == ["我要投诉"]  # the other words still count


# --- operators ------------------------------------------------------------------------------------


def test_keywords_with_digits_match_whole_numbers():
    rule = {"keywords": {"any": ["110", "350元"]}}
    assert hits(rule, "我要报警打幺幺零", "这个月三百五十元") == ["110", "350元"]
    assert hits(rule, "打1100", "一千一百零五", "一千三百五十元") == []
    assert hits(rule, "1110，110") == ["110"]  # not the 110 inside 1110
    assert hits({"keywords": {"any": ["请稍等"], "exclude": ["110"]}}, "请稍等，1101") == ["请稍等"]


def test_regex_with_digits_matches_whole_numbers():
    rule = {"regex": {"pattern": r"工号\d{4}"}}
    assert hits(rule, "工号一零二三，很高兴为您服务", "工号1023", "公号1023") == ["工号1023", "工号1023"]
    assert hits(rule, "工号10234", "工号一零二三四") == []
    assert hits({"regex": {"pattern": r"\d{3}"}}, "12，345") == ["345"]
    assert hits({"regex": {"pattern": r"\d+"}}, "打12345，13912345678") == ["12345", "13912345678"]
    assert hits({"regex": {"pattern": r"1[3-9]\d{9}"}}, "幺三九幺二三四五六七八") == ["13912345678"]


def test_regex_reason_and_exclude_use_the_pattern_as_written():
    found = evaluate(compiled({"regex": {"pattern": r"工号\d{4}", "exclude": "110"}}), call((A, "工号1023")))
    assert found[0].reason == "匹配正则「工号\\d{4}」"
    assert hits({"regex": {"pattern": r"工号\d{4}", "exclude": "110"}}, "工号1023，1101") == ["工号1023"]
    assert hits({"regex": {"pattern": r"工号\d{4}", "exclude": "110"}}, "工号1023，110") == []
    assert hits({"regex": {"pattern": "(?x) 工号 \\d{4}  # 四位"}}, "工号1023", "工号10234") == ["工号1023"]


def test_phrase_with_digits_matches_whole_numbers_and_stays_tolerant():
    rule = {"phrase": {"phrases": ["工号1023"]}}
    assert hits(rule, "工号一零二三") == ["工号1023"]
    assert hits(rule, "公号1023") == ["公号1023"]  # homophone, as before
    assert hits(rule, "工号10234", "公号10234", "工号11023") == []
    assert hits(rule, "工号10234工号1023") == ["工号1023"]  # the whole one, not the first
    assert hits(rule, "公号10234公号1023") == ["公号1023"]
    assert hits({"phrase": {"phrases": ["工号"]}}, "工号10234") == ["工号"]  # no digits: unchanged


def test_gonghao_numbers_are_still_found_and_timed():
    transcript = Transcript.from_dict({"duration_s": 4.0, "utterances": [{
        "start": 0.0, "end": 4.0, "role": A, "text": "您好，工号一零二三。",
        "words": [{"start": 0.0, "end": 1.0, "text": "您好，", "probability": 0.9},
                  {"start": 1.0, "end": 2.0, "text": "工号", "probability": 0.9},
                  {"start": 2.0, "end": 3.5, "text": "一零二三。", "probability": 0.9}],
    }]})  # fmt: skip
    found = evaluate(compiled({"regex": {"pattern": r"工号\d{4}"}}), transcript)
    assert [(f.text, f.start, f.end) for f in found] == [("工号1023", 1.0, 3.5)]
    findings = evaluate(default_pack(), call((A, "您好，阳光物业客服中心，工号一零二三。")))
    assert [f.outcome for f in findings if f.rule_id == "self_id"] == ["hit"]


# --- property: a digit keyword never matches inside a longer digit run ----------------------------

# Text around the numbers: Chinese without numeral characters (and without 点, 万, 百分之).
WORDS = st.text(alphabet="我要打电话热线投诉你们的号码是喂请问好吗，。！ ", max_size=6)
NUMBERS = st.text(alphabet="0123456789", min_size=1, max_size=6)
CN = str.maketrans("0123456789", "零一二三四五六七八九")


@st.composite
def longer_runs(draw: st.DrawFn) -> tuple[str, str]:
    """A digit keyword and a text where it only occurs inside a longer number."""
    keyword = draw(NUMBERS)
    before, after = draw(st.text(alphabet="0123456789", max_size=3)), draw(st.text(alphabet="0123456789", max_size=3))
    if not before and not after:
        after = draw(st.sampled_from("0123456789"))
    number = before + keyword + after
    spelled = draw(st.sampled_from([number, number.translate(CN), " ".join(number)]))
    return keyword, draw(WORDS) + "打" + spelled + "号" + draw(WORDS)


@settings(max_examples=150, deadline=None, database=None)
@given(longer_runs())
def test_a_digit_keyword_never_matches_inside_a_longer_number(case: tuple[str, str]):
    keyword, text = case
    for when in ({"keywords": {"any": [keyword]}}, {"regex": {"pattern": keyword}},
                 {"phrase": {"phrases": [keyword]}}):  # fmt: skip
        assert hits(when, text) == [], (when, text)


@settings(max_examples=100, deadline=None, database=None)
@given(NUMBERS, WORDS, WORDS, st.booleans())
def test_a_digit_keyword_matches_the_same_number_however_written(keyword: str, left: str, right: str, cn: bool):
    text = left + "打" + (keyword.translate(CN) if cn else keyword) + "号" + right
    assert hits({"keywords": {"any": [keyword]}}, text) == [keyword]
    assert hits({"keywords": {"any": [keyword.translate(CN)]}}, text) == [keyword]
