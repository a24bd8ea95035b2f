"""The speech pipeline end to end on real audio with the real models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inspector.errors import ModelError
from inspector.settings import DiarizationSettings, Settings
from inspector.speech.audio import DecodedAudio, decode
from inspector.speech.diarize import SpeakerTurn
from inspector.speech.pipeline import SpeechPipeline, choose_layout
from inspector.speech.timeline import Span

pytestmark = pytest.mark.slow


def test_stereo_call_has_roles_from_channels(speech_pipeline: SpeechPipeline, samples_dir: Path):
    tr = speech_pipeline.transcribe(samples_dir / "call01_leak_stereo.wav")
    assert tr.channels == 2 and tr.sample_rate == 8000
    assert tr.diarization.method == "channels"
    assert tr.diarization.agent_speaker == "left"
    assert tr.diarization.role_confidence > 0.9
    first = tr.utterances[0]
    assert first.role == "agent" and "物业" in first.text
    assert {u.role for u in tr.utterances} == {"agent", "customer"}
    assert all(u.start <= u.end for u in tr.utterances)
    assert [u.start for u in tr.utterances] == sorted(u.start for u in tr.utterances)
    for u in tr.utterances:
        assert all(u.start - 1e-6 <= w.start <= w.end <= u.end + 1e-6 for w in u.words)


def test_right_agent_channel_swaps_roles(speech_pipeline: SpeechPipeline, samples_dir: Path):
    tr = speech_pipeline.transcribe(samples_dir / "call07_garbage_mono.wav", speakers=1)
    assert tr.diarization.method == "single"
    assert {u.role for u in tr.utterances} == {"agent"}
    swapped = speech_pipeline.transcribe(samples_dir / "call01_leak_stereo.wav", agent_channel="right")
    assert swapped.diarization.agent_speaker == "right"
    assert swapped.diarization.role_confidence < 0.1  # the content contradicts the configuration
    auto = speech_pipeline.transcribe(samples_dir / "call01_leak_stereo.wav", agent_channel="auto")
    assert auto.diarization.agent_speaker == "left"


def test_mono_call_is_diarized_and_roles_found(speech_pipeline: SpeechPipeline, samples_dir: Path):
    tr = speech_pipeline.transcribe(samples_dir / "call05_noise_mono.wav")
    assert tr.channels == 1
    assert tr.diarization.method == "embedding"
    assert len(tr.diarization.speakers) == 2
    assert tr.utterances[0].role == "agent"
    assert tr.diarization.role_confidence > 0.8
    data = json.loads(json.dumps(tr.to_dict(words=False), ensure_ascii=False))
    assert set(data) >= {"file", "duration_s", "channels", "sample_rate", "utterances", "diarization", "timings"}
    assert set(data["utterances"][0]) >= {"start", "end", "speaker", "role", "text", "confidence"}
    assert {"decode_s", "vad_s", "diarize_s", "asr_s", "total_s", "rtf"} <= set(data["timings"])


def test_identical_stereo_channels_are_treated_as_mono(tmp_path: Path, samples_dir: Path):
    mono = decode(samples_dir / "call07_garbage_mono.wav", Settings().audio)
    twin = DecodedAudio(info=mono.info, channels=[mono.channels[0], mono.channels[0].copy()])
    assert not choose_layout(twin, 0.98).stereo
    stereo = decode(samples_dir / "call01_leak_stereo.wav", Settings().audio)
    assert choose_layout(stereo, 0.98).stereo


class FixedDiarizer:
    """A stand-in backend: proves callers only depend on the Diarizer interface."""

    method = "pyannote"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, audio: np.ndarray, regions: list[Span], speakers: int) -> list[SpeakerTurn]:
        self.calls += 1
        return [SpeakerTurn(Span(r.start, r.end), "X") for r in regions]


def test_diarizer_backend_is_pluggable(speech_pipeline: SpeechPipeline, samples_dir: Path):
    fake = FixedDiarizer()
    pipeline = SpeechPipeline.__new__(SpeechPipeline)
    pipeline.__dict__.update(speech_pipeline.__dict__)
    pipeline._diarizer = fake
    tr = pipeline.transcribe(samples_dir / "call07_garbage_mono.wav")
    assert fake.calls == 1
    assert tr.diarization.method == "pyannote"
    assert {u.speaker for u in tr.utterances} == {"X"}


def test_pyannote_backend_without_pipeline_folder_is_a_clear_error(tmp_path: Path):
    from inspector.speech.diarize import make_diarizer

    with pytest.raises(ModelError, match="pyannote"):
        make_diarizer(DiarizationSettings(backend="pyannote"))
    with pytest.raises(ModelError):
        make_diarizer(DiarizationSettings(backend="pyannote", pyannote_pipeline=tmp_path))
