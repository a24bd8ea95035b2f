import numpy as np
import pytest

from inspector.speech.embeddings import SpeakerEncoder, mel_frames, normalize_volume, weights_path


def test_weights_ship_in_the_registry_package():
    assert weights_path().stat().st_size > 10_000_000


def test_normalize_volume_only_raises():
    quiet = np.full(16000, 0.001, dtype=np.float32)
    loud = np.full(16000, 0.5, dtype=np.float32)
    assert 20 * np.log10(np.sqrt(np.mean(normalize_volume(quiet) ** 2))) == pytest.approx(-30.0, abs=1e-3)
    assert normalize_volume(loud) is loud
    silent = np.zeros(100, dtype=np.float32)
    assert normalize_volume(silent) is silent


def test_encoder_gives_unit_vectors_that_separate_voices():
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2) / 16000
    low = (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    high = (0.3 * np.sign(np.sin(2 * np.pi * 310 * t)) * 0.5 + rng.normal(0, 0.02, t.size)).astype(np.float32)
    mels = np.stack([mel_frames(low)[:150], mel_frames(low)[40:190], mel_frames(high)[:150]])
    emb = SpeakerEncoder().embed(mels)
    assert emb.shape == (3, 256)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    same, different = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert same > different
