"""The queue's policy: how long a call's job may take."""

from __future__ import annotations

from inspector.service.queue import job_timeout
from inspector.settings import QueueSettings, Settings


def test_job_timeout_scales_with_audio_length() -> None:
    settings = Settings(queue=QueueSettings(timeout_base_s=300, timeout_per_audio_s=1.0))
    assert job_timeout(settings, 120.0, 10) == 420
    # Unknown duration: estimated as 8 kHz 16-bit mono (16000 bytes a second).
    assert job_timeout(settings, None, 1_600_000) == 400
    assert job_timeout(settings, 0.0, 1_600_000) == 400
    # Never more than the longest recording accepted.
    assert job_timeout(settings, None, 10**12) == 300 + 7200
