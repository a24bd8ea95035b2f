"""Audio file -> speaker-attributed transcript. Wires the stages; each stage lives in its module:
audio (decode) -> vad (speech regions) -> asr (words) -> diarize + overlap (mono only) -> roles ->
utterances.

``SpeechPipeline`` holds the loaded models so a worker pays for them once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.settings import Settings
from inspector.speech import audio as audio_mod
from inspector.speech.asr import Recognizer
from inspector.speech.diarize import Diarizer, make_diarizer, speaker_of_words
from inspector.speech.lexicon import Vocabulary, load_vocabulary
from inspector.speech.overlap import OverlapDetector, mark_overlaps
from inspector.speech.roles import decide_roles
from inspector.speech.timeline import Span
from inspector.speech.transcript import Diarization, Timings, Transcript, Utterance, Word, heard
from inspector.speech.utterances import group_words, speech_by_speaker, with_roles
from inspector.speech.vad import regions_to_decode
from inspector.vocab import UtteranceFlag

CHANNEL_NAMES = ("left", "right")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Layout:
    """How speakers map to the decoded audio."""

    stereo: bool
    reason: str


def choose_layout(decoded: audio_mod.DecodedAudio, mono_correlation: float) -> Layout:
    """Two distinct channels are two parties; two near-identical channels are one mono mix."""
    if len(decoded.channels) < 2:
        return Layout(False, "单声道")
    left, right = decoded.channels[0], decoded.channels[1]
    if not left.any() or not right.any():
        return Layout(False, "双声道但其中一路无信号，按单声道处理")
    corr = float(np.corrcoef(left[: 16000 * 120], right[: 16000 * 120])[0, 1])
    if corr >= mono_correlation:
        return Layout(False, f"双声道内容相同（相关系数 {corr:.3f}），按单声道处理")
    return Layout(True, "双声道分轨：每个声道一个说话人")


def _asr_progress(say: Progress) -> Callable[[float], None]:
    return lambda fraction: say(f"识别进度 {fraction:.0%}")


class SpeechPipeline:
    """Loaded models plus settings; ``transcribe(path)`` runs every stage on one file."""

    def __init__(self, settings: Settings, vocabulary: Vocabulary | None = None) -> None:
        self.settings = settings
        self.vocabulary = vocabulary if vocabulary is not None else load_vocabulary(settings.rules_dir)
        self.recognizer = Recognizer(settings.asr, settings.models_dir, self.vocabulary)
        self._diarizer: Diarizer | None = None
        self._overlaps: OverlapDetector | None = None

    @property
    def diarizer(self) -> Diarizer:
        if self._diarizer is None:
            self._diarizer = make_diarizer(self.settings.diarization)
        return self._diarizer

    @property
    def overlap_detector(self) -> OverlapDetector:
        if self._overlaps is None:
            self._overlaps = OverlapDetector(self.settings.diarization.overlap_step_s)
        return self._overlaps

    def transcribe(
        self,
        path: str | Path,
        language: str | None = None,
        agent_channel: str | None = None,
        speakers: int | None = None,
        progress: Progress | None = None,
    ) -> Transcript:
        s = self.settings
        language = language or s.language
        agent_channel = agent_channel or s.diarization.agent_channel
        speakers = speakers or s.diarization.speakers
        say = progress or (lambda _msg: None)
        timings = Timings()
        t_total = time.perf_counter()

        t = time.perf_counter()
        decoded = audio_mod.decode(path, s.audio)
        timings.decode_s = time.perf_counter() - t
        layout = choose_layout(decoded, s.diarization.mono_correlation)
        say(f"{path}: 已解码 {decoded.duration_s:.1f} 秒，{layout.reason}")

        if layout.stereo:
            utterances, diarization = self._stereo(decoded, language, agent_channel, timings, say)
        else:
            utterances, diarization = self._mono(decoded, language, speakers, timings, say)
        diarization.evidence.insert(0, layout.reason)

        timings.total_s = time.perf_counter() - t_total
        timings.rtf = timings.total_s / decoded.duration_s if decoded.duration_s else 0.0
        return Transcript(
            file=str(path),
            duration_s=decoded.duration_s,
            channels=decoded.info.channels,
            sample_rate=decoded.info.sample_rate,
            utterances=utterances,
            diarization=diarization,
            timings=timings,
            language=language,
        )

    def _stereo(
        self, decoded: audio_mod.DecodedAudio, language: str, agent_channel: str, timings: Timings, say: Progress
    ) -> tuple[list[Utterance], Diarization]:
        s = self.settings
        t = time.perf_counter()
        regions = [regions_to_decode(ch, s.vad) for ch in decoded.channels[:2]]
        timings.vad_s = time.perf_counter() - t
        say(f"语音检测完成：左声道 {len(regions[0])} 段，右声道 {len(regions[1])} 段，开始识别")

        t = time.perf_counter()
        per_channel = self.recognizer.transcribe_channels(
            list(zip(decoded.channels[:2], regions, strict=True)), language, _asr_progress(say)
        )
        timings.asr_s = time.perf_counter() - t

        utterances: list[Utterance] = []
        for name, recognition in zip(CHANNEL_NAMES, per_channel, strict=True):
            words = recognition.words
            utterances += group_words(words, [name] * len(words), s.utterances.max_pause_s)
            utterances += [unheard_utterance(span, name) for span in recognition.unheard]
        configured = None if agent_channel == "auto" else agent_channel
        decision = decide_roles(speech_by_speaker(heard(utterances)), self.vocabulary, configured, CHANNEL_NAMES[0])
        diarization = Diarization(
            method="channels",
            role_confidence=decision.confidence,
            agent_speaker=decision.agent_speaker,
            speakers=list(CHANNEL_NAMES),
            evidence=decision.evidence,
        )
        return with_roles(utterances, decision.agent_speaker), diarization

    def _mono(
        self, decoded: audio_mod.DecodedAudio, language: str, speakers: int, timings: Timings, say: Progress
    ) -> tuple[list[Utterance], Diarization]:
        s = self.settings
        mono = decoded.mono()
        t = time.perf_counter()
        regions = regions_to_decode(mono, s.vad)
        timings.vad_s = time.perf_counter() - t
        say(f"语音检测完成：{len(regions)} 段，开始识别")

        t = time.perf_counter()
        recognition = self.recognizer.transcribe_channels([(mono, regions)], language, _asr_progress(say))[0]
        words = recognition.words
        timings.asr_s = time.perf_counter() - t

        t = time.perf_counter()
        if speakers > 1:
            say("识别完成，开始说话人分离")
            turns = self.diarizer(mono, regions, speakers)
            labels = speaker_of_words([w.word for w in words], turns)
            method = self.diarizer.method
            overlaps = self.overlap_detector(mono) if s.diarization.overlap and words else []
        else:
            labels = ["S1"] * len(words)
            method = "single"
            overlaps = []
        timings.diarize_s = time.perf_counter() - t

        utterances = group_words(words, labels, s.utterances.max_pause_s)
        for span in recognition.unheard:
            speaker = speaker_of_words([Word(span.start, span.end, "", 0.0)], turns)[0] if speakers > 1 else "S1"
            utterances.append(unheard_utterance(span, speaker))
        utterances = mark_overlaps(utterances, overlaps)
        decision = decide_roles(speech_by_speaker(heard(utterances)), self.vocabulary)
        diarization = Diarization(
            method=method,
            role_confidence=decision.confidence,
            agent_speaker=decision.agent_speaker,
            speakers=sorted({u.speaker for u in utterances}) or ["S1"],
            evidence=decision.evidence,
        )
        return with_roles(utterances, decision.agent_speaker), diarization


def unheard_utterance(span: Span, speaker: str) -> Utterance:
    """Speech the recognizer gave no text for, kept as an empty, untrusted utterance."""
    return Utterance(span.start, span.end, speaker, "customer", "", "", 0.0, [], [UtteranceFlag.UNHEARD])
