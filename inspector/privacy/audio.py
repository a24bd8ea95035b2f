"""A call's recording with each personal-data span replaced by a tone, same format and same length.

The tone is a 1 kHz sine at −20 dBFS with 5 ms fades in and out, in every channel; it replaces the samples
of each interval (it is not mixed in), so nothing said inside an interval survives. Intervals are in seconds
from the start of the decoded audio (what the transcript's word times count from), rounded to milliseconds,
merged where they overlap or touch, and clipped to the recording's length.

How a file is masked (``mask_file``):

* PCM (8/16/24/32-bit integer, 32/64-bit float), μ-law and A-law WAV (RIFF or RF64, plain or
  WAVE_FORMAT_EXTENSIBLE): the file is copied as it is and only the data-chunk bytes of the samples inside
  the intervals are overwritten with the tone, encoded in the file's own sample format by libsndfile
  (``soundfile``). Header, other chunks and every byte outside the intervals stay byte-identical.
* Everything else (MP3, Ogg Vorbis/Opus, M4A/AAC, ADTS AAC, FLAC, WAV with a compressed codec such as IMA
  ADPCM): decoded with PyAV, the samples inside the intervals replaced, and encoded again with the same
  codec, sample rate and channel layout, in the same container, at the source's bit rate (the stream's
  nominal or average bit rate, so a VBR source comes back at about its average rate). Lossy codecs change
  every sample slightly (that is what re-encoding costs); FLAC keeps every sample outside the intervals.
  Only the first audio stream is kept; tags and cover art are not copied.

``masked_recording`` is the cache: one row in ``masked_audio`` per (call, ``fingerprint``), the file in the
audio store under its own sha256. With no interval the original itself is the masked recording: a row is
kept for it too (``spans`` 0, ``masked_sha256`` = the original's digest, nothing copied), so after the
retention purge every call still has its masked recording, whether or not it had personal data in it. A
masked blob can therefore be the same blob as an original (also when every interval lies past the end):
whatever deletes blobs asks ``masked_blob_referenced`` as well as whether a call uses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from inspector.errors import AudioError, CorruptAudio, EmptyAudio, NotAudio, UnsupportedCodec
from inspector.store.blobs import AudioStore, sha256_file
from inspector.store.db import utcnow
from inspector.store.schema import Call, MaskedAudio

# Bump whenever the tone, the rounding or the method changes: cached masked recordings are then made again.
MASK_VERSION = "1"
TONE_HZ = 1000.0
TONE_DBFS = -20.0
FADE_S = 0.005
# Interval ends are rounded to this many decimals (milliseconds) before fingerprinting and masking.
ROUND_DIGITS = 3

_AV_ERRORS = (av.FFmpegError, OSError, ValueError)
# WAV format tags spliced in place, with the libsndfile subtype for each sample width in bytes.
_WAVE_PCM, _WAVE_FLOAT, _WAVE_ALAW, _WAVE_MULAW, _WAVE_EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE
_SUBTYPES: dict[tuple[int, int], str] = {
    (_WAVE_PCM, 1): "PCM_U8",
    (_WAVE_PCM, 2): "PCM_16",
    (_WAVE_PCM, 3): "PCM_24",
    (_WAVE_PCM, 4): "PCM_32",
    (_WAVE_FLOAT, 4): "FLOAT",
    (_WAVE_FLOAT, 8): "DOUBLE",
    (_WAVE_ALAW, 1): "ALAW",
    (_WAVE_MULAW, 1): "ULAW",
}
# Output muxer for an input container (PyAV's demuxer name), when it is not the same name.
_MUXERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "aac": "adts"}
# Encoders take a named layout, not "1 channels": what a channel count without positions means.
_UNPOSITIONED_LAYOUTS = {1: "mono", 2: "stereo"}


# session.info key of the blob pins held until the session's transaction ends.
_PINS = "inspector.privacy.audio.pins"

Interval = tuple[float, float]


@dataclass(frozen=True)
class WavLayout:
    """Where a spliceable WAV keeps its samples."""

    subtype: str  # libsndfile subtype of the samples (PCM_16, ULAW, ...)
    channels: int
    sample_rate: int
    block_align: int  # bytes per frame (all channels)
    data_offset: int  # file offset of the first sample
    frames: int  # whole frames present in the file


# --- intervals ------------------------------------------------------------------------------------------


def normalize_intervals(intervals: list[Interval]) -> list[Interval]:
    """Sorted, rounded to milliseconds, started at 0 at the earliest, empty ones dropped, overlapping or
    touching ones merged. Raises ``ValueError`` for a bound that is not a finite number."""
    rounded: list[Interval] = []
    for start, end in intervals:
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError(f"interval bounds must be finite numbers, not ({start}, {end})")
        a, b = max(round(start, ROUND_DIGITS), 0.0), round(end, ROUND_DIGITS)
        if b > a:
            rounded.append((a, b))
    merged: list[Interval] = []
    for a, b in sorted(rounded):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def fingerprint(intervals: list[Interval]) -> str:
    """sha256 (hex) of ``MASK_VERSION`` and the normalized intervals: names one masked version of a call."""
    spans = [[f"{a:.{ROUND_DIGITS}f}", f"{b:.{ROUND_DIGITS}f}"] for a, b in normalize_intervals(intervals)]
    payload = json.dumps({"version": MASK_VERSION, "intervals": spans}, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _sample_ranges(intervals: list[Interval], rate: int) -> list[tuple[int, int]]:
    """Each (normalized) interval as [first, stop) sample indices, unclipped at the end."""
    return [(math.floor(a * rate), math.ceil(b * rate)) for a, b in intervals]


def _tone(first: int, stop: int, span: tuple[int, int], rate: int) -> np.ndarray:
    """Tone samples (float64, mono) for indices [first, stop) of the tone that fills ``span``."""
    start, end = span
    index = np.arange(first, stop, dtype=np.float64)
    into, left = index - start, end - 1 - index
    fade = max(FADE_S * rate, 1.0)
    envelope = np.clip(np.minimum(into, left) / fade, 0.0, 1.0)
    amplitude = 10.0 ** (TONE_DBFS / 20.0)
    return amplitude * envelope * np.sin(2.0 * np.pi * TONE_HZ * into / rate)


def _tone_blocks(ranges: list[tuple[int, int]], first: int, stop: int, rate: int) -> Iterator[tuple[int, np.ndarray]]:
    """(offset in [first, stop), tone samples) for every part of ``ranges`` that falls in [first, stop)."""
    for span in ranges:
        a, b = max(span[0], first), min(span[1], stop)
        if b > a:
            yield a - first, _tone(a, b, span, rate)


# --- masking a file ------------------------------------------------------------------------------------


def mask_file(src: Path, dst: Path, intervals: list[Interval]) -> None:
    """Write ``src`` to ``dst`` with a tone over each interval (seconds): same format, same length.

    Raises ``FileNotFoundError`` for a missing ``src`` and an ``AudioError`` for audio that cannot be
    read or written again in its own format; ``dst`` is removed then."""
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise FileNotFoundError(f"recording {src} does not exist")
    if src.stat().st_size == 0:
        raise EmptyAudio(src, "文件为空")
    spans = normalize_intervals(intervals)
    try:
        layout = wav_layout(src)
        if layout is not None:
            _mask_wav(src, dst, layout, spans)
        else:
            _mask_reencoded(src, dst, spans)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def wav_layout(path: Path) -> WavLayout | None:
    """The sample layout of a RIFF/RF64 WAV whose samples can be overwritten in place, else None."""
    try:
        with path.open("rb") as f:
            return _read_wav_layout(f, path.stat().st_size)
    except (OSError, struct.error):
        return None


def _read_wav_layout(f: io.BufferedReader, size: int) -> WavLayout | None:
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    fmt: tuple[int, int, int, int] | None = None  # format tag, channels, rate, block align
    ds64_data_size: int | None = None
    for _ in range(64):  # a WAV has a handful of chunks; never loop on a broken one
        chunk = f.read(8)
        if len(chunk) < 8:
            return None
        chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if chunk_id == b"ds64":
            body = f.read(chunk_size)
            ds64_data_size = struct.unpack("<Q", body[8:16])[0]
            f.seek(chunk_size % 2, 1)
        elif chunk_id == b"fmt ":
            body = f.read(chunk_size)
            if len(body) < 16:
                return None
            tag, channels, rate, _byte_rate, block_align = struct.unpack("<HHIIH", body[:14])
            if tag == _WAVE_EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID starts with the tag
            fmt = (tag, channels, rate, block_align)
            f.seek(chunk_size % 2, 1)
        elif chunk_id == b"data":
            if fmt is None:
                return None
            tag, channels, rate, block_align = fmt
            if channels < 1 or rate < 1 or block_align < 1 or block_align % channels:
                return None
            subtype = _SUBTYPES.get((tag, block_align // channels))
            if subtype is None:
                return None
            offset = f.tell()
            declared = ds64_data_size if chunk_size == 0xFFFFFFFF and ds64_data_size is not None else chunk_size
            present = size - offset
            data_size = present if declared in (0, 0xFFFFFFFF) else min(declared, present)
            return WavLayout(subtype, channels, rate, block_align, offset, data_size // block_align)
        else:
            f.seek(chunk_size + chunk_size % 2, 1)
    return None


def _encode_samples(samples: np.ndarray, layout: WavLayout) -> bytes:
    """``samples`` (frames × channels, float) in the WAV's sample format, little-endian, no header."""
    out = io.BytesIO()
    with soundfile.SoundFile(out, "w", layout.sample_rate, layout.channels, layout.subtype, "LITTLE", "RAW") as f:
        f.write(samples)
    return out.getvalue()


def _mask_wav(src: Path, dst: Path, layout: WavLayout, intervals: list[Interval]) -> None:
    shutil.copyfile(src, dst)
    ranges = _sample_ranges(intervals, layout.sample_rate)
    with dst.open("r+b") as f:
        for offset, tone in _tone_blocks(ranges, 0, layout.frames, layout.sample_rate):
            f.seek(layout.data_offset + offset * layout.block_align)
            f.write(_encode_samples(np.repeat(tone[:, None], layout.channels, axis=1), layout))


def _mask_reencoded(src: Path, dst: Path, intervals: list[Interval]) -> None:
    try:
        container = av.open(str(src), mode="r", metadata_errors="ignore")
    except _AV_ERRORS as exc:
        raise NotAudio(src, f"无法打开音频文件（{_av_message(exc)}）") from exc
    with container:
        if not container.streams.audio:
            raise NotAudio(src, f"不是音频文件（{container.format.name} 格式，不含音频流）")
        stream = container.streams.audio[0]
        try:
            with av.open(str(dst), mode="w", format=_muxer(src, container)) as output:
                _transcode(src, container, stream, output, intervals)
        except (av.FFmpegError, ValueError) as exc:
            raise AudioError(src, f"无法按原格式重新编码（{_av_message(exc)}）") from exc


def _muxer(src: Path, container: av.container.InputContainer) -> str:
    name = container.format.name
    muxer = _MUXERS.get(name, name.split(",")[0])
    if muxer not in av.formats_available:
        raise UnsupportedCodec(src, f"无法写出 {name} 格式")
    return muxer


def _encoder(src: Path, codec_name: str) -> av.Codec:
    try:
        codec = av.Codec(codec_name, "w")
    except _AV_ERRORS as exc:
        raise UnsupportedCodec(src, f"没有 {codec_name} 编码器，无法按原格式脱敏") from exc
    return codec


def _transcode(
    src: Path,
    container: av.container.InputContainer,
    stream: av.AudioStream,
    output: av.container.OutputContainer,
    intervals: list[Interval],
) -> None:
    decoder = stream.codec_context
    rate, layout = decoder.sample_rate, _layout(decoder.layout)
    codec = _encoder(src, decoder.codec.canonical_name)
    target = output.add_stream(codec.name, rate=rate, layout=layout)
    formats = [f.name for f in codec.audio_formats or ()]
    if decoder.format is not None and decoder.format.name in formats:
        target.codec_context.format = decoder.format.name  # keep the sample format (FLAC bit depth)
    bit_rate = decoder.bit_rate or stream.bit_rate or container.bit_rate
    if bit_rate and not codec.name.startswith(("flac", "pcm_")):
        target.codec_context.bit_rate = bit_rate
    if codec.experimental:  # FFmpeg's own Vorbis encoder
        target.codec_context.options = {"strict": "experimental"}
    ranges = _sample_ranges(intervals, rate)
    to_float = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    position = 0

    def encode(frames: list[av.AudioFrame]) -> None:
        nonlocal position
        for frame in frames:
            samples = frame.to_ndarray()  # channels × n, float32
            n = samples.shape[1]
            if n == 0:
                continue
            for offset, tone in _tone_blocks(ranges, position, position + n, rate):
                samples[:, offset : offset + len(tone)] = tone
            position += n
            masked = av.AudioFrame.from_ndarray(samples, format="fltp", layout=layout)
            masked.sample_rate = rate
            for packet in target.encode(masked):
                output.mux(packet)

    for frame in _decoded_frames(src, container, stream):
        frame.pts = None
        encode(to_float.resample(frame))
    encode(to_float.resample(None))
    for packet in target.encode(None):
        output.mux(packet)


def _layout(layout: av.AudioLayout) -> str:
    """The layout's name; for channels without positions (a WAV without a channel mask), the usual one."""
    if any(channel.name == "NONE" for channel in layout.channels):
        return _UNPOSITIONED_LAYOUTS.get(layout.nb_channels, layout.name)
    return layout.name


def _decoded_frames(
    src: Path, container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[av.AudioFrame]:
    """Every frame, skipping packets the decoder rejects and stopping where the container breaks, as the
    transcription's decoding does (``inspector.speech.audio``), so the timelines match."""
    decoded = False
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except _AV_ERRORS:
            break
        try:
            frames = stream.decode(packet)
        except _AV_ERRORS:
            continue
        for frame in frames:
            decoded = True
            yield frame
    if not decoded:
        raise CorruptAudio(src, "文件已损坏：没有可解码的音频")


def _av_message(exc: Exception) -> str:
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())


# --- the cache -----------------------------------------------------------------------------------------


def masked_recording(session: Session, store: AudioStore, call: Call, intervals: list[Interval]) -> Path:
    """The masked recording of ``call`` for these intervals, made on first request and cached.

    Looks up ``masked_audio`` by (call, fingerprint) and reuses its blob; otherwise masks the original into
    the audio store and adds the row in ``session`` (a concurrent request that added the same row first
    wins, and its blob is used). The new blob stays pinned against deletion until ``session``'s transaction
    ends. Raises ``FileNotFoundError`` when the original is needed and missing, ``AudioError`` when it
    cannot be masked."""
    spans = normalize_intervals(intervals)
    key = fingerprint(spans)
    row = session.scalars(
        select(MaskedAudio).where(MaskedAudio.call_id == call.id, MaskedAudio.fingerprint == key)
    ).one_or_none()
    if row is not None and row.source_sha256 == call.audio_sha256 and store.exists(row.masked_sha256):
        return store.local_path(row.masked_sha256)
    original = store.local_path(call.audio_sha256)
    if not spans:
        digest, size = call.audio_sha256, original.stat().st_size
        _hold_until_transaction_end(session, _pin(store, digest))
    else:
        suffix = original.suffix or Path(call.audio_name).suffix
        with tempfile.TemporaryDirectory(prefix="inspector-mask-") as tmp:
            masked = Path(tmp) / f"masked{suffix}"
            mask_file(original, masked, spans)
            digest, size = sha256_file(masked), masked.stat().st_size
            pin = _pin(store, digest)
            _hold_until_transaction_end(session, pin)
            store.put_file(masked, suffix, digest)
    saved = _save(session, row, call, key, digest, size, len(spans))
    return store.local_path(saved.masked_sha256)


def _save(
    session: Session, row: MaskedAudio | None, call: Call, key: str, digest: str, size: int, spans: int
) -> MaskedAudio:
    """Insert the row (or refresh a stale one); on a concurrent insert of the same row, the other row."""
    values = {"source_sha256": call.audio_sha256, "masked_sha256": digest, "masked_bytes": size, "spans": spans}
    if row is not None:  # its blob went missing, or the call's recording changed: point it at the new one
        for name, value in values.items():
            setattr(row, name, value)
        row.created_at = utcnow()
        session.flush()
        return row
    new = MaskedAudio(call_id=call.id, fingerprint=key, created_at=utcnow(), **values)
    try:
        with session.begin_nested():
            session.add(new)
    except IntegrityError:
        other = session.scalars(
            select(MaskedAudio).where(MaskedAudio.call_id == call.id, MaskedAudio.fingerprint == key)
        ).one_or_none()
        if other is None:
            raise
        # Same spans, same method: its blob is as good as ours (the same bytes with deterministic encoders;
        # otherwise ours is left unreferenced, for the retention purge's sweep of unreferenced blobs).
        return other
    return new


def masked_blob_referenced(session: Session, digest: str) -> bool:
    """Whether a ``masked_audio`` row keeps the blob ``digest`` (ask this before deleting any blob: a masked
    recording can be the very blob of an original, see the module docstring)."""
    query = select(MaskedAudio.id).where(MaskedAudio.masked_sha256 == digest).limit(1)
    return session.scalar(query) is not None


def _pin(store: AudioStore, digest: str) -> contextlib.AbstractContextManager[object]:
    """A pin on ``digest`` when the store has pins (``LocalAudioStore``), else nothing to hold."""
    pin: Callable[[str], contextlib.AbstractContextManager[object]] | None = getattr(store, "pin", None)
    return pin(digest) if pin is not None else contextlib.nullcontext()


def _hold_until_transaction_end(session: Session, pin: contextlib.AbstractContextManager[object]) -> None:
    """Hold ``pin`` until the session's outermost transaction commits or rolls back, so a concurrent
    ``delete_unless`` cannot remove a blob whose row is not committed yet (one listener per session)."""
    pin.__enter__()
    held: list[contextlib.AbstractContextManager[object]] | None = session.info.get(_PINS)
    if held is None:
        held = session.info[_PINS] = []
        event.listen(session, "after_transaction_end", _release_pins)
    held.append(pin)


def _release_pins(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the rows are not committed yet
    held: list[contextlib.AbstractContextManager[object]] = session.info.get(_PINS, [])
    while held:
        held.pop().__exit__(None, None, None)
