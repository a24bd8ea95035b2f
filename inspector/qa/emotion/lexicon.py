"""The emotion lexicon (``kind: emotion_lexicon``, see ``rules/emotion.yaml``): negative words with an
intensity (1–3) and a category (愤怒/失望/焦虑/不满), positive words, negators and degree words; its
loader, whose errors name the file, the line and the field; and its jieba tokenizer (a dedicated one
whose dictionary also holds every lexicon word), built once per lexicon.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jieba
import yaml

from inspector.errors import RuleFileError
from inspector.yamlfile import read_yaml

NEGATIVE_CATEGORIES: tuple[str, ...] = ("愤怒", "失望", "焦虑", "不满")
LABEL_CALM = "平静"
LABEL_POSITIVE = "正面"
LABELS: tuple[str, ...] = (*NEGATIVE_CATEGORIES, LABEL_CALM, LABEL_POSITIVE)
NEGATED_POSITIVE_CATEGORY = "不满"

TOP_LEVEL_KEYS = {"kind", "id", "version", "negative", "positive", "negators", "degree"}

logging.getLogger("jieba").setLevel(logging.WARNING)


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
    version = _header(path, data, node)
    negative = _negative(path, node, data.get("negative"))
    positive = _intensities(path, node, data.get("positive"), ["positive"])
    for word in positive:
        if word in negative:
            raise RuleFileError(path, f"词 {word} 同时是正面词和负面词", line=_line(node, ["positive", word]))
    negators = data.get("negators")
    if not isinstance(negators, list) or not negators or not all(_is_word(w) for w in negators):
        raise RuleFileError(path, "字段 negators 必须是非空字符串列表", line=_line(node, ["negators"]))
    return EmotionLexicon(
        id=data["id"].strip(),
        version=version,
        negative=negative,
        positive=positive,
        negators=frozenset(w.strip() for w in negators),
        degree=_degree(path, node, data.get("degree")),
        source=str(path),
    )


def _header(path: Path, data: Any, node: yaml.Node | None) -> int:
    """Check the kind, the top-level keys and the id; the version."""
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
    return version


def _negative(path: Path, node: yaml.Node | None, categories: Any) -> dict[str, tuple[str, int]]:
    """``negative``: word -> (category, intensity)."""
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
    return negative


def _degree(path: Path, node: yaml.Node | None, degree_raw: Any) -> dict[str, float]:
    """``degree``: word -> multiplier (0 < m <= 3)."""
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
    return degree
