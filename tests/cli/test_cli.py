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

from inspector.cli.main import build_parser


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector.cli.main", *args],
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


def test_score_rescores_a_stored_transcript(tmp_path: Path, samples_dir: Path):
    stored = tmp_path / "call02.json"
    stored.write_text((samples_dir / "call02_angry_stereo.json").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("score", str(stored), "--format", "json", "--agent-id", "A01")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    data = json.loads(line)
    assert data["agent_id"] == "A01" and data["topics"] == ["漏水/维修"]
    assert data["checks"]["prohibited"] is True and data["score"]["alert"] == "red"
    table = run("score", str(stored))
    assert table.returncode == 0, table.stderr
    assert "总分" in table.stdout and "扣分明细" in table.stdout and "坐席汇总" in table.stdout


def test_score_malformed_file_is_one_line_and_others_still_run(tmp_path: Path, samples_dir: Path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"utterances": [', encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text((samples_dir / "call07_garbage_mono.json").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("score", str(bad), str(good), "--format", "json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [error_line] = result.stderr.strip().splitlines()
    assert error_line.startswith("错误：") and str(bad) in error_line and "JSON" in error_line
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert objects[0]["error"]["code"] == "invalid_transcript"
    assert objects[1]["file"] == "call07_garbage_mono.wav" and "score" in objects[1]


@pytest.mark.slow
def test_analyze_sample_call_as_json(samples_dir: Path):
    result = run("analyze", str(samples_dir / "call01_leak_stereo.wav"), "--format", "json", "-q")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    data = json.loads(line)
    assert list(data) == ["file", "agent_id", "duration_s", "utterances", "score", "checks", "hits", "emotion",
                          "topics", "metrics", "ruleset"]  # fmt: skip
    assert data["agent_id"] == "未知" and 0 <= data["score"]["total"] <= 100
    assert {u["role"] for u in data["utterances"]} == {"agent", "customer"}
    assert 0 < data["metrics"]["talk_ratio"] < 1
