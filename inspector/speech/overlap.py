"""Overlapped speech in mono calls: find where both parties talk at once, and say so in the transcript.

On a mono recording the recognizer writes down one voice where two overlap, so the other party's
words there are lost and, without a trace of the second voice, the interruption rule cannot fire.

Finding (``OverlapDetector``: 16 kHz mono samples -> overlapped spans): pyannote's segmentation-3.0
(``inspector.speech.segmentation``) reads 10 s chunks every ``step_s`` seconds; in each chunk and
~17 ms frame its most likely powerset class says "two speakers at once" or not (the model's own
decision, no threshold of ours). The chunks' votes are averaged with a Hamming window, as
pyannote.audio aggregates them; a frame is overlapped when more than half the weight says so, and
runs of at least ``MIN_OVERLAP_S`` are kept.

Marking (``mark_overlaps``, pure): words under an overlap keep their text but their probability is
halved, and their utterance gets the ``overlap`` flag and a confidence recomputed from its words.
Where an overlap meets a change of speaker (the earlier utterance ends no sooner than
``TURN_TOLERANCE_S`` before it, and the next starts no later than that after it), the earlier
utterance is extended to the overlap's end and the later one starts at the overlap's start: the two
utterances overlap in time as the voices did, which is what the interruption rule reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Protocol

import numpy as np

from inspector.speech.segmentation import SAMPLE_RATE, TWO_SPEAKER_CLASSES, SegmentationModel
from inspector.speech.timeline import Span
from inspector.speech.transcript import Utterance, Word
from inspector.speech.utterances import confidence_of
from inspector.vocab import UtteranceFlag

MIN_OVERLAP_S = 0.25
# Probability factor for a word under an overlap (its text may belong to either voice, or to none).
WORD_FACTOR = 0.5
# How far (s) a change of speaker may sit from an overlap and still be the overlap's turn change:
# the mono diarizer places turns on a 0.5 s grid (its window step).
TURN_TOLERANCE_S = 0.5
BATCH = 8  # chunks per forward pass (8 x 10 s keeps the SincNet activations near 40 MB)


class Segmenter(Protocol):
    """What the detector needs of the model (``SegmentationModel``; tests pass a fake)."""

    chunk_samples: int
    frames_per_chunk: int
    frame_step: float
    frame_duration: float

    def log_probs(self, chunks: np.ndarray) -> np.ndarray: ...


def chunk_starts(samples: int, chunk: int, step: int) -> list[int]:
    """Start sample of each chunk: every ``step``, plus one ending at the last sample."""
    if samples <= chunk:
        return [0]
    starts = list(range(0, samples - chunk + 1, step))
    if starts[-1] != samples - chunk:
        starts.append(samples - chunk)
    return starts


def overlap_spans(
    share: np.ndarray, frame_step: float, frame_duration: float, min_s: float = MIN_OVERLAP_S
) -> list[Span]:
    """Runs of frames whose share of "two speakers" votes is above one half, at least ``min_s`` long.
    A run spans from its first frame's middle to the middle of the frame after its last."""
    on = np.concatenate([[False], share > 0.5, [False]])
    edges = np.flatnonzero(on[1:] != on[:-1])
    middles = frame_duration / 2 + np.arange(len(share) + 1) * frame_step
    spans = [Span(float(middles[a]), float(middles[b])) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [s for s in spans if s.duration >= min_s]


class OverlapDetector:
    """The segmentation model loaded once; ``detector(audio)`` -> overlapped spans (seconds)."""

    def __init__(self, step_s: float = 2.5, model: Segmenter | None = None) -> None:
        self.model: Segmenter = model if model is not None else SegmentationModel()
        self.step = max(1, round(step_s * SAMPLE_RATE))

    def share(self, audio: np.ndarray) -> np.ndarray:
        """Per output frame: the Hamming-weighted share of chunks whose best class is two speakers."""
        m = self.model
        total_frames = int(len(audio) / SAMPLE_RATE / m.frame_step) + 1
        votes = np.zeros(total_frames)
        weight = np.zeros(total_frames)
        window = np.hamming(m.frames_per_chunk)
        starts = chunk_starts(len(audio), m.chunk_samples, self.step)
        for i in range(0, len(starts), BATCH):
            batch = starts[i : i + BATCH]
            chunks = np.zeros((len(batch), m.chunk_samples), dtype=np.float32)
            for row, start in enumerate(batch):
                piece = audio[start : start + m.chunk_samples]
                chunks[row, : len(piece)] = piece
            two = np.isin(m.log_probs(chunks).argmax(axis=-1), TWO_SPEAKER_CLASSES)
            for row, start in enumerate(batch):
                first = round(start / SAMPLE_RATE / m.frame_step)
                n = min(m.frames_per_chunk, total_frames - first)
                if n > 0:
                    votes[first : first + n] += two[row, :n] * window[:n]
                    weight[first : first + n] += window[:n]
        return votes / np.maximum(weight, 1e-12)

    def __call__(self, audio: np.ndarray) -> list[Span]:
        if len(audio) == 0:
            return []
        return overlap_spans(self.share(audio), self.model.frame_step, self.model.frame_duration)


def _under(word: Word, span: Span) -> bool:
    """At least half of the word lies in ``span`` (a zero-length word: its time does)."""
    if word.end <= word.start:
        return span.start <= word.start < span.end
    return Span(word.start, word.end).overlap(span) >= (word.end - word.start) / 2


def _flag(u: Utterance) -> None:
    if UtteranceFlag.OVERLAP not in u.flags:
        u.flags.append(UtteranceFlag.OVERLAP)


def _lower_words(u: Utterance, span: Span) -> None:
    if not any(_under(w, span) for w in u.words):
        return
    u.words = [replace(w, probability=w.probability * WORD_FACTOR) if _under(w, span) else w for w in u.words]
    u.confidence = confidence_of(u.words)
    _flag(u)


def _join_turn(before: Utterance, after: Utterance, span: Span, tolerance_s: float) -> None:
    """If the change of speaker between ``before`` and ``after`` is at ``span``, make them overlap there."""
    if before.speaker == after.speaker:
        return
    # Both sides of the change must be at the overlap: a detection inside a long pause between two
    # turns (words the recognizer missed there) is no reason to stretch either turn across the pause.
    if before.end < span.start - tolerance_s or after.start > span.end + tolerance_s:
        return
    before.end = max(before.end, span.end)
    after.start = max(before.start, min(after.start, span.start))
    _flag(before)
    _flag(after)


def mark_overlaps(
    utterances: Sequence[Utterance], overlaps: Sequence[Span], tolerance_s: float = TURN_TOLERANCE_S
) -> list[Utterance]:
    """Record ``overlaps`` in ``utterances`` (changed in place; returned in time order). Unheard
    utterances (no text) are left alone: they neither take a turn nor hold words to doubt."""
    ordered = sorted(utterances, key=lambda u: (u.start, u.end))
    spoken = [u for u in ordered if UtteranceFlag.UNHEARD not in u.flags]
    for span in overlaps:
        for u in spoken:
            if u.start < span.end + tolerance_s and u.end > span.start - tolerance_s:
                _lower_words(u, span)
        for before, after in pairwise(spoken):
            _join_turn(before, after, span, tolerance_s)
    return sorted(ordered, key=lambda u: (u.start, u.end))
