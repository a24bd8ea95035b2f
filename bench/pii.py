"""Personal-data detection against the labeled set, its speed, and what it finds in the sample calls.

    .venv/bin/python bench/pii.py [--data bench/data/pii-labeled.jsonl] [--show-errors]
    .venv/bin/python bench/pii.py --data bench/data/pii-heldout.jsonl

``pii-heldout.jsonl`` (280 sentences) was written by hand, blind to the detector: it is the measure of the
targets, and no rule may be changed to fix one of its lines.

The set is written by ``bench/pii_labeled.py`` (seeded templates). A detection counts for a labeled span
when the kind is the same and they overlap by at least half of the longer of the two. Per kind: precision
and recall; ``number`` (the 7+ digit fallback) is listed apart, with the negatives it masks (long numbers
that are not personal). ``masked`` is what the product needs: the share of labeled spans that any
detection covers by at least half, whatever its kind. Then the time ``detect`` takes per KB of UTF-8
text (3 KB of the set's sentences, 3 KB of the sample calls' transcripts), and every detection in the
reference transcripts of ``samples/calls`` (synthetic calls: what is found there is printed for a person
to judge).

Not a test: figures for README.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from inspector.privacy.detection import PII_LABELS_ZH, Detection, PiiKind, detect
from inspector.privacy.masking import mask_transcript
from inspector.privacy.spans import transcript_spans
from inspector.settings import PROJECT_ROOT
from inspector.speech.transcript import Transcript

DATA = PROJECT_ROOT / "bench" / "data" / "pii-labeled.jsonl"
SAMPLES = PROJECT_ROOT / "samples" / "calls"
TIMED_BYTES = 3 * 1024


def overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def matches(d: Detection, label: dict) -> bool:
    longer = max(d.end - d.start, label["end"] - label["start"])
    return d.kind == label["kind"] and overlap(d.start, d.end, label["start"], label["end"]) * 2 >= longer


def evaluate(lines: list[dict], show_errors: bool) -> None:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    masked = labeled = 0
    long_number_masks = 0
    errors: Counter[str] = Counter()
    for line in lines:
        found = detect(line["text"])
        for label in line["spans"]:
            labeled += 1
            width = label["end"] - label["start"]
            if any(overlap(d.start, d.end, label["start"], label["end"]) * 2 >= width for d in found):
                masked += 1
            if any(matches(d, label) for d in found):
                tp[label["kind"]] += 1
            else:
                fn[label["kind"]] += 1
                errors[f"{line['tag']} missed"] += 1
                if show_errors:
                    print(
                        f"  漏检 {label['kind']:<9} {line['text'][label['start'] : label['end']]!r:<28} {line['text']}"
                    )
        for d in found:
            if not any(matches(d, label) for label in line["spans"]):
                fp[d.kind] += 1
                errors[f"{line['tag']} false {d.kind.value}"] += 1
                if line["tag"] == "negative-long-number":
                    long_number_masks += 1
                if show_errors:
                    print(f"  误检 {d.kind.value:<9} {line['text'][d.start : d.end]!r:<28} {line['text']}")
    print(f"{len(lines)} lines, {labeled} labeled spans ({sum(1 for x in lines if not x['spans'])} lines without any)")
    print(f"{'kind':<10} {'label':<6} {'spans':>5} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}")
    for kind in PiiKind:
        n = tp[kind] + fn[kind]
        precision = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else float("nan")
        recall = tp[kind] / n if n else float("nan")
        if kind is PiiKind.NUMBER:
            print("-- fallback (数字串), apart from the kinds:")
        print(
            f"{kind.value:<10} {PII_LABELS_ZH[kind]:<6} {n:>5} {tp[kind]:>4} {fp[kind]:>4} {fn[kind]:>4} "
            f"{precision:>9.3f} {recall:>7.3f}"
        )
    print(f"   of the fallback's FP: {long_number_masks} on long non-personal numbers (电表号, 发票号码, 快递单号)")
    print(f"masked (any kind covers ≥ half of the labeled span): {masked}/{labeled} = {masked / labeled:.3f}")
    tags = Counter(line["tag"] for line in lines)
    print(
        "errors by line tag: "
        + (", ".join(f"{k} {v} (of {tags[k.split()[0]]} lines)" for k, v in errors.items()) or "none")
    )


def first_bytes(texts: list[str], limit: int) -> str:
    out = ""
    for text in texts:
        if len((out + text).encode()) > limit:
            break
        out += text
    return out


def timing(name: str, text: str, runs: int = 200, repeats: int = 7) -> None:
    """Best and median of ``repeats`` timings of ``runs`` calls (the best is the least disturbed by other
    work on the machine)."""
    kb = len(text.encode()) / 1024
    for _ in range(20):
        detect(text)
    per_call = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(runs):
            detect(text)
        per_call.append((time.perf_counter() - start) / runs * 1e3)
    best, median = min(per_call), sorted(per_call)[len(per_call) // 2]
    print(
        f"detect, {name}: {kb:.2f} KB ({len(text)} chars): best {best:.3f} ms ({best / kb:.3f} ms/KB), "
        f"median {median:.3f} ms"
    )


def samples() -> None:
    print("sample calls (reference transcripts):")
    for path in sorted(SAMPLES.glob("*.json")):
        transcript = Transcript.from_dict(json.loads(path.read_text(encoding="utf-8")))
        spans = transcript_spans(transcript)
        if not spans:
            print(f"  {path.name}: none")
        for s in spans:
            u = transcript.utterances[s.utterance]
            print(
                f"  {path.name}: {s.kind.value} {u.text[s.start : s.end]!r} → {s.value} ({s.confidence:.2f}, "
                f"{s.start_s:.2f}-{s.end_s:.2f} s) in {u.role}: {u.text}"
            )


def long_transcript() -> Transcript:
    """About five minutes of hotline talk: every sample call's utterances one after another, each with words of
    about three characters (as the recognizer gives them), plus an owner reading out a mobile and an ID number."""
    utterances, offset = [], 0.0
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for u in data["utterances"]:
            utterances.append({**u, "start": u["start"] + offset, "end": u["end"] + offset})
        offset += data["duration_s"]
    said = "我的电话是幺三九，一二三四，五六七八，身份证号四四零三零一一九八五零七一五零零一零"
    utterances.append({"start": offset, "end": offset + 8.0, "speaker": "S1", "role": "customer", "text": said})
    for u in utterances:
        pieces = [u["text"][i : i + 3] for i in range(0, len(u["text"]), 3)] or [""]
        step = (u["end"] - u["start"]) / len(pieces)
        u["words"] = [{"start": u["start"] + i * step, "end": u["start"] + (i + 1) * step, "text": p,
                       "probability": 0.9} for i, p in enumerate(pieces)]  # fmt: skip
    diarization = {"method": "channels", "role_confidence": 1.0, "agent_speaker": "S0", "speakers": ["S0", "S1"]}
    return Transcript.from_dict({"file": "long.wav", "duration_s": offset + 8.0, "channels": 2, "sample_rate": 8000,
                                 "utterances": utterances, "diarization": diarization})  # fmt: skip


def request_overhead(runs: int = 300) -> None:
    """What masking adds to ``GET /calls/{id}/transcript``: mask_transcript against the plain to_dict."""
    transcript = long_transcript()
    for words in (False, True):
        plain, masked = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            transcript.to_dict(words=words)
            t1 = time.perf_counter()
            mask_transcript(transcript, words=words)
            t2 = time.perf_counter()
            plain.append(t1 - t0)
            masked.append(t2 - t1)
        added = sorted((m - p) * 1000 for m, p in zip(masked, plain, strict=True))
        p50, p95 = added[len(added) // 2], added[int(len(added) * 0.95)]
        print(f"transcript request, {transcript.duration_s / 60:.1f} min, {len(transcript.utterances)} utterances, "
              f"words={str(words).lower()}: masking adds p50 {p50:.2f} ms, p95 {p95:.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show-errors", action="store_true", help="print every miss and false detection")
    args = parser.parse_args()
    lines = [json.loads(x) for x in args.data.read_text(encoding="utf-8").splitlines() if x.strip()]
    evaluate(lines, args.show_errors)
    timing("labeled sentences (a number in nearly every one)", first_bytes([x["text"] for x in lines], TIMED_BYTES))
    calls = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.json"))]
    timing("sample call transcripts", first_bytes([u["text"] for c in calls for u in c["utterances"]], TIMED_BYTES))
    request_overhead()
    samples()


if __name__ == "__main__":
    main()
