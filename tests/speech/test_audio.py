"""inspector.speech.audio on files written at test time with PyAV's encoders (no binary fixtures).

The test signal is a 440 Hz tone on the left channel and a 1000 Hz tone on the right, so a swapped
or mixed-up stereo decode shows up as the wrong dominant frequency.
"""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import av
import numpy as np
import pytest

from inspector.errors import (
    AudioError,
    AudioNotFound,
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    NotAudio,
    SilentAudio,
    TruncatedAudio,
    UnsupportedChannels,
    UnsupportedCodec,
)
from inspector.settings import AudioSettings
from inspector.speech.audio import DecodedAudio, decode, probe

SETTINGS = AudioSettings()
TONES = (440.0, 1000.0)  # left, right
SECONDS = 2.5
LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def tones(rate: int, channels: int, seconds: float = SECONDS, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    freqs = [TONES[i % 2] for i in range(channels)]
    return np.stack([amplitude * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)


def encode(
    path: Path,
    codec: str,
    container_format: str,
    signal: np.ndarray,
    rate: int,
    encoder_rate: int | None = None,
) -> Path:
    """Writes ``signal`` (channels x samples, float32, at ``rate``); skips if the encoder is missing."""
    try:
        av.codec.Codec(codec, "w")
    except av.FFmpegError as exc:
        pytest.skip(f"encoder {codec} not in this PyAV build: {exc}")
    layout = LAYOUTS[signal.shape[0]]
    out_rate = encoder_rate or rate  # libopus only takes 48 kHz (among a few): resample on the way in
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout=layout)
        resampler = av.AudioResampler(
            format=stream.codec_context.codec.audio_formats[0].name, layout=layout, rate=out_rate
        )

        def mux(frames: list[av.AudioFrame]) -> None:
            for frame in frames:
                for packet in stream.encode(frame):
                    container.mux(packet)

        for start in range(0, signal.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(signal[:, start : start + 1024]), format="fltp", layout=layout
            )
            frame.sample_rate = rate
            mux(resampler.resample(frame))
        mux(resampler.resample(None))
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def wav(path: Path, rate: int = 8000, channels: int = 2, seconds: float = SECONDS) -> Path:
    return encode(path, "pcm_s16le", "wav", tones(rate, channels, seconds), rate)


def dominant_hz(x: np.ndarray, rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def assert_error(exc: AudioError, path: Path) -> None:
    message = str(exc)
    assert path.name in message
    assert message.startswith(str(path))
    assert "\n" not in message and "Traceback" not in message


# (codec, container format, suffix, source rate, channels, encoder rate, lossless)
FORMATS = [
    ("pcm_s16le", "wav", "wav", 8000, 1, None, True),
    ("pcm_s16le", "wav", "wav", 8000, 2, None, True),
    ("pcm_s16le", "wav", "wav", 16000, 1, None, True),
    ("pcm_s16le", "wav", "wav", 16000, 2, None, True),
    ("pcm_s16le", "wav", "wav", 44100, 2, None, True),
    ("pcm_mulaw", "wav", "wav", 8000, 1, None, True),
    ("pcm_mulaw", "wav", "wav", 8000, 2, None, True),
    ("pcm_alaw", "wav", "wav", 8000, 1, None, True),
    ("pcm_alaw", "wav", "wav", 8000, 2, None, True),
    ("flac", "flac", "flac", 8000, 2, None, True),
    ("flac", "flac", "flac", 16000, 1, None, True),
    ("libmp3lame", "mp3", "mp3", 8000, 1, None, False),
    ("libmp3lame", "mp3", "mp3", 16000, 2, None, False),
    ("libopus", "ogg", "ogg", 8000, 1, 48000, False),
    ("libopus", "ogg", "opus", 16000, 2, 48000, False),
    ("aac", "ipod", "m4a", 8000, 1, None, False),
    ("aac", "ipod", "m4a", 16000, 2, None, False),
]


@pytest.mark.parametrize(
    ("codec", "fmt", "suffix", "rate", "channels", "encoder_rate", "lossless"),
    FORMATS,
    ids=[f"{c}-{r}-{n}ch-{s}" for c, _, s, r, n, _, _ in FORMATS],
)
def test_decodes_formats(
    tmp_path: Path,
    codec: str,
    fmt: str,
    suffix: str,
    rate: int,
    channels: int,
    encoder_rate: int | None,
    lossless: bool,
) -> None:
    path = encode(tmp_path / f"call.{suffix}", codec, fmt, tones(rate, channels), rate, encoder_rate)

    info = probe(path, SETTINGS)
    assert info.channels == channels
    assert info.sample_rate == (encoder_rate or rate)
    assert info.size_bytes == path.stat().st_size
    # MP3 / AAC / Opus add priming and pad the last frame; AAC at 8 kHz: 1024-sample frames are 128 ms.
    tolerance = 0.02 if lossless else 0.3
    assert abs(info.duration_s - SECONDS) < tolerance

    decoded = decode(path, SETTINGS)
    assert decoded.sample_rate == 16000
    assert len(decoded.channels) == channels
    assert len({len(c) for c in decoded.channels}) == 1
    assert abs(decoded.duration_s - SECONDS) < tolerance
    for index, channel in enumerate(decoded.channels):
        assert channel.dtype == np.float32
        assert 0.2 < float(np.abs(channel).max()) <= 0.45  # the 0.3 amplitude survived, not rescaled
        assert abs(dominant_hz(channel) - TONES[index]) < 5.0  # left stays left, right stays right


def test_mono_is_mean_of_channels(tmp_path: Path) -> None:
    decoded = decode(wav(tmp_path / "stereo.wav"), SETTINGS)
    mono = decoded.mono()
    assert mono.dtype == np.float32 and mono.shape == decoded.channels[0].shape
    np.testing.assert_allclose(mono, (decoded.channels[0] + decoded.channels[1]) / 2, atol=1e-6)
    single = DecodedAudio(info=decoded.info, channels=[decoded.channels[0]])
    assert single.mono() is decoded.channels[0]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.wav"
    with pytest.raises(AudioNotFound) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)


def test_directory_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "folder.wav"
    path.mkdir()
    with pytest.raises(AudioNotFound) as err:
        probe(path, SETTINGS)
    assert_error(err.value, path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)
    assert "文件为空" in str(err.value)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(50_000))
    with pytest.raises(NotAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)


@pytest.mark.parametrize("name", ["notes.txt", "notes.mp3"])
def test_text_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("客户来电投诉物业维修不及时。\n" * 200, encoding="utf-8")
    with pytest.raises(NotAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)


def test_image_has_no_audio_stream(tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)  # 8x8 greyscale
    pixels = zlib.compress(b"".join(b"\x00" + bytes(8) for _ in range(8)))
    path = tmp_path / "photo.png"
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    path.write_bytes(png)
    with pytest.raises(NotAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)
    assert "不含音频流" in str(err.value)


def test_truncated_wav(tmp_path: Path) -> None:
    full = wav(tmp_path / "full.wav").read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(full[: int(len(full) * 0.3)])
    with pytest.raises(TruncatedAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)
    assert "声明时长 2.5 秒" in str(err.value)


CORRUPTIBLE = [("libmp3lame", "mp3", "mp3"), ("flac", "flac", "flac"), ("aac", "ipod", "m4a")]


@pytest.mark.parametrize(("codec", "fmt", "suffix"), CORRUPTIBLE)
def test_corrupt_middle(tmp_path: Path, codec: str, fmt: str, suffix: str) -> None:
    # Random bytes over the middle 60 % leave the header intact (so the declared duration is known)
    # but make the decoder reject many packets: >= 5 % rejected is CorruptAudio. Checked over 40
    # seeds for each format; a PCM WAV is not used because any bytes are valid PCM (just noise).
    data = bytearray(encode(tmp_path / f"src.{suffix}", codec, fmt, tones(16000, 2), 16000).read_bytes())
    start, end = int(len(data) * 0.2), int(len(data) * 0.8)
    data[start:end] = np.random.default_rng(7).bytes(end - start)
    path = tmp_path / f"damaged.{suffix}"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)
    assert "文件已损坏" in str(err.value)


def test_digital_silence(tmp_path: Path) -> None:
    path = encode(tmp_path / "silent.wav", "pcm_s16le", "wav", np.zeros((2, 20000), np.float32), 8000)
    with pytest.raises(SilentAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)


def test_quiet_below_threshold(tmp_path: Path) -> None:
    path = encode(tmp_path / "quiet.wav", "pcm_s16le", "wav", tones(8000, 1, amplitude=1e-4), 8000)
    with pytest.raises(SilentAudio) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)
    assert "dBFS" in str(err.value)
    assert decode(path, AudioSettings(silence_dbfs=-90.0)).duration_s == pytest.approx(SECONDS)


def test_too_long_from_header(tmp_path: Path) -> None:
    path = wav(tmp_path / "long.wav")
    short = AudioSettings(max_duration_s=1.0)
    for read in (probe, decode):
        with pytest.raises(AudioTooLong) as err:
            read(path, short)
        assert_error(err.value, path)
        assert "超过上限 1.0 秒" in str(err.value)


def test_too_long_enforced_while_decoding(tmp_path: Path) -> None:
    # A FLAC whose STREAMINFO claims 1 s for 4 s of audio: the header check passes, decoding stops.
    path = encode(tmp_path / "liar.flac", "flac", "flac", tones(8000, 1, seconds=4.0), 8000)
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC"
    fields = int.from_bytes(data[18:26], "big")  # 20 bit rate, 3 channels, 5 bits, 36 total samples
    data[18:26] = ((fields & ~((1 << 36) - 1)) | 8000).to_bytes(8, "big")
    path.write_bytes(bytes(data))
    assert probe(path, SETTINGS).duration_s == pytest.approx(1.0)
    with pytest.raises(AudioTooLong) as err:
        decode(path, AudioSettings(max_duration_s=1.5))
    assert_error(err.value, path)


def test_two_hours_declared_but_short_is_quick(tmp_path: Path) -> None:
    data = bytearray(wav(tmp_path / "one.wav", seconds=1.0).read_bytes())
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 7200 * 8000 * 2 * 2)  # 2 h of 8 kHz stereo PCM16
    path = tmp_path / "liar.wav"
    path.write_bytes(bytes(data))
    started = time.perf_counter()
    with pytest.raises(TruncatedAudio) as err:
        decode(path, SETTINGS)
    assert time.perf_counter() - started < 2.0
    assert_error(err.value, path)
    assert "声明时长 7200.0 秒" in str(err.value)


def test_too_large(tmp_path: Path) -> None:
    path = wav(tmp_path / "big.wav")
    with pytest.raises(AudioTooLarge) as err:
        probe(path, AudioSettings(max_bytes=1000))
    assert_error(err.value, path)


def test_six_channels(tmp_path: Path) -> None:
    path = encode(tmp_path / "surround.wav", "pcm_s16le", "wav", tones(16000, 6), 16000)
    with pytest.raises(UnsupportedChannels) as err:
        decode(path, SETTINGS)
    assert isinstance(err.value, UnsupportedCodec)
    assert_error(err.value, path)
    assert "声道数 6" in str(err.value)


def test_codec_without_decoder(tmp_path: Path) -> None:
    data = bytearray(wav(tmp_path / "ok.wav").read_bytes())
    data[20:22] = struct.pack("<H", 0x1234)  # fmt chunk format tag no decoder knows
    path = tmp_path / "odd_codec.wav"
    path.write_bytes(bytes(data))
    with pytest.raises(UnsupportedCodec) as err:
        decode(path, SETTINGS)
    assert_error(err.value, path)
    assert "0x1234" in str(err.value)


def test_decode_speed_60s_8khz_stereo(tmp_path: Path) -> None:
    path = wav(tmp_path / "minute.wav", rate=8000, channels=2, seconds=60.0)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        decoded = decode(path, SETTINGS)
        timings.append(time.perf_counter() - started)
    assert decoded.duration_s == pytest.approx(60.0)
    assert min(timings) < 0.5  # about 0.02 s on a dev machine; generous for slow CI
