"""What the speech layer must never do, on real audio with the real models: invent domain words in
speech that has none, or drop speech it detected without a trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from inspector.qa.evaluate import load_reference
from inspector.speech.pipeline import SpeechPipeline
from inspector.speech.timeline import Span
from inspector.text.normalize import normalize_for_cer

pytestmark = pytest.mark.slow

STEREO = ("call01_leak_stereo", "call03_parking_fast_stereo", "call04_fee_hold_stereo")


def _non_domain_recording(samples_dir: Path, hotwords: tuple[str, ...], out: Path) -> str:
    """A mono recording of every sample utterance that holds no domain word, cut from its own
    channel, 0.8 s apart; returns what was said."""
    pieces: list[np.ndarray] = []
    said: list[str] = []
    for name in STEREO:
        rate, audio = wavfile.read(samples_dir / f"{name}.wav")
        for u in load_reference(samples_dir / f"{name}.json").utterances:
            if any(h in u.text for h in hotwords) or len(u.text) < 6:
                continue
            channel = 0 if u.role == "agent" else 1
            pieces += [audio[int((u.start - 0.1) * rate) : int((u.end + 0.1) * rate), channel],
                       np.zeros(int(0.8 * rate), dtype=audio.dtype)]
            said.append(u.text)
    wavfile.write(out, rate, np.concatenate(pieces))
    return "".join(said)


def test_speech_without_domain_words_gains_none(speech_pipeline: SpeechPipeline, samples_dir: Path, tmp_path: Path):
    hotwords = speech_pipeline.vocabulary.hotwords
    path = tmp_path / "non_domain.wav"
    said = normalize_for_cer(_non_domain_recording(samples_dir, hotwords, path))
    assert len(said) > 100
    heard = normalize_for_cer("".join(u.text for u in speech_pipeline.transcribe(path, speakers=1).utterances))
    assert len(heard) > 0.7 * len(said)  # it was heard ...
    invented = [h for h in hotwords if heard.count(normalize_for_cer(h)) > said.count(normalize_for_cer(h))]
    assert invented == [], heard  # ... and no domain word was added to it


def test_domain_words_are_still_recalled_on_domain_speech(sample_transcripts: dict):
    """The verified bias keeps what decoding-time bias gave: 工号 and 房号 where they were said."""
    text = "".join(u.text for u in sample_transcripts["call01_leak_stereo.wav"].utterances)
    assert "工号" in text and "房号" in text and "物业" in text


def test_detected_speech_that_gives_no_text_is_kept_as_an_untrusted_utterance(
    speech_pipeline: SpeechPipeline, tmp_path: Path
):
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(16000 * 3) * 0.01).astype(np.float32)  # VAD false alarm: line noise
    recognition = speech_pipeline.recognizer.transcribe(noise, [Span(0.5, 2.5)], "zh")
    assert recognition.words == []
    assert recognition.unheard == [Span(0.5, 2.5)]

    # Through the pipeline: a short recording of line noise only. VAD hears nothing, so the whole
    # recording is given to the recognizer; it finds no words, and the stretch is kept, flagged.
    path = tmp_path / "noise.wav"
    wavfile.write(path, 16000, (noise * 32767).astype(np.int16))
    transcript = speech_pipeline.transcribe(path)
    assert [(u.start, u.end, u.text, u.confidence) for u in transcript.utterances] == [(0.0, 3.0, "", 0.0)]
    assert transcript.to_dict()["utterances"][0]["flags"] == ["unheard"]
