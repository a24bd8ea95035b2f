import numpy as np
import pytest

from inspector.speech.asr import (
    SAMPLE_RATE,
    RecognizedWord,
    _TimeMap,
    concatenate,
    drop_repetition_loops,
    split_regions,
    under_covered,
)
from inspector.speech.timeline import Span
from inspector.speech.transcript import Word


def rw(start: float, end: float, text: str) -> RecognizedWord:
    return RecognizedWord(Word(start, end, text, 0.9), text)


def test_split_regions_balances_speech_time_and_keeps_order():
    regions = [Span(i * 10.0, i * 10.0 + 4.0) for i in range(6)]
    groups = split_regions(regions, 2)
    assert len(groups) == 2
    assert [r for g in groups for r in g] == regions
    assert sum(r.duration for r in groups[0]) == pytest.approx(12.0)
    assert split_regions(regions, 1) == [regions]
    assert split_regions([], 2) == []
    assert split_regions(regions[:1], 2) == [regions[:1]]


def test_time_map_returns_original_times():
    tm = _TimeMap([Span(1.0, 3.0), Span(10.0, 11.0)], 0.3)
    # concatenated: [0, 2) region 0, 0.3 s gap, [2.3, 3.3) region 1
    assert tm.region_of(0.5) == 0
    assert tm.to_original(0.5, 0) == pytest.approx(1.5)
    assert tm.region_of(2.5) == 1
    assert tm.to_original(2.5, 1) == pytest.approx(10.2)
    # A word starting in the gap belongs to the next region (whisper times starts early) ...
    assert tm.region_of(2.1) == 1
    assert tm.to_original(2.1, 1) == pytest.approx(10.0)
    # ... and times past a region's end are clamped into it.
    assert tm.to_original(2.15, 0) == pytest.approx(3.0)
    assert tm.region_of(5.0) == 1


def test_concatenate_puts_gaps_between_regions_only():
    audio = np.arange(20 * SAMPLE_RATE, dtype=np.float32)
    out = concatenate(audio, [Span(1.0, 2.0), Span(5.0, 5.5)], 0.3)
    assert len(out) == int(1.5 * SAMPLE_RATE) + int(0.3 * SAMPLE_RATE)
    assert out[0] == SAMPLE_RATE
    assert out[SAMPLE_RATE] == 0.0  # the gap
    assert out[-1] == 5.5 * SAMPLE_RATE - 1
    assert concatenate(audio, [], 0.3).size == 0


def test_repetition_loops_are_dropped_but_normal_repeats_kept():
    words = [rw(0, 1, "请问"), rw(1, 2, "还有"), rw(2, 3, "吗"), rw(3, 3.1, "证"), rw(3.1, 3.2, "证"),
             rw(3.2, 3.3, "证"), rw(3.3, 3.4, "证")]
    assert "".join(w.word.text for w in drop_repetition_loops(words)) == "请问还有吗证"
    loop = [rw(0, 1, "维修"), rw(1, 2, "维修"), rw(2, 3, "维修"), rw(3, 4, "好的")]
    assert [w.word.text for w in drop_repetition_loops(loop)] == ["维修", "好的"]
    normal = [rw(0, 1, "谢谢"), rw(1, 2, "好好"), rw(2, 3, "干")]
    assert drop_repetition_loops(normal) == normal


def test_repeated_digits_of_a_phone_number_are_speech_not_a_loop():
    said = [rw(0, 1, "电话"), rw(1, 2, "139"), rw(2, 3, "8888"), rw(3, 4, "6666"), rw(4, 5, "幺幺幺")]
    assert drop_repetition_loops(said) == said
    runaway = [rw(0, 1, "号码"), *(rw(1 + i / 10, 1.1 + i / 10, "1") for i in range(20))]
    kept = "".join(w.word.text for w in drop_repetition_loops(runaway))
    assert kept.startswith("号码1") and len(kept) <= 4  # the loop keeps its first unit ("1" or "11")


def test_under_covered_regions_are_found():
    regions = [Span(0, 4), Span(5, 9), Span(10, 10.4)]
    words = [rw(0.5, 1.0, "您好这里是"), rw(1.0, 3.0, "阳光物业客服中心"), rw(5.2, 5.5, "嗯")]
    # 4 s of speech with 1 character is suspicious; the 0.4 s blip is too short to judge.
    assert under_covered(regions, words, 1.5) == [Span(5, 9)]
    # With no rate (the default), only a region that gave nothing at all is decoded again.
    assert under_covered(regions, words, 0.0) == []
    assert under_covered([*regions, Span(12, 14)], words, 0.0) == [Span(12, 14)]


def test_progress_meter_reports_each_tenth_once_across_jobs():
    from inspector.speech.asr import ProgressMeter, speech_length

    assert speech_length([Span(0, 2), Span(5, 6)], 0.3) == pytest.approx(3.3)
    seen: list[float] = []
    meter = ProgressMeter([10.0, 10.0], seen.append)
    meter.update(0, 1.0)  # 5 %
    meter.update(1, 2.0)  # 15 %
    meter.update(1, 2.5)  # still 17.5 %: nothing new
    meter.update(0, 10.0)  # 62.5 %
    meter.update(1, 10.0)  # 100 %
    assert seen == [pytest.approx(0.15), pytest.approx(0.625), pytest.approx(1.0)]
    ProgressMeter([1.0], None).update(0, 1.0)  # no callback: no-op
