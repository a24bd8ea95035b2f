"""The command line as a user runs it: a real process, real models, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from inspector.cli import build_parser


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector.cli", *args],
        capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})},
    )


def test_parser_defaults():
    args = build_parser().parse_args(["transcribe", "a.wav"])
    assert args.format == "text" and args.language == "zh"
    assert args.agent_channel is None and args.speakers is None


def test_bad_files_get_one_line_errors_and_good_ones_still_run(tmp_path: Path, samples_dir: Path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("这不是录音", encoding="utf-8")
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(8000 * 3, dtype=np.int16).tobytes())
    good = samples_dir / "call07_garbage_mono.wav"
    result = run("transcribe", str(empty), str(text), str(silent), str(good), "--format", "json", "-q")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert len(error_lines) == 3
    for path, line in zip((empty, text, silent), error_lines, strict=True):
        assert str(path) in line
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["file"] for o in objects] == [str(empty), str(text), str(silent), str(good)]
    assert [o["error"]["code"] for o in objects[:3]] == ["empty_file", "not_audio", "silent"]
    done = objects[3]
    assert set(done) >= {"file", "duration_s", "channels", "sample_rate", "utterances", "diarization", "timings"}
    assert {u["role"] for u in done["utterances"]} == {"agent", "customer"}
    assert set(done["diarization"]) >= {"method", "role_confidence"}


def test_text_format_is_chinese_with_times(samples_dir: Path):
    result = run("transcribe", str(samples_dir / "call01_leak_stereo.wav"), "-q")
    assert result.returncode == 0, result.stderr
    assert "坐席：" in result.stdout and "客户：" in result.stdout
    assert "[00:00." in result.stdout


def test_progress_goes_to_stderr(samples_dir: Path):
    result = run("transcribe", str(samples_dir / "call07_garbage_mono.wav"), "--format", "json")
    assert result.returncode == 0
    assert "已解码" in result.stderr
    assert len(result.stdout.strip().splitlines()) == 1


def test_missing_file_and_invalid_rules(tmp_path: Path, samples_dir: Path):
    missing = run("transcribe", str(tmp_path / "nope.wav"), "-q")
    assert missing.returncode == 1
    assert "nope.wav" in missing.stderr and "Traceback" not in missing.stderr
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text("vocabulary: [\n", encoding="utf-8")
    broken = run("transcribe", str(samples_dir / "call07_garbage_mono.wav"), "--rules", str(rules), "-q")
    assert broken.returncode == 2
    assert "broken.yaml" in broken.stderr and "Traceback" not in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1


def test_eval_rejects_directory_without_references(tmp_path: Path):
    result = run("eval", str(tmp_path), "-q")
    assert result.returncode == 2
    assert str(tmp_path) in result.stderr


@pytest.mark.parametrize("argv", [["transcribe"], ["transcribe", "a.wav", "--format", "xml"]])
def test_usage_errors(argv: list[str]):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == 2


def test_invalid_setting_is_one_line(samples_dir: Path):
    result = run("models", env={"INSPECTOR_ASR__CPU_THREADS": "zero"})
    assert result.returncode == 2
    assert "asr.cpu_threads" in result.stderr and "Traceback" not in result.stderr
