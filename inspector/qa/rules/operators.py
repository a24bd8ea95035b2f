"""Compiled condition operators. Each finds its ``Hit``s (evidence with time and words) in a
``CallView``; a condition "holds" when it has at least one hit. See ``schema`` for the semantics.
Keywords, regexes and phrases with digits match whole numbers only (``UttView.whole``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import regex
from rapidfuzz import fuzz

from inspector.qa.rules.view import CallView, UttView
from inspector.speech.transcript import ROLE_NAMES_ZH
from inspector.text.numbers import bounded_pattern, has_digit, unmark
from inspector.text.pinyin import SyllableMatch, find_phrase, syllables

EPS = 1e-6  # timestamps have 2-3 decimals; a 1.0 s overlap must not read as 0.9999999


@dataclass(frozen=True)
class Hit:
    """Evidence of one occurrence: when, whose utterance (index in the view, None for the whole
    call or a gap), the words behind it and a reason in Chinese."""

    start: float
    end: float
    text: str
    utt: int | None
    reason: str


def _role_zh(role: str) -> str:
    return ROLE_NAMES_ZH.get(role, "任一方")


class Op(Protocol):
    def hits(self, view: CallView, role: str) -> list[Hit]: ...


def _span_hit(u: UttView, start: int, end: int, reason: str) -> Hit:
    t0, t1 = u.span_time(start, end)
    return Hit(t0, t1, u.norm[start:end], u.index, reason)


def _utt_hit(u: UttView, reason: str) -> Hit:
    return Hit(u.start, u.end, u.utt.text, u.index, reason)


def _call_hit(view: CallView, reason: str) -> Hit:
    return Hit(0.0, view.duration, "", None, reason)


def _dedupe(hits: list[Hit]) -> list[Hit]:
    return sorted(dict.fromkeys(hits), key=lambda h: (h.start, h.end))


@dataclass(frozen=True)
class Scope:
    """Which utterances a text condition reads: an optional role override and first/last N."""

    role: str | None = None
    first: int | None = None
    last: int | None = None

    def utterances(self, view: CallView, role: str) -> list[UttView]:
        return view.select(view.indices(self.role or role, self.first, self.last))


@dataclass(frozen=True)
class KeywordsOp:
    mode: str  # any | all | none | at_least
    words: tuple[str, ...]  # normalized
    at_least: int
    per_call: bool
    exclude: tuple[str, ...]
    scope: Scope

    def _found(self, u: UttView) -> list[str]:
        return [w for w in self.words if w in u.keywords]

    def _word_hits(self, u: UttView, words: list[str]) -> list[Hit]:
        return [_span_hit(u, u.keywords[w][0], u.keywords[w][0] + len(w), f"命中关键词「{w}」") for w in words]

    def hits(self, view: CallView, role: str) -> list[Hit]:
        utts = [u for u in self.scope.utterances(view, role) if not any(w in u.keywords for w in self.exclude)]
        found = [(u, self._found(u)) for u in utts]
        need = len(self.words) if self.mode == "all" else self.at_least
        out: list[Hit] = []
        if self.mode == "none":
            if self.per_call:
                if not any(words for _, words in found):
                    out.append(_call_hit(view, f"{_role_zh(self.scope.role or role)}未说任何关键词"))
            else:
                out += [_utt_hit(u, "该句不含任何关键词") for u, words in found if not words]
        elif self.mode == "any":
            for u, words in found:
                out += self._word_hits(u, words)
        elif self.per_call:
            distinct = {w for _, words in found for w in words}
            if len(distinct) >= need:
                for u, words in found:
                    out += self._word_hits(u, words)
        else:
            for u, words in found:
                if len(words) >= need:
                    out += self._word_hits(u, words)
        return out


# Seconds one rule regex may spend on one utterance (ordinary patterns need microseconds). A pattern
# that runs out raises ``RegexTimeout``; the engine reports it as an error of its rule.
REGEX_TIMEOUT_S = 0.5


class RegexTimeout(Exception):
    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self.pattern = pattern


@dataclass(frozen=True)
class NumberRegex:
    """A rule regex as written (``source``) and as run (``compiled``): it never starts or ends in the
    middle of a number, and searches ``UttView.marked``, where two numbers that meet stay apart."""

    source: str
    compiled: regex.Pattern[str]

    @classmethod
    def compile(cls, source: str) -> NumberRegex:
        verbose = bool(regex.compile(source).flags & regex.VERBOSE)
        return cls(source, regex.compile(bounded_pattern(source, verbose)))


@dataclass(frozen=True)
class RegexOp:
    pattern: NumberRegex
    exclude: NumberRegex | None
    scope: Scope

    def hits(self, view: CallView, role: str) -> list[Hit]:
        out: list[Hit] = []
        current = self.pattern
        try:
            for u in self.scope.utterances(view, role):
                text = u.marked
                if self.exclude is not None:
                    current = self.exclude
                    if self.exclude.compiled.search(text, timeout=REGEX_TIMEOUT_S):
                        continue
                current = self.pattern
                for m in self.pattern.compiled.finditer(text, timeout=REGEX_TIMEOUT_S):
                    start, end = m.span() if text is u.norm else (unmark(m.start(), text), unmark(m.end(), text))
                    if end > start:
                        out.append(_span_hit(u, start, end, f"匹配正则「{self.pattern.source}」"))
        except TimeoutError:
            raise RegexTimeout(current.source) from None
        return out


@dataclass(frozen=True)
class PhraseOp:
    phrases: tuple[tuple[str, tuple[str, ...], bool], ...]  # (normalized phrase, folded syllables, has digits)
    max_distance: int
    min_fuzzy_syllables: int
    scope: Scope

    @classmethod
    def build(cls, phrases: list[str], normalize, max_distance: int, min_fuzzy: int, scope: Scope) -> PhraseOp:
        norm = [normalize(p) for p in phrases]
        return cls(tuple((p, syllables(p), has_digit(p)) for p in norm if p), max_distance, min_fuzzy, scope)

    @staticmethod
    def _whole_exact(u: UttView, phrase: str) -> int:
        at = u.norm.find(phrase)
        while at >= 0 and not u.whole(at, at + len(phrase)):
            at = u.norm.find(phrase, at + 1)
        return at

    def _whole_fuzzy(self, u: UttView, sylls: tuple[str, ...]) -> SyllableMatch | None:
        m = find_phrase(sylls, u.syllables, self.max_distance, self.min_fuzzy_syllables, u.syllable_set)
        if m is None or u.whole(m.start, m.end):
            return m
        # Digits only ever match themselves: try each window that covers whole numbers.
        n, best = len(sylls), None
        for i in range(len(u.syllables) - n + 1):
            if u.whole(i, i + n):
                w = find_phrase(sylls, u.syllables[i : i + n], self.max_distance, self.min_fuzzy_syllables)
                if w is not None and (best is None or w.distance < best.distance):
                    best = SyllableMatch(i, i + n, w.distance)
        return best

    def hits(self, view: CallView, role: str) -> list[Hit]:
        out: list[Hit] = []
        for u in self.scope.utterances(view, role):
            for phrase, sylls, digits in self.phrases:
                at = self._whole_exact(u, phrase) if digits else u.norm.find(phrase)
                if at >= 0:
                    out.append(_span_hit(u, at, at + len(phrase), f"命中话术「{phrase}」"))
                    continue
                if digits:
                    m = self._whole_fuzzy(u, sylls)
                else:
                    m = find_phrase(sylls, u.syllables, self.max_distance, self.min_fuzzy_syllables, u.syllable_set)
                if m is not None:
                    heard = u.norm[m.start : m.end]
                    out.append(_span_hit(u, m.start, m.end, f"近音命中话术「{phrase}」（识别为「{heard}」）"))
        return out


@dataclass(frozen=True)
class SilenceOp:
    min_s: float
    between: str  # any | roles | same
    excuse: tuple[str, ...]  # normalized

    def hits(self, view: CallView, role: str) -> list[Hit]:
        out: list[Hit] = []
        utts = view.utterances
        if not utts:
            return out
        before = utts[0]  # the utterance that ends last so far: the gap follows it
        for u in utts[1:]:
            gap = u.start - before.end
            if gap > self.min_s + EPS:
                same = u.role == before.role
                wanted = self.between == "any" or (self.between == "same") == same
                excused = before.role == "agent" and any(w in before.keywords for w in self.excuse)
                if wanted and not excused:
                    out.append(
                        Hit(before.end, u.start, before.utt.text, before.index,
                            f"静音 {gap:.1f} 秒（超过 {self.min_s:g} 秒），前一句为{_role_zh(before.role)}所说")
                    )  # fmt: skip
            if u.end > before.end:
                before = u
        return out


@dataclass(frozen=True)
class InterruptionOp:
    min_overlap_s: float
    role: str | None

    def hits(self, view: CallView, role: str) -> list[Hit]:
        who = self.role or role
        out: list[Hit] = []
        for u in view.utterances:
            if who != "any" and u.role != who:
                continue
            for other in view.utterances[: u.index]:
                overlap = other.end - u.start
                if other.role != u.role and other.start < u.start and overlap + EPS >= self.min_overlap_s:
                    out.append(
                        Hit(u.start, min(other.end, u.end), u.utt.text, u.index,
                            f"{_role_zh(u.role)}在{_role_zh(other.role)}说完前 {overlap:.1f} 秒开口（抢话）")
                    )  # fmt: skip
                    break
        return out


@dataclass(frozen=True)
class SpeechRateOp:
    max_cpm: float
    min_chars: int
    average: bool
    role: str | None

    def hits(self, view: CallView, role: str) -> list[Hit]:
        utts = view.select(view.indices(self.role or role))
        if self.average:
            chars = sum(len(u.norm) for u in utts)
            seconds = sum(u.end - u.start for u in utts)
            if seconds > 0 and chars >= self.min_chars:
                cpm = chars * 60 / seconds
                if cpm > self.max_cpm:
                    return [_call_hit(view, f"平均语速 {cpm:.0f} 字/分钟（上限 {self.max_cpm:g}）")]
            return []
        out: list[Hit] = []
        for u in utts:
            seconds = u.end - u.start
            if seconds <= 0 or len(u.norm) < self.min_chars:
                continue
            cpm = len(u.norm) * 60 / seconds
            if cpm > self.max_cpm:
                reason = f"语速 {cpm:.0f} 字/分钟（上限 {self.max_cpm:g}，{len(u.norm)} 字 {seconds:.1f} 秒）"
                out.append(_utt_hit(u, reason))
        return out


@dataclass(frozen=True)
class LatencyOp:
    max_s: float

    def hits(self, view: CallView, role: str) -> list[Hit]:
        out: list[Hit] = []
        for prev, nxt in zip(view.utterances, view.utterances[1:], strict=False):
            if prev.role == "customer" and nxt.role == "agent":
                wait = nxt.start - prev.end
                if wait > self.max_s + EPS:
                    out.append(
                        Hit(prev.end, nxt.start, nxt.utt.text, nxt.index,
                            f"客户说完 {wait:.1f} 秒后坐席才回应（上限 {self.max_s:g} 秒）")
                    )  # fmt: skip
        return out


@dataclass(frozen=True)
class DurationOp:
    min_s: float | None
    max_s: float | None

    def hits(self, view: CallView, role: str) -> list[Hit]:
        d = view.duration
        if self.min_s is not None and d < self.min_s - EPS:
            return [_call_hit(view, f"通话时长 {d:.0f} 秒，短于 {self.min_s:g} 秒")]
        if self.max_s is not None and d > self.max_s + EPS:
            return [_call_hit(view, f"通话时长 {d:.0f} 秒，超过 {self.max_s:g} 秒")]
        return []


@dataclass(frozen=True)
class RepetitionOp:
    min_count: int
    min_similarity: float
    min_chars: int
    role: str | None

    def hits(self, view: CallView, role: str) -> list[Hit]:
        utts = [u for u in view.select(view.indices(self.role or role)) if len(u.norm) >= self.min_chars]
        reported: set[int] = set()
        out: list[Hit] = []
        for i, u in enumerate(utts):
            if u.index in reported:
                continue
            similar = [v for v in utts[i:] if fuzz.ratio(u.norm, v.norm) >= self.min_similarity * 100]
            if len(similar) >= self.min_count:
                reported.update(v.index for v in similar)
                last = similar[-1]
                out.append(Hit(u.start, last.end, " / ".join(v.utt.text for v in similar), u.index,
                               f"{_role_zh(u.role)}重复表达同一内容 {len(similar)} 次"))  # fmt: skip
        return out


@dataclass(frozen=True)
class AllOp:
    children: tuple[Op, ...]

    def hits(self, view: CallView, role: str) -> list[Hit]:
        out: list[Hit] = []
        for child in self.children:
            found = child.hits(view, role)
            if not found:
                return []
            out += found
        return _dedupe(out)


@dataclass(frozen=True)
class AnyOp:
    children: tuple[Op, ...]

    def hits(self, view: CallView, role: str) -> list[Hit]:
        return _dedupe([h for child in self.children for h in child.hits(view, role)])


@dataclass(frozen=True)
class NotOp:
    child: Op
    reason: str

    def hits(self, view: CallView, role: str) -> list[Hit]:
        return [] if self.child.hits(view, role) else [_call_hit(view, self.reason)]


@dataclass(frozen=True)
class AfterOp:
    anchor: Op
    then: Op
    within: int
    then_role: str | None

    def hits(self, view: CallView, role: str) -> list[Hit]:
        anchors = self.anchor.hits(view, role)
        if not anchors:
            return []
        then_role = self.then_role or role
        window: set[int] = set()
        for a in anchors:
            if a.utt is not None:
                follow = [i for i in view.indices(then_role) if i > a.utt]
            else:
                follow = [i for i in view.indices(then_role) if view.utterances[i].start >= a.end]
            window.update(follow[: self.within])
        return [h for h in self.then.hits(view, role) if h.utt in window]
