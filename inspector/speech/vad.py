"""Speech regions of one channel, from the Silero VAD model that faster-whisper ships (ONNX)."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from inspector.settings import VadSettings
from inspector.speech.timeline import Span, merge

SAMPLE_RATE = 16000
# The VAD copies its input a few times over; a 2-hour channel is therefore read in pieces.
PIECE_S = 600.0


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
    piece = int(PIECE_S * SAMPLE_RATE)
    regions: list[Span] = []
    for offset in range(0, audio.size, piece):
        chunks = get_speech_timestamps(audio[offset : offset + piece], options, sampling_rate=SAMPLE_RATE)
        regions += [Span((offset + c["start"]) / SAMPLE_RATE, (offset + c["end"]) / SAMPLE_RATE) for c in chunks]
    # Speech running across a piece boundary comes back as two touching regions: join them.
    return merge(regions, gap=0.05) if audio.size > piece else regions


# One whisper window: decoding a channel this short whole costs what decoding any part of it costs.
WHOLE_CHANNEL_S = 30.0
# Peak amplitude below which a channel is digital silence (-60 dBFS).
SILENT_PEAK = 10 ** (-60 / 20)


def regions_to_decode(audio: np.ndarray, settings: VadSettings) -> list[Span]:
    """The spans the recognizer should hear: VAD's speech regions; for a channel of at most one
    whisper window in which VAD hears nothing, the whole channel (VAD misses quiet or band-limited
    speech, and the recognizer's own no-speech check still decides), unless it is digitally silent."""
    regions = speech_regions(audio, settings)
    duration = audio.size / SAMPLE_RATE
    if regions or not 0 < duration <= WHOLE_CHANNEL_S or float(np.abs(audio).max()) < SILENT_PEAK:
        return regions
    return [Span(0.0, duration)]
