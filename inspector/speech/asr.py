"""Speech recognition with faster-whisper: speech regions of one channel in, timed words out.

Only the speech regions are decoded: they are concatenated (with a short gap so that words of
different turns are not glued together) and their word timestamps are mapped back to the file's
time. Model, device, compute type, threads and decoding options all come from ``AsrSettings``.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import Segment
from faster_whisper.transcribe import Word as WhisperWord

from inspector.settings import AsrSettings
from inspector.speech.correction import PhraseFinder, Scorer, apply, correct
from inspector.speech.lexicon import Vocabulary
from inspector.speech.timeline import Span
from inspector.speech.transcript import Word
from inspector.speech.weights import ensure_whisper_model
from inspector.text.normalize import clean_text

SAMPLE_RATE = 16000
WINDOW_S = 30.0  # whisper's input window
# Whisper hallucinations on noise/hold music that are never real hotline speech.
_HALLUCINATIONS = ("字幕", "订阅", "点赞", "谢谢观看", "请不吝", "明镜", "by索兰娅")

def _hallucinated(segment: Segment) -> bool:
    return any(h in segment.text for h in _HALLUCINATIONS)


WHISPER_LANGUAGE = {"zh": "zh", "yue": "yue", "en": "en", "auto": None}


# Speech regions shorter than this are neither decoded again nor reported when they give no word
# (clicks, breaths, 嗯).
MIN_REPORTED_S = 0.6


@dataclass(frozen=True)
class RecognizedWord:
    """A word as recognized: raw text from the model and the cleaned display form."""

    word: Word
    raw: str


@dataclass(frozen=True)
class Recognition:
    """What one channel gave: its words, and the speech regions that gave no word at all."""

    words: list[RecognizedWord]
    unheard: list[Span]


class _TimeMap:
    """Maps times in the concatenated speech audio back to times in the original channel."""

    def __init__(self, regions: Sequence[Span], gap_s: float) -> None:
        self.concat_starts: list[float] = []
        self.regions = list(regions)
        position = 0.0
        for region in self.regions:
            self.concat_starts.append(position)
            position += region.duration + gap_s

    def to_original(self, t: float, region_index: int) -> float:
        region = self.regions[region_index]
        offset = min(max(t - self.concat_starts[region_index], 0.0), region.duration)
        return region.start + offset

    def region_of(self, t: float) -> int:
        """The region a word starting at ``t`` belongs to. A start inside the silent gap after a
        region belongs to the next region: whisper tends to time word starts early."""
        index = max(0, bisect.bisect_right(self.concat_starts, t) - 1)
        in_gap = t > self.concat_starts[index] + self.regions[index].duration
        return index + 1 if in_gap and index + 1 < len(self.regions) else index


def concatenate(audio: np.ndarray, regions: Sequence[Span], gap_s: float) -> np.ndarray:
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    for region in regions:
        if pieces:
            pieces.append(gap)
        pieces.append(audio[int(region.start * SAMPLE_RATE) : int(region.end * SAMPLE_RATE)])
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


class Recognizer:
    """A loaded Whisper model plus the decoding options and domain bias. Load once, reuse."""

    def __init__(self, settings: AsrSettings, models_dir: Path, vocabulary: Vocabulary) -> None:
        self.settings = settings
        self.folder = ensure_whisper_model(settings.model, models_dir)
        workers = max(1, settings.workers)
        self.model = WhisperModel(
            str(self.folder),
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=max(1, settings.cpu_threads // workers),
            num_workers=workers,
        )
        self._solo: WhisperModel | None = None
        self._solo_lock = threading.Lock()
        decode_bias = settings.bias and settings.bias_mode == "decode"
        self.prompt = vocabulary.prompt if decode_bias else ""
        self.hotwords = (
            " ".join(vocabulary.hotwords) if decode_bias and settings.use_hotwords and vocabulary.hotwords else None
        )
        # Verified bias: decode plainly, then let domain phrases replace near-homophones the model
        # itself prefers given the domain context (inspector.speech.correction).
        verified = settings.bias and settings.bias_mode == "verified"
        # Hotwords only: role cues (您好, 我家) are what tells agent from customer, and a customer's
        # 你好 must stay 你好.
        self.finder = PhraseFinder(vocabulary.hotwords) if verified else None
        # What the recognizer is told before it scores a correction: the hotwords, then the prompt,
        # as faster-whisper lays them out when they bias decoding.
        self.context = " ".join((*vocabulary.hotwords, vocabulary.prompt)).strip()

    @property
    def solo(self) -> WhisperModel:
        """The model for one job alone (a short mono call): one worker with every thread. The shared
        model splits the threads between its workers, which only pays when several jobs run."""
        if self.settings.workers <= 1 or self.settings.device != "cpu":
            return self.model
        with self._solo_lock:
            if self._solo is None:
                self._solo = WhisperModel(
                    str(self.folder),
                    device=self.settings.device,
                    compute_type=self.settings.compute_type,
                    cpu_threads=self.settings.cpu_threads,
                    num_workers=1,
                )
        return self._solo

    def _decode(
        self,
        model: WhisperModel,
        piece: np.ndarray,
        language: str,
        on_segment: Callable[[float], None] | None = None,
        persistent: bool = False,
    ) -> list[Segment]:
        """Decode one piece. ``persistent`` (a last try on speech that gave nothing): sample, from the
        temperature ladder's second step on. The no-speech check stays: without it whisper writes
        words (辣椒, 短片) into line noise that VAD took for speech."""
        temperatures = self.settings.temperatures
        if persistent:
            temperatures = [t for t in temperatures if t > 0] or [0.4]
        segments, _info = model.transcribe(
            piece,
            **self._options(language, temperatures),
            condition_on_previous_text=self.settings.condition_on_previous_text,
        )
        kept: list[Segment] = []
        for seg in segments:  # a lazy generator: decoding happens as we iterate
            if on_segment is not None:
                on_segment(seg.end)
            if not _hallucinated(seg) and not self._noise_loop(seg):
                kept.append(seg)
        return kept

    def _noise_loop(self, seg: Segment) -> bool:
        """A repetition loop (text more compressible than the threshold) where the model itself says
        there is probably no speech: whisper's hallucination on line noise (我认识了你我认识了你…). With
        the fallback ladder off this is what sampling used to replace; a loop on speech (low no-speech
        probability) is kept and cut to its first occurrence (``drop_repetition_loops``)."""
        s = self.settings
        return seg.compression_ratio > s.compression_ratio_threshold and seg.no_speech_prob > s.no_speech_threshold

    def _options(self, language: str, temperatures: Sequence[float]) -> dict[str, Any]:
        """Decoding options shared by sequential and batched decoding (from ``AsrSettings``)."""
        s = self.settings
        return {
            "language": WHISPER_LANGUAGE[language],
            "task": "transcribe",
            "beam_size": s.beam_size,
            "best_of": s.best_of,
            "temperature": list(temperatures),
            "compression_ratio_threshold": s.compression_ratio_threshold,
            "repetition_penalty": s.repetition_penalty,
            "no_repeat_ngram_size": s.no_repeat_ngram_size,
            "no_speech_threshold": s.no_speech_threshold,
            "initial_prompt": self.prompt or None,
            "hotwords": self.hotwords,
            "word_timestamps": True,
            "vad_filter": False,
        }

    def _decode_batched(
        self, model: WhisperModel, piece: np.ndarray, time_map: _TimeMap, language: str
    ) -> list[Segment]:
        """Decode one piece as windows of whole regions (at most 30 s each) in batches: the encoder
        and decoder run on ``batch_size`` windows at once (faster-whisper's BatchedInferencePipeline)."""
        clips: list[dict[str, float]] = []
        for start, region in zip(time_map.concat_starts, time_map.regions, strict=True):
            end = start + region.duration
            if clips and end - clips[-1]["start"] <= WINDOW_S:
                clips[-1]["end"] = end
            else:
                clips.append({"start": start, "end": end})
        segments, _info = BatchedInferencePipeline(model).transcribe(
            piece,
            **self._options(language, self.settings.temperatures),
            clip_timestamps=clips,
            batch_size=self.settings.batch_size,
        )
        return [seg for seg in segments if not _hallucinated(seg) and not self._noise_loop(seg)]

    @staticmethod
    def _word(w: WhisperWord, start: float, end: float) -> RecognizedWord | None:
        text = clean_text(w.word)
        if not text:
            return None
        return RecognizedWord(Word(start, max(start, end), text, float(w.probability)), w.word)

    def transcribe(
        self,
        audio: np.ndarray,
        regions: Sequence[Span],
        language: str,
        on_segment: Callable[[float], None] | None = None,
        model: WhisperModel | None = None,
    ) -> Recognition:
        """Words spoken in ``regions`` of ``audio`` (16 kHz mono), in file time, in order.

        Whisper sometimes stops early in a window and skips the rest of its speech. Regions left
        (almost) without words are therefore decoded again on their own, and a region still without
        a word is decoded a last time with sampling. A region that gives
        nothing even then is returned in ``unheard``: speech that VAD found is never silently dropped.
        """
        if not regions:
            return Recognition([], [])
        model = model or self.model
        words = self._transcribe_concatenated(model, audio, regions, language, on_segment)
        for region in under_covered(regions, words, self.settings.min_chars_per_s):
            inside = [w for w in words if region.start <= w.word.middle < region.end]
            retry = self._transcribe_concatenated(model, audio, [region], language)
            if not retry and not inside:
                retry = self._transcribe_concatenated(model, audio, [region], language, persistent=True)
            if len("".join(w.word.text for w in retry)) > len("".join(w.word.text for w in inside)):
                words = [w for w in words if w not in inside] + retry
        words = drop_repetition_loops(sorted(words, key=lambda w: w.word.start))
        middles = [w.word.middle for w in words]
        unheard = [
            r for r in regions
            if r.duration >= MIN_REPORTED_S
            and bisect.bisect_left(middles, r.start) == bisect.bisect_left(middles, r.end)
        ]
        return Recognition(words, unheard)

    def _transcribe_concatenated(
        self,
        model: WhisperModel,
        audio: np.ndarray,
        regions: Sequence[Span],
        language: str,
        on_segment: Callable[[float], None] | None = None,
        persistent: bool = False,
    ) -> list[RecognizedWord]:
        time_map = _TimeMap(regions, self.settings.region_gap_s)
        piece = concatenate(audio, regions, self.settings.region_gap_s)
        if self.settings.batch_size > 1 and not persistent:
            segments = self._decode_batched(model, piece, time_map, language)
        else:
            segments = self._decode(model, piece, language, on_segment, persistent)
        raw: list[WhisperWord] = []
        segment_of: list[int] = []
        for k, seg in enumerate(segments):
            for w in seg.words or []:
                raw.append(w)
                segment_of.append(k)
        indices = [time_map.region_of(w.start) for w in raw]
        # The gap between regions is silence, so two words aligned back to back across it are
        # misaligned: whisper times word starts early, so the first belongs to the next region.
        for i in range(len(raw) - 1):
            if indices[i] < indices[i + 1] and raw[i + 1].start - raw[i].end < 0.1:
                indices[i] = indices[i + 1]
        by_segment: dict[int, list[RecognizedWord]] = {}
        for w, index, k in zip(raw, indices, segment_of, strict=True):
            rw = self._word(w, time_map.to_original(w.start, index), time_map.to_original(w.end, index))
            if rw:
                by_segment.setdefault(k, []).append(rw)
        words: list[RecognizedWord] = []
        for k, group in by_segment.items():
            if self.finder is not None and language == "zh":
                group = self._correct(model, piece, segments[k], group, language)
            words += group
        return words

    def _correct(
        self, model: WhisperModel, piece: np.ndarray, segment: Segment, words: list[RecognizedWord], language: str
    ) -> list[RecognizedWord]:
        """Replace near-homophones of domain phrases in one segment's words, where verified."""
        assert self.finder is not None
        text = "".join(w.word.text for w in words)
        candidates = self.finder.candidates(text)
        if not candidates:
            return words
        a = max(0, int((segment.start - 0.2) * SAMPLE_RATE))
        b = min(len(piece), int((segment.end + 0.2) * SAMPLE_RATE))
        scorer = self._scorer(model, piece[a:b], language)
        accepted = correct(text, candidates, scorer, self.settings.correction_margin)
        if not accepted:
            return words
        fixed = apply(text, accepted)
        out: list[RecognizedWord] = []
        position = 0
        for rw in words:  # same characters count: each word keeps its span, its characters change
            n = len(rw.word.text)
            w = rw.word
            out.append(RecognizedWord(Word(w.start, w.end, fixed[position : position + n], w.probability), rw.raw))
            position += n
        return out

    def _scorer(self, model: WhisperModel, audio: np.ndarray, language: str) -> Scorer:
        """Total log-probability of texts on ``audio`` (at most one 30 s window), given the domain
        vocabulary as previous text: the recognizer's own judgement, teacher-forced."""
        features = model.feature_extractor(audio)
        frames = min(features.shape[-1], model.feature_extractor.nb_max_frames)
        encoder_output = model.encode(pad_or_trim(features[:, :frames]))
        tokenizer = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=WHISPER_LANGUAGE[language]
        )
        start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if self.context.strip():
            start = [tokenizer.sot_prev, *tokenizer.encode(" " + self.context.strip()), *start]

        def score(texts: Sequence[str]) -> list[float]:
            out = []
            for text in texts:
                tokens = tokenizer.encode(text)
                result = model.model.align(encoder_output, start, [tokens], frames)[0]
                out.append(float(np.log(np.maximum(np.asarray(result.text_token_probs), 1e-9)).sum()))
            return out

        return score

    def transcribe_channels(
        self,
        channels: Sequence[tuple[np.ndarray, Sequence[Span]]],
        language: str,
        progress: Callable[[float], None] | None = None,
    ) -> list[Recognition]:
        """Transcribe each (audio, regions) channel; all model workers are kept busy: channels run
        concurrently, and a lone channel with at least ``min_split_speech_s`` of speech is cut into
        consecutive groups of regions that run concurrently (each group is decoded on its own, so
        nothing is lost at the cut). Channels or groups longer than ``max_chunk_s`` of speech are
        cut further. A single job runs alone on every thread."""
        workers = max(1, self.settings.workers)
        jobs: list[tuple[int, np.ndarray, list[Span]]] = []
        for index, (audio, regions) in enumerate(channels):
            # Long recordings are cut into chunks of bounded speech time: the recognizer computes
            # features for its whole input at once, so this bounds memory on a 2-hour call.
            speech = sum(r.duration for r in regions)
            lone = len(channels) == 1 and speech >= self.settings.min_split_speech_s
            parts = max(workers if lone else 1, math.ceil(speech / self.settings.max_chunk_s))
            for group in split_regions(regions, parts):
                jobs.append((index, audio, group))
        meter = ProgressMeter([speech_length(r, self.settings.region_gap_s) for _, _, r in jobs], progress)
        model = self.solo if len(jobs) == 1 else self.model

        def run(job_index: int) -> Recognition:
            _, audio, regions = jobs[job_index]
            return self.transcribe(audio, regions, language, partial(meter.update, job_index), model)

        if len(jobs) <= 1 or workers == 1:
            outputs = [run(i) for i in range(len(jobs))]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outputs = list(pool.map(run, range(len(jobs))))
        results = [Recognition([], []) for _ in channels]
        for (index, _, _), recognition in zip(jobs, outputs, strict=True):
            results[index].words.extend(recognition.words)
            results[index].unheard.extend(recognition.unheard)
        return results


def speech_length(regions: Sequence[Span], gap_s: float) -> float:
    """Seconds of concatenated speech audio that ``regions`` make."""
    return sum(r.duration for r in regions) + gap_s * max(0, len(regions) - 1)


class ProgressMeter:
    """Adds up decoding progress of concurrent jobs; reports each further tenth of the work."""

    def __init__(self, totals: Sequence[float], report: Callable[[float], None] | None) -> None:
        self.total = max(sum(totals), 1e-9)
        self.done = [0.0] * len(totals)
        self.report = report
        self.next_tenth = 1
        self.lock = threading.Lock()

    def update(self, job: int, seconds: float) -> None:
        if self.report is None:
            return
        with self.lock:
            self.done[job] = max(self.done[job], seconds)
            fraction = min(1.0, sum(self.done) / self.total)
            if fraction * 10 >= self.next_tenth:
                self.next_tenth = int(fraction * 10) + 1
                self.report(fraction)


def split_regions(regions: Sequence[Span], parts: int) -> list[list[Span]]:
    """Cut time-ordered regions into at most ``parts`` consecutive groups of similar speech time."""
    regions = list(regions)
    if parts <= 1 or len(regions) < 2:
        return [regions] if regions else []
    total = sum(r.duration for r in regions)
    groups: list[list[Span]] = [[]]
    done = 0.0
    for region in regions:
        if groups[-1] and done >= total * len(groups) / parts and len(groups) < parts:
            groups.append([])
        groups[-1].append(region)
        done += region.duration
    return groups


def under_covered(regions: Sequence[Span], words: Sequence[RecognizedWord], min_chars_per_s: float) -> list[Span]:
    """Speech regions (of at least 0.6 s) holding no recognized character, or fewer than
    ``min_chars_per_s`` per second."""
    starts = [w.word.middle for w in words]
    out: list[Span] = []
    for region in regions:
        if region.duration < MIN_REPORTED_S:
            continue
        lo, hi = bisect.bisect_left(starts, region.start), bisect.bisect_left(starts, region.end)
        chars = sum(len(w.word.text) for w in words[lo:hi])
        if chars == 0 or chars < min_chars_per_s * region.duration:
            out.append(region)
    return out


_LOOP = re.compile(r"(.{2,6}?)\1{2,}|(.)\2{2,}")
# Repeated digits are what people say (139 8888 6666, 门牌 1111, 000): a run of digits no longer than a mobile
# number is never a loop; longer ones (whisper's 1111111111111…) still are.
_DIGIT_CHARS = frozenset("0123456789０１２３４５６７８９零〇一二三四五六七八九幺两")
_LONGEST_DIGIT_RUN = 11


def drop_repetition_loops(words: Sequence[RecognizedWord]) -> list[RecognizedWord]:
    """Remove whisper's decoding loops (证证证…, 维修维修维修): a unit of 1-6 characters repeated three or
    more times in a row keeps only its first occurrence. Digits repeated within a phone number's length
    (13988886666) are speech, not a loop."""
    text = "".join(w.word.text for w in words)
    drop = np.zeros(len(text), dtype=bool)
    for match in _LOOP.finditer(text):
        if len(match.group()) <= _LONGEST_DIGIT_RUN and set(match.group()) <= _DIGIT_CHARS:
            continue
        unit = len(match.group(1) or match.group(2))
        drop[match.start() + unit : match.end()] = True
    if not drop.any():
        return list(words)
    out: list[RecognizedWord] = []
    position = 0
    for w in words:
        n = len(w.word.text)
        if not drop[position : position + n].all():
            out.append(w)
        position += n
    return out
