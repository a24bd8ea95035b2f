"""Personal data over a transcript: per utterance, across utterances of one speaker, and in time."""

import itertools

import pytest

from inspector.privacy.detection import PiiKind
from inspector.privacy.spans import (
    PAD_S,
    PROPORTIONAL_PAD_S,
    SPLIT_GAP_S,
    audio_spans,
    piece_times,
    transcript_pieces,
    transcript_spans,
    word_indices,
)
from inspector.speech.transcript import Transcript

CHAR_S = 0.2  # each test word lasts this long


def utterance(speaker: str, start: float, text: str, words: list[str] | None = None, raw: str | None = None) -> dict:
    """An utterance dict whose words (one per character unless given) follow each other from ``start``."""
    pieces = words if words is not None else list(text)
    out, at = [], start
    for piece in pieces:
        out.append({"start": round(at, 3), "end": round(at + CHAR_S, 3), "text": piece, "probability": 0.9})
        at += CHAR_S
    return {
        "start": start, "end": round(at, 3) if pieces else start + 2.0, "speaker": speaker, "role": speaker,
        "text": text, "raw_text": raw if raw is not None else text, "words": out,
    }  # fmt: skip


def transcript(*utterances: dict) -> Transcript:
    return Transcript.from_dict({"utterances": list(utterances), "duration_s": 120.0})


def test_a_number_inside_one_utterance_takes_its_words_times() -> None:
    t = transcript(utterance("customer", 10.0, "电话13912345678谢谢"))
    (span,) = transcript_spans(t)
    assert (span.kind, span.utterance, span.start, span.end) == (PiiKind.MOBILE, 0, 2, 13)
    assert span.value == "13912345678" and not span.fragment
    assert span.start_s == pytest.approx(10.0 + 2 * CHAR_S - PAD_S)
    assert span.end_s == pytest.approx(10.0 + 13 * CHAR_S + PAD_S)


def test_padding_is_clipped_to_the_utterance() -> None:
    t = transcript(utterance("customer", 5.0, "13912345678"))
    (span,) = transcript_spans(t)
    assert (span.start_s, span.end_s) == (pytest.approx(5.0), pytest.approx(5.0 + 11 * CHAR_S))


def test_multi_character_words_map_to_the_words_that_spell_the_number() -> None:
    words = ["我的", "电话", "是", "139", "1234", "5678", "。"]
    u = utterance(
        "customer", 0.0, "我的电话是139 1234 5678。", words=["我的", "电话", "是", "139", " 1234", " 5678", "。"]
    )
    t = transcript(u)
    (span,) = transcript_spans(t)
    assert span.value == "13912345678"
    assert word_indices(t.utterances[0], span.start, span.end) == [3, 4, 5]
    assert span.start_s == pytest.approx(3 * CHAR_S - PAD_S)
    assert span.end_s == pytest.approx(6 * CHAR_S + PAD_S)
    assert len(words) == len(t.utterances[0].words)


def test_a_number_split_across_utterances_of_one_speaker_gives_one_span_per_piece() -> None:
    t = transcript(
        utterance("customer", 10.0, "我的电话是幺三九。"),
        utterance("agent", 12.0, "嗯。"),
        utterance("customer", 12.6, "一二三四，"),
        utterance("customer", 14.0, "五六七八。"),
    )
    spans = transcript_spans(t)
    assert [(s.utterance, s.start, s.end) for s in spans] == [(0, 5, 8), (2, 0, 4), (3, 0, 4)]
    assert {(s.kind, s.value, s.fragment) for s in spans} == {(PiiKind.MOBILE, "13912345678", True)}
    first = spans[0]
    assert first.start_s == pytest.approx(10.0 + 5 * CHAR_S - PAD_S)
    assert first.end_s == pytest.approx(10.0 + 8 * CHAR_S + PAD_S)
    assert spans[1].start_s == pytest.approx(12.6)  # clipped to the utterance


def test_a_filler_before_the_next_piece_does_not_break_the_number() -> None:
    t = transcript(
        utterance("customer", 0.0, "身份证四四零三零五，"), utterance("customer", 2.5, "嗯，一九九零零一零一三五二一")
    )
    spans = transcript_spans(t)
    assert [s.kind for s in spans] == [PiiKind.ID_NUMBER, PiiKind.ID_NUMBER]
    assert t.utterances[1].text[spans[1].start : spans[1].end] == "一九九零零一零一三五二一"


def test_an_address_split_after_the_building_is_one_address() -> None:
    t = transcript(utterance("customer", 0.0, "我住三号楼，"), utterance("customer", 2.0, "二单元五零二。"))
    spans = transcript_spans(t)
    assert [(s.utterance, s.start, s.end, s.fragment) for s in spans] == [(0, 2, 5, True), (1, 0, 6, True)]
    assert {(s.kind, s.value) for s in spans} == {(PiiKind.ADDRESS, "3号楼2单元502")}


def test_pieces_of_two_speakers_are_not_joined() -> None:
    t = transcript(utterance("customer", 0.0, "我的电话是幺三九"), utterance("agent", 2.0, "一二三四五六七八"))
    spans = transcript_spans(t)
    assert [(s.utterance, s.kind, s.value) for s in spans] == [(1, PiiKind.NUMBER, "12345678")]


def test_pieces_further_apart_than_the_split_gap_are_not_joined() -> None:
    first = utterance("customer", 0.0, "幺三九")
    late = utterance("customer", first["end"] + SPLIT_GAP_S + 0.5, "一二三四五六七八")
    spans = transcript_spans(transcript(first, late))
    assert [(s.utterance, s.kind) for s in spans] == [(1, PiiKind.NUMBER)]


def test_a_whole_number_in_a_joined_run_is_not_a_fragment() -> None:
    t = transcript(utterance("customer", 0.0, "电话13912345678，房号是3"), utterance("customer", 3.0, "502。"))
    spans = transcript_spans(t)
    assert [(s.utterance, s.kind, s.fragment) for s in spans] == [(0, PiiKind.MOBILE, False)]


def test_words_that_do_not_spell_the_text_fall_back_to_proportional_times() -> None:
    u = utterance("customer", 10.0, "电话13912345678", words=["完全", "不同"])
    u["end"] = 16.5  # 13 characters over 6.5 s: 0.5 s per character
    t = transcript(u)
    (span,) = transcript_spans(t)
    assert word_indices(t.utterances[0], span.start, span.end) is None
    assert span.start_s == pytest.approx(10.0 + 2 * 0.5 - PROPORTIONAL_PAD_S)
    assert span.end_s == pytest.approx(16.5)


def test_an_utterance_without_words_uses_proportional_times() -> None:
    u = utterance("customer", 0.0, "0123456789", words=[])
    u["text"] = "号码是13912345678"
    u["end"] = 14.0
    t = transcript(u)
    (span,) = transcript_spans(t)
    assert (span.start_s, span.end_s) == pytest.approx((3.0 - PROPORTIONAL_PAD_S, 14.0))
    assert piece_times(t.utterances[0], 3, 14) == (span.start_s, span.end_s)


def test_raw_text_is_searched_on_its_own() -> None:
    u = utterance("customer", 0.0, "电话13912345678", raw=" 电话 139 1234 5678")
    pieces = transcript_pieces(transcript(u), "raw_text")
    assert [(p.kind, p.start, p.end, p.value) for p in pieces] == [(PiiKind.MOBILE, 4, 17, "13912345678")]


def test_audio_spans_are_sorted_and_merged() -> None:
    t = transcript(
        utterance("customer", 20.0, "我住3号楼1单元601"),
        utterance("customer", 0.0, "电话13912345678和440305199001013521"),
    )
    spans = transcript_spans(t)
    merged = audio_spans(spans)
    assert merged == sorted(merged)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))
    covered = {(s.start_s, s.end_s) for s in spans}
    assert all(any(lo <= a and b <= hi for lo, hi in merged) for a, b in covered)
    assert len(merged) == 2  # the mobile and the ID (one word apart) overlap once padded; the address is apart


def test_no_personal_data_no_spans() -> None:
    t = transcript(
        utterance("agent", 0.0, "您好，工号一零二三，很高兴为您服务。"), utterance("customer", 4.0, "物业费3500元。")
    )
    assert transcript_spans(t) == []
    assert audio_spans([]) == []
