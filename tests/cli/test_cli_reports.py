"""``inspector report``: the QA report of stored calls, read back from a real database (SQLite in a temp
data dir) without running speech recognition again. The calls are imported with ``--inline`` as the
quickstart does, with a stand-in for the speech pipeline that returns each sample's reference transcript."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from inspector.cli.main import main
from inspector.settings import Settings
from inspector.speech.transcript import Transcript
from inspector.store import rulesets
from inspector.store.db import Database
from inspector.store.schema import Call

SAMPLES = ("call01_leak_stereo", "call02_angry_stereo")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def speech(samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace ``SpeechPipeline`` by the reference transcripts of the samples; returns the paths transcribed."""
    references = {
        _sha256(samples_dir / f"{name}.wav"): json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in SAMPLES
    }
    transcribed: list[str] = []

    class ReferenceSpeech:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings

        def transcribe(self, path: str | Path, **options: Any) -> Transcript:
            transcribed.append(str(path))
            # As the real pipeline: the transcript names the file it read, here the audio store's path.
            return Transcript.from_dict({**references[_sha256(Path(path))], "file": str(path)})

    monkeypatch.setattr("inspector.speech.pipeline.SpeechPipeline", ReferenceSpeech)
    return transcribed


@pytest.fixture
def imported(env: Path, samples_dir: Path, speech: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """The two samples imported and processed inline (agent 3157, team A组); then speech is forbidden."""
    pbx = env / "pbx"
    pbx.mkdir()
    for name in SAMPLES:
        shutil.copy(samples_dir / f"{name}.wav", pbx)
    assert main(["import", str(pbx), "--agent-id", "3157", "--team", "A组", "--inline", "-q"]) == 0
    assert "新增 2 通" in capsys.readouterr().out and len(speech) == 2

    def no_speech(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("inspector report must not run speech recognition")

    monkeypatch.setattr("inspector.speech.pipeline.SpeechPipeline", no_speech)
    return pbx


def _call_ids() -> list[str]:
    db = Database(Settings().database)
    with db.session() as session:
        return [call.id for call in sorted(session.query(Call).all(), key=lambda c: c.audio_name)]


def test_report_prints_what_score_prints_for_the_same_transcripts(imported: Path, samples_dir: Path,
                                                                    capsys) -> None:  # fmt: skip
    assert main(["report"]) == 0
    report = capsys.readouterr()
    references = [str(samples_dir / f"{name}.json") for name in SAMPLES]
    assert main(["score", *references, "--agent-id", "3157"]) == 0
    assert report.out == capsys.readouterr().out  # byte for byte: per-call reports, then the agent summary
    assert report.err == ""
    assert "文件：call01_leak_stereo.wav\n坐席：3157　" in report.out  # the name it arrived with, not the store's
    assert report.out.index("call01_leak_stereo.wav") < report.out.index("call02_angry_stereo.wav")
    assert "坐席汇总：" in report.out and "扣分明细：" in report.out


def test_report_json_matches_the_stored_scores(imported: Path, capsys) -> None:
    assert main(["report", "--format", "json"]) == 0
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ids = _call_ids()
    assert [o["call_id"] for o in objects] == ids
    assert [o["file"] for o in objects] == [f"{name}.wav" for name in SAMPLES]
    assert list(objects[0])[:3] == ["call_id", "file", "agent_id"] and {o["agent_id"] for o in objects} == {"3157"}
    db = Database(Settings().database)
    with db.session() as session:
        for o in objects:
            call = session.get(Call, o["call_id"])
            assert call is not None and o["score"]["total"] == call.score and o["score"]["alert"] == call.alert


def test_report_of_given_calls_names_each_one_it_cannot_show(imported: Path, samples_dir: Path, capsys) -> None:
    first, second = _call_ids()
    assert main(["report", "nope", second]) == 1
    captured = capsys.readouterr()
    assert captured.err == "错误：通话 nope 不存在\n"
    assert "call02_angry_stereo.wav" in captured.out and "call01_leak_stereo.wav" not in captured.out
    assert "坐席汇总：" in captured.out

    assert main(["report", first, "nope", "--format", "json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["call_id"] == first and "score" in lines[0]
    assert lines[1] == {"call_id": "nope", "error": {"code": "call_not_found", "message": "通话 nope 不存在"}}

    queued = imported / "queued" / "call05_noise_mono.wav"
    queued.parent.mkdir()
    shutil.copy(samples_dir / queued.name, queued)
    assert main(["import", str(queued.parent), "--agent-id", "3157", "--no-enqueue", "-q"]) == 0
    [queued_id] = sorted(set(_call_ids()) - {first, second})
    capsys.readouterr()
    assert main(["report", queued_id]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"错误：通话 {queued_id} 尚无质检结果（状态：排队中）\n" and captured.out == ""
    assert main(["report", "--format", "json"]) == 0  # all done calls: the queued one is not among them
    assert [json.loads(line)["call_id"] for line in capsys.readouterr().out.splitlines()] == [first, second]


def test_report_uses_the_rule_set_that_scored_the_call(imported: Path, env: Path, capsys) -> None:
    bundle = env / "rules-v2"
    shutil.copytree(Settings().rules_dir, bundle)
    ruleset = bundle / "property-default.yaml"
    text = ruleset.read_text(encoding="utf-8")
    assert "\nversion: 1\n" in text
    ruleset.write_text(text.replace("\nversion: 1\n", "\nversion: 2\n", 1), encoding="utf-8")
    assert main(["rules", "add", str(bundle)]) == 0
    assert "已添加规则集 #2" in capsys.readouterr().out
    db = Database(Settings().database)
    with db.session() as session:
        assert rulesets.activate(session, 2) is not None  # active now, but the calls were scored by #1
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert out.count("规则集：property-default v1\n") == 2 and "v2" not in out


def test_report_on_an_empty_database(env: Path, capsys) -> None:
    assert main(["report"]) == 0
    assert capsys.readouterr().out == "没有已完成质检的通话\n"
    assert main(["report", "--format", "json"]) == 0
    assert capsys.readouterr().out == ""
