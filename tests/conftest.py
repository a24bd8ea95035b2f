"""Shared fixtures. The speech models are real (whisper-base, GE2E encoder) and loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.settings import PROJECT_ROOT, Settings

SAMPLES = PROJECT_ROOT / "samples" / "calls"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def speech_pipeline():  # a SpeechPipeline; imported lazily so unit tests stay light
    from inspector.pipeline import SpeechPipeline

    return SpeechPipeline(Settings())


@pytest.fixture(scope="session")
def sample_transcripts(speech_pipeline, samples_dir: Path) -> dict:
    """Every sample call transcribed once by the real pipeline, by file name."""
    from inspector.audio import AUDIO_SUFFIXES

    return {
        path.name: speech_pipeline.transcribe(path)
        for path in sorted(samples_dir.iterdir())
        if path.suffix in AUDIO_SUFFIXES
    }
