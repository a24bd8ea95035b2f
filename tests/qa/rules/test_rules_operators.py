"""Every condition operator on small hand-made transcripts: what matches and what must not."""

from __future__ import annotations

from typing import Any

import pytest

from inspector.qa.rules.engine import Finding, checks, compile_ruleset, evaluate
from inspector.qa.rules.schema import RuleSet
from inspector.speech.transcript import Transcript
from inspector.text.pinyin import find_phrase, fold_syllable, syllables

A, C = "agent", "customer"


def call(*utts: tuple[float, float, str, str], duration: float = 0.0) -> Transcript:
    return Transcript.from_dict(
        {"duration_s": duration, "utterances": [{"start": s, "end": e, "role": r, "text": t} for s, e, r, t in utts]}
    )


def run(when: dict[str, Any], transcript: Transcript, role: str = "agent", mode: str = "detect") -> list[Finding]:
    ruleset = RuleSet.model_validate(
        {
            "kind": "ruleset", "id": "t", "version": 1, "name": "测试",
            "dimensions": [{"id": "d", "name": "维度", "weight": 1}],
            "rules": [{"id": "r", "name": "规则", "category": "other", "dimension": "d", "mode": mode,
                       "points": 0 if mode == "detect" else 5, "role": role, "when": when}],
        }
    )  # fmt: skip
    return evaluate(compile_ruleset(ruleset), transcript)


def hits(when: dict[str, Any], transcript: Transcript, role: str = "agent") -> list[str]:
    return [f.text for f in run(when, transcript, role) if f.outcome == "hit"]


BASIC = call(
    (0.0, 3.0, A, "您好，阳光物业客服中心，工号一零二三。"),
    (3.5, 6.0, C, "我家漏水了，太过分了！"),
    (6.5, 9.0, A, "非常抱歉，请稍等。"),
    (9.5, 12.0, A, "感谢您的来电，再见。"),
)


# --- keywords -------------------------------------------------------------------------------------


def test_keywords_any_reports_word_and_time():
    found = run({"keywords": {"any": ["抱歉", "对不起"]}}, BASIC)
    assert [(f.text, f.start, f.end, f.role) for f in found] == [("抱歉", 6.5, 9.0, "agent")]
    assert "抱歉" in found[0].reason
    assert found[0].utterance == "非常抱歉，请稍等。"


def test_keywords_respect_role():
    assert hits({"keywords": {"any": ["太过分"]}}, BASIC, role="agent") == []
    assert hits({"keywords": {"any": ["太过分"]}}, BASIC, role="customer") == ["太过分"]
    assert hits({"keywords": {"any": ["太过分"]}}, BASIC, role="any") == ["太过分"]


def test_keywords_all_utterance_vs_call_scope():
    words = {"all": ["抱歉", "再见"]}
    assert hits({"keywords": words}, BASIC) == []  # never in one utterance
    assert sorted(hits({"keywords": {**words, "scope": "call"}}, BASIC)) == ["再见", "抱歉"]


def test_keywords_at_least():
    assert hits({"keywords": {"at_least": 2, "of": ["物业", "客服", "投诉"]}}, BASIC) == ["物业", "客服"]
    assert hits({"keywords": {"at_least": 3, "of": ["物业", "客服", "投诉"]}}, BASIC) == []
    assert len(hits({"keywords": {"at_least": 3, "of": ["物业", "抱歉", "再见"], "scope": "call"}}, BASIC)) == 3


def test_keywords_none_and_negation():
    assert run({"keywords": {"none": ["投诉"], "scope": "call"}}, BASIC)[0].outcome == "hit"
    assert hits({"keywords": {"none": ["物业"], "scope": "call"}}, BASIC) == []
    assert len(hits({"keywords": {"none": ["物业"]}}, BASIC)) == 2  # the two agent utterances without it
    assert run({"not": {"keywords": {"any": ["投诉"]}}}, BASIC)[0].reason.startswith("未出现")
    assert hits({"not": {"keywords": {"any": ["抱歉"]}}}, BASIC) == []


def test_keywords_exclude_skips_utterance():
    t = call((0, 2, A, "如有不清楚的地方请再来电。"), (3, 5, A, "这个我不清楚。"))
    assert [f.start for f in run({"keywords": {"any": ["不清楚"], "exclude": ["如有不清楚"]}}, t)] == [3.0]


def test_keywords_are_normalized_numerals():
    t = call((0, 3, C, "我要打一二三四五热线！"))
    assert hits({"keywords": {"any": ["12345"]}}, t, role="customer") == ["12345"]
    assert hits({"keywords": {"any": ["一二三四五"]}}, t, role="customer") == ["12345"]


def test_position_first_and_last():
    assert hits({"keywords": {"any": ["再见"]}, "position": {"last": 1}}, BASIC) == ["再见"]
    assert hits({"keywords": {"any": ["再见"]}, "position": {"first": 2}}, BASIC) == []
    assert hits({"keywords": {"any": ["您好"]}, "position": {"first": 1}}, BASIC) == ["您好"]
    assert hits({"keywords": {"any": ["您好"]}, "position": {"last": 2}}, BASIC) == []


# --- regex ----------------------------------------------------------------------------------------


def test_regex_on_normalized_text_with_exclude():
    assert hits({"regex": {"pattern": r"工号\d{4}"}}, BASIC) == ["工号1023"]
    assert hits({"regex": {"pattern": r"工号\d{4}", "exclude": "阳光"}}, BASIC) == []
    assert hits({"regex": {"pattern": r"工号\d{5}"}}, BASIC) == []


# --- phrase (pinyin) ------------------------------------------------------------------------------


def test_fold_near_homophones():
    assert fold_syllable("zhang") == fold_syllable("zan") == "zan"
    assert fold_syllable("chi") == "ci" and fold_syllable("shi") == "si"
    assert fold_syllable("nan") == "lan" and fold_syllable("xing") == "xin" and fold_syllable("feng") == "fen"


@pytest.mark.parametrize(
    ("phrase", "heard"),
    [
        ("理解您的心情", "我非常立见您的心情"),
        ("给您带来不便", "给您带来不变"),
        ("工号", "公号一零二三"),
        ("感谢您的来电", "感谢您的来订"),
    ],
)
def test_phrase_matches_asr_near_homophones(phrase: str, heard: str):
    found = hits({"phrase": {"phrases": [phrase]}}, call((0, 3, A, heard)))
    assert len(found) == 1 and found[0] in heard.replace("一零二三", "1023")


@pytest.mark.parametrize(
    ("phrase", "heard"),
    [
        ("工号", "请问您的房号是多少"),  # fang hao: one syllable off a 2-syllable phrase is another word
        ("理解您的心情", "我在立交桥下面"),
        ("感谢您的来电", "感谢您的耐心等待"),  # prefix of another phrase, no deletions forgiven
        ("理解您的心情", "我不知道您的心情"),  # two syllables off
    ],
)
def test_phrase_does_not_match_unrelated_text(phrase: str, heard: str):
    assert hits({"phrase": {"phrases": [phrase]}}, call((0, 3, A, heard))) == []


def test_phrase_exact_text_and_distance_zero():
    assert hits({"phrase": {"phrases": ["再见"]}}, BASIC) == ["再见"]
    assert hits({"phrase": {"phrases": ["理解您的心情"], "max_distance": 0}}, call((0, 3, A, "立见您的心情"))) == []


def test_find_phrase_reports_span():
    m = find_phrase(syllables("非常理解"), syllables("我真的非常立见"), 1, 4)
    assert m is not None and (m.start, m.end, m.distance) == (3, 7, 1)


# --- time-based operators -------------------------------------------------------------------------

HOLD = call(
    (0.0, 2.0, C, "物业费怎么算的？"),
    (2.5, 4.0, A, "请稍等，我帮您查询。"),
    (20.0, 23.0, A, "查到了，按面积算。"),
    (23.5, 25.0, C, "那公摊呢？"),
    (37.0, 40.0, A, "公摊按户数分摊。"),
)


def test_silence_excused_by_hold_phrase_and_not_otherwise():
    found = run({"silence": {"min_s": 10, "excuse": ["请稍等"]}}, HOLD)
    assert [(f.start, f.end) for f in found] == [(25.0, 37.0)]
    assert "12.0 秒" in found[0].reason
    assert len(run({"silence": {"min_s": 10}}, HOLD)) == 2
    assert run({"silence": {"min_s": 12, "excuse": ["请稍等"]}}, HOLD) == []  # strictly longer than min_s


def test_silence_between_roles_or_same():
    assert len(run({"silence": {"min_s": 10, "between": "same"}}, HOLD)) == 1  # agent -> agent
    assert [f.start for f in run({"silence": {"min_s": 10, "between": "roles"}}, HOLD)] == [25.0]


def test_silence_uses_the_utterance_that_ends_last():
    t = call((0, 30, C, "很长的一段话"), (5, 6, A, "嗯"), (31, 32, A, "好的"))
    assert run({"silence": {"min_s": 10}}, t) == []


def test_interruption_threshold_and_interrupter_role():
    t = call((0.0, 5.0, A, "请您提供一下房号"), (4.0, 6.0, C, "一号楼"), (6.5, 8.0, A, "好的"), (7.1, 9.0, C, "快点"))
    found = run({"interruption": {"min_overlap_s": 1.0}}, t, role="customer")
    assert [(f.start, f.end, f.role) for f in found] == [(4.0, 5.0, "customer")]  # 1.0 s counts, 0.9 s not
    assert len(run({"interruption": {"min_overlap_s": 0.5}}, t, role="customer")) == 2
    assert run({"interruption": {"min_overlap_s": 1.0}}, t, role="agent") == []


def test_speech_rate_boundary():
    text = "一二三四五六七八九十一二三四五"  # 15 characters, but normalized to digits: still 15
    at_limit = call((0.0, 3.0, A, text))  # 300 cpm: not faster than 300
    faster = call((0.0, 2.9, A, text))
    rule = {"speech_rate": {"max_cpm": 300, "min_chars": 15}}
    assert run(rule, at_limit) == []
    assert len(run(rule, faster)) == 1
    assert run({"speech_rate": {"max_cpm": 300, "min_chars": 16}}, faster) == []  # too short to judge
    assert "字/分钟" in run(rule, faster)[0].reason


def test_speech_rate_average_per_role():
    t = call((0, 2, A, "一二三四五六七八九十"), (3, 13, A, "一二三四五"))
    assert run({"speech_rate": {"max_cpm": 100, "average": True}}, t) == []  # 15 chars / 12 s = 75 cpm
    assert len(run({"speech_rate": {"max_cpm": 70, "average": True}}, t)) == 1


def test_latency():
    found = run({"latency": {"max_s": 10}}, HOLD)
    assert [(f.start, f.end) for f in found] == [(25.0, 37.0)]
    assert run({"latency": {"max_s": 12}}, HOLD) == []


def test_duration():
    assert len(run({"duration": {"max_s": 30}}, HOLD)) == 1
    assert run({"duration": {"min_s": 10, "max_s": 60}}, HOLD) == []
    assert "短于" in run({"duration": {"min_s": 60}}, HOLD)[0].reason


def test_repetition():
    t = call((0, 2, C, "我家厨房漏水了"), (3, 4, A, "好的"), (5, 7, C, "我家厨房又漏水了"), (8, 9, C, "好的"))
    found = run({"repetition": {"min_count": 2, "min_similarity": 0.8}}, t, role="customer")
    assert len(found) == 1 and found[0].start == 0 and found[0].end == 7
    assert run({"repetition": {"min_count": 3, "min_similarity": 0.8}}, t, role="customer") == []


# --- combinators ----------------------------------------------------------------------------------


def test_all_any_not():
    yes, no = {"keywords": {"any": ["抱歉"]}}, {"keywords": {"any": ["投诉"]}}
    assert hits({"all": [yes, {"keywords": {"any": ["再见"]}}]}, BASIC) == ["抱歉", "再见"]
    assert hits({"all": [yes, no]}, BASIC) == []
    assert hits({"any": [yes, no]}, BASIC) == ["抱歉"]
    assert hits({"all": [yes, {"not": no}]}, BASIC)[0] == ""  # call-level "not" evidence first
    assert hits({"not": {"any": [yes, no]}}, BASIC) == []


def test_after_anchor_within():
    emotion = {"keywords": {"any": ["太过分"]}, "role": "customer"}
    sorry = {"keywords": {"any": ["抱歉"]}}
    bye = {"keywords": {"any": ["再见"]}}
    assert hits({"after": {"anchor": emotion, "within": 1, "then": sorry}}, BASIC) == ["抱歉"]
    assert hits({"after": {"anchor": emotion, "within": 1, "then": bye}}, BASIC) == []  # 2nd agent turn
    assert hits({"after": {"anchor": emotion, "within": 2, "then": bye}}, BASIC) == ["再见"]
    greeting = {"keywords": {"any": ["您好"]}}
    assert hits({"after": {"anchor": emotion, "within": 5, "then": greeting}}, BASIC) == []  # before anchor


# --- modes and checks -----------------------------------------------------------------------------


def test_require_forbid_detect_points():
    missing = run({"keywords": {"any": ["投诉"]}}, BASIC, mode="require")
    assert [(f.outcome, f.points, f.violation) for f in missing] == [("missing", -5, True)]
    present = run({"keywords": {"any": ["抱歉"]}}, BASIC, mode="require")
    assert [(f.outcome, f.points, f.violation) for f in present] == [("hit", 0, False)]
    forbid = run({"keywords": {"any": ["抱歉", "再见"]}}, BASIC, mode="forbid")
    assert [f.points for f in forbid] == [-5, 0]  # deducted once per call
    assert all(f.points == 0 for f in run({"keywords": {"any": ["抱歉"]}}, BASIC, mode="detect"))


def test_checks_count_hits_only():
    findings = run({"keywords": {"any": ["投诉"]}}, BASIC, mode="require")
    assert checks(findings, ["other"]) == {"other": False}
    assert checks(run({"keywords": {"any": ["抱歉"]}}, BASIC), ["other", "greeting"]) == {
        "other": True,
        "greeting": False,
    }


def test_word_timestamps_locate_evidence():
    t = Transcript.from_dict(
        {"utterances": [{"start": 0.0, "end": 3.0, "role": "agent", "text": "您好，非常抱歉",
                         "words": [{"start": 0.0, "end": 0.8, "text": "您好", "probability": 0.9},
                                   {"start": 1.0, "end": 1.8, "text": "非常", "probability": 0.9},
                                   {"start": 1.9, "end": 3.0, "text": "抱歉", "probability": 0.9}]}]}
    )  # fmt: skip
    found = run({"keywords": {"any": ["抱歉"]}}, t)
    assert (found[0].start, found[0].end) == (1.9, 3.0)
