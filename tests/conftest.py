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
