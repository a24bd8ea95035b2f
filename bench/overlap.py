"""Overlapped-speech detection on mono audio (``inspector.speech.overlap``), scored against references
nobody tuned it to, and its cost.

    .venv/bin/python bench/overlap.py                  # the pipeline's setting (diarization.overlap_step_s)
    .venv/bin/python bench/overlap.py --step 1 --step 2.5 --step 5

Sets (the data stays where it is; converted copies go to ``out/bench-audio/``, ignored by git):
- ``real-en`` / ``real-en-8k``: ``../shared/speech-bench/real-en-dialogue`` (a real two-speaker
  recording, 30 s); the reference overlaps are where the RTTM's two speakers intersect (6 stretches,
  1.9 s; 3 of them ≥ 0.25 s). ``-8k``: the same as a PBX delivers it (8 kHz μ-law, 300-3400 Hz).
- ``samples-mix``: ``samples/calls/call0[1-4]_*_stereo.wav`` with both channels mixed to mono; the
  reference overlaps are where the JSON's agent and customer utterances intersect (call02: one 1.5 s
  cut-in, call03: two 1.2 s; call01 and call04: none).
- ``samples-mono``: the mono samples (no overlaps).
- ``real-zh-8k``: the single-speaker clips of ``../shared/speech-bench/real-zh`` at 8 kHz (no
  overlaps: every detection is a false positive). Two-speaker clips there have no timing reference:
  their detections are listed, not scored.

Figures: frame level (10 ms) precision and recall of the detected spans; region level: reference
stretches ≥ 0.25 s found (a detection intersects them), detections that intersect no reference
stretch (false positives), and false positives per hour on audio without overlaps; then the
detector's RTF. The detector's only decision is the model's own (powerset argmax, majority of the
Hamming-weighted chunks); nothing here is tuned to a clip.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from telephone import telephone_copy

from inspector.settings import PROJECT_ROOT, AudioSettings, Settings
from inspector.speech.audio import decode
from inspector.speech.overlap import MIN_OVERLAP_S, OverlapDetector
from inspector.speech.timeline import Span, merge

BENCH = PROJECT_ROOT.parent / "shared" / "speech-bench"
CACHE = PROJECT_ROOT / "out" / "bench-audio"
RESOLUTION_S = 0.01
NO_OVERLAP = "all no-overlap"  # every scored clip without reference overlaps, across the sets


@dataclass
class Item:
    set_name: str
    name: str
    path: Path
    reference: list[Span] | None  # None: overlaps unknown (listed, not scored)


@dataclass
class Tally:
    seconds: float = 0.0
    hit_s: float = 0.0
    false_s: float = 0.0
    missed_s: float = 0.0
    regions: int = 0
    found: int = 0
    detections: int = 0
    false_regions: int = 0
    lines: list[str] = field(default_factory=list)


def intersections(turns: list[tuple[Span, str]]) -> list[Span]:
    """Where two different speakers' turns overlap, merged."""
    out = []
    for i, (a, who) in enumerate(turns):
        for b, other in turns[i + 1 :]:
            if who != other and a.overlap(b) > 0:
                out.append(Span(max(a.start, b.start), min(a.end, b.end)))
    return merge(out)


def items(bench: Path) -> Iterator[Item]:
    dialogue = bench / "real-en-dialogue"
    turns = []
    for line in (dialogue / "sample.rttm").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start = float(parts[3])
            turns.append((Span(start, start + float(parts[4])), parts[7]))
    yield Item("real-en", "sample.wav", dialogue / "sample.wav", intersections(turns))
    yield Item("real-en-8k", "sample.wav", telephone_copy(dialogue / "sample.wav", CACHE / "real-en"),
               intersections(turns))  # fmt: skip
    for path in sorted((PROJECT_ROOT / "samples" / "calls").glob("*.wav")):
        ref = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        turns = [(Span(u["start"], u["end"]), u["speaker"]) for u in ref["utterances"]]
        yield Item("samples-mix" if ref["channels"] == 2 else "samples-mono", path.stem, path, intersections(turns))
    for line in (bench / "real-zh" / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        path = telephone_copy(bench / "real-zh" / row["file"], CACHE / "real-zh")
        yield Item("real-zh-8k", row["file"], path, [] if row.get("speakers", 1) == 1 else None)


def mask(spans: list[Span], seconds: float) -> np.ndarray:
    m = np.zeros(int(np.ceil(seconds / RESOLUTION_S)) + 1, dtype=bool)
    for s in spans:
        m[round(s.start / RESOLUTION_S) : round(s.end / RESOLUTION_S)] = True
    return m


def score(tally: Tally, reference: list[Span], found: list[Span], seconds: float) -> None:
    ref, hyp = mask(reference, seconds), mask(found, seconds)
    tally.seconds += seconds
    tally.hit_s += (ref & hyp).sum() * RESOLUTION_S
    tally.false_s += (~ref & hyp).sum() * RESOLUTION_S
    tally.missed_s += (ref & ~hyp).sum() * RESOLUTION_S
    regions = [r for r in reference if r.duration >= MIN_OVERLAP_S]
    tally.regions += len(regions)
    tally.found += sum(any(r.overlap(f) > 0 for f in found) for r in regions)
    tally.detections += len(found)
    tally.false_regions += sum(not any(f.overlap(r) > 0 for r in reference) for f in found)


def _spans(spans: list[Span]) -> str:
    return " ".join(f"{s.start:.2f}-{s.end:.2f}" for s in spans) or "-"


def run(step_s: float, bench: Path, verbose: bool) -> tuple[dict[str, Tally], float, float]:
    detector = OverlapDetector(step_s)
    tallies: dict[str, Tally] = {}
    unscored: list[str] = []
    cost = audio_s = 0.0
    for item in items(bench):
        audio = decode(item.path, AudioSettings()).mono()
        seconds = len(audio) / 16000
        t = time.perf_counter()
        found = detector(audio)
        cost += time.perf_counter() - t
        audio_s += seconds
        if item.reference is None:
            unscored.append(f"  {item.set_name}/{item.name} (two speakers, no timing reference): {_spans(found)}")
            continue
        tally = tallies.setdefault(item.set_name, Tally())
        score(tally, item.reference, found, seconds)
        if not item.reference:  # audio without overlaps, whatever its set
            score(tallies.setdefault(NO_OVERLAP, Tally()), [], found, seconds)
        if found or item.reference:
            tally.lines.append(f"  {item.set_name}/{item.name}: reference {_spans(item.reference)}"
                               f" | found {_spans(found)}")
    print(f"\n== overlap detection, step {step_s:g} s ==")
    lines = [line for t in tallies.values() for line in t.lines] if verbose else []
    for line in lines + unscored:
        print(line)
    head = (f"{'set':14s} {'audio_s':>7s} {'frameP':>6s} {'frameR':>6s} {'regions':>9s} {'found':>5s}"
            f" {'false':>5s} {'false/h':>7s}")
    print(head + "\n" + "-" * len(head))
    for name, t in sorted(tallies.items(), key=lambda kv: kv[0] == NO_OVERLAP):
        p = t.hit_s / (t.hit_s + t.false_s) if t.hit_s + t.false_s else float("nan")
        r = t.hit_s / (t.hit_s + t.missed_s) if t.hit_s + t.missed_s else float("nan")
        print(f"{name:14s} {t.seconds:7.0f} {p:6.2f} {r:6.2f} {f'{t.found}/{t.regions}':>9s} {t.detections:5d} "
              f"{t.false_regions:5d} {t.false_regions / t.seconds * 3600:7.1f}")  # fmt: skip
    print(f"detector RTF {cost / audio_s:.4f} ({cost:.1f} s for {audio_s:.0f} s of audio, short clips padded to 10 s)")
    return tallies, cost, audio_s


def print_targets(tallies: dict[str, Tally], step_s: float) -> None:
    with_overlaps = [t for name, t in tallies.items() if name in ("real-en", "samples-mix")]
    regions = sum(t.regions for t in with_overlaps)
    found = sum(t.found for t in with_overlaps)
    clean = tallies.get(NO_OVERLAP, Tally())
    seconds, false = clean.seconds, clean.false_regions
    rate = false / seconds * 3600 if seconds else 0.0
    print(f"\n== targets (step {step_s:g} s) ==")
    rows = [
        ("overlaps ≥ 0.25 s found (real-en, samples-mix) > 1/2", f"{found}/{regions}", found * 2 > regions),
        ("false overlaps on no-overlap audio ≤ 30 / h", f"{false} in {seconds:.0f} s = {rate:.0f}/h", rate <= 30),
    ]
    for what, value, met in rows:
        print(f"{'met    ' if met else 'NOT MET'}  {what:54s} {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", type=float, action="append", help="seconds between 10 s windows (repeatable)")
    parser.add_argument("--bench-dir", type=Path, default=BENCH)
    parser.add_argument("--quiet", action="store_true", help="no per-clip lines")
    args = parser.parse_args()
    setting = Settings().diarization.overlap_step_s
    steps = args.step or [setting]
    results = {step: run(step, args.bench_dir, not args.quiet)[0] for step in steps}
    # The targets are judged at the pipeline's own setting when it was run.
    print_targets(results.get(setting, results[steps[-1]]), setting if setting in results else steps[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
