"""Emerging phrases (新出现的说法): what owners started saying that the rule pack has no topic for.

For a window of days (and optionally one project) every customer turn of every call is cut into phrases:
the words of jieba (two characters or more, not a filler or a pronoun) and pairs of neighbouring words (three
to eight characters, e.g. 电梯 + 困人 → 电梯困人). A phrase counts once per call. Its count in the window is
compared with its rate over the ``baseline_days`` before (per call of that period), by the same Poisson tail
as hot-issue spikes (``hot_issues.spike_test``): a phrase is emerging when at least ``emerging_min_calls``
calls of the window say it and the probability of that many under the baseline rate is below ``spike_p``.
``new``: the baseline never had it. A phrase inside a longer emerging phrase with as many calls is dropped.

Cost: each call's phrase set is cut when it is scored (``phrases_of_call``, stored by ``inspector.store.phrases``
from ``inspector.service.follow_up``), so a request reads sets instead of tokenizing transcripts; a call without
a stored set of this ``PHRASES_VERSION`` (scored before sets were stored, or under older rules) is cut on read
as before. Each period is capped at the ``emerging_max_calls`` most recent calls (the rates are per call read,
so a cap changes the precision, not the scale). Phrases with a digit or that the personal-data masking would
change are never shown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from inspector.privacy.masking import mask_text
from inspector.reports.hot_issues import spike_test
from inspector.settings import InsightSettings
from inspector.store.db import chunks
from inspector.store.phrases import load_phrases
from inspector.store.schema import Call, UtteranceRecord
from inspector.vocab import SpeakerRole

# The version of the phrase rules below (jieba words, pairs, stopwords): raise it whenever they change, and the
# stored sets of older versions are cut again on read.
PHRASES_VERSION = 1
WORD_MIN, PAIR_MIN, PAIR_MAX = 2, 3, 8
EXAMPLES = 3
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
# Words that say nothing about what the call is about (fillers, pronouns, politeness, time words).
_STOP_TEXT = (
    "你好 您好 谢谢 谢谢你 喂喂 这个 那个 就是 然后 我们 你们 他们 她们 自己 什么 怎么 为什么 现在 今天 昨天 明天 "
    "一下 一个 一直 已经 还是 还有 可以 知道 没有 不是 是不是 的话 时候 这样 那样 这边 那边 问题 麻烦 好的 对对 "
    "嗯嗯 啊啊 因为 所以 但是 如果 或者 而且 一样 东西 事情 情况 那么 这么 多少 几个 那里 这里 哪里 真的 其实 "
    "应该 需要 希望 觉得 感觉 告诉 说话 电话 打电话 客服 师傅 物业 业主 小区 我家 你家"
)
STOPWORDS = frozenset(_STOP_TEXT.split())
# One-character words that never start or end a phrase (particles, pronouns, adverbs).
FUNCTION_CHARS = frozenset("的了又也都就还在是和吗呢吧啊呀嘛着过把被给让我你他她它这那有很太再才刚")


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def call_phrases(texts: Iterable[str]) -> set[str]:
    """The phrases of one call's customer turns (each once). A pair is two words next to each other in the
    text: punctuation, digits or anything else between them (a pause: 有异味，自来水) parts them."""
    found: set[str] = set()
    cut = _tokenizer().lcut
    for text in texts:
        previous: str | None = None
        for word in cut(text):
            if not _HAN.match(word):
                previous = None
                continue
            if len(word) >= WORD_MIN and word not in STOPWORDS:
                found.add(word)
            if previous is not None:
                pair = previous + word
                parts = (previous, word)
                if PAIR_MIN <= len(pair) <= PAIR_MAX and not any(w in STOPWORDS or w in FUNCTION_CHARS for w in parts):
                    found.add(pair)
            previous = word
    return {p for p in found if mask_text(p) == p}


@dataclass
class EmergingPhrase:
    phrase: str
    calls: int  # calls of the window that say it
    baseline_calls: int  # calls of the baseline period that said it
    expected: float  # calls expected in the window at the baseline rate
    p_value: float
    new: bool  # never said in the baseline period
    examples: list[str] = field(default_factory=list)  # call ids, newest first


@dataclass
class EmergingPhrases:
    date_from: date
    date_to: date
    baseline_from: date
    baseline_to: date
    window_calls: int  # calls read in the window (at most ``emerging_max_calls``)
    baseline_calls: int
    capped: bool  # a period had more calls than were read
    items: list[EmergingPhrase]


def _calls(session: Session, start: date, end: date, scope: Sequence[ColumnElement[bool]], cap: int) -> list[str]:
    query = select(Call.id).where(Call.day >= start, Call.day <= end, *scope)
    return list(session.scalars(query.order_by(Call.day.desc(), Call.id.desc()).limit(cap + 1)))


def _customer_texts(session: Session, call_ids: Sequence[str]) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for chunk in chunks(call_ids):
        rows = session.execute(
            select(UtteranceRecord.call_id, UtteranceRecord.text)
            .where(UtteranceRecord.call_id.in_(chunk),
                   UtteranceRecord.role == SpeakerRole.CUSTOMER.value)
            .order_by(UtteranceRecord.call_id, UtteranceRecord.idx)
        )  # fmt: skip
        for call_id, text in rows:
            texts.setdefault(call_id, []).append(text)
    return texts


def phrases_of_call(session: Session, call_id: str) -> set[str]:
    """The phrases of one call's stored customer turns (what is stored for it when it is scored)."""
    return call_phrases(_customer_texts(session, [call_id]).get(call_id, []))


def _phrases(session: Session, call_ids: Sequence[str]) -> dict[str, set[str]]:
    """Each call's phrase set: stored, else cut from its customer turns now."""
    found = load_phrases(session, call_ids, PHRASES_VERSION)
    missing = [c for c in call_ids if c not in found]
    for call_id, texts in _customer_texts(session, missing).items():
        found[call_id] = call_phrases(texts)
    return found


def emerging_phrases(
    session: Session,
    settings: InsightSettings,
    start: date,
    end: date,
    project: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> EmergingPhrases:
    """The emerging phrases of [start, end] (see the module doc). ``visible``: a condition on ``Call`` columns."""
    base_from, base_to = start - timedelta(days=settings.baseline_days), start - timedelta(days=1)
    scope: list[ColumnElement[bool]] = [] if project is None else [Call.project == project]
    if visible is not None:
        scope.append(visible)
    cap = settings.emerging_max_calls
    window_ids = _calls(session, start, end, scope, cap)
    base_ids = _calls(session, base_from, base_to, scope, cap)
    capped = len(window_ids) > cap or len(base_ids) > cap
    window_ids, base_ids = window_ids[:cap], base_ids[:cap]
    window = _phrases(session, window_ids)
    now = Counter(p for phrases in window.values() for p in phrases)
    past = Counter(p for phrases in _phrases(session, base_ids).values() for p in phrases)
    items: list[EmergingPhrase] = []
    for phrase, calls in now.items():
        if calls < settings.emerging_min_calls:
            continue
        before = past.get(phrase, 0)
        expected = before / len(base_ids) * len(window_ids) if base_ids else 0.0
        p_value, spike = spike_test(calls, expected, settings)
        if spike:
            items.append(EmergingPhrase(phrase, calls, before, expected, p_value, before == 0))
    items = _without_parts(items)
    items.sort(key=lambda e: (e.p_value, -e.calls, e.phrase))
    items = items[: settings.emerging_limit]
    order = {call_id: i for i, call_id in enumerate(window_ids)}  # newest first
    for item in items:
        item.examples = sorted((c for c, ph in window.items() if item.phrase in ph), key=order.__getitem__)[:EXAMPLES]
    return EmergingPhrases(start, end, base_from, base_to, len(window_ids), len(base_ids), capped, items)


def _without_parts(items: list[EmergingPhrase]) -> list[EmergingPhrase]:
    """Drop a phrase that is part of a longer emerging phrase said by as many calls (电梯 inside 电梯困人)."""
    by_length = sorted(items, key=lambda e: -len(e.phrase))
    kept: list[EmergingPhrase] = []
    for item in by_length:
        if not any(item.phrase in longer.phrase and longer.calls >= item.calls for longer in kept):
            kept.append(item)
    return kept
