"""Customer emotion (客户情绪) of a call, from a word lexicon (default) or a local text classifier.

The lexicon (``kind: emotion_lexicon``, see ``rules/emotion.yaml``) lists negative words with an
intensity (1–3) and a category (愤怒/失望/焦虑/不满), positive words, negators and degree words.
An utterance is cut into tokens with jieba (a dedicated tokenizer whose dictionary also holds every
lexicon word), then:

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
     "utterances": [{"start", "end", "role", "score", "label", "hits"}]}
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jieba
import yaml

from inspector.errors import ModelError, RuleFileError
from inspector.transcript import Transcript
from inspector.yamlfile import read_yaml

NEGATIVE_CATEGORIES: tuple[str, ...] = ("愤怒", "失望", "焦虑", "不满")
LABEL_CALM = "平静"
LABEL_POSITIVE = "正面"
LABELS: tuple[str, ...] = (*NEGATIVE_CATEGORIES, LABEL_CALM, LABEL_POSITIVE)
NEGATED_POSITIVE_CATEGORY = "不满"

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
TOP_LEVEL_KEYS = {"kind", "id", "version", "negative", "positive", "negators", "degree"}

logging.getLogger("jieba").setLevel(logging.WARNING)


# --------------------------------------------------------------------------- lexicon


@dataclass
class EmotionLexicon:
    """A validated emotion lexicon. The tokenizer is built lazily, once per lexicon."""

    id: str
    version: int
    negative: dict[str, tuple[str, int]]  # word -> (category, intensity)
    positive: dict[str, int]  # word -> intensity
    negators: frozenset[str]
    degree: dict[str, float]  # word -> multiplier
    source: str = ""
    _tokenizer: jieba.Tokenizer | None = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def words(self) -> list[str]:
        """Every word of the lexicon (emotion words, negators, degree words)."""
        return list(dict.fromkeys([*self.negative, *self.positive, *self.negators, *self.degree]))

    def tokenizer(self) -> jieba.Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in self.words:
                    tokenizer.add_word(word)  # freq=None: jieba suggests one that keeps the word whole
                self._tokenizer = tokenizer
            return self._tokenizer

    def tokenize(self, text: str) -> list[str]:
        """jieba tokens; a dictionary word made of modifiers and an emotion word (很着急) is split."""
        tokens: list[str] = []
        for token in self.tokenizer().lcut(text, HMM=False):
            tokens += self._split_modifiers(token)
        return tokens

    def _split_modifiers(self, token: str) -> list[str]:
        """``很着急`` -> ``[很, 着急]``, ``不太满意`` -> ``[不太, 满意]``; other tokens are kept whole."""
        if token in self.negative or token in self.positive or len(token) < 2:
            return [token]
        for modifier in sorted((*self.degree, *self.negators), key=len, reverse=True):
            if token.startswith(modifier) and len(token) > len(modifier):
                rest = self._split_modifiers(token[len(modifier) :])
                if rest[-1] in self.negative or rest[-1] in self.positive:
                    return [modifier, *rest]
        return [token]


def _line(node: yaml.Node | None, keys: list[Any]) -> int | None:
    """1-based line of the deepest node reachable along ``keys`` (mapping keys or list indexes)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
            if nxt is None:
                nxt = next((k for k, _ in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _word_key(node: yaml.Node | None, word: str) -> int | None:
    """Line of the key ``word`` in a mapping node (the key itself, not its value)."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == word:
                return k.start_mark.line + 1
    return node.start_mark.line + 1 if node is not None else None


def _is_word(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _intensities(path: Path, node: yaml.Node | None, value: Any, where: list[Any]) -> dict[str, int]:
    name = ".".join(str(k) for k in where)
    if not isinstance(value, dict) or not value:
        raise RuleFileError(path, f"字段 {name} 必须是非空映射（词: 强度）", line=_line(node, where))
    result: dict[str, int] = {}
    for word, intensity in value.items():
        line = _word_key(_walk_node(node, where), str(word))
        if not _is_word(word):
            raise RuleFileError(path, f"字段 {name} 中有空词或非字符串词 {word!r}", line=line)
        if isinstance(intensity, bool) or not isinstance(intensity, int) or not 1 <= intensity <= 3:
            raise RuleFileError(path, f"字段 {name}.{word} 的强度必须是 1 到 3 的整数，实际为 {intensity!r}", line=line)
        result[word.strip()] = intensity
    return result


def _walk_node(node: yaml.Node | None, keys: list[Any]) -> yaml.Node | None:
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((v for k, v in node.value if k.value == key), None)
    return node


def load_emotion_lexicon(path: str | Path) -> EmotionLexicon:
    """Read and validate an emotion lexicon file; errors name the file, the line and the field."""
    path = Path(path)
    data, node = read_yaml(path, missing="情绪词典文件不存在")
    if not isinstance(data, dict):
        raise RuleFileError(path, "顶层必须是映射（kind: emotion_lexicon ...）", line=1)
    if data.get("kind") != "emotion_lexicon":
        raise RuleFileError(
            path,
            f"不是情绪词典文件：kind 应为 emotion_lexicon，实际为 {data.get('kind')!r}",
            line=_line(node, ["kind"]),
        )
    unknown = sorted(set(map(str, data)) - TOP_LEVEL_KEYS)
    if unknown:
        raise RuleFileError(
            path, f"未知字段 {unknown[0]}（可选：{', '.join(sorted(TOP_LEVEL_KEYS))}）", line=_line(node, [unknown[0]])
        )
    if not _is_word(data.get("id")):
        raise RuleFileError(path, "字段 id 必须是非空字符串", line=_line(node, ["id"]))
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RuleFileError(path, f"字段 version 必须是正整数，实际为 {version!r}", line=_line(node, ["version"]))

    categories = data.get("negative")
    if not isinstance(categories, dict) or not categories:
        raise RuleFileError(path, "字段 negative 必须是非空映射（类别: {词: 强度}）", line=_line(node, ["negative"]))
    negative: dict[str, tuple[str, int]] = {}
    for category, words in categories.items():
        if category not in NEGATIVE_CATEGORIES:
            raise RuleFileError(
                path,
                f"未知的情绪类别 {category!r}（可选：{', '.join(NEGATIVE_CATEGORIES)}）",
                line=_word_key(_walk_node(node, ["negative"]), str(category)),
            )
        for word, intensity in _intensities(path, node, words, ["negative", category]).items():
            if word in negative:
                raise RuleFileError(path, f"负面词 {word} 重复出现", line=_line(node, ["negative", category, word]))
            negative[word] = (category, intensity)

    positive = _intensities(path, node, data.get("positive"), ["positive"])
    for word in positive:
        if word in negative:
            raise RuleFileError(path, f"词 {word} 同时是正面词和负面词", line=_line(node, ["positive", word]))

    negators = data.get("negators")
    if not isinstance(negators, list) or not negators or not all(_is_word(w) for w in negators):
        raise RuleFileError(path, "字段 negators 必须是非空字符串列表", line=_line(node, ["negators"]))

    degree_raw = data.get("degree")
    if not isinstance(degree_raw, dict) or not degree_raw:
        raise RuleFileError(path, "字段 degree 必须是非空映射（词: 倍数）", line=_line(node, ["degree"]))
    degree: dict[str, float] = {}
    for word, factor in degree_raw.items():
        line = _word_key(_walk_node(node, ["degree"]), str(word))
        if not _is_word(word):
            raise RuleFileError(path, f"字段 degree 中有空词或非字符串词 {word!r}", line=line)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor <= 3:
            raise RuleFileError(path, f"字段 degree.{word} 的倍数必须在 0 到 3 之间，实际为 {factor!r}", line=line)
        degree[word.strip()] = float(factor)

    return EmotionLexicon(
        id=data["id"].strip(),
        version=version,
        negative=negative,
        positive=positive,
        negators=frozenset(w.strip() for w in negators),
        degree=degree,
        source=str(path),
    )


# --------------------------------------------------------------------------- one utterance


@dataclass(frozen=True)
class UtteranceEmotion:
    score: float  # negative = negative emotion
    intensity: float  # >= 0
    label: str  # one of LABELS
    hits: list[str] = field(default_factory=list)


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


_POLARITY_NAMES: dict[str, tuple[str, ...]] = {
    "negative": ("neg", "负", "消极", "差评", "angry", "anger", "sad"),
    "neutral": ("neu", "中", "平静", "none", "other"),
    "positive": ("pos", "正", "积极", "好评", "happy", "joy"),
}
MODEL_SCALE = 3.0  # p(positive) - p(negative) times this gives a score on the lexicon's 1–3 scale


def _polarity(label: str) -> str | None:
    """negative / neutral / positive for a model label such as NEGATIVE, neutral, 负面; else None."""
    name = label.strip().lower()
    for polarity, cues in _POLARITY_NAMES.items():
        for cue in cues:
            if name.startswith(cue) if cue.isascii() else cue in name:
                return polarity
    return None


class TransformersBackend:
    """A local text-classification model folder (``transformers``, offline only).

    The model's ``id2label`` must name negative / positive (and optionally neutral) classes; the
    score is ``MODEL_SCALE * (p_positive - p_negative)``; the label is 不满 / 平静 / 正面, since a
    polarity model has no categories. ``hits`` holds the model's own top label.
    """

    def __init__(self, folder: Path, batch_size: int = 16) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelError(f"{folder}: 情绪模型目录不存在")
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise ModelError(f"{folder}: 需要安装 transformers（pip install 'inspector[emotion]'）：{exc}") from exc
        if not (folder / "config.json").is_file():
            raise ModelError(f"{folder}: 不是模型目录（缺少 config.json）")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
        except Exception as exc:  # transformers raises many types for a broken folder; report them as one
            raise ModelError(f"{folder}: 无法加载情绪模型：{exc}") from exc
        self.model.eval()
        self._torch = torch
        id2label: dict[int, str] = {int(k): str(v) for k, v in self.model.config.id2label.items()}
        self.labels = id2label
        self.polarity: dict[int, str] = {}
        for index, name in id2label.items():
            polarity = _polarity(name)
            if polarity is None:
                raise ModelError(f"{folder}: 无法识别模型标签 {name!r}（需要 negative/neutral/positive）")
            self.polarity[index] = polarity
        if not {"negative", "positive"} <= set(self.polarity.values()):
            raise ModelError(f"{folder}: 模型标签必须包含 negative 和 positive：{sorted(id2label.values())}")
        self.batch_size = batch_size

    def score(self, texts: list[str]) -> list[UtteranceEmotion]:
        results: list[UtteranceEmotion] = []
        torch = self._torch
        for begin in range(0, len(texts), self.batch_size):
            batch = texts[begin : begin + self.batch_size]
            inputs = self.tokenizer(batch, padding=True, truncation=True, max_length=256, return_tensors="pt")
            with torch.no_grad():
                probs = torch.softmax(self.model(**inputs).logits, dim=-1).tolist()
            for row in probs:
                mass = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
                for index, p in enumerate(row):
                    mass[self.polarity[index]] += p
                score = round(MODEL_SCALE * (mass["positive"] - mass["negative"]), 3)
                if score <= -NEUTRAL_BAND:
                    label = NEGATED_POSITIVE_CATEGORY
                elif score >= NEUTRAL_BAND:
                    label = LABEL_POSITIVE
                else:
                    label = LABEL_CALM
                top = max(range(len(row)), key=row.__getitem__)
                results.append(
                    UtteranceEmotion(score=score, intensity=abs(score), label=label, hits=[self.labels[top]])
                )
        return results


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
                }
                for u in self.utterances
            ],
        }


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def call_emotion(transcript: Transcript, lexicon: EmotionLexicon, backend: EmotionBackend | None = None) -> CallEmotion:
    """Emotion of the customer over a call. ``backend`` defaults to ``LexiconBackend(lexicon)``."""
    backend = backend if backend is not None else LexiconBackend(lexicon)
    customer = [u for u in transcript.utterances if u.role == "customer"]
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
