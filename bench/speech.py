"""Speech-layer benchmark: real-time factor per stage and peak memory, on the bundled samples.

    .venv/bin/python bench/speech.py [DIR] [--repeat N]

Prints one line per file and a summary per layout (stereo / mono): RTF = processing seconds per
second of audio, per stage (decode, VAD, diarization, ASR) and whole pipeline; peak RSS of this
process (models loaded once, as in a worker). Not a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from inspector.settings import PROJECT_ROOT, Settings
from inspector.speech.audio import AUDIO_SUFFIXES, probe
from inspector.speech.pipeline import SpeechPipeline

STAGES = ("decode_s", "vad_s", "diarize_s", "asr_s", "total_s")


def _layout_key(path: Path) -> int:
    return probe(path, Settings().audio).channels


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", nargs="?", default=str(PROJECT_ROOT / "samples" / "calls"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    files = sorted(p for p in Path(args.directory).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)

    t = time.perf_counter()
    pipeline = SpeechPipeline(Settings())
    load_s = time.perf_counter() - t
    # Warm-up on one stereo and one mono file: lazy model parts (speaker encoder, librosa's JIT).
    for path in {_layout_key(p): p for p in reversed(files)}.values():
        pipeline.transcribe(path)
    print(f"cpus={os.cpu_count()} model load {load_s:.2f}s; threads={pipeline.settings.asr.cpu_threads}")

    sums: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for path in files:
            tr = pipeline.transcribe(path)
            layout = "stereo" if tr.diarization.method == "channels" else "mono"
            acc = sums.setdefault(layout, {k: 0.0 for k in (*STAGES, "audio_s")})
            acc["audio_s"] += tr.duration_s
            stage_values = {k: getattr(tr.timings, k) for k in STAGES}
            for k, v in stage_values.items():
                acc[k] += v
            cells = " ".join(f"{k[:-2]}={v / tr.duration_s:.4f}" for k, v in stage_values.items())
            print(f"{path.name:32s} {layout:6s} {tr.duration_s:6.1f}s  RTF {cells}")

    print()
    print(f"{'layout':8s} {'audio_s':>8s} " + " ".join(f"{k[:-2]:>9s}" for k in STAGES))
    for layout, acc in sorted(sums.items()):
        print(f"{layout:8s} {acc['audio_s']:8.1f} " + " ".join(f"{acc[k] / acc['audio_s']:9.4f}" for k in STAGES))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
