import json
from pathlib import Path
from typing import Any

import pytest

from inspector.errors import EvaluationError
from inspector.qa.evaluate import (
    PhraseCounts,
    cer_counts,
    diarization_error_rate,
    dropped_utterances,
    evaluate_dir,
    format_report,
    load_reference,
    phrase_report,
    plain_cer,
    report_to_dict,
    role_attributed_cer,
    roles_agree,
)
from inspector.speech.transcript import Role, Timings, Transcript, Utterance


def utt(start: float, end: float, role: Role, text: str) -> Utterance:
    return Utterance(start=start, end=end, speaker=role, role=role, text=text)


TWO_PARTIES = [utt(0.0, 10.0, "agent", "你好"), utt(10.0, 20.0, "customer", "报修")]


def test_cer_counts() -> None:
    assert cer_counts("您好，请问房号", "您好请问房间号") == (1, 6)
    assert cer_counts("工号一零二三", "工号1023") == (0, 6)
    assert cer_counts("工号一零二三", "工号1024") == (1, 6)
    assert cer_counts("请稍等", "") == (3, 3)


def test_role_cer_counts_swapped_roles_plain_cer_does_not() -> None:
    swapped = [utt(0.0, 10.0, "customer", "你好"), utt(10.0, 20.0, "agent", "报修")]
    assert plain_cer(TWO_PARTIES, swapped) == (0, 4)
    assert role_attributed_cer(TWO_PARTIES, swapped) == (4, 4)
    merged = [utt(0.0, 20.0, "agent", "你好报修")]
    assert plain_cer(TWO_PARTIES, merged) == (0, 4)
    assert role_attributed_cer(TWO_PARTIES, merged) == (4, 4)  # 2 inserted for agent, 2 missing for customer


def test_cer_uses_time_order() -> None:
    shuffled = [TWO_PARTIES[1], TWO_PARTIES[0]]
    assert plain_cer(shuffled, TWO_PARTIES) == (0, 4)


def test_der_identical_missing_and_collar() -> None:
    assert diarization_error_rate(TWO_PARTIES, TWO_PARTIES).der == 0.0
    missed = diarization_error_rate(TWO_PARTIES, [], collar=0.0)
    assert missed.der == pytest.approx(1.0)
    assert missed.missed == pytest.approx(20.0)
    assert missed.total == pytest.approx(20.0)

    shifted = [utt(0.0, 10.2, "agent", "你好"), utt(10.2, 20.0, "customer", "报修")]
    strict = diarization_error_rate(TWO_PARTIES, shifted, collar=0.0)
    assert strict.der == pytest.approx(0.01)
    assert strict.confusion == pytest.approx(0.2)
    lenient = diarization_error_rate(TWO_PARTIES, shifted, collar=0.5)
    assert lenient.der == 0.0
    assert lenient.total == pytest.approx(19.0)
    assert diarization_error_rate([], []).der == 0.0


def test_roles_agree() -> None:
    swapped = [utt(0.0, 10.0, "customer", "你好"), utt(10.0, 20.0, "agent", "报修")]
    assert roles_agree(TWO_PARTIES, TWO_PARTIES)
    assert not roles_agree(TWO_PARTIES, swapped)
    assert diarization_error_rate(TWO_PARTIES, swapped).der == 0.0  # DER alone cannot tell
    assert not roles_agree(TWO_PARTIES, [])


def test_dropped_utterances() -> None:
    ref = [
        utt(0.0, 3.0, "agent", "您好，这里是阳光物业。"),
        utt(4.0, 6.0, "customer", "我家水管漏水了。"),
        utt(7.0, 9.0, "agent", "好的，马上派人。"),
        utt(9.5, 9.8, "customer", "……"),
    ]
    hyp = [utt(0.1, 2.9, "agent", "您好这里是阳光物业"), utt(4.2, 5.8, "customer", "漏水")]
    assert dropped_utterances(ref, hyp) == [ref[1], ref[2]]  # 2/7 < 30 %; nothing near; "……" is empty
    hyp[1] = utt(4.2, 5.8, "customer", "水管漏")
    assert dropped_utterances(ref, hyp) == [ref[2]]  # 3/7 recovered


def test_phrase_report() -> None:
    ref = "您好，工号一零二三，很高兴为您服务。"
    phrases = ["工号", "很高兴为您服务", "投诉", "工號"]
    assert phrase_report(ref, "您好工号1023很高兴为您服务，工号", phrases) == PhraseCounts(2, 2, 1)
    assert phrase_report(ref, "您好工号1023", phrases) == PhraseCounts(2, 1, 0)
    assert PhraseCounts(2, 1, 0).recall == 0.5
    assert PhraseCounts().recall is None


def write_reference(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


REFERENCE = {
    "file": "call01.wav",
    "duration_s": 20.0,
    "channels": 1,
    "sample_rate": 8000,
    "utterances": [
        {"start": 0.5, "end": 4.0, "speaker": "agent", "role": "agent",
         "text": "您好，工号一零二三，很高兴为您服务。"},
        {"start": 5.0, "end": 8.0, "speaker": "customer", "role": "customer", "text": "我家水管漏水了。"},
        {"start": 9.0, "end": 12.0, "speaker": "agent", "role": "agent", "text": "好的，马上派人。"},
    ],
    "labels": {"anything": True},
}


def test_load_reference(tmp_path: Path) -> None:
    ref = load_reference(write_reference(tmp_path / "call01.json", REFERENCE))
    assert ref.duration_s == 20.0
    assert [u.role for u in ref.utterances] == ["agent", "customer", "agent"]
    assert ref.utterances[1].text == "我家水管漏水了。"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"utterances": {}}, "utterances 必须是列表"),
        ({"duration_s": "long"}, "duration_s"),
        ({"utterances": [{"start": 0, "end": 1, "role": "boss", "text": "x"}]}, "utterances[0].role"),
        ({"utterances": [{"start": "0", "end": 1, "role": "agent", "text": "x"}]}, "utterances[0].start"),
        ({"utterances": [{"start": 2, "end": 1, "role": "agent", "text": "x"}]}, "utterances[0]: start"),
        ({"utterances": [{"start": 0, "end": 1, "role": "agent", "text": 5}]}, "utterances[0].text"),
    ],
)
def test_load_reference_errors_name_file_and_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    path = write_reference(tmp_path / "bad.json", {**REFERENCE, **change})
    with pytest.raises(EvaluationError) as err:
        load_reference(path)
    assert str(path) in str(err.value)
    assert field in str(err.value)


def test_load_reference_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"utterances": [', encoding="utf-8")
    with pytest.raises(EvaluationError, match="JSON"):
        load_reference(path)


def fake_transcriber(calls: list[Path]) -> Any:
    """Recognizer stand-in: digits for numerals, one deletion, the last utterance lost."""

    def transcribe(audio: Path) -> Transcript:
        calls.append(audio)
        ref = load_reference(audio.with_suffix(".json"))
        first, second, _ = ref.utterances
        utterances = [
            utt(first.start + 0.1, first.end, "agent", "您好，工号1023，很高兴为您服务"),
            utt(second.start, second.end - 0.1, "customer", "我家水管漏了"),
        ]
        timings = Timings(decode_s=1.0, vad_s=0.5, diarize_s=1.5, asr_s=7.0, total_s=10.0)
        return Transcript(audio.name, 20.0, 1, 8000, utterances, ref.diarization, timings)

    return transcribe


def test_evaluate_dir_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "call01.wav").write_bytes(b"RIFF")
    write_reference(tmp_path / "call01.json", REFERENCE)
    (tmp_path / "orphan.wav").write_bytes(b"RIFF")  # no reference: skipped
    write_reference(tmp_path / "notes.json", {"utterances": "not audio's"})  # no audio: skipped
    calls: list[Path] = []

    report = evaluate_dir(tmp_path, fake_transcriber(calls), ["工号", "很高兴为您服务"])

    assert calls == [tmp_path / "call01.wav"]
    [f] = report.files
    assert (f.cer_errors, f.ref_chars, f.role_cer_errors) == (7, 28, 7)  # 1 deletion + 6 of the lost one
    assert report.cer == 0.25 and report.role_cer == 0.25
    assert (f.n_dropped, f.n_ref_utterances, f.dropped_texts) == (1, 3, ["好的，马上派人。"])
    assert f.role_correct
    # Collar 0.25 s: 3.25 + 2.75 + 2.75 s scored, the lost 2.75 s missed; the hypothesis edges
    # shifted by 0.1 s fall inside the half-collar (0.125 s) and cost nothing.
    assert f.der.der == pytest.approx(2.75 / 8.75)
    assert report.der == pytest.approx(2.75 / 8.75)
    assert report.der_mono == pytest.approx(2.75 / 8.75)
    assert f.rtf == {"decode": 0.05, "vad": 0.025, "diarize": 0.075, "asr": 0.35, "total": 0.5}
    assert report.rtf["total"] == 0.5
    assert report.phrases == PhraseCounts(2, 2, 0)

    text = format_report(report)
    assert "call01.wav" in text and "总体" in text
    assert "25.0%" in text and "1/3" in text and "说话人分离 0.075" in text

    data = json.loads(json.dumps(report_to_dict(report), ensure_ascii=False))
    assert data["cer"] == 0.25
    assert data["files"][0]["der"]["der"] == pytest.approx(0.3143)
    assert data["phrases"] == {"said": 2, "recalled": 2, "invented": 0, "recall": 1.0}


def test_evaluate_dir_checks_references_before_transcribing(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    write_reference(tmp_path / "a.json", REFERENCE)
    (tmp_path / "b.flac").write_bytes(b"fLaC")
    write_reference(tmp_path / "b.json", {"utterances": [{"start": 0, "end": 1, "role": "agent"}]})
    calls: list[Path] = []
    with pytest.raises(EvaluationError, match=r"b\.json: utterances\[0\]\.text"):
        evaluate_dir(tmp_path, fake_transcriber(calls))
    assert calls == []


def test_evaluate_dir_without_references(tmp_path: Path) -> None:
    (tmp_path / "orphan.wav").write_bytes(b"RIFF")
    with pytest.raises(EvaluationError, match="没有带参考文件"):
        evaluate_dir(tmp_path, fake_transcriber([]))
    with pytest.raises(EvaluationError, match="不存在"):
        evaluate_dir(tmp_path / "missing", fake_transcriber([]))
