"""Who spoke when, for mono recordings (stereo PBX recordings need none: one speaker per channel).

Backends share one interface, ``Diarizer``: 16 kHz mono audio plus its speech regions in, speaker
turns out. The default, ``EmbeddingDiarizer``, runs offline on weights shipped inside a registry
package (the GE2E encoder, see ``inspector.speech.embeddings``): 1.5 s windows every 0.5 s inside speech -> speaker
embeddings -> spectral clustering -> per-frame votes -> turns. ``PyannoteDiarizer`` runs a
pyannote.audio pipeline from a local folder for users who have its weights.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from inspector.errors import ModelError
from inspector.settings import DiarizationSettings
from inspector.speech.embeddings import SpeakerEncoder, mel_frames, volume_gain
from inspector.speech.timeline import Span
from inspector.speech.transcript import Word

SAMPLE_RATE = 16000
FRAME_S = 0.01  # the encoder's mel hop
MIN_TURN_S = 0.3
EMBED_BATCH = 128


@dataclass(frozen=True)
class SpeakerTurn:
    span: Span
    speaker: str


class Diarizer(Protocol):
    method: str

    def __call__(self, audio: np.ndarray, regions: Sequence[Span], speakers: int) -> list[SpeakerTurn]: ...


def _windows(regions: Sequence[Span], window: float, step: float, duration: float) -> list[Span]:
    """Fixed-length analysis windows covering every speech region."""
    out: list[Span] = []
    for region in regions:
        if region.duration < 0.4:
            continue
        if region.duration <= window:
            middle = region.middle
            start = min(max(0.0, middle - window / 2), max(0.0, duration - window))
            out.append(Span(start, min(duration, start + window)))
            continue
        t = region.start
        while t + window < region.end:
            out.append(Span(t, t + window))
            t += step
        out.append(Span(region.end - window, region.end))
    return out


def _stretches(windows: Sequence[Span], max_s: float = 60.0) -> list[list[Span]]:
    """Consecutive windows grouped while they overlap or touch, at most ``max_s`` long each."""
    out: list[list[Span]] = []
    for w in windows:
        if out and w.start <= out[-1][-1].end and w.end - out[-1][0].start <= max_s:
            out[-1].append(w)
        else:
            out.append([w])
    return out


def _turns_from_frames(labels: np.ndarray, speech: np.ndarray, names: list[str]) -> list[SpeakerTurn]:
    """Run-length encode per-frame labels inside speech; drop turns shorter than MIN_TURN_S."""
    turns: list[SpeakerTurn] = []
    start = None
    current = -1
    for i in range(len(labels) + 1):
        label = labels[i] if i < len(labels) and speech[i] else -1
        if label != current:
            if current >= 0 and start is not None:
                turns.append(SpeakerTurn(Span(start * FRAME_S, i * FRAME_S), names[current]))
            start, current = i, label
    # Absorb very short turns into the neighbouring turn of the same region.
    merged: list[SpeakerTurn] = []
    for turn in turns:
        if merged and turn.span.duration < MIN_TURN_S and abs(merged[-1].span.end - turn.span.start) < 1e-6:
            merged[-1] = SpeakerTurn(Span(merged[-1].span.start, turn.span.end), merged[-1].speaker)
        elif merged and merged[-1].speaker == turn.speaker and turn.span.start - merged[-1].span.end < 1e-6:
            merged[-1] = SpeakerTurn(Span(merged[-1].span.start, turn.span.end), turn.speaker)
        else:
            merged.append(turn)
    return merged


class EmbeddingDiarizer:
    """Offline diarization: GE2E speaker embeddings + spectral clustering."""

    method = "embedding"

    def __init__(self, settings: DiarizationSettings) -> None:
        self.settings = settings
        self._encoder: SpeakerEncoder | None = None

    @property
    def encoder(self) -> SpeakerEncoder:
        if self._encoder is None:
            self._encoder = SpeakerEncoder("cpu")
        return self._encoder

    def embed(self, audio: np.ndarray, windows: Sequence[Span]) -> np.ndarray:
        """Embeddings of ``windows`` (sorted). Mel features are computed per stretch of touching
        windows, not for the whole file, so memory stays flat on a 2-hour recording."""
        gain = volume_gain(audio)
        n = round(self.settings.window_s / FRAME_S)
        out: list[np.ndarray] = []
        batch: list[np.ndarray] = []
        for stretch in _stretches(windows):
            first_sample = int(stretch[0].start * SAMPLE_RATE)
            mel = mel_frames(audio[first_sample : int(stretch[-1].end * SAMPLE_RATE)] * gain)
            for w in stretch:
                first = round((w.start - stretch[0].start) / FRAME_S)
                piece = np.zeros((n, mel.shape[1]), dtype=np.float32)
                frames = mel[first : first + n]
                piece[: len(frames)] = frames
                batch.append(piece)
                if len(batch) == EMBED_BATCH:
                    out.append(self.encoder.embed(np.stack(batch)))
                    batch = []
        if batch:
            out.append(self.encoder.embed(np.stack(batch)))
        return np.concatenate(out) if out else np.zeros((0, 256), dtype=np.float32)

    @staticmethod
    def cluster(embeddings: np.ndarray, speakers: int) -> np.ndarray:
        from sklearn.cluster import SpectralClustering

        n = len(embeddings)
        if speakers <= 1 or n < 2 * speakers:
            return np.zeros(n, dtype=int)
        model = SpectralClustering(
            n_clusters=speakers,
            affinity="nearest_neighbors",
            # Neighbourhood grows with the call so that the graph stays connected on long calls.
            n_neighbors=min(max(10, n // 20), n - 1),
            random_state=0,
            assign_labels="kmeans",
        )
        return model.fit_predict(embeddings)

    def __call__(self, audio: np.ndarray, regions: Sequence[Span], speakers: int) -> list[SpeakerTurn]:
        duration = len(audio) / SAMPLE_RATE
        windows = _windows(regions, self.settings.window_s, self.settings.step_s, duration)
        if speakers <= 1 or len(windows) < 2 * speakers:
            # Too little speech to tell voices apart (clustering would put every window in one
            # cluster anyway): a short call costs no embedding work.
            return [SpeakerTurn(r, "S1") for r in regions]
        labels = self.cluster(self.embed(audio, windows), speakers)
        n_frames = int(np.ceil(duration / FRAME_S))
        votes = np.zeros((n_frames, max(1, speakers)), dtype=np.float32)
        for window, label in zip(windows, labels, strict=True):
            a, b = int(window.start / FRAME_S), min(n_frames, int(window.end / FRAME_S))
            # Triangular weight: a window knows its middle best.
            weight = 1.0 - np.abs(np.linspace(-1.0, 1.0, b - a)) * 0.9
            votes[a:b, label] += weight
        speech = np.zeros(n_frames, dtype=bool)
        for r in regions:
            speech[int(r.start / FRAME_S) : int(np.ceil(r.end / FRAME_S))] = True
        frame_labels = _fill_unvoted(votes)
        # Speakers are named in order of first appearance: S1 usually answered the phone.
        order: list[int] = []
        for label in frame_labels[speech]:
            if label not in order:
                order.append(int(label))
        names = [""] * votes.shape[1]
        for rank, label in enumerate(order):
            names[label] = f"S{rank + 1}"
        return _turns_from_frames(frame_labels, speech, names)


def _fill_unvoted(votes: np.ndarray) -> np.ndarray:
    """argmax per frame; frames no window covered take the label of the nearest voted frame."""
    labels = votes.argmax(axis=1)
    voted = votes.sum(axis=1) > 0
    if voted.any() and not voted.all():
        idx = np.flatnonzero(voted)
        nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(labels))), 0, len(idx) - 1)]
        labels = np.where(voted, labels, labels[nearest])
    return labels


class PyannoteDiarizer:
    """A pyannote.audio pipeline loaded from a local folder (config.yaml + weights); optional."""

    method = "pyannote"

    def __init__(self, pipeline_dir: Path) -> None:
        try:
            from pyannote.audio import Pipeline
        except ImportError as exc:
            raise ModelError("未安装 pyannote.audio：pip install pyannote.audio，并提供本地管线目录") from exc
        config = pipeline_dir / "config.yaml"
        if not config.is_file():
            raise ModelError(f"pyannote 管线目录 {pipeline_dir} 中没有 config.yaml")
        self.pipeline = Pipeline.from_pretrained(str(config))

    def __call__(self, audio: np.ndarray, regions: Sequence[Span], speakers: int) -> list[SpeakerTurn]:
        import torch

        result = self.pipeline(
            {"waveform": torch.from_numpy(audio)[None, :], "sample_rate": SAMPLE_RATE}, num_speakers=speakers
        )
        annotation = getattr(result, "speaker_diarization", result)
        return [
            SpeakerTurn(Span(float(seg.start), float(seg.end)), str(label))
            for seg, _track, label in annotation.itertracks(yield_label=True)
        ]


def make_diarizer(settings: DiarizationSettings) -> Diarizer:
    if settings.backend == "pyannote":
        if settings.pyannote_pipeline is None:
            raise ModelError("diarization.backend=pyannote 需要设置 diarization.pyannote_pipeline（本地目录）")
        return PyannoteDiarizer(settings.pyannote_pipeline)
    return EmbeddingDiarizer(settings)


def speaker_of_words(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[str]:
    """The speaker of each word: the turn it overlaps most, else the nearest turn; then words that
    differ from both neighbours, are short and sit tight between them take the neighbours' speaker."""
    if not turns:
        return ["S1"] * len(words)
    ordered = sorted(turns, key=lambda t: t.span.start)
    starts = [t.span.start for t in ordered]
    speakers: list[str] = []
    for word in words:
        span = Span(word.start, max(word.end, word.start + 0.01))
        i = bisect.bisect_right(starts, span.end)
        # Turns are disjoint and sorted: only the few just before the word's end can touch it.
        candidates = ordered[max(0, i - 3) : i + 1]
        best = max(
            candidates,
            key=lambda t: (t.span.overlap(span), -min(abs(t.span.start - span.middle), abs(t.span.end - span.middle))),
        )
        speakers.append(best.speaker)
    for i in range(1, len(words) - 1):
        prev, nxt = speakers[i - 1], speakers[i + 1]
        if prev == nxt != speakers[i]:
            tight = words[i].start - words[i - 1].end < 0.3 and words[i + 1].start - words[i].end < 0.3
            if tight and words[i].end - words[i].start < 0.6:
                speakers[i] = prev
    return speakers
