"""Call analysis on the labeled reference transcripts (no audio, no models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.qa.analysis import (
    Analyzer,
    TranscriptFileError,
    call_metrics,
    read_transcripts,
    to_dict,
)
from inspector.qa.rules.loader import load_ruleset
from inspector.reports.call_report import format_table
from inspector.settings import PROJECT_ROOT, Settings
from inspector.speech.transcript import Transcript

REQUIRED_CHECKS = {"greeting", "self_id", "empathy", "apology", "closing", "prohibited", "customer_emotion",
                   "silence", "interruption", "speech_rate"}  # fmt: skip


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Settings())


def reference(samples_dir: Path, name: str) -> dict:
    return json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8"))


def transcript_of(utterances: list[tuple[str, float, float, str]]) -> Transcript:
    return Transcript.from_dict({
        "file": "hand.wav", "duration_s": 40.0,
        "utterances": [{"role": r, "start": s, "end": e, "text": t} for r, s, e, t in utterances],
    })  # fmt: skip


def test_json_shape(analyzer: Analyzer, samples_dir: Path):
    data = to_dict(analyzer.analyze_transcript(Transcript.from_dict(reference(samples_dir, "call01_leak_stereo"))))
    assert list(data) == ["file", "agent_id", "duration_s", "utterances", "score", "checks", "hits", "emotion",
                          "topics", "metrics", "ruleset"]  # fmt: skip
    assert data["file"] == "call01_leak_stereo.wav" and data["agent_id"] == "未知"
    assert set(data["utterances"][0]) == {"start", "end", "speaker", "role", "text", "confidence"}
    assert set(data["score"]) >= {"total", "dimensions", "fatal", "alert"}
    assert data["score"]["total"] == 100.0 and data["score"]["alert"] == "none"
    assert all(set(h) == {"rule_id", "category", "role", "start", "end", "text", "points", "dimension",
                          "confidence", "uncertain"} for h in data["hits"])  # fmt: skip
    # A reference transcript states no confidence: its findings are certain.
    assert all(h["confidence"] == 1.0 and h["uncertain"] is False for h in data["hits"])
    assert isinstance(data["emotion"], dict)
    assert set(data["metrics"]) == {"talk_ratio", "silence_max_s", "overlaps", "agent_cpm"}
    assert data["ruleset"] == {"id": "property-default", "version": 1}
    assert set(data["checks"]) >= REQUIRED_CHECKS
    json.dumps(data, ensure_ascii=False)  # serializable as is


def test_bad_call_scores_low_with_evidence(analyzer: Analyzer, samples_dir: Path):
    analysis = analyzer.analyze_transcript(Transcript.from_dict(reference(samples_dir, "call02_angry_stereo")), "A01")
    assert analysis.score.total < 80 and analysis.score.alert == "red"
    assert analysis.checks["prohibited"] and not analysis.checks["empathy"]
    taboo = next(h for h in to_dict(analysis)["hits"] if h["rule_id"] == "prohibited")
    assert taboo["text"] == "不归我们管" and taboo["points"] == -10 and taboo["start"] == 21.32
    table = format_table(analysis)
    for heading in ("总分", "预警", "各维度得分", "检查项", "扣分明细", "话题", "指标", "不归我们管", "00:21.32"):
        assert heading in table


def test_checks_agree_with_labels_and_topics_with_labels(analyzer: Analyzer, samples_dir: Path):
    for path in sorted(samples_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        analysis = analyzer.analyze_transcript(Transcript.from_dict(data))
        assert analysis.topics == data["labels"]["topics"], path.name
        assert set(analysis.checks) >= REQUIRED_CHECKS


def test_metrics_on_hand_built_call():
    transcript = transcript_of([
        ("agent", 0.0, 10.0, "您好，这里是阳光物业客服。"),  # 11 characters
        ("customer", 9.0, 15.0, "我家漏水了。"),  # overlaps the agent
        ("agent", 20.0, 30.0, "好的，我马上安排师傅。"),  # 9 characters, after 5 s of silence
        ("customer", 31.0, 33.0, "谢谢。"),
        ("agent", 32.0, 36.0, "再见。"),  # 2 characters, overlaps the customer
    ])  # fmt: skip
    m = call_metrics(transcript)
    assert m.talk_ratio == 0.75  # agent 24 s of 32 s
    assert m.silence_max_s == 5.0
    assert m.overlaps == 2
    assert m.agent_cpm == 55.0  # 22 characters in 0.4 minutes


def test_metrics_of_an_empty_call():
    m = call_metrics(transcript_of([]))
    assert (m.talk_ratio, m.silence_max_s, m.overlaps, m.agent_cpm) == (0.0, 0.0, 0, 0.0)


def test_read_transcripts_accepts_transcript_analysis_and_jsonl(analyzer: Analyzer, samples_dir: Path,
                                                                 tmp_path: Path):  # fmt: skip
    data = reference(samples_dir, "call07_garbage_mono")
    analysis_json = to_dict(analyzer.analyze_transcript(Transcript.from_dict(data), "2739"))
    jsonl = tmp_path / "calls.jsonl"
    lines = [json.dumps(data, ensure_ascii=False), "{broken", json.dumps({"file": "x.wav", "error": {}}),
             json.dumps(analysis_json, ensure_ascii=False)]  # fmt: skip
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = read_transcripts(jsonl)
    assert [type(i).__name__ for i in items] == ["StoredCall", "TranscriptFileError", "TranscriptFileError",
                                                  "StoredCall"]  # fmt: skip
    assert [i.line for i in items if isinstance(i, TranscriptFileError)] == [2, 3]
    assert str(jsonl) in str(items[1])
    assert items[3].agent_id == "2739" and len(items[3].transcript.utterances) == len(data["utterances"])
    again = analyzer.analyze_transcript(items[3].transcript, "2739")
    assert again.score.total == analysis_json["score"]["total"]


@pytest.mark.parametrize("content, reason", [("", "为空"), ("{not json", "不是有效的 JSON"),
                                             ('{"utterances": [{"start": 0}]}', "缺少字段")])  # fmt: skip
def test_malformed_file_is_one_error(tmp_path: Path, content: str, reason: str):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    [error] = read_transcripts(bad)
    assert isinstance(error, TranscriptFileError) and reason in str(error) and str(bad) in str(error)


def test_rules_directory_loads_only_rule_sets():
    ruleset = load_ruleset(PROJECT_ROOT / "rules")
    assert ruleset.id == "property-default"
    assert {r.name for r in ruleset.rules if r.category == "topic"} == {
        "漏水/维修", "噪音", "停车", "物业费", "垃圾清运", "电梯", "安保", "绿化"}  # fmt: skip


def test_an_unheard_stretch_is_shown_but_never_scored_as_talk():
    from inspector.qa.rules.view import CallView
    from inspector.speech.pipeline import unheard_utterance
    from inspector.speech.timeline import Span
    from inspector.speech.transcript import Diarization, Utterance

    heard = [Utterance(0.0, 3.0, "left", "agent", "您好，请问有什么可以帮您？"),
             Utterance(25.0, 27.0, "right", "customer", "你好。")]
    noise = unheard_utterance(Span(4.0, 24.0), "right")  # VAD took 20 s of line noise for speech
    transcript = Transcript("x.wav", 27.0, 2, 8000, [heard[0], noise, heard[1]],
                            Diarization("channels", 1.0, "left", ["left", "right"]))
    assert transcript.recognized() == heard
    assert call_metrics(transcript).silence_max_s == pytest.approx(22.0)  # the gap stays a silence
    assert [u.utt for u in CallView(transcript).utterances] == heard
    assert transcript.to_dict()["utterances"][1]["flags"] == ["unheard"]
