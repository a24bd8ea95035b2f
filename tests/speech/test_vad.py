from itertools import pairwise
from pathlib import Path

import numpy as np

from inspector.settings import AudioSettings, VadSettings
from inspector.speech import vad
from inspector.speech.audio import decode


def test_silence_has_no_regions():
    assert vad.speech_regions(np.zeros(16000 * 3, dtype=np.float32), VadSettings()) == []
    assert vad.speech_regions(np.zeros(0, dtype=np.float32), VadSettings()) == []


def test_long_audio_read_in_pieces_gives_the_same_regions(monkeypatch, samples_dir: Path):
    audio = decode(samples_dir / "call07_garbage_mono.wav", AudioSettings()).mono()
    whole = vad.speech_regions(audio, VadSettings())
    assert len(whole) >= 5
    assert all(a.end <= b.start for a, b in pairwise(whole))
    # Read in 7 s pieces: regions crossing a cut are joined again, and nothing is lost.
    monkeypatch.setattr(vad, "PIECE_S", 7.0)
    pieced = vad.speech_regions(audio, VadSettings())
    speech = sum(r.duration for r in whole)
    assert abs(sum(r.duration for r in pieced) - speech) < 0.1 * speech
    assert abs(pieced[0].start - whole[0].start) < 0.3
    assert abs(pieced[-1].end - whole[-1].end) < 0.3


def test_a_short_channel_vad_hears_nothing_in_is_decoded_whole_unless_silent():
    rng = np.random.default_rng(0)
    quiet = (rng.standard_normal(16000 * 3) * 0.003).astype(np.float32)  # no speech for VAD, not silent
    assert vad.speech_regions(quiet, VadSettings()) == []
    assert vad.regions_to_decode(quiet, VadSettings()) == [vad.Span(0.0, 3.0)]
    assert vad.regions_to_decode(np.zeros(16000 * 3, dtype=np.float32), VadSettings()) == []
    # Longer than one recognizer window: nothing is decoded on a guess.
    long_quiet = (rng.standard_normal(16000 * 40) * 0.003).astype(np.float32)
    assert vad.regions_to_decode(long_quiet, VadSettings()) == []
