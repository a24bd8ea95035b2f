"""The rule-file format (``kind: ruleset``), as pydantic models. Documented once, here.

A rule file::

    kind: ruleset
    id: property-default          # identifier of the pack
    version: 1                    # integer, bumped when the rules change
    name: 物业客服默认质检规则
    dimensions:                   # what the score is broken down into (scoring is a later step)
      - {id: service, name: 服务规范, weight: 30}
    rules:
      - id: greeting
        name: 开场问候
        category: greeting        # what the rule is about; see CATEGORIES
        dimension: service        # one of the dimension ids above
        mode: require             # require | forbid | detect
        points: 5                 # deduction size (>= 0)
        fatal: false              # 一票否决: a violation fails the whole call
        alert: none               # none | blue | yellow | red
        role: agent               # whose utterances the condition looks at: agent | customer | any
        when: {keywords: {any: [您好]}, position: {first: 2}}
        min_confidence: 0.5       # optional, else the pack's ``min_confidence`` (top level, default 0)

Confidence-aware findings: a finding of a rule whose condition reads words (keywords, regex, phrase,
also inside all/any/not/after) carries ``confidence``, the recognizer's trust in the words behind it —
the geometric mean of the probabilities of the words in the hit's span, or, for a ``missing`` finding,
the duration-weighted confidence of the utterances where it would have been said (the role's
utterances, the first/last N of a ``position``; unheard speech counts as 0). A finding that would
deduct, veto or alert with a confidence below the rule's ``min_confidence`` is ``uncertain``: it is
reported with its evidence but deducts nothing and raises no alert until a reviewer confirms it
(``inspector.people.rescoring``). Time-based conditions (silence, interruption, ...) are always certain.

Scoring design (one rule = one expectation):

- ``require``: the call must contain the condition. Not found → one "missing" finding that deducts
  ``points``; found → the evidence, deducting nothing.
- ``forbid``: the call must not contain the condition. Every occurrence is reported as evidence;
  the first deducts ``points`` (a rule deducts at most once per call).
- ``detect``: an event worth knowing (customer emotion, escalation threat) that costs the agent
  nothing; ``points`` must be 0, ``alert`` says how loudly to report it.

The default dimensions are 服务规范 (service: greeting, self-id, closing), 沟通技巧 (communication:
speech rate, interruptions, silence), 情绪管理 (emotion: empathy, apology, customer emotion),
问题解决 (resolution: repetition, latency) and 合规 (compliance: service taboos, escalation).

Conditions (``when``) are mappings with exactly one operator key, plus optional modifiers
``position: {first: N} | {last: N}`` (keywords / regex / phrase only: only the first / last N
utterances of the role) and ``role`` (overrides the rule's role for this condition):

- ``keywords: {any|all|none: [...] | at_least: N, of: [...], scope: utterance|call, exclude: [...]}``
  on normalized text (simplified, no punctuation, numerals as digits: 一二三四五 ≡ 12345).
  Keywords, regexes and phrases that contain digits match whole numbers only: ``12345`` never
  matches inside 13912345678 (``inspector.text.numbers``).
  ``scope: utterance`` (default) needs all / N of the words in one utterance, ``call`` anywhere
  in the role's utterances. An utterance containing an ``exclude`` word is skipped.
- ``regex: {pattern, exclude?}`` on normalized text; ``exclude`` skips utterances it matches.
  Python ``re`` syntax. A repetition inside a repetition (``(.+)+``, ``(a*)*``, ``(?:\\d+\\s?)+``) is
  refused: it can take exponential time. Patterns run with a time budget per utterance
  (``operators.REGEX_TIMEOUT_S``); one that runs out is an error naming the rule.
- ``phrase: {phrases, max_distance: 1, min_fuzzy_syllables: 4}`` ASR-tolerant (see ``pinyin``).
- ``silence: {min_s, between: any|roles|same, excuse: [...]}``: a gap longer than ``min_s`` with
  nobody speaking; ``roles``: only when the speaker changes, ``same``: only when it does not. A
  gap right after an agent utterance containing an ``excuse`` phrase (请稍等) is not reported.
- ``interruption: {min_overlap_s}``: the role starts while the other party is still speaking, at
  least ``min_overlap_s`` before the other party's utterance ends.
- ``speech_rate: {max_cpm, min_chars}``: an utterance of at least ``min_chars`` characters faster
  than ``max_cpm`` characters per minute; with ``average: true`` the role's overall rate instead.
- ``latency: {max_s}``: the agent answers a customer utterance more than ``max_s`` after it ends.
- ``duration: {min_s?, max_s?}``: the call is shorter than ``min_s`` or longer than ``max_s``.
- ``repetition: {min_count, min_similarity, min_chars}``: the role says (nearly) the same thing
  at least ``min_count`` times (similarity 0..1 of normalized text).
- ``all: [...]`` (every one holds), ``any: [...]``, ``not: cond`` (holds when cond finds nothing).
- ``after: {anchor: cond, within: N, then: cond}``: ``then`` found within the first N utterances
  of its role that follow an ``anchor`` hit (e.g. empathy within 2 agent turns of an emotion).

Time-based operators (silence, interruption, speech_rate, latency, duration) describe a
violation: they "hold" when the limit is exceeded.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # the stdlib's own regex parser: no second grammar to maintain
import re._parser as sre_parser
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import regex
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

CATEGORIES = (
    "greeting", "self_id", "empathy", "apology", "closing", "prohibited", "customer_emotion",
    "escalation", "silence", "interruption", "speech_rate", "latency", "duration", "repetition",
    "topic", "other",
)  # fmt: skip
Category = Literal[
    "greeting", "self_id", "empathy", "apology", "closing", "prohibited", "customer_emotion",
    "escalation", "silence", "interruption", "speech_rate", "latency", "duration", "repetition",
    "topic", "other",
]  # fmt: skip
RoleName = Literal["agent", "customer", "any"]
Mode = Literal["require", "forbid", "detect"]
Alert = Literal["none", "blue", "yellow", "red"]

CONDITION_TAGS = (
    "keywords", "regex", "phrase", "silence", "interruption", "speech_rate", "latency", "duration",
    "repetition", "all", "any", "not", "after",
)  # fmt: skip
MODIFIERS = ("position", "role")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TextList = Annotated[list[Text], Field(min_length=1)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegative = Annotated[float, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)


def _subpatterns(value: Any) -> Iterator[sre_parser.SubPattern]:
    """The sub-patterns inside one parsed item's argument (groups, branches, lookarounds, repeats)."""
    if isinstance(value, sre_parser.SubPattern):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _subpatterns(item)


def _has_nested_repeat(pattern: sre_parser.SubPattern, inside_repeat: bool = False) -> bool:
    """Whether a variable repetition (``+``, ``*``, ``?``, ``{m,n}``) sits inside another repetition
    that may repeat more than once: the classic shape of catastrophic backtracking."""
    for op, av in pattern.data:
        if op in _REPEATS:
            low, high, body = av
            if inside_repeat and low != high:
                return True
            if _has_nested_repeat(body, inside_repeat or high == sre_constants.MAXREPEAT or high > 1):
                return True
        else:
            for sub in _subpatterns(av):
                if _has_nested_repeat(sub, inside_repeat):
                    return True
    return False


def _check_regex(pattern: str | None) -> str | None:
    if pattern is None:
        return None
    try:
        re.compile(pattern)
        regex.compile(pattern)  # the engine that runs it (with a timeout)
        parsed = sre_parser.parse(pattern)
    except (re.error, regex.error) as exc:
        raise PydanticCustomError("bad_regex", "正则表达式无效：{error}", {"error": str(exc)}) from exc
    if _has_nested_repeat(parsed):
        raise PydanticCustomError(
            "bad_regex_nested",
            "正则表达式 {pattern} 含嵌套的重复（如 (.+)+、(a*)*），匹配耗时可能失控，请去掉内层或外层的重复",
            {"pattern": pattern},
        )
    return pattern


# --- operator bodies -----------------------------------------------------------------------------


class Position(Strict):
    first: PositiveInt | None = None
    last: PositiveInt | None = None

    @model_validator(mode="after")
    def _one(self) -> Position:
        if (self.first is None) == (self.last is None):
            raise PydanticCustomError("position", "position 必须且只能写 first 或 last 之一")
        return self


class KeywordsSpec(Strict):
    any: TextList | None = None
    all: TextList | None = None
    none: TextList | None = None
    at_least: PositiveInt | None = None
    of: TextList | None = None
    scope: Literal["utterance", "call"] = "utterance"
    exclude: list[Text] = []

    @model_validator(mode="after")
    def _one_mode(self) -> KeywordsSpec:
        given = [name for name in ("any", "all", "none", "at_least") if getattr(self, name) is not None]
        if len(given) != 1:
            raise PydanticCustomError("keywords_mode", "keywords 必须且只能写 any、all、none 或 at_least 之一")
        if (self.at_least is None) != (self.of is None):
            raise PydanticCustomError("keywords_of", "at_least 和 of 必须一起写")
        if self.at_least is not None and self.of is not None and self.at_least > len(self.of):
            raise PydanticCustomError("keywords_at_least", "at_least 不能大于 of 中的词数")
        return self

    @property
    def words(self) -> list[str]:
        return list(self.any or self.all or self.none or self.of or [])


class RegexSpec(Strict):
    pattern: Text
    exclude: str | None = None

    _pattern = field_validator("pattern", "exclude")(_check_regex)


class PhraseSpec(Strict):
    phrases: TextList
    max_distance: Annotated[int, Field(ge=0, le=3)] = 1
    min_fuzzy_syllables: PositiveInt = 4


class SilenceSpec(Strict):
    min_s: Annotated[float, Field(gt=0)]
    between: Literal["any", "roles", "same"] = "any"
    excuse: list[Text] = []


class InterruptionSpec(Strict):
    min_overlap_s: NonNegative = 1.0


class SpeechRateSpec(Strict):
    max_cpm: Annotated[float, Field(gt=0)]
    min_chars: Annotated[int, Field(ge=0)] = 0
    average: bool = False


class LatencySpec(Strict):
    max_s: NonNegative


class DurationSpec(Strict):
    min_s: NonNegative | None = None
    max_s: NonNegative | None = None

    @model_validator(mode="after")
    def _some(self) -> DurationSpec:
        if self.min_s is None and self.max_s is None:
            raise PydanticCustomError("duration", "duration 至少要写 min_s 或 max_s")
        return self


class RepetitionSpec(Strict):
    min_count: Annotated[int, Field(ge=2)] = 2
    min_similarity: Annotated[float, Field(gt=0, le=1)] = 0.8
    min_chars: Annotated[int, Field(ge=1)] = 4


# --- conditions ----------------------------------------------------------------------------------


class KeywordsCond(Strict):
    keywords: KeywordsSpec
    position: Position | None = None
    role: RoleName | None = None


class RegexCond(Strict):
    regex: RegexSpec
    position: Position | None = None
    role: RoleName | None = None


class PhraseCond(Strict):
    phrase: PhraseSpec
    position: Position | None = None
    role: RoleName | None = None


class SilenceCond(Strict):
    silence: SilenceSpec


class InterruptionCond(Strict):
    interruption: InterruptionSpec
    role: RoleName | None = None


class SpeechRateCond(Strict):
    speech_rate: SpeechRateSpec
    role: RoleName | None = None


class LatencyCond(Strict):
    latency: LatencySpec


class DurationCond(Strict):
    duration: DurationSpec


class RepetitionCond(Strict):
    repetition: RepetitionSpec
    role: RoleName | None = None


class AllCond(Strict):
    all: Annotated[list[Condition], Field(min_length=1)]


class AnyCond(Strict):
    any: Annotated[list[Condition], Field(min_length=1)]


class NotCond(Strict):
    not_: Condition = Field(alias="not")


class AfterSpec(Strict):
    anchor: Condition
    within: PositiveInt
    then: Condition


class AfterCond(Strict):
    after: AfterSpec


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in value if k not in MODIFIERS]
        return keys[0] if len(keys) == 1 else None
    return getattr(value, "TAG", None)


def _check_condition(value: Any) -> Any:
    """Refuse anything but a mapping with exactly one known operator, in words users understand."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("condition_type", "条件必须是映射，例如 {keywords: {any: [...]}}")
    keys = [k for k in value if k not in MODIFIERS]
    choices = ", ".join(CONDITION_TAGS)
    if not keys:
        raise PydanticCustomError("condition_empty", "条件缺少条件类型（可选：{choices}）", {"choices": choices})
    if len(keys) > 1:
        raise PydanticCustomError(
            "condition_many", "一个条件只能有一个条件类型，发现 {keys}；多个条件请用 all 或 any 组合",
            {"keys": ", ".join(map(str, keys))},
        )  # fmt: skip
    if keys[0] not in CONDITION_TAGS:
        raise PydanticCustomError(
            "condition_unknown", "未知的条件类型 {key}（可选：{choices}）", {"key": str(keys[0]), "choices": choices}
        )
    return value


Condition = Annotated[
    Annotated[KeywordsCond, Tag("keywords")]
    | Annotated[RegexCond, Tag("regex")]
    | Annotated[PhraseCond, Tag("phrase")]
    | Annotated[SilenceCond, Tag("silence")]
    | Annotated[InterruptionCond, Tag("interruption")]
    | Annotated[SpeechRateCond, Tag("speech_rate")]
    | Annotated[LatencyCond, Tag("latency")]
    | Annotated[DurationCond, Tag("duration")]
    | Annotated[RepetitionCond, Tag("repetition")]
    | Annotated[AllCond, Tag("all")]
    | Annotated[AnyCond, Tag("any")]
    | Annotated[NotCond, Tag("not")]
    | Annotated[AfterCond, Tag("after")],
    Discriminator(_condition_tag),
    BeforeValidator(_check_condition),
]

for _model, _tag in (
    (KeywordsCond, "keywords"), (RegexCond, "regex"), (PhraseCond, "phrase"), (SilenceCond, "silence"),
    (InterruptionCond, "interruption"), (SpeechRateCond, "speech_rate"), (LatencyCond, "latency"),
    (DurationCond, "duration"), (RepetitionCond, "repetition"), (AllCond, "all"), (AnyCond, "any"),
    (NotCond, "not"), (AfterCond, "after"),
):  # fmt: skip
    _model.TAG = _tag  # type: ignore[attr-defined]

for _model in (AllCond, AnyCond, NotCond, AfterSpec, AfterCond):
    _model.model_rebuild()


# --- rules and rule sets -------------------------------------------------------------------------


class Dimension(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")]
    name: Text
    weight: Annotated[int, Field(ge=0)]


class Rule(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
    name: Text
    category: Category
    dimension: Text
    mode: Mode
    points: Annotated[int, Field(ge=0, le=100)] = 0
    fatal: bool = False
    alert: Alert = "none"
    role: RoleName = "agent"
    when: Condition
    description: str = ""
    # Findings of text conditions whose words the recognizer trusted less than this (0-1) are
    # ``uncertain``: shown, but no deduction or alert until a reviewer confirms them. None = the pack's.
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None

    @model_validator(mode="after")
    def _detect_costs_nothing(self) -> Rule:
        if self.mode == "detect" and (self.points or self.fatal):
            raise PydanticCustomError("detect_points", "detect 模式只记录事件，points 必须为 0 且 fatal 不能为 true")
        return self


class RuleSet(Strict):
    kind: Literal["ruleset"]
    id: Text
    version: Annotated[int, Field(ge=1)]
    name: Text
    description: str = ""
    dimensions: Annotated[list[Dimension], Field(min_length=1)]
    rules: Annotated[list[Rule], Field(min_length=1)]
    # The pack's default of ``Rule.min_confidence``; 0 = every finding is certain.
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0

    def reference_problems(self) -> list[tuple[str, int, str, str]]:
        """Cross-references that do not hold: (section, index, field, reason), e.g. unknown dimension."""
        problems: list[tuple[str, int, str, str]] = []
        dims: set[str] = set()
        for i, dim in enumerate(self.dimensions):
            if dim.id in dims:
                problems.append(("dimensions", i, "id", f"维度 id {dim.id} 重复"))
            dims.add(dim.id)
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                problems.append(("rules", i, "id", f"规则 id {rule.id} 重复"))
            seen.add(rule.id)
            if rule.dimension not in dims:
                problems.append(
                    ("rules", i, "dimension", f"未知的维度 {rule.dimension}（可选：{', '.join(sorted(dims))}）")
                )
        return problems
