"""Masked-audio benchmark: the time to mask a call's recording, and the first (and a cached) request for it.

    .venv/bin/python bench/masked_audio.py [--seconds 300] [--repeat 3]

Writes four recordings of ``--seconds`` into a temporary folder with PyAV (low tones plus noise): a PBX
WAV (8 kHz stereo μ-law), a 16 kHz mono PCM16 WAV, a 16 kHz mono 32 kbit/s MP3 and an 8 kHz mono 16 kbit/s
MP3, each with six personal-data intervals spread over the call. For each it prints the best of
``--repeat`` runs of ``mask_file``, then, against a fresh SQLite database (upgraded) and a
``LocalAudioStore`` in the same folder, the first ``masked_recording`` request (mask + store + row,
committed) and a second one (cached). MP3 is re-encoded with LAME, which is nearly all of its time.
The target is at most 1 s for the first request of a 5-minute call.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.privacy.audio import mask_file, masked_recording  # noqa: E402
from inspector.store.blobs import LocalAudioStore  # noqa: E402
from inspector.store.calls import NewCall, register_calls  # noqa: E402
from inspector.store.db import Database  # noqa: E402
from inspector.store.schema import Call  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
# name: (suffix, encoder, sample rate, channels, bit rate)
RECORDINGS = {
    "PBX WAV 8 kHz stereo μ-law": (".wav", "pcm_mulaw", 8000, 2, None),
    "WAV 16 kHz mono PCM16": (".wav", "pcm_s16le", 16000, 1, None),
    "MP3 16 kHz mono 32 kbit/s": (".mp3", "libmp3lame", 16000, 1, 32000),
    "MP3 8 kHz mono 16 kbit/s": (".mp3", "libmp3lame", 8000, 1, 16000),
}


def write_recording(path: Path, encoder: str, rate: int, channels: int, bit_rate: int | None, seconds: float) -> None:
    layout = "stereo" if channels == 2 else "mono"
    rng = np.random.default_rng(7)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(encoder, rate=rate, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        for second in range(int(seconds)):
            t = (second + np.arange(rate) / rate)[None, :]
            pitch = np.array([[180.0 + 40 * c] for c in range(channels)])
            block = 0.2 * np.sin(2 * np.pi * pitch * t) + 0.05 * rng.standard_normal((channels, rate))
            frame = av.AudioFrame.from_ndarray(block.astype(np.float32), format="fltp", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def intervals_for(seconds: float) -> list[tuple[float, float]]:
    """Six intervals of 1.5 to 4 s (a phone number, an ID number read out), spread over the call."""
    starts = np.linspace(0.05, 0.9, 6) * seconds
    lengths = [1.5, 2.5, 4.0, 2.0, 3.0, 1.8]
    return [(float(s), float(s + n)) for s, n in zip(starts, lengths, strict=True)]


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def first_request(folder: Path, source: Path, suffix: str, intervals: list[tuple[float, float]]) -> tuple[float, float]:
    """(first, cached) ``masked_recording`` seconds, each in its own committed transaction."""
    db = Database(f"sqlite:///{folder / 'inspector.db'}")
    db.upgrade()
    store = LocalAudioStore(folder / "audio")
    digest = store.put_file(source, suffix)
    with db.session() as session:
        new = NewCall(digest, source.stat().st_size, f"call{suffix}", "upload", "A01", call_id="bench-call")
        register_calls(session, [new], TZ)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        with db.session() as session:
            call = session.get(Call, "bench-call")
            assert call is not None
            masked_recording(session, store, call, intervals)
        times.append(time.perf_counter() - start)
    db.dispose()
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="length of each recording (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of mask_file, the best counts (default 3)")
    args = parser.parse_args()
    intervals = intervals_for(args.seconds)
    masked_s = sum(b - a for a, b in intervals)
    print(f"{args.seconds:.0f} s recordings, {len(intervals)} intervals ({masked_s:.1f} s masked)")
    print(f"{'recording':<30} {'MB':>6} {'mask_file':>10} {'1st request':>12} {'cached':>8}")
    with tempfile.TemporaryDirectory(prefix="inspector-bench-mask-") as tmp:
        for i, (name, (suffix, encoder, rate, channels, bit_rate)) in enumerate(RECORDINGS.items()):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            source = folder / f"source{suffix}"
            write_recording(source, encoder, rate, channels, bit_rate, args.seconds)
            target = folder / f"masked{suffix}"
            mask_s = best_of(args.repeat, lambda s=source, t=target: mask_file(s, t, intervals))
            first_s, cached_s = first_request(folder, source, suffix, intervals)
            size_mb = source.stat().st_size / 1e6
            print(f"{name:<30} {size_mb:>6.1f} {mask_s:>9.3f}s {first_s:>11.3f}s {cached_s:>7.3f}s")


if __name__ == "__main__":
    main()
