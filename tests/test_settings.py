from pathlib import Path

import pytest
from pydantic import ValidationError

from inspector.settings import Settings


def test_defaults():
    s = Settings()
    assert s.asr.model == "whisper-base" and s.asr.device == "cpu"
    assert s.diarization.agent_channel == "left" and s.diarization.speakers == 2
    assert s.audio.max_duration_s == 7200


def test_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    toml = tmp_path / "inspector.toml"
    toml.write_text('[asr]\nbeam_size = 3\n[diarization]\nagent_channel = "right"\n', encoding="utf-8")
    monkeypatch.setenv("INSPECTOR_SETTINGS_FILE", str(toml))
    monkeypatch.setenv("INSPECTOR_AUDIO__MAX_DURATION_S", "60")
    monkeypatch.setenv("INSPECTOR_ASR__BEAM_SIZE", "2")  # the environment beats the file
    s = Settings()
    assert s.audio.max_duration_s == 60
    assert s.asr.beam_size == 2
    assert s.diarization.agent_channel == "right"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INSPECTOR_DIARIZATION__AGENT_CHANNEL", "middle")
    with pytest.raises(ValidationError):
        Settings()
