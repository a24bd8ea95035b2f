"""Rule evaluation: compile a ``RuleSet`` once, then evaluate it on transcripts into findings.

Compiling builds one Aho-Corasick automaton over every keyword of every rule (and the silence
excuse phrases), precompiles regexes and precomputes the pinyin of phrases. Per transcript a
``CallView`` normalizes each utterance once and runs the automaton once per utterance; the
operators then only look things up. Numbers match as numbers: a keyword, regex or phrase with digits
never matches part of a longer number (12345 is not found in 13912345678, ``inspector.text.numbers``).
Every ``Finding`` carries the words and timestamps behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import ahocorasick

from inspector.errors import InspectorError
from inspector.qa.rules import operators as ops
from inspector.qa.rules import schema as s
from inspector.qa.rules.view import CallView
from inspector.speech.transcript import Transcript, Utterance
from inspector.speech.utterances import confidence_of
from inspector.text.numbers import has_digit, normalize_for_match

# The "did this happen on the call?" questions of the reference labels (samples/README.md).
CHECK_CATEGORIES = (
    "greeting", "self_id", "empathy", "apology", "closing", "prohibited", "customer_emotion",
    "silence", "interruption", "speech_rate", "escalation",
)  # fmt: skip


class RuleEvaluationError(InspectorError):
    """A rule that could not be evaluated on a call (its regex ran out of time); names the rule."""

    code = "rule_evaluation_error"

    def __init__(self, rule_id: str, reason: str) -> None:
        super().__init__(f"规则 {rule_id}：{reason}")
        self.rule_id = rule_id
        self.reason = reason


@dataclass(frozen=True)
class Finding:
    """One piece of QA evidence.

    ``outcome`` is ``hit`` (the rule's condition was found: ``text`` are the words, ``start`` /
    ``end`` when they were said, ``utterance`` the whole sentence) or ``missing`` (a ``require``
    rule found nothing; the span is the whole call). ``points`` is what this finding does to the
    score: negative = deduction, 0 = evidence only. ``violation`` is True for a forbid hit or a
    require miss; ``fatal`` and ``alert`` are the rule's, set only where they apply.
    """

    rule_id: str
    name: str
    category: str
    dimension: str
    mode: str
    outcome: str  # hit | missing
    role: str  # whose words (agent / customer), or the rule's role for call-level findings
    start: float
    end: float
    text: str
    utterance: str
    points: int
    violation: bool
    fatal: bool
    alert: str
    reason: str
    # The recognizer's trust in the words behind the finding (1.0 where no words decide it).
    confidence: float = 1.0
    # Below the rule's min_confidence: no deduction, veto or alert until a reviewer confirms it.
    uncertain: bool = False

    @property
    def counts(self) -> bool:
        """Whether the finding acts on the score and alerts (it is not an unconfirmed uncertain one)."""
        return not self.uncertain


@dataclass(frozen=True)
class CompiledRule:
    rule: s.Rule
    op: ops.Op
    # Whether the condition reads words (keywords / regex / phrase anywhere in it): only then does the
    # recognizer's confidence bear on the finding.
    textual: bool = False
    # The first / last N of a top-level text condition's ``position``: where a missing item would be said.
    position: tuple[int | None, int | None] = (None, None)
    min_confidence: float = 0.0


@dataclass
class CompiledRuleSet:
    ruleset: s.RuleSet
    rules: list[CompiledRule]
    automaton: ahocorasick.Automaton | None
    # Keywords with digits: an occurrence counts only where it covers whole numbers.
    digit_words: frozenset[str] = frozenset()

    def view(self, transcript: Transcript) -> CallView:
        """The transcript prepared for evaluation: normalized once, keywords located once."""
        view = CallView(transcript)
        if self.automaton is not None:
            for u in view.utterances:
                for end, word in self.automaton.iter(u.norm):
                    start = end - len(word) + 1
                    if word not in self.digit_words or u.whole(start, end + 1):
                        u.keywords.setdefault(word, []).append(start)
        return view


class _Compiler:
    def __init__(self) -> None:
        self.keywords: set[str] = set()

    def words(self, words: Iterable[str]) -> tuple[str, ...]:
        norm = tuple(dict.fromkeys(w for w in (normalize_for_match(x) for x in words) if w))
        self.keywords.update(norm)
        return norm

    @staticmethod
    def scope(cond: s.KeywordsCond | s.RegexCond | s.PhraseCond) -> ops.Scope:
        pos = cond.position
        return ops.Scope(cond.role, pos.first if pos else None, pos.last if pos else None)

    def compile(self, cond: object) -> ops.Op:
        match cond:
            case s.KeywordsCond(keywords=k):
                mode = next(m for m in ("any", "all", "none", "at_least") if getattr(k, m) is not None)
                return ops.KeywordsOp(mode, self.words(k.words), k.at_least or 1, k.scope == "call",
                                      self.words(k.exclude), self.scope(cond))  # fmt: skip
            case s.RegexCond(regex=r):
                exclude = ops.NumberRegex.compile(r.exclude) if r.exclude else None
                return ops.RegexOp(ops.NumberRegex.compile(r.pattern), exclude, self.scope(cond))
            case s.PhraseCond(phrase=p):
                return ops.PhraseOp.build(p.phrases, normalize_for_match, p.max_distance, p.min_fuzzy_syllables,
                                          self.scope(cond))  # fmt: skip
            case s.SilenceCond(silence=x):
                return ops.SilenceOp(x.min_s, x.between, self.words(x.excuse))
            case s.InterruptionCond(interruption=x):
                return ops.InterruptionOp(x.min_overlap_s, cond.role)
            case s.SpeechRateCond(speech_rate=x):
                return ops.SpeechRateOp(x.max_cpm, x.min_chars, x.average, cond.role)
            case s.LatencyCond(latency=x):
                return ops.LatencyOp(x.max_s)
            case s.DurationCond(duration=x):
                return ops.DurationOp(x.min_s, x.max_s)
            case s.RepetitionCond(repetition=x):
                return ops.RepetitionOp(x.min_count, x.min_similarity, x.min_chars, cond.role)
            case s.AllCond(all=children):
                return ops.AllOp(tuple(self.compile(c) for c in children))
            case s.AnyCond(any=children):
                return ops.AnyOp(tuple(self.compile(c) for c in children))
            case s.NotCond(not_=child):
                return ops.NotOp(self.compile(child), f"未出现：{_describe(child)}")
            case s.AfterCond(after=a):
                then_role = getattr(a.then, "role", None)
                return ops.AfterOp(self.compile(a.anchor), self.compile(a.then), a.within, then_role)
        raise TypeError(f"unknown condition {type(cond).__name__}")


def _describe(cond: object) -> str:
    """A short Chinese description of what a condition looks for (for "not found" reasons)."""
    match cond:
        case s.KeywordsCond(keywords=k):
            return "、".join(k.words[:4])
        case s.PhraseCond(phrase=p):
            return "、".join(p.phrases[:4])
        case s.RegexCond(regex=r):
            return f"正则 {r.pattern}"
        case s.AllCond(all=children) | s.AnyCond(any=children):
            return "；".join(_describe(c) for c in children)
        case s.NotCond(not_=child):
            return f"非（{_describe(child)}）"
        case s.AfterCond(after=a):
            return f"「{_describe(a.anchor)}」之后 {a.within} 句内的「{_describe(a.then)}」"
    return _TAG_NAMES_ZH.get(getattr(cond, "TAG", ""), "条件")


_TAG_NAMES_ZH = {
    "silence": "静音", "interruption": "抢话", "speech_rate": "语速过快", "latency": "回应过慢",
    "duration": "通话时长", "repetition": "重复诉求",
}  # fmt: skip


def compile_ruleset(ruleset: s.RuleSet) -> CompiledRuleSet:
    """Compile once, evaluate many times. Refuses broken cross-references (unknown dimension...)."""
    problems = ruleset.reference_problems()
    if problems:
        raise ValueError("；".join(reason for *_, reason in problems))
    compiler = _Compiler()
    rules = [_compiled_rule(compiler, rule, ruleset.min_confidence) for rule in ruleset.rules]
    automaton: ahocorasick.Automaton | None = None
    if compiler.keywords:
        automaton = ahocorasick.Automaton()
        for word in compiler.keywords:
            automaton.add_word(word, word)
        automaton.make_automaton()
    digit_words = frozenset(w for w in compiler.keywords if has_digit(w))
    return CompiledRuleSet(ruleset, rules, automaton, digit_words)


def _compiled_rule(compiler: _Compiler, rule: s.Rule, pack_min_confidence: float) -> CompiledRule:
    threshold = rule.min_confidence if rule.min_confidence is not None else pack_min_confidence
    return CompiledRule(rule, compiler.compile(rule.when), _textual(rule.when), _position(rule.when), threshold)


def _textual(cond: object) -> bool:
    match cond:
        case s.KeywordsCond() | s.RegexCond() | s.PhraseCond():
            return True
        case s.AllCond(all=children) | s.AnyCond(any=children):
            return any(_textual(c) for c in children)
        case s.NotCond(not_=child):
            return _textual(child)
        case s.AfterCond(after=a):
            return _textual(a.anchor) or _textual(a.then)
    return False


def _position(cond: object) -> tuple[int | None, int | None]:
    pos = getattr(cond, "position", None)
    return (pos.first, pos.last) if pos is not None else (None, None)


def span_confidence(utt: Utterance, start: float, end: float) -> float:
    """The confidence of the words of ``utt`` that overlap ``[start, end]`` (``confidence_of``: as an
    utterance's own); the
    utterance's confidence when it has no word timings there."""
    inside = [w for w in utt.words if w.end > start and w.start < end] if end > start else []
    return confidence_of(inside) if inside else utt.confidence


def stretch_confidence(transcript: Transcript, role: str, position: tuple[int | None, int | None]) -> float:
    """Duration-weighted confidence of the utterances where a missing item would have been said: the
    role's utterances (first / last N), unheard speech included (at 0). 1.0 when there are none."""
    chosen = sorted((u for u in transcript.utterances if role == "any" or u.role == role), key=lambda u: u.start)
    first, last = position
    if first is not None:
        chosen = chosen[:first]
    elif last is not None:
        chosen = chosen[-last:]
    total = sum(max(u.end - u.start, 0.0) for u in chosen)
    if not chosen or total <= 0:
        return 1.0
    return sum(max(u.end - u.start, 0.0) * u.confidence for u in chosen) / total


def _findings(c: CompiledRule, hits: list[ops.Hit], view: CallView) -> list[Finding]:
    rule = c.rule

    def make(hit: ops.Hit, outcome: str, points: int, violation: bool) -> Finding:
        utt = view.utterances[hit.utt] if hit.utt is not None else None
        role = utt.role if utt is not None else rule.role
        alert = rule.alert if violation or rule.mode == "detect" else "none"
        confidence = 1.0
        if c.textual and outcome == "missing":
            confidence = stretch_confidence(view.transcript, rule.role, c.position)
        elif c.textual and utt is not None:
            confidence = span_confidence(utt.utt, hit.start, hit.end)
        acts = points < 0 or (rule.fatal and violation) or alert != "none"
        return Finding(
            rule_id=rule.id, name=rule.name, category=rule.category, dimension=rule.dimension, mode=rule.mode,
            outcome=outcome, role=role, start=round(hit.start, 3), end=round(hit.end, 3), text=hit.text,
            utterance=utt.utt.text if utt is not None else "", points=points, violation=violation,
            fatal=rule.fatal and violation, alert=alert, reason=hit.reason, confidence=round(float(confidence), 3),
            uncertain=bool(acts and confidence < c.min_confidence),
        )  # fmt: skip

    if rule.mode == "require":
        if not hits:
            miss = ops.Hit(0.0, view.duration, "", None, f"未做到：{rule.name}")
            return [make(miss, "missing", -rule.points, True)]
        return [make(h, "hit", 0, False) for h in hits]
    if rule.mode == "forbid":
        # The rule deducts once: at its first certain hit (or its first hit, uncertain, when none is).
        found = [make(h, "hit", -rule.points, True) for h in hits]
        deducting = next((i for i, f in enumerate(found) if not f.uncertain), 0)
        out = []
        for i, f in enumerate(found):
            if i != deducting:
                f = replace(f, points=0, uncertain=f.uncertain and (f.fatal or f.alert != "none"))
            out.append(f)
        return out
    return [make(h, "hit", 0, False) for h in hits]


def evaluate(compiled: CompiledRuleSet, transcript: Transcript) -> list[Finding]:
    """All findings of every rule on one transcript, rule by rule, hits in time order."""
    view = compiled.view(transcript)
    findings: list[Finding] = []
    for c in compiled.rules:
        try:
            found = c.op.hits(view, c.rule.role)
        except ops.RegexTimeout as err:
            reason = f"正则表达式 {err.pattern} 匹配超时（单句超过 {ops.REGEX_TIMEOUT_S:g} 秒），请简化该规则"
            raise RuleEvaluationError(c.rule.id, reason) from None
        hits = sorted(found, key=lambda h: (h.start, h.end))
        findings += _findings(c, hits, view)
    return findings


def checks(findings: Iterable[Finding], categories: Iterable[str] = CHECK_CATEGORIES) -> dict[str, bool]:
    """Per category: did it happen on the call (any hit of a rule of that category)?"""
    happened = {f.category for f in findings if f.outcome == "hit"}
    return {category: category in happened for category in categories}
