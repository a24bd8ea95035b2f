"""Customer emotion (客户情绪) scores: of one utterance with the lexicon (``inspector.qa.emotion.lexicon``),
and of a whole call with a backend (the lexicon by default, or ``inspector.qa.emotion.classifier``).

An utterance is cut into tokens with the lexicon's jieba tokenizer, then:

* each lexicon word contributes ``±intensity`` (negative words count negative);
* a negator among the two tokens before a word flips it: a negated positive word counts as negative
  (category 不满), a negated negative word counts as mildly positive (不生气 is not negative);
* degree words before a word (same clause) multiply it (太过分 > 过分, 有点生气 < 生气);
* each ``!``/``！`` (at most two) makes a non-neutral utterance a little stronger.

``score`` is the sum (negative = negative emotion), ``intensity`` its magnitude, ``label`` the
category of the strongest negative contribution, or 正面 / 平静.

JSON of a call (``CallEmotion.to_dict()``)::

    {"customer_negative": bool,
     "peak": {"start", "end", "score", "label", "text"} | null,
     "start": float, "end": float, "trajectory": "好转" | "恶化" | "平稳",
     "utterances": [{"start", "end", "role", "score", "label", "hits",
                     "p_negative", "model_hits"}]}     # the last two with the sentiment model

With the sentiment model (``LexiconModelBackend``, the default of ``Analyzer``), an utterance the lexicon
finds calm but the model finds dissatisfied (三天没人清运了) is negative too: see that class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from inspector.qa.emotion.lexicon import (
    LABEL_CALM,
    LABEL_POSITIVE,
    NEGATED_POSITIVE_CATEGORY,
    NEGATIVE_CATEGORIES,
    EmotionLexicon,
)
from inspector.qa.emotion.sentiment import SentimentModel, ngrams
from inspector.speech.transcript import Transcript
from inspector.vocab import SpeakerRole

NEGATION_WINDOW = 2  # tokens before a word in which a negator flips it
NEGATED_NEGATIVE_FACTOR = 0.5  # 不生气: a negated negative word counts this much positive
EXCLAMATION_BOOST = 0.3  # per exclamation mark, at most MAX_EXCLAMATIONS
MAX_EXCLAMATIONS = 2
NEUTRAL_BAND = 0.3  # |score| below this is 平静
NEGATIVE_INTENSITY = 1.0  # a customer utterance at least this negative makes the call negative
# end - start beyond this is 好转 (only from a negative start) / 恶化 (only to a negative end): a calm
# customer who ends with 谢谢 did not "improve", and one who stops thanking did not "worsen".
TRAJECTORY_DELTA = 0.5

TRAJECTORY_BETTER = "好转"
TRAJECTORY_WORSE = "恶化"
TRAJECTORY_STEADY = "平稳"

CLAUSE_BREAKS = set("，。！？；：,.!?;:、…\n ")


# --------------------------------------------------------------------------- one utterance


@dataclass(frozen=True)
class UtteranceEmotion:
    score: float  # negative = negative emotion
    intensity: float  # >= 0
    label: str  # one of LABELS
    hits: list[str] = field(default_factory=list)
    # With the sentiment model: its calibrated P(dissatisfied) and the n-grams that pushed it most.
    p_negative: float | None = None
    model_hits: list[str] = field(default_factory=list)


def utterance_emotion(text: str, lexicon: EmotionLexicon) -> UtteranceEmotion:
    """Score one utterance with the lexicon (see the module docstring for the rules)."""
    tokens = lexicon.tokenize(text)
    score = 0.0
    by_category: dict[str, float] = {}
    hits: list[str] = []
    multiplier = 1.0
    clause_start = 0
    for i, token in enumerate(tokens):
        if token in CLAUSE_BREAKS or not token.strip():
            multiplier, clause_start = 1.0, i + 1
            continue
        if token in lexicon.degree:
            multiplier *= lexicon.degree[token]
            continue
        if token in lexicon.negative:
            category, base = lexicon.negative[token]
            polarity = -1.0
        elif token in lexicon.positive:
            category, base = LABEL_POSITIVE, lexicon.positive[token]
            polarity = 1.0
        else:
            continue
        window = range(max(clause_start, i - NEGATION_WINDOW), i)
        negator = next((j for j in window if tokens[j] in lexicon.negators), None)
        value = base * multiplier
        if negator is not None and polarity < 0:
            contribution = value * NEGATED_NEGATIVE_FACTOR
            hits.append("".join(tokens[negator : i + 1]))
        elif negator is not None:
            contribution = -value
            category = NEGATED_POSITIVE_CATEGORY
            hits.append("".join(tokens[negator : i + 1]))
        else:
            contribution = polarity * value
            hits.append(token)
        score += contribution
        if contribution < 0:
            by_category[category] = by_category.get(category, 0.0) + contribution
        multiplier = 1.0

    if abs(score) >= NEUTRAL_BAND:
        marks = min(MAX_EXCLAMATIONS, text.count("!") + text.count("！"))
        score += math.copysign(EXCLAMATION_BOOST * marks, score)

    if score <= -NEUTRAL_BAND and by_category:
        label = min(by_category, key=lambda c: (by_category[c], NEGATIVE_CATEGORIES.index(c)))
    elif score >= NEUTRAL_BAND:
        label = LABEL_POSITIVE
    else:
        label = LABEL_CALM
    score = round(score, 3)
    return UtteranceEmotion(score=score, intensity=abs(score), label=label, hits=hits)


# --------------------------------------------------------------------------- backends


class EmotionBackend(Protocol):
    def score(self, texts: list[str]) -> list[UtteranceEmotion]: ...


@dataclass
class LexiconBackend:
    """The default backend: ``utterance_emotion`` with a lexicon."""

    lexicon: EmotionLexicon

    def score(self, texts: list[str]) -> list[UtteranceEmotion]:
        return [utterance_emotion(t, self.lexicon) for t in texts]


@dataclass
class LexiconModelBackend:
    """The lexicon plus the sentiment model (``inspector.qa.emotion.sentiment``). The lexicon's reading
    stands where it finds emotion; an utterance it finds calm or positive that the model calls
    dissatisfied (P ≥ the model's threshold) becomes negative, labelled 不满, with a score that reaches
    NEGATIVE_INTENSITY at the threshold and grows with the probability. Every utterance carries the
    model's probability and the n-grams behind it, so a negative reading always shows its words."""

    lexicon: EmotionLexicon
    model: SentimentModel

    def score(self, texts: list[str]) -> list[UtteranceEmotion]:
        out: list[UtteranceEmotion] = []
        for text in texts:
            lexical = utterance_emotion(text, self.lexicon)
            grams = ngrams(text)  # once, for the probability and, when negative, its evidence
            p = self.model.probability(grams)
            evidence = self.model.evidence(grams) if p >= self.model.threshold else []
            score, label = lexical.score, lexical.label
            if p >= self.model.threshold and not (score < 0 and lexical.intensity >= NEGATIVE_INTENSITY):
                margin = (p - self.model.threshold) / max(1e-9, 1.0 - self.model.threshold)
                score = round(min(score, -NEGATIVE_INTENSITY * (1.0 + margin)), 3)
                label = lexical.label if lexical.label in NEGATIVE_CATEGORIES else NEGATED_POSITIVE_CATEGORY
            out.append(UtteranceEmotion(score, abs(score), label, lexical.hits, round(p, 3), evidence))
        return out


# --------------------------------------------------------------------------- whole call


@dataclass(frozen=True)
class UtteranceScore:
    start: float
    end: float
    role: str
    score: float
    label: str
    hits: list[str]
    text: str = ""
    intensity: float = 0.0
    p_negative: float | None = None
    model_hits: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Peak:
    start: float
    end: float
    score: float
    label: str
    text: str


@dataclass(frozen=True)
class CallEmotion:
    utterances: list[UtteranceScore]
    peak: Peak | None  # the most negative customer utterance; None when none is negative
    start_score: float  # mean score of the first third of customer utterances
    end_score: float  # mean score of the last third
    trajectory: str  # 好转 | 恶化 | 平稳 (see TRAJECTORY_DELTA)
    negative: bool  # some customer utterance has score < 0 and intensity >= NEGATIVE_INTENSITY

    def to_dict(self) -> dict[str, Any]:
        peak = None
        if self.peak is not None:
            p = self.peak
            peak = {
                "start": round(p.start, 3),
                "end": round(p.end, 3),
                "score": p.score,
                "label": p.label,
                "text": p.text,
            }
        return {
            "customer_negative": self.negative,
            "peak": peak,
            "start": self.start_score,
            "end": self.end_score,
            "trajectory": self.trajectory,
            "utterances": [
                {
                    "start": round(u.start, 3),
                    "end": round(u.end, 3),
                    "role": u.role,
                    "score": u.score,
                    "label": u.label,
                    "hits": list(u.hits),
                    **(
                        {"p_negative": u.p_negative, "model_hits": list(u.model_hits)}
                        if u.p_negative is not None
                        else {}
                    ),
                }
                for u in self.utterances
            ],
        }


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def call_emotion(transcript: Transcript, lexicon: EmotionLexicon, backend: EmotionBackend | None = None) -> CallEmotion:
    """Emotion of the customer over a call. ``backend`` defaults to ``LexiconBackend(lexicon)``."""
    backend = backend if backend is not None else LexiconBackend(lexicon)
    customer = [u for u in transcript.utterances if u.role == SpeakerRole.CUSTOMER]
    emotions = backend.score([u.text for u in customer])
    scored = [
        UtteranceScore(
            start=u.start,
            end=u.end,
            role=u.role,
            score=e.score,
            label=e.label,
            hits=list(e.hits),
            text=u.text,
            intensity=e.intensity,
            p_negative=e.p_negative,
            model_hits=list(e.model_hits),
        )
        for u, e in zip(customer, emotions, strict=True)
    ]
    peak = None
    negatives = [s for s in scored if s.score < 0]
    if negatives:
        worst = min(negatives, key=lambda s: (s.score, s.start))
        peak = Peak(start=worst.start, end=worst.end, score=worst.score, label=worst.label, text=worst.text)
    third = max(1, math.ceil(len(scored) / 3)) if scored else 0
    start_score = _mean([s.score for s in scored[:third]])
    end_score = _mean([s.score for s in scored[-third:]]) if third else 0.0
    delta = end_score - start_score
    if delta > TRAJECTORY_DELTA and start_score < 0:
        trajectory = TRAJECTORY_BETTER
    elif delta < -TRAJECTORY_DELTA and end_score < 0:
        trajectory = TRAJECTORY_WORSE
    else:
        trajectory = TRAJECTORY_STEADY
    negative = any(s.score < 0 and s.intensity >= NEGATIVE_INTENSITY for s in scored)
    return CallEmotion(
        utterances=scored,
        peak=peak,
        start_score=start_score,
        end_score=end_score,
        trajectory=trajectory,
        negative=negative,
    )
