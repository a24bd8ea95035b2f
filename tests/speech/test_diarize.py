import numpy as np

from inspector.settings import DiarizationSettings
from inspector.speech.diarize import EmbeddingDiarizer, SpeakerTurn, _turns_from_frames, _windows, speaker_of_words
from inspector.speech.timeline import Span
from inspector.speech.transcript import Word


def test_windows_cover_regions():
    wins = _windows([Span(0.0, 4.0), Span(10.0, 10.8), Span(20.0, 20.2)], 1.5, 0.5, 30.0)
    long_region = [w for w in wins if w.end <= 4.0]
    assert long_region[0] == Span(0.0, 1.5)
    assert long_region[-1] == Span(2.5, 4.0)
    assert all(abs(w.duration - 1.5) < 1e-9 for w in wins)
    # A short region gets one window centred on it; a 0.2 s blip gets none.
    assert any(w.start < 10.4 < w.end for w in wins)
    assert not any(w.start <= 20.1 <= w.end for w in wins)


def test_turns_from_frames_absorbs_short_flicker():
    labels = np.array([0] * 100 + [1] * 10 + [0] * 100 + [1] * 100)
    speech = np.ones(len(labels), dtype=bool)
    speech[200:210] = False
    turns = _turns_from_frames(labels, speech, ["S1", "S2"])
    # The 0.1 s flicker joined the S1 turn; the pause before S2 stays a pause.
    assert [t.speaker for t in turns] == ["S1", "S2"]
    assert abs(turns[0].span.end - 2.0) < 1e-6
    assert abs(turns[1].span.start - 2.1) < 1e-6
    assert abs(turns[1].span.end - 3.1) < 1e-6


def test_cluster_separates_two_voices():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.05, (30, 16)) + np.eye(16)[0]
    b = rng.normal(0, 0.05, (30, 16)) + np.eye(16)[1]
    labels = EmbeddingDiarizer.cluster(np.vstack([a, b]), 2)
    assert len(set(labels[:30])) == 1 and len(set(labels[30:])) == 1
    assert labels[0] != labels[-1]
    assert set(EmbeddingDiarizer.cluster(a[:3], 2)) == {0}  # too few windows: one speaker


def test_speaker_of_words_by_overlap_nearest_and_smoothing():
    turns = [SpeakerTurn(Span(0, 2), "S1"), SpeakerTurn(Span(2, 2.2), "S2"), SpeakerTurn(Span(2.2, 4), "S1"),
             SpeakerTurn(Span(6, 8), "S2")]
    words = [Word(0.1, 0.5, "您好", 1), Word(0.6, 1.9, "这里", 1), Word(2.0, 2.2, "是", 1),
             Word(2.25, 2.6, "物业", 1), Word(4.5, 4.8, "嗯", 1), Word(6.5, 7.0, "喂", 1)]
    # "是" lies inside the short S2 turn but sits tight between S1 words: smoothed to S1.
    # "嗯" overlaps no turn: the nearest (S1, ending at 4.0) takes it.
    assert speaker_of_words(words, turns) == ["S1", "S1", "S1", "S1", "S1", "S2"]
    assert speaker_of_words(words[2:3], turns) == ["S2"]
    assert speaker_of_words(words, []) == ["S1"] * 6


def test_stretches_group_touching_windows_and_cap_length():
    from inspector.speech.diarize import _stretches

    wins = [Span(0, 1.5), Span(0.5, 2.0), Span(5.0, 6.5), Span(5.5, 7.0)]
    assert _stretches(wins) == [wins[:2], wins[2:]]
    long_run = [Span(i * 0.5, i * 0.5 + 1.5) for i in range(200)]
    groups = _stretches(long_run, max_s=60.0)
    assert all(g[-1].end - g[0].start <= 60.0 for g in groups)
    assert sum(len(g) for g in groups) == 200


def test_short_speech_costs_no_embedding_work():
    diarizer = EmbeddingDiarizer(DiarizationSettings())
    audio = np.zeros(16000 * 4, dtype=np.float32)
    turns = diarizer(audio, [Span(0.5, 2.0)], 2)  # one window: nothing to tell apart
    assert turns == [SpeakerTurn(Span(0.5, 2.0), "S1")]
    assert diarizer._encoder is None  # the speaker encoder was never loaded
