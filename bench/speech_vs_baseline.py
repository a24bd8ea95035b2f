"""Side-by-side: plain faster-whisper (what a user writes in ten lines) against inspector's speech
pipeline, in one run, same model, same machine.

    .venv/bin/python bench/speech_vs_baseline.py                       # samples + real-zh + DER
    .venv/bin/python bench/speech_vs_baseline.py --sets real-zh --variant nobias:asr.bias=false

Sets:
- ``samples``: ``samples/calls`` (synthetic 8 kHz property calls with role-labelled references).
- ``real-zh``: ``../shared/speech-bench/real-zh`` (real Mandarin nobody here recorded), each clip
  converted to what a PBX delivers: 8 kHz μ-law, 300–3400 Hz (``sox IN -r 8000 -c 1 -e mu-law OUT
  sinc 300-3400``). The converted copies go to ``out/bench-audio/`` (ignored by git); the data never
  enters the repository.
- ``der``: ``../shared/speech-bench/real-en-dialogue`` (a real two-speaker recording with an RTTM):
  DER with a 0.25 s collar, overlap skipped, through the pipeline's mono diarization.

Systems: ``plain`` = ``WhisperModel(folder, device="cpu", compute_type="int8").transcribe(path,
vad_filter=True, language="zh", beam_size=5)``; ``inspector`` = ``SpeechPipeline(Settings())``;
each ``--variant NAME:key=value,key=value`` = the pipeline with those settings changed (ablations).
Each clip is run by every system in turn (A B A B …) so drift of the machine's speed hits all alike.

Printed per system and set: CER, role-attributed CER (references with roles), domain words invented
(a vocabulary phrase found more often in the output than in the reference), clips with speech but no
output, dropped reference utterances, the share of character errors in the lowest-confidence 20 % of
utterances (``u``: 20 % of the utterances; ``c``: the utterances holding 20 % of the characters), and
wall time, CPU time and RTF by recording length (< 10 s, 10–60 s, > 60 s). Per-clip outputs go
to ``out/bench/speech_vs_baseline.jsonl``. A benchmark, not a test: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate
from rapidfuzz.distance import Levenshtein
from telephone import telephone_copy

from inspector.qa.evaluate import dropped_utterances, load_reference, phrase_report, role_attributed_cer
from inspector.settings import PROJECT_ROOT, AudioSettings, Settings
from inspector.speech.audio import AUDIO_SUFFIXES, probe
from inspector.speech.lexicon import load_vocabulary
from inspector.speech.pipeline import SpeechPipeline
from inspector.speech.transcript import Transcript, Utterance
from inspector.text.normalize import normalize_for_cer

BENCH = PROJECT_ROOT.parent / "shared" / "speech-bench"
OUT = PROJECT_ROOT / "out"
BUCKETS = (("<10s", 0.0, 10.0), ("10-60s", 10.0, 60.0), (">60s", 60.0, float("inf")))


@dataclass
class Clip:
    name: str
    path: Path
    duration_s: float
    ref_text: str
    ref_utterances: list[Utterance] | None = None  # with roles (samples only)
    channels: int = 1


@dataclass
class Result:
    text: str
    seconds: float
    cpu_s: float
    utterances: list[Utterance] = field(default_factory=list)


# --- data -----------------------------------------------------------------------------------------


def real_zh_clips(directory: Path) -> list[Clip]:
    clips = []
    for line in (directory / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        path = telephone_copy(directory / row["file"], OUT / "bench-audio" / "real-zh")
        clips.append(Clip(row["file"], path, float(row["duration_s"]), row["text"]))
    return clips


def sample_clips(directory: Path) -> list[Clip]:
    clips = []
    for path in sorted(p for p in directory.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        ref = load_reference(path.with_suffix(".json"))
        text = "".join(u.text for u in sorted(ref.utterances, key=lambda u: u.start))
        clips.append(Clip(path.name, path, ref.duration_s, text, ref.utterances, probe(path, AudioSettings()).channels))
    return clips


# --- systems --------------------------------------------------------------------------------------


def plain_system(model_dir: Path) -> Callable[[Path], Result]:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")

    def run(path: Path) -> Result:
        t, c = time.perf_counter(), time.process_time()
        segments, _info = model.transcribe(str(path), vad_filter=True, language="zh", beam_size=5)
        text = "".join(s.text for s in segments)
        return Result(text, time.perf_counter() - t, time.process_time() - c)

    return run


def pipeline_system(settings: Settings) -> Callable[[Path], Result]:
    pipeline = SpeechPipeline(settings)

    def run(path: Path) -> Result:
        t, c = time.perf_counter(), time.process_time()
        tr = pipeline.transcribe(path)
        seconds, cpu = time.perf_counter() - t, time.process_time() - c
        utts = sorted(tr.utterances, key=lambda u: (u.start, u.end))
        return Result("".join(u.text for u in utts), seconds, cpu, utts)

    return run


def with_overrides(overrides: str) -> Settings:
    """Settings() with ``key.sub=value`` pairs (JSON values, else strings) applied."""
    data = Settings().model_dump()
    for pair in filter(None, re.split(r",(?![^\[]*\])", overrides)):  # commas inside [...] belong to a list
        key, _, raw = pair.partition("=")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return Settings(**data)


# --- metrics --------------------------------------------------------------------------------------


def low_confidence_error_share(
    rows: Sequence[tuple[Clip, Result]], fraction: float = 0.2, by_chars: bool = False
) -> float | None:
    """Share of all character errors that fall in the lowest-confidence ``fraction`` of utterances
    (counted as utterances, or, ``by_chars``, as the utterances holding that share of the output's
    characters: long utterances hold more errors whatever their confidence).

    Each clip's normalized output is aligned with its reference; an error is charged to the utterance
    holding the output character it touches (a deletion: the utterance of the next output character).
    """
    charged: list[tuple[float, int, int]] = []  # (utterance confidence, errors, characters)
    for clip, result in rows:
        utts = [u for u in result.utterances if normalize_for_cer(u.text)] or []
        if not utts:
            continue
        owner: list[int] = []
        for i, u in enumerate(utts):
            owner += [i] * len(normalize_for_cer(u.text))
        hyp = "".join(normalize_for_cer(u.text) for u in utts)
        errors = [0] * len(utts)
        for op in Levenshtein.editops(normalize_for_cer(clip.ref_text), hyp):
            position = min(op.dest_pos, len(owner) - 1)
            errors[owner[position]] += 1
        charged += [(u.confidence, e, len(normalize_for_cer(u.text))) for u, e in zip(utts, errors, strict=True)]
    total = sum(e for _, e, _ in charged)
    if not charged or not total:
        return None
    charged.sort(key=lambda item: item[0])
    if not by_chars:
        low = charged[: max(1, round(len(charged) * fraction))]
    else:
        budget, low = fraction * sum(c for _, _, c in charged), []
        for item in charged:
            if budget <= 0:
                break
            low.append(item)
            budget -= item[2]
    return sum(e for _, e, _ in low) / total


@dataclass
class Summary:
    cer: float
    role_cer: float | None
    invented: int
    invented_words: list[str]
    empty: int
    dropped: int
    ref_utterances: int
    low_conf_share: float | None
    low_conf_share_chars: float | None
    seconds: float
    cpu_s: float
    audio_s: float
    buckets: dict[str, tuple[int, float, float]]  # name -> (clips, seconds, audio seconds)
    recall: tuple[int, int]
    rtf_by_layout: dict[str, float]  # "stereo"/"mono" -> wall seconds / audio seconds


def summarize(rows: Sequence[tuple[Clip, Result]], phrases: Sequence[str]) -> Summary:
    errors = chars = role_errors = invented = empty = dropped = n_ref = said = recalled = 0
    invented_words: list[str] = []
    has_roles = all(c.ref_utterances is not None for c, _ in rows) and all(r.utterances for _, r in rows)
    buckets = {name: [0, 0.0, 0.0] for name, _, _ in BUCKETS}
    for clip, result in rows:
        ref, hyp = normalize_for_cer(clip.ref_text), normalize_for_cer(result.text)
        errors += Levenshtein.distance(ref, hyp)
        chars += len(ref)
        counts = phrase_report(clip.ref_text, result.text, phrases)
        invented += counts.invented
        said += counts.said
        recalled += counts.recalled
        if counts.invented:
            invented_words += [p for p in phrases if normalize_for_cer(result.text).count(normalize_for_cer(p))
                               > normalize_for_cer(clip.ref_text).count(normalize_for_cer(p))]
        empty += bool(ref) and not hyp
        if clip.ref_utterances is not None:
            n_ref += len(clip.ref_utterances)
            if result.utterances:
                dropped += len(dropped_utterances(clip.ref_utterances, result.utterances))
                role_errors += role_attributed_cer(clip.ref_utterances, result.utterances)[0]
            else:
                dropped += len(clip.ref_utterances) if not hyp else 0
        for name, lo, hi in BUCKETS:
            if lo <= clip.duration_s < hi:
                b = buckets[name]
                b[0] += 1
                b[1] += result.seconds
                b[2] += clip.duration_s
    return Summary(
        cer=errors / max(chars, 1),
        role_cer=role_errors / max(chars, 1) if has_roles else None,
        invented=invented,
        invented_words=invented_words,
        empty=empty,
        dropped=dropped,
        ref_utterances=n_ref,
        low_conf_share=low_confidence_error_share(rows) if any(r.utterances for _, r in rows) else None,
        low_conf_share_chars=(
            low_confidence_error_share(rows, by_chars=True) if any(r.utterances for _, r in rows) else None
        ),
        seconds=sum(r.seconds for _, r in rows),
        cpu_s=sum(r.cpu_s for _, r in rows),
        audio_s=sum(c.duration_s for c, _ in rows),
        buckets={k: (int(v[0]), v[1], v[2]) for k, v in buckets.items()},
        recall=(recalled, said),
        rtf_by_layout={
            layout: sum(r.seconds for c, r in chosen) / sum(c.duration_s for c, _ in chosen)
            for layout, chosen in (("stereo", [(c, r) for c, r in rows if c.channels == 2]),
                                   ("mono", [(c, r) for c, r in rows if c.channels == 1]))
            if chosen
        },
    )


def print_table(set_name: str, summaries: dict[str, Summary]) -> None:
    print(f"\n== {set_name} ==")
    head = (f"{'system':22s} {'CER':>7s} {'roleCER':>8s} {'invented':>8s} {'recall':>9s} {'empty':>5s} "
            f"{'dropped':>8s} {'errs@low20%':>12s} {'wall_s':>7s} {'cpu_s':>7s} {'RTF':>6s}  RTF by length")
    print(head)
    print("-" * len(head))
    for name, s in summaries.items():
        role = f"{s.role_cer:8.3f}" if s.role_cer is not None else f"{'-':>8s}"
        low = (f"{s.low_conf_share:5.2f}u {s.low_conf_share_chars:4.2f}c"
               if s.low_conf_share is not None and s.low_conf_share_chars is not None else f"{'-':>12s}")
        drop = f"{s.dropped}/{s.ref_utterances}" if s.ref_utterances else "-"
        by_len = "  ".join(f"{k} {v[1] / v[2]:.3f} (n={v[0]})" for k, v in s.buckets.items() if v[0])
        recall = f"{s.recall[0]}/{s.recall[1]}" if s.recall[1] else "-"
        print(f"{name:22s} {s.cer:7.3f} {role} {s.invented:8d} {recall:>9s} {s.empty:5d} {drop:>8s} {low} "
              f"{s.seconds:7.1f} {s.cpu_s:7.1f} {s.seconds / s.audio_s:6.3f}  {by_len}")
    for name, s in summaries.items():
        if s.invented_words:
            print(f"  {name} invented: {' '.join(s.invented_words)}")


# --- diarization ----------------------------------------------------------------------------------


def der_real_dialogue(directory: Path, settings: Settings) -> float:
    reference = Annotation()
    for line in (directory / "sample.rttm").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            reference[Segment(start, start + dur)] = parts[7]
    settings = settings.model_copy(update={"language": "en"})
    tr: Transcript = SpeechPipeline(settings).transcribe(directory / "sample.wav", language="en")
    hypothesis = Annotation()
    for i, u in enumerate(tr.utterances):
        if u.end > u.start:
            hypothesis[Segment(u.start, u.end), i] = u.speaker
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=True)
    return float(metric(reference, hypothesis))


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="samples,real-zh,der", help="comma list of samples, real-zh, der")
    parser.add_argument("--bench-dir", type=Path, default=BENCH)
    parser.add_argument("--no-plain", action="store_true", help="skip plain faster-whisper")
    parser.add_argument("--no-default", action="store_true", help="skip the pipeline with default settings")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:key=value,...")
    parser.add_argument("--limit", type=int, default=0, help="first N clips of each set (quick checks)")
    args = parser.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]

    settings = Settings()
    phrases = load_vocabulary(settings.rules_dir).phrases
    systems: dict[str, Callable[[Path], Result]] = {}
    if not args.no_plain:
        from inspector.speech.weights import ensure_whisper_model

        systems["plain faster-whisper"] = plain_system(ensure_whisper_model(settings.asr.model, settings.models_dir))
    if not args.no_default:
        systems["inspector"] = pipeline_system(settings)
    for spec in args.variant:
        name, _, overrides = spec.partition(":")
        systems[name] = pipeline_system(with_overrides(overrides))
    print(f"cpus={os.cpu_count()} systems={list(systems)}")

    OUT.mkdir(exist_ok=True)
    (OUT / "bench").mkdir(exist_ok=True)
    log = (OUT / "bench" / "speech_vs_baseline.jsonl").open("w", encoding="utf-8")
    results: dict[str, dict[str, Summary]] = {}
    der: float | None = None
    for set_name in sets:
        if set_name == "der":
            continue
        if set_name == "samples":
            clips = sample_clips(PROJECT_ROOT / "samples" / "calls")
        elif set_name == "real-zh":
            clips = real_zh_clips(args.bench_dir / "real-zh")
        else:
            sys.exit(f"unknown set {set_name}")
        if args.limit:
            clips = clips[: args.limit]
        # Warm-up: one clip of each channel layout through every system. A worker loads its models
        # once and keeps them; the mono path has parts (diarization, overlap) that the stereo path
        # never loads, and their first use also reads torch's libraries from disk.
        warm_up = {clip.channels: clip for clip in reversed(clips)}
        for run in systems.values():
            for clip in warm_up.values():
                run(clip.path)
        rows: dict[str, list[tuple[Clip, Result]]] = {name: [] for name in systems}
        for clip in clips:
            for name, run in systems.items():
                result = run(clip.path)
                rows[name].append((clip, result))
                log.write(json.dumps({"set": set_name, "system": name, "clip": clip.name, "ref": clip.ref_text,
                                      "hyp": result.text, "seconds": round(result.seconds, 3),
                                      "cpu_s": round(result.cpu_s, 3),
                                      "utterances": [[round(u.start, 2), round(u.end, 2), u.role,
                                                      round(u.confidence, 3), u.text] for u in result.utterances]},
                                     ensure_ascii=False) + "\n")
                log.flush()
        summaries = {name: summarize(r, phrases) for name, r in rows.items()}
        results[set_name] = summaries
        print_table(f"{set_name} ({len(clips)} clips, {sum(c.duration_s for c in clips):.0f} s)", summaries)
    if "der" in sets:
        print("\n== real-en-dialogue DER (collar 0.25 s, overlap skipped) ==")
        variants = {"inspector": settings} if not args.no_default else {}
        for spec in args.variant:
            name, _, overrides = spec.partition(":")
            variants[name] = with_overrides(overrides)
        for name, s in variants.items():
            value = der_real_dialogue(args.bench_dir / "real-en-dialogue", s)
            der = value if name == "inspector" else der
            print(f"{name:22s} DER {value:.3f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak_mb:.0f} MB (all systems in one process)")
    print_targets(results, der)
    return 0


def print_targets(results: dict[str, dict[str, Summary]], der: float | None) -> None:
    """The issue's targets against what this run measured (only those this run could measure)."""
    rows: list[tuple[str, str, bool]] = []
    real = results.get("real-zh", {})
    if "inspector" in real and "plain faster-whisper" in real:
        ours, plain = real["inspector"], real["plain faster-whisper"]
        rows += [
            ("real-zh CER ≥ 0.02 below plain", f"{ours.cer:.3f} vs {plain.cer:.3f}", ours.cer <= plain.cer - 0.02),
            ("real-zh domain words invented = 0", str(ours.invented), ours.invented == 0),
            ("real-zh wall time ≤ 1.0× plain", f"{ours.seconds / plain.seconds:.2f}×", ours.seconds <= plain.seconds),
            ("real-zh clips with speech but no output = 0", str(ours.empty), ours.empty == 0),
        ]
        short = ours.buckets.get("<10s")
        if short and short[0]:
            rows.append(("recordings < 10 s: RTF ≤ 0.5", f"{short[1] / short[2]:.3f}", short[1] / short[2] <= 0.5))
    samples = results.get("samples", {})
    if "inspector" in samples:
        ours = samples["inspector"]
        if ours.role_cer is not None:
            rows.append(("samples role CER ≤ 8.9%", f"{ours.role_cer:.1%}", ours.role_cer <= 0.089))
        rows.append(("samples domain-phrase recall ≥ 92/97", f"{ours.recall[0]}/{ours.recall[1]}",
                     ours.recall[0] * 97 >= 92 * ours.recall[1]))
        rows.append(("samples reference utterances dropped = 0", f"{ours.dropped}/{ours.ref_utterances}",
                     ours.dropped == 0))
        for layout, limit in (("stereo", 0.10), ("mono", 0.15)):
            if layout in ours.rtf_by_layout:
                value = ours.rtf_by_layout[layout]
                rows.append((f"samples {layout} RTF ≤ {limit}", f"{value:.3f}", value <= limit))
    if der is not None:
        rows.append(("real-en-dialogue DER ≤ 0.10", f"{der:.3f}", der <= 0.10))
    if rows:
        print("\n== targets ==")
        for what, value, met in rows:
            print(f"{'met    ' if met else 'NOT MET'}  {what:46s} {value}")


if __name__ == "__main__":
    sys.exit(main())
