from inspector.speech.asr import RecognizedWord
from inspector.speech.transcript import Word
from inspector.speech.utterances import group_words, speech_by_speaker, with_roles


def rw(start: float, end: float, text: str, p: float = 0.9) -> RecognizedWord:
    return RecognizedWord(Word(start, end, text, p), text)


def test_pause_and_speaker_change_split_utterances():
    words = [rw(0.0, 0.3, "您好"), rw(0.35, 0.8, "物业"), rw(3.0, 3.4, "喂"), rw(3.5, 3.9, "你好"), rw(4.0, 4.2, "嗯")]
    speakers = ["S1", "S1", "S1", "S2", "S2"]
    utts = group_words(words, speakers, max_pause_s=1.0)
    assert [(u.speaker, u.text) for u in utts] == [("S1", "您好物业"), ("S1", "喂"), ("S2", "你好嗯")]
    assert utts[0].start == 0.0 and utts[0].end == 0.8
    assert abs(utts[0].confidence - 0.9) < 1e-9
    assert len(utts[0].words) == 2


def test_with_roles_orders_by_time_and_keeps_overlaps():
    left = group_words([rw(0.0, 2.0, "请您稍等一下")], ["left"], 1.0)
    right = group_words([rw(1.5, 2.5, "等不了")], ["right"], 1.0)
    utts = with_roles(right + left, "left")
    assert [(u.role, u.text) for u in utts] == [("agent", "请您稍等一下"), ("customer", "等不了")]
    # The overlap stays two utterances.
    assert utts[0].end > utts[1].start
    assert speech_by_speaker(utts) == {"left": [(0.0, "请您稍等一下")], "right": [(1.5, "等不了")]}


def test_empty():
    assert group_words([], [], 1.0) == []
