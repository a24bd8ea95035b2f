"""Speech regions of one channel, from the Silero VAD model that faster-whisper ships (ONNX)."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from inspector.settings import VadSettings
from inspector.timeline import Span

SAMPLE_RATE = 16000


def speech_regions(audio: np.ndarray, settings: VadSettings) -> list[Span]:
    """Where someone speaks in ``audio`` (16 kHz mono float32), as sorted, disjoint spans."""
    if audio.size == 0:
        return []
    options = VadOptions(
        threshold=settings.threshold,
        min_speech_duration_ms=settings.min_speech_ms,
        min_silence_duration_ms=settings.min_silence_ms,
        speech_pad_ms=settings.speech_pad_ms,
        # Whisper reads 30 s windows; shorter regions keep word timestamps anchored.
        max_speech_duration_s=25.0,
    )
    chunks = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [Span(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]
