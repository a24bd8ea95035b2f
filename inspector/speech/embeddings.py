"""Speaker embeddings: the GE2E speaker encoder whose trained weights ship inside the ``resemblyzer``
wheel (``resemblyzer/pretrained.pt``, 17 MB). Only the weights file is used: importing the resemblyzer
package pulls in webrtcvad, whose module needs ``pkg_resources`` (gone from current setuptools).
The network and features below are the encoder's published architecture: 40 mel bands (25 ms
window, 10 ms hop, 16 kHz), three LSTM layers of 256, a linear layer, ReLU, L2 normalisation.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from inspector.errors import ModelError

SAMPLE_RATE = 16000
MEL_BANDS = 40
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
HIDDEN = 256
TARGET_DBFS = -30.0


def weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("找不到 resemblyzer 包：说话人声纹模型的权重随该包提供，请先安装项目依赖")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ModelError(f"声纹模型权重缺失：{path}")
    return path


def volume_gain(audio: np.ndarray, target_dbfs: float = TARGET_DBFS) -> float:
    """The factor that raises (never lowers) the level to ``target_dbfs``, as the encoder was trained."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms <= 0.0:
        return 1.0
    change = target_dbfs - 20.0 * np.log10(rms)
    return 1.0 if change < 0 else float(10.0 ** (change / 20.0))


def normalize_volume(audio: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    gain = volume_gain(audio, target_dbfs)
    return audio if gain == 1.0 else (audio * gain).astype(np.float32)


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) power mel spectrogram, one frame per 10 ms."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=audio.astype(np.float32), sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=MEL_BANDS
    )
    return mel.astype(np.float32).T


class SpeakerEncoder:
    """Loads the encoder once; ``embed`` maps equal-length mel windows to unit vectors."""

    def __init__(self, device: str = "cpu") -> None:
        import torch
        from torch import nn

        class _GE2E(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(MEL_BANDS, HIDDEN, 3, batch_first=True)
                self.linear = nn.Linear(HIDDEN, HIDDEN)
                self.relu = nn.ReLU()

            def forward(self, mels: Any) -> Any:
                _, (hidden, _) = self.lstm(mels)
                raw = self.relu(self.linear(hidden[-1]))
                return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)

        checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
        self.model = _GE2E()
        # The checkpoint also holds the GE2E loss's similarity scale/bias, which inference never uses.
        state = {k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity_")}
        self.model.load_state_dict(state)
        self.model.eval().to(device)
        self.device = device

    def embed(self, windows: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """``windows``: (n, frames, 40) mel windows -> (n, 256) embeddings."""
        import torch

        out: list[np.ndarray] = []
        with torch.inference_mode():
            for i in range(0, len(windows), batch_size):
                batch = torch.from_numpy(windows[i : i + batch_size]).to(self.device)
                out.append(self.model(batch).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, HIDDEN), dtype=np.float32)
