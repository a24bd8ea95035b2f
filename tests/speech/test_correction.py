"""Verified domain bias: a domain phrase may only replace a recognized near-homophone."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.speech.correction import Candidate, PhraseFinder, apply, correct

HOTWORDS = ["工号", "房号", "理解", "不便", "物业", "漏水", "维修"]


def test_near_homophones_are_candidates_and_exact_or_distant_words_are_not():
    finder = PhraseFinder(HOTWORDS)
    heard = "您好，阳光午夜客服，公号一零二三，请问您的防号是多少，我非常立见"
    pairs = [(c.phrase, heard[c.start : c.end]) for c in finder.candidates(heard)]
    assert pairs == [("物业", "午夜"), ("工号", "公号"), ("房号", "防号")]  # 立见 li jian is not 理解 li jie
    # Already right, or a different word (the initial differs: 房号 fang hao is not 工号 gong hao).
    assert finder.candidates("工号房号物业") == []
    assert finder.candidates("今天天气很好") == []
    assert finder.candidates("好的先生") == []
    # Punctuation never sits inside a candidate; single characters are never phrases.
    assert PhraseFinder(["号"]).candidates("公号") == []
    assert finder.candidates("公，号") == []


def test_apply_keeps_the_length_so_word_timings_stay():
    text = "公号1023，请问防号"
    fixed = apply(text, [Candidate(0, 2, "工号"), Candidate(9, 11, "房号")])
    assert fixed == "工号1023，请问房号"
    assert len(fixed) == len(text)


class FakeScorer:
    """Scores a text by the preferred phrases it holds (a stand-in for the recognizer's judgement)."""

    def __init__(self, liked: dict[str, float]) -> None:
        self.liked = liked
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> list[float]:
        self.calls += 1
        return [sum(v for k, v in self.liked.items() if k in t) for t in texts]


def test_correct_keeps_only_what_the_scorer_prefers_by_a_margin():
    text = "公号1023，请问防号"
    candidates = PhraseFinder(HOTWORDS).candidates(text)
    scorer = FakeScorer({"工号": 2.0, "房号": 0.3})
    accepted = correct(text, candidates, scorer, margin=0.5)
    assert [c.phrase for c in accepted] == ["工号"]  # 房号 gains less than the margin
    assert scorer.calls == 1 + len(candidates)  # the text once, then each candidate once
    assert correct(text, candidates, FakeScorer({}), margin=0.5) == []


def test_correction_never_adds_or_removes_characters():
    finder = PhraseFinder(HOTWORDS)
    for text in ["甚至出现交易几乎停滞的情况", "换一首歌", "我想问我在滨海新区有房", "楼上漏税了，公号多少"]:
        accepted = correct(text, finder.candidates(text), FakeScorer({p: 5.0 for p in HOTWORDS}), 0.5)
        assert len(apply(text, accepted)) == len(text)
