"""Mono diarization error rate on every two-speaker recording with reference times we have.

    .venv/bin/python bench/diarization.py [--bench-dir ../shared/speech-bench] [--set KEY=VALUE ...]

- ``real-en-dialogue`` (``../shared/speech-bench``: a real two-speaker conversation with a reference
  RTTM) as it is (16 kHz) and as a PBX would deliver it (8 kHz μ-law, 300-3400 Hz, ``bench/telephone.py``);
- the seven ``samples/calls`` mixed down to mono (stereo ones too: their channels give exact reference
  turns), against the utterance times in their JSON.

DER with a 0.25 s collar, overlap skipped (pyannote.metrics), hypothesis = the pipeline's utterances and
their speakers, as ``bench/speech_vs_baseline.py`` computes it for real-en-dialogue. ``--set`` overrides a
setting (``diarization.window_s=1.0``) to compare a variant in the same run. Not a test: figures for README
and issue notes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import warnings
from pathlib import Path

from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate
from telephone import telephone_copy

from inspector.settings import PROJECT_ROOT, Settings
from inspector.speech.pipeline import SpeechPipeline

BENCH = PROJECT_ROOT.parent / "shared" / "speech-bench"
SAMPLES = PROJECT_ROOT / "samples" / "calls"


def _metric() -> DiarizationErrorRate:
    return DiarizationErrorRate(collar=0.25, skip_overlap=True)


def hypothesis(pipeline: SpeechPipeline, path: Path, language: str) -> Annotation:
    out = Annotation()
    for i, u in enumerate(pipeline.transcribe(path, language=language).utterances):
        if u.end > u.start:
            out[Segment(u.start, u.end), i] = u.speaker
    return out


def rttm(path: Path) -> Annotation:
    out = Annotation()
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            out[Segment(start, start + dur)] = parts[7]
    return out


def sample_reference(path: Path) -> Annotation:
    out = Annotation()
    for i, u in enumerate(json.loads(path.read_text(encoding="utf-8"))["utterances"]):
        out[Segment(u["start"], u["end"]), i] = u["role"]
    return out


def with_overrides(pairs: list[str]) -> Settings:
    settings = Settings()
    for pair in pairs:
        key, _, value = pair.partition("=")
        section, _, field = key.partition(".")
        part = getattr(settings, section)
        kind = type(getattr(part, field))
        setattr(part, field, kind(json.loads(value)) if kind in (int, float, bool) else value)
    return settings


def main() -> int:
    warnings.filterwarnings("ignore", message="'uem' was approximated")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=BENCH)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    settings = with_overrides(args.set)
    pipeline = SpeechPipeline(settings)
    work = Path(tempfile.mkdtemp(prefix="diarization-bench-"))
    print(f"settings overrides: {args.set or 'none'}")

    dialogue = args.bench_dir / "real-en-dialogue"
    reference = rttm(dialogue / "sample.rttm")
    phone = telephone_copy(dialogue / "sample.wav", work)
    for name, path in (("real-en-dialogue 16 kHz", dialogue / "sample.wav"), ("real-en-dialogue 8 kHz", phone)):
        pipeline_en = SpeechPipeline(settings.model_copy(update={"language": "en"}))
        value = _metric()(reference, hypothesis(pipeline_en, path, "en"))
        print(f"{name:34s} DER {value:.3f}")

    total = _metric()
    for js in sorted(SAMPLES.glob("*.json")):
        mono = work / f"{js.stem}.wav"
        subprocess.run(["sox", str(js.with_suffix(".wav")), "-c", "1", str(mono)], check=True)
        ref, hyp = sample_reference(js), hypothesis(pipeline, mono, "zh")
        value = _metric()(ref, hyp)
        total(ref, hyp)
        print(f"samples {js.stem + ' (mono mix)':26s} DER {value:.3f}")
    print(f"{'samples, all seven (mono mixes)':34s} DER {abs(total):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
