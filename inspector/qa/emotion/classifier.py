"""A local text-classification model as an emotion backend (``transformers``, offline only; the
optional ``inspector[emotion]`` extra): polarity probabilities turned into scores on the lexicon's scale.
"""

from __future__ import annotations

from pathlib import Path

from inspector.errors import ModelError
from inspector.qa.emotion.lexicon import LABEL_CALM, LABEL_POSITIVE, NEGATED_POSITIVE_CATEGORY
from inspector.qa.emotion.scorer import NEUTRAL_BAND, UtteranceEmotion

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
