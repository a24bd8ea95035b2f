"""End to end on a recorded call (samples/pii): the real speech pipeline transcribes an owner who reads out an
address, an ID number and a mobile number; what the masking leaves has no run of 7 digits of them, and the
masked recording has a tone over the words where each was said and is unchanged elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inspector.privacy.audio import mask_file
from inspector.privacy.masking import mask_text, mask_transcript
from inspector.privacy.spans import audio_spans, transcript_spans
from inspector.text.normalize import normalize_for_cer

PII_DIR = Path(__file__).resolve().parents[2] / "samples" / "pii"
CALL = PII_DIR / "call_pii_stereo.wav"


@pytest.fixture(scope="module")
def heard(speech_pipeline):
    return speech_pipeline.transcribe(CALL)


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    return json.loads(CALL.with_suffix(".json").read_text(encoding="utf-8"))["pii"]


_NUMERALS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")
_SEPARATORS = re.compile(r"[\s,，、.。;；:：\-]")


def _digit_runs(text: str) -> list[str]:
    """Runs of 7+ digits once numerals are digits (一三九 → 139) and pauses are gone: what a reader could take
    away. A masked character (``*``) breaks a run."""
    return re.findall(r"\d{7,}", _SEPARATORS.sub("", text.translate(_NUMERALS)))


def test_the_recognizer_hears_the_numbers(heard, labels) -> None:
    # The premise of the other tests: unmasked, the transcript gives the numbers away (digits or numerals).
    said = normalize_for_cer(" ".join(u.text for u in heard.utterances))
    for label in labels:
        if label["kind"] in ("mobile", "id_number"):
            assert label["value"][-4:] in said, label


def test_masked_transcript_gives_no_number_away(heard) -> None:
    data, spans = mask_transcript(heard, words=True)
    kinds = {str(s.kind) for s in spans}
    assert kinds & {"mobile", "number"} and kinds & {"id_number", "number"}, kinds
    for u in data["utterances"]:
        for field in ("text", "raw_text"):
            assert not _digit_runs(u[field]), (field, u[field])
        assert not _digit_runs("".join(w["text"] for w in u["words"]))
    assert not _digit_runs(" ".join(mask_text(u.text) for u in heard.utterances))


def test_masked_recording_has_a_tone_over_each_number_and_nothing_else(heard, labels, tmp_path) -> None:
    intervals = audio_spans(transcript_spans(heard))
    masked = tmp_path / "masked.wav"
    mask_file(CALL, masked, intervals)
    original, rate = sf.read(CALL, dtype="int16", always_2d=True)
    tone, masked_rate = sf.read(masked, dtype="int16", always_2d=True)
    assert tone.shape == original.shape and masked_rate == rate
    changed = np.any(tone != original, axis=1)
    for label in labels:  # where the owner said it (the generator's own placement of the turn)
        a, b = int(label["start"] * rate), int(label["end"] * rate)
        said = [u.text for u in heard.utterances if u.end > label["start"] and u.start < label["end"]]
        assert changed[a:b].mean() > 0.6, (label, said, intervals)  # what was heard there, what was masked
    covered = sum(min(e, len(changed) / rate) - s for s, e in intervals)
    assert changed.sum() / rate <= covered + 0.01  # only the detected spans changed
    assert changed.mean() < 0.4  # most of the call is untouched
