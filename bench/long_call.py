"""Long-recording benchmark: tiles a sample call into one long recording (default 60 min) and
transcribes it once, printing RTF per stage and the process's peak memory.

    .venv/bin/python bench/long_call.py [--minutes 60] [--sample samples/calls/call01_leak_stereo.wav]

The tiled file is written to a temporary directory and removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import wave
from pathlib import Path

from inspector.settings import PROJECT_ROOT, Settings
from inspector.speech.pipeline import SpeechPipeline


def tile(sample: Path, minutes: float, out: Path) -> None:
    with wave.open(str(sample), "rb") as src:
        params = src.getparams()
        frames = src.readframes(src.getnframes())
    seconds = params.nframes / params.framerate
    repeats = max(1, round(minutes * 60 / seconds))
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        for _ in range(repeats):
            dst.writeframes(frames)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--sample", default=str(PROJECT_ROOT / "samples" / "calls" / "call01_leak_stereo.wav"))
    args = parser.parse_args()
    settings = Settings()
    settings.audio.max_duration_s = max(settings.audio.max_duration_s, args.minutes * 60 + 60)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        tile(Path(args.sample), args.minutes, path)
        pipeline = SpeechPipeline(settings)
        t = time.perf_counter()
        tr = pipeline.transcribe(path, progress=lambda m: print(m, file=sys.stderr))
        wall = time.perf_counter() - t
    stages = ("decode_s", "vad_s", "diarize_s", "asr_s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{Path(args.sample).name} tiled to {tr.duration_s:.0f}s audio, {len(tr.utterances)} utterances")
    print(" ".join(f"{k}={getattr(tr.timings, k) / tr.duration_s:.4f}" for k in stages))
    print(f"total RTF {wall / tr.duration_s:.4f}; peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
