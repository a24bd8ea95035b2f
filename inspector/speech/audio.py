"""Reading recordings: ``probe`` (header only) and ``decode`` (16 kHz float32, one array per channel).

Decoding uses PyAV, which bundles FFmpeg. Anything wrong with a file ends as a typed ``AudioError``
(one line: file and reason), never as a raw FFmpeg exception, and never as a hang: the duration cap
is checked from the header and enforced again while decoding, so a lying header cannot make us
decode without end.

How problems are told apart:

* FFmpeg cannot open the file: ``NotAudio`` unless it starts like an audio container we know
  (then ``CorruptAudio``), or is a WAV whose data chunk is cut short (``TruncatedAudio``).
* FFmpeg clamps a WAV's duration to the bytes present, so WAV headers are read here to get the
  declared length; other containers declare theirs (FLAC STREAMINFO, MP3 Xing, MP4 moov, ...).
* While decoding, packets the decoder rejects are counted: none decoded at all, or at least 5 %
  rejected, is ``CorruptAudio``; fewer than 90 % of the declared duration decoded is
  ``TruncatedAudio``; a peak below ``silence_dbfs`` is ``SilentAudio``.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

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
    UnsupportedSampleRate,
)
from inspector.settings import AudioSettings

SAMPLE_RATE = 16000
MIN_SOURCE_RATE = 4000
# File name endings of the recordings the importers and tools look for.
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".flac")
# Encoders pad (MP3, AAC priming): allow this much beyond max_duration_s while decoding.
PADDING_GRACE_S = 1.0
# Decoded audio shorter than this share of the declared duration is a truncated file.
TRUNCATED_RATIO = 0.9
# Rejected packets at or above this share of all packets make the file corrupt.
CORRUPT_PACKET_RATIO = 0.05

# Any of these raised by PyAV is translated into an AudioError.
_AV_ERRORS = (av.FFmpegError, OSError, ValueError)
# Bytes text files are made of (tab, newlines, form feed, printable ASCII and any multibyte encoding).
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 256)])
# Starts of audio containers, to tell "damaged audio file" from "not an audio file at all".
_MAGIC = (
    (0, b"RIFF", "WAV"),
    (0, b"RF64", "WAV"),
    (0, b"ID3", "MP3"),
    (0, b"OggS", "OGG"),
    (0, b"fLaC", "FLAC"),
    (4, b"ftyp", "M4A/MP4"),
)


@dataclass(frozen=True)
class AudioInfo:
    """What the header says. ``duration_s`` is the declared duration, 0.0 when unknown."""

    path: str
    container: str
    codec: str
    channels: int
    sample_rate: int
    duration_s: float
    size_bytes: int


@dataclass
class DecodedAudio:
    """The decoded recording: one float32 array in [-1, 1] per source channel, 16 kHz, equal lengths."""

    info: AudioInfo
    channels: list[np.ndarray]
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.channels[0]) / self.sample_rate if self.channels else 0.0

    def mono(self) -> np.ndarray:
        """The mean of the channels (the array itself for a mono recording)."""
        if len(self.channels) == 1:
            return self.channels[0]
        out = self.channels[0].copy()
        for channel in self.channels[1:]:
            out += channel
        out *= np.float32(1.0 / len(self.channels))
        return out


@dataclass(frozen=True)
class _WavHeader:
    format_tag: int
    byte_rate: int
    data_size: int  # declared size of the data chunk in bytes
    data_present: int  # bytes of it actually in the file

    @property
    def declared_s(self) -> float:
        if not self.byte_rate or self.data_size in (0, 0xFFFFFFFF):
            return 0.0  # streaming writers leave the size unset
        return self.data_size / self.byte_rate

    @property
    def present_s(self) -> float:
        return self.data_present / self.byte_rate if self.byte_rate else 0.0


@dataclass
class _DecodeStats:
    packets: int = 0
    rejected: int = 0


class _Buffer:
    """Grows by doubling; ``arrays()`` returns one row view per channel without a final concatenation."""

    def __init__(self, channels: int, capacity: int) -> None:
        self.data = np.empty((channels, max(capacity, 1)), dtype=np.float32)
        self.size = 0

    def append(self, block: np.ndarray) -> None:
        n = block.shape[1]
        if self.size + n > self.data.shape[1]:
            grown = np.empty((self.data.shape[0], max(2 * self.data.shape[1], self.size + n)), np.float32)
            grown[:, : self.size] = self.data[:, : self.size]
            self.data = grown
        self.data[:, self.size : self.size + n] = block
        self.size += n

    def arrays(self) -> list[np.ndarray]:
        used = self.data[:, : self.size]
        if self.size < 0.9 * self.data.shape[1]:
            used = used.copy()  # do not keep a mostly unused buffer alive
        np.clip(used, -1.0, 1.0, out=used)
        return list(used)


def probe(path: str | Path, settings: AudioSettings) -> AudioInfo:
    """Reads the header only. Raises an ``AudioError`` for a file that cannot be used."""
    p = Path(path)
    size = _check_file(p, settings)
    wav = _read_wav_header(p)
    with _open(p, wav) as container:
        return _inspect(p, container, size, wav, settings)


def decode(path: str | Path, settings: AudioSettings) -> DecodedAudio:
    """Probes, decodes every channel to 16 kHz float32 and checks the result."""
    p = Path(path)
    size = _check_file(p, settings)
    wav = _read_wav_header(p)
    with _open(p, wav) as container:
        info = _inspect(p, container, size, wav, settings)
        buffer, stats = _decode_stream(p, container, info, settings)
    channels = buffer.arrays()
    _check_decoded(p, info, channels, stats, settings)
    return DecodedAudio(info=info, channels=channels)


def _check_file(p: Path, settings: AudioSettings) -> int:
    try:
        if not p.exists():
            raise AudioNotFound(p, "文件不存在")
        if not p.is_file():
            raise AudioNotFound(p, "不是文件")
        size = p.stat().st_size
    except OSError as exc:
        raise AudioError(p, f"无法读取文件：{exc.strerror or exc}") from exc
    if size == 0:
        raise EmptyAudio(p, "文件为空")
    if size > settings.max_bytes:
        raise AudioTooLarge(p, f"文件大小 {_size(size)}，超过上限 {_size(settings.max_bytes)}")
    if _looks_like_text(_head(p, 4096)):
        # FFmpeg's headerless demuxers (raw AMR, ...) can take text for audio and decode noise.
        raise NotAudio(p, "不是音频文件（文本文件）")
    return size


def _read_wav_header(p: Path) -> _WavHeader | None:
    """The fmt and data chunks of a RIFF/WAVE file, or None for anything else (or an unreadable header)."""
    try:
        with p.open("rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            format_tag = byte_rate = 0
            for _ in range(64):  # a WAV has a handful of chunks; never loop on a broken one
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if chunk_id == b"fmt ":
                    fmt = f.read(chunk_size)
                    if len(fmt) < 16:
                        return None
                    format_tag, _, _, byte_rate = struct.unpack("<HHII", fmt[:12])
                    if format_tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: tag in the GUID
                        format_tag = struct.unpack("<H", fmt[24:26])[0]
                    f.seek(chunk_size % 2, 1)
                elif chunk_id == b"data":
                    present = p.stat().st_size - f.tell()
                    return _WavHeader(format_tag, byte_rate, chunk_size, min(present, chunk_size))
                else:
                    f.seek(chunk_size + chunk_size % 2, 1)
    except (OSError, struct.error):
        return None
    return None


def _open(p: Path, wav: _WavHeader | None) -> av.container.InputContainer:
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except _AV_ERRORS as exc:
        raise _open_error(p, exc, wav) from exc


def _open_error(p: Path, exc: Exception, wav: _WavHeader | None) -> AudioError:
    if wav is not None and wav.declared_s and wav.data_present < wav.data_size:
        return _truncated(p, wav.declared_s, wav.present_s)
    if isinstance(exc, av.error.EOFError):
        return CorruptAudio(p, "文件已损坏：读取文件头时意外到达文件末尾（可能被截断）")
    kind = _audio_kind(p)
    if kind is None:
        return NotAudio(p, "不是音频文件（无法识别的格式）")
    return CorruptAudio(p, f"文件已损坏：无法解析 {kind} 文件头（{_av_message(exc)}）")


def _inspect(
    p: Path,
    container: av.container.InputContainer,
    size: int,
    wav: _WavHeader | None,
    settings: AudioSettings,
) -> AudioInfo:
    if not container.streams.audio:
        raise NotAudio(p, f"不是音频文件（{container.format.name} 格式，不含音频流）")
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    if ctx is None:
        name = f"WAV 格式标记 0x{wav.format_tag:04X}" if wav is not None else "（未知）"
        raise UnsupportedCodec(p, f"不支持的编码 {name}（没有可用的解码器）")
    channels, rate = ctx.channels, ctx.sample_rate
    if channels > 2:
        raise UnsupportedChannels(p, f"声道数 {channels} 不受支持（只支持单声道或双声道）")
    if channels < 1:
        raise CorruptAudio(p, "文件已损坏：无法确定声道数")
    if rate < MIN_SOURCE_RATE:
        raise UnsupportedSampleRate(p, f"采样率 {rate} Hz 不受支持（至少 {MIN_SOURCE_RATE} Hz）")
    duration = _declared_duration(container, stream, wav)
    if duration > settings.max_duration_s:
        limit = _duration(settings.max_duration_s)
        raise AudioTooLong(p, f"录音时长 {_duration(duration)}，超过上限 {limit}")
    return AudioInfo(
        path=str(p),
        container=container.format.name,
        codec=ctx.name,
        channels=channels,
        sample_rate=rate,
        duration_s=duration,
        size_bytes=size,
    )


def _declared_duration(
    container: av.container.InputContainer, stream: av.AudioStream, wav: _WavHeader | None
) -> float:
    if wav is not None and wav.declared_s:
        return wav.declared_s
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _decode_stream(
    p: Path, container: av.container.InputContainer, info: AudioInfo, settings: AudioSettings
) -> tuple[_Buffer, _DecodeStats]:
    stream = container.streams.audio[0]
    limit = int((settings.max_duration_s + PADDING_GRACE_S) * SAMPLE_RATE)
    # Sized from the header (plus room for padding), capped by the limit; grows if the header is low.
    expected = int((info.duration_s * 1.01 + 1.0 if info.duration_s else 60.0) * SAMPLE_RATE)
    buffer = _Buffer(info.channels, min(expected, limit + SAMPLE_RATE))
    stats = _DecodeStats()
    resampler: av.AudioResampler | None = None

    def take(frames: list[av.AudioFrame]) -> None:
        for out in frames:
            block = out.to_ndarray()
            if block.shape[0] != info.channels:  # the stream changed its layout midway
                stats.rejected += 1
                continue
            buffer.append(block)
        if buffer.size > limit:
            declared = f"文件头声明 {_duration(info.duration_s)}" if info.duration_s else "文件头未声明时长"
            raise AudioTooLong(
                p, f"录音时长超过上限 {_duration(settings.max_duration_s)}（{declared}，已在解码时中止）"
            )

    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except _AV_ERRORS:
            stats.rejected += 1  # the container is broken from here on
            break
        if packet.size:
            stats.packets += 1
        try:
            frames = stream.decode(packet)
            for frame in frames:
                frame.pts = None
                if resampler is None:
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=SAMPLE_RATE)
                take(resampler.resample(frame))
        except _AV_ERRORS:
            stats.rejected += 1
    if resampler is not None:
        try:
            take(resampler.resample(None))
        except _AV_ERRORS:
            stats.rejected += 1
    return buffer, stats


def _check_decoded(
    p: Path, info: AudioInfo, channels: list[np.ndarray], stats: _DecodeStats, settings: AudioSettings
) -> None:
    samples = len(channels[0])
    decoded_s = samples / SAMPLE_RATE
    if stats.rejected and (samples == 0 or stats.rejected >= CORRUPT_PACKET_RATIO * max(stats.packets, 1)):
        raise CorruptAudio(p, f"文件已损坏：{stats.rejected}/{max(stats.packets, 1)} 个数据包无法解码")
    if info.duration_s and decoded_s < TRUNCATED_RATIO * info.duration_s:
        raise _truncated(p, info.duration_s, decoded_s)
    if samples == 0:
        raise EmptyAudio(p, "录音不含任何音频采样")
    peak = max(max(float(c.max()), -float(c.min())) for c in channels)
    if peak <= 0.0:
        raise SilentAudio(p, "录音无声（数字静音）")
    dbfs = 20.0 * math.log10(peak)
    if dbfs < settings.silence_dbfs:
        raise SilentAudio(p, f"录音无声（峰值 {dbfs:.0f} dBFS）")


def _truncated(p: Path, declared_s: float, actual_s: float) -> TruncatedAudio:
    return TruncatedAudio(p, f"文件被截断：声明时长 {declared_s:.1f} 秒，实际只有 {actual_s:.1f} 秒")


def _head(p: Path, n: int) -> bytes:
    try:
        with p.open("rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _looks_like_text(head: bytes) -> bool:
    """No control bytes but tab / newline: text in any ASCII-compatible encoding (UTF-8, GBK, ...).

    Every supported container has binary fields (sizes, NULs) within its first bytes.
    """
    return bool(head) and not head.translate(None, _TEXT_BYTES)


def _audio_kind(p: Path) -> str | None:
    head = _head(p, 16)
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if len(head) >= 4 and head[0] == 0xFF and _is_mpeg_audio_header(head[1], head[2]):
        return "MP3"
    return None


def _is_mpeg_audio_header(b1: int, b2: int) -> bool:
    """Frame sync plus valid version, layer, bitrate and sample-rate fields."""
    return (
        b1 & 0xE0 == 0xE0
        and b1 & 0x18 != 0x08
        and b1 & 0x06 != 0
        and b2 >> 4 != 0xF
        and (b2 >> 2) & 0x3 != 0x3
    )


def _av_message(exc: Exception) -> str:
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} 小时"
    if seconds >= 60:
        return f"{seconds / 60:.1f} 分钟"
    return f"{seconds:.1f} 秒"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} 字节"
