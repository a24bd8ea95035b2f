"""Masked audio: a tone over each interval, every other sample (and for WAV every other byte) unchanged."""

from __future__ import annotations

import itertools
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
import pytest
import soundfile
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from inspector.errors import AudioError, EmptyAudio, NotAudio
from inspector.privacy import audio as masking
from inspector.privacy.audio import (
    FADE_S,
    TONE_DBFS,
    TONE_HZ,
    fingerprint,
    mask_file,
    masked_blob_referenced,
    masked_recording,
    normalize_intervals,
    wav_layout,
)
from inspector.store.blobs import LocalAudioStore, sha256_file
from inspector.store.calls import NewCall, register_calls
from inspector.store.schema import Call, MaskedAudio

TZ = ZoneInfo("Asia/Shanghai")
SECONDS = 6.0


# --- recordings ------------------------------------------------------------------------------------------


def _speechlike(rate: int, channels: int, seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """channels × n float32: two low tones (different per channel) plus a little noise, well away from 1 kHz."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    rows = [
        0.25 * np.sin(2 * np.pi * (220 + 60 * c) * t) + 0.15 * np.sin(2 * np.pi * (410 + 30 * c) * t)
        for c in range(channels)
    ]
    return (np.array(rows) + 0.02 * rng.standard_normal((channels, n))).astype(np.float32)


def _write_av(path: Path, codec: str, rate: int, channels: int, bit_rate: int | None = None) -> None:
    """A recording written by FFmpeg (its WAV muxer adds a LIST chunk: a header with more than fmt + data)."""
    layout = "stereo" if channels == 2 else "mono"
    samples = _speechlike(rate, channels)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def _write_pcm16_wave(path: Path, rate: int = 16000) -> None:
    """Mono PCM16 through the stdlib ``wave`` module (a minimal 44-byte header)."""
    samples = np.round(_speechlike(rate, 1)[0] * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def _write_soundfile(path: Path, subtype: str, rate: int = 8000, channels: int = 1) -> None:
    soundfile.write(str(path), _speechlike(rate, channels).T, rate, subtype=subtype, format="WAV")


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """Every sample FFmpeg decodes (channels × n float32, at the file's own rate) and the rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        to_float = av.AudioResampler(format="fltp", layout=stream.codec_context.layout, rate=rate)
        blocks = []
        for frame in container.decode(stream):
            frame.pts = None
            blocks.extend(out.to_ndarray() for out in to_float.resample(frame))
        blocks.extend(out.to_ndarray() for out in to_float.resample(None))
    return np.concatenate(blocks, axis=1), rate


def _tone_share(samples: np.ndarray, rate: int) -> float:
    """Share of the power within ±50 Hz of the tone frequency (Hann window)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    return float(spectrum[np.abs(freqs - TONE_HZ) <= 50].sum() / spectrum.sum())


def _rms_dbfs(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2))))


def _ranges(intervals: list[tuple[float, float]], rate: int, frames: int) -> list[tuple[int, int]]:
    """The sample ranges of intervals that fall on sample boundaries, clipped to the file."""
    return [(round(a * rate), min(round(b * rate), frames)) for a, b in intervals]


def _outside(frames: int, ranges: list[tuple[int, int]]) -> np.ndarray:
    keep = np.ones(frames, dtype=bool)
    for a, b in ranges:
        keep[a:b] = False
    return keep


# --- WAV: byte-identical outside the intervals -----------------------------------------------------------

WavMaker = Callable[[Path], None]
WAVS: dict[str, tuple[WavMaker, str, int, int]] = {
    # name: (writer, libsndfile subtype, rate, channels)
    "mulaw_8k_stereo": (lambda p: _write_av(p, "pcm_mulaw", 8000, 2), "ULAW", 8000, 2),
    "pcm16_16k_mono": (_write_pcm16_wave, "PCM_16", 16000, 1),
    "alaw_8k_mono": (lambda p: _write_soundfile(p, "ALAW"), "ALAW", 8000, 1),
    "pcm_u8_8k_mono": (lambda p: _write_soundfile(p, "PCM_U8"), "PCM_U8", 8000, 1),
    "pcm24_8k_stereo": (lambda p: _write_soundfile(p, "PCM_24", channels=2), "PCM_24", 8000, 2),
    "float_8k_mono": (lambda p: _write_soundfile(p, "FLOAT"), "FLOAT", 8000, 1),
}


@pytest.mark.parametrize("kind", sorted(WAVS))
def test_wav_is_byte_identical_outside_the_intervals(tmp_path: Path, kind: str) -> None:
    writer, subtype, rate, channels = WAVS[kind]
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    writer(src)
    intervals = [(1.0, 1.8), (3.25, 4.0)]
    mask_file(src, dst, intervals)

    before, after = soundfile.info(str(src)), soundfile.info(str(dst))
    assert (after.subtype, after.samplerate, after.channels, after.frames) == (subtype, rate, channels, before.frames)
    assert after.format == "WAV"
    raw_in, raw_out = src.read_bytes(), dst.read_bytes()
    assert len(raw_out) == len(raw_in)
    layout = wav_layout(src)
    assert layout is not None and layout.frames == before.frames
    assert raw_out[: layout.data_offset] == raw_in[: layout.data_offset]  # header and chunks before the data

    end = layout.data_offset + layout.frames * layout.block_align
    assert raw_out[end:] == raw_in[end:]  # chunks after the data
    frames_in = np.frombuffer(raw_in[layout.data_offset : end], np.uint8).reshape(layout.frames, -1)
    frames_out = np.frombuffer(raw_out[layout.data_offset : end], np.uint8).reshape(layout.frames, -1)
    keep = _outside(layout.frames, _ranges(intervals, rate, layout.frames))
    assert np.array_equal(frames_in[keep], frames_out[keep])
    assert not np.array_equal(frames_in[~keep], frames_out[~keep])

    samples_in, _ = soundfile.read(str(src), always_2d=True)
    samples_out, _ = soundfile.read(str(dst), always_2d=True)
    assert np.array_equal(samples_in[keep], samples_out[keep])
    for a, b in intervals:
        inside = samples_out[int(a * rate) : int(b * rate)]
        for channel in range(channels):
            assert _tone_share(inside[:, channel], rate) > 0.95
            assert _rms_dbfs(inside[:, channel]) == pytest.approx(TONE_DBFS - 3.01, abs=1.0)  # a sine's RMS
        # the speech that was there is gone: nothing left of the original's spectrum
        assert _tone_share(samples_in[int(a * rate) : int(b * rate), 0], rate) < 0.05


def test_interval_past_the_end_is_clipped_and_overlaps_merge(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _write_av(src, "pcm_mulaw", 8000, 2)
    rate = 8000
    intervals = [(2.0, 3.0), (2.5, 3.5), (SECONDS - 0.5, SECONDS + 30.0)]
    mask_file(src, dst, intervals)
    assert dst.stat().st_size == src.stat().st_size
    samples, _ = soundfile.read(str(dst), always_2d=True)
    assert len(samples) == int(SECONDS * rate)
    merged = samples[int(2.0 * rate) : int(3.5 * rate), 0]
    assert _tone_share(merged, rate) > 0.95
    # one tone from 2.0 to 3.5 s: no fade (no dip) where the two intervals meet
    seam = np.abs(samples[int(2.9 * rate) : int(3.1 * rate), 0])
    assert seam.max() == pytest.approx(10 ** (TONE_DBFS / 20), rel=0.1)
    fade = int(FADE_S * rate)
    assert np.abs(samples[int(3.0 * rate) - fade // 2 : int(3.0 * rate) + fade // 2, 0]).max() > 0.08
    tail = samples[int((SECONDS - 0.5) * rate) :, 1]
    assert _tone_share(tail, rate) > 0.95


def test_nothing_to_mask_copies_the_file(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _write_pcm16_wave(src)
    mask_file(src, dst, [(SECONDS + 1, SECONDS + 2), (3.0, 3.0)])
    assert dst.read_bytes() == src.read_bytes()


def test_compressed_wav_is_reencoded_with_its_codec(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _write_av(src, "adpcm_ima_wav", 8000, 1)
    assert wav_layout(src) is None  # not spliceable: goes through PyAV
    mask_file(src, dst, [(1.0, 2.0)])
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        sa, sb = a.streams.audio[0], b.streams.audio[0]
        assert (b.format.name, sb.codec_context.name, sb.rate, sb.channels) == (
            a.format.name,
            sa.codec_context.name,
            sa.rate,
            sa.channels,
        )
    samples, rate = _decode(dst)
    assert _tone_share(samples[0, int(1.1 * rate) : int(1.9 * rate)], rate) > 0.9


# --- lossy and other formats: re-encoded ------------------------------------------------------------------

ENCODED = {
    # name: (suffix, encoder, rate, channels, bit rate, samples may differ from the original by (frames))
    "mp3_16k_mono": (".mp3", "libmp3lame", 16000, 1, 32000),
    "mp3_8k_stereo": (".mp3", "libmp3lame", 8000, 2, 24000),
    "opus_ogg_mono": (".ogg", "libopus", 48000, 1, 24000),
    "aac_m4a_mono": (".m4a", "aac", 16000, 1, 32000),
    "flac_16k_mono": (".flac", "flac", 16000, 1, None),
}


@pytest.mark.parametrize("kind", sorted(ENCODED))
def test_encoded_round_trip(tmp_path: Path, kind: str) -> None:
    suffix, encoder, rate, channels, bit_rate = ENCODED[kind]
    src, dst = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    _write_av(src, encoder, rate, channels, bit_rate)
    interval = (2.0, 3.5)
    mask_file(src, dst, [interval])

    with av.open(str(src)) as a, av.open(str(dst)) as b:
        sa, sb = a.streams.audio[0], b.streams.audio[0]
        assert b.format.name == a.format.name
        assert sb.codec_context.codec.canonical_name == sa.codec_context.codec.canonical_name
        assert (sb.rate, sb.layout.name) == (sa.rate, sa.layout.name)
        frame_size = max(sa.codec_context.frame_size, 1152)
        if bit_rate:
            assert b.bit_rate == pytest.approx(a.bit_rate, rel=0.25)
    original, _ = _decode(src)
    masked, _ = _decode(dst)
    assert abs(masked.shape[1] - original.shape[1]) <= frame_size
    middle = masked[:, int((interval[0] + 0.1) * rate) : int((interval[1] - 0.1) * rate)]
    for channel in range(channels):
        assert _tone_share(middle[channel], rate) > 0.9
    if kind.startswith("aac"):
        return  # FFmpeg's AAC adds a priming frame each generation: the timeline moves by up to a frame
    keep = _outside(original.shape[1], [(int((interval[0] - 0.1) * rate), int((interval[1] + 0.1) * rate))])
    n = min(original.shape[1], masked.shape[1])
    keep = keep[:n]
    if kind.startswith("flac"):  # lossless: every sample outside the interval is the original's
        assert np.array_equal(original[:, :n][:, keep], masked[:, :n][:, keep])
    else:
        for channel in range(channels):
            corr = np.corrcoef(original[channel, :n][keep], masked[channel, :n][keep])[0, 1]
            assert corr > 0.9


def test_bad_input(tmp_path: Path) -> None:
    dst = tmp_path / "out.wav"
    with pytest.raises(FileNotFoundError):
        mask_file(tmp_path / "missing.wav", dst, [(0.0, 1.0)])
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(EmptyAudio):
        mask_file(empty, dst, [(0.0, 1.0)])
    text = tmp_path / "notes.wav"
    text.write_text("电话 13912345678\n" * 50, encoding="utf-8")
    with pytest.raises(NotAudio):
        mask_file(text, dst, [(0.0, 1.0)])
    broken = tmp_path / "broken.mp3"
    _write_av(broken, "libmp3lame", 16000, 1, 32000)
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(AudioError):
        mask_file(broken, dst, [(0.0, 1.0)])
    assert not dst.exists()
    with pytest.raises(ValueError):
        mask_file(broken, dst, [(0.0, float("nan"))])


# --- intervals ----------------------------------------------------------------------------------------------


def test_fingerprint_names_the_normalized_intervals() -> None:
    base = fingerprint([(1.0, 2.0), (5.0, 6.0)])
    assert len(base) == 64
    assert fingerprint([(5.0, 6.0), (1.0, 1.5), (1.4, 2.0)]) == base  # order and overlaps do not matter
    assert fingerprint([(1.0001, 2.0002), (5.0, 6.0), (7.0, 7.0)]) == base  # sub-ms, empty
    assert fingerprint([(1.0, 2.0), (5.0, 6.1)]) != base
    assert fingerprint([]) != base


bounds = st.floats(min_value=-5.0, max_value=500.0, allow_nan=False)


@given(st.lists(st.tuples(bounds, bounds), max_size=12))
def test_normalized_intervals_are_sorted_disjoint_and_cover_the_same_time(raw: list[tuple[float, float]]) -> None:
    merged = normalize_intervals(raw)
    assert normalize_intervals(merged) == merged
    for (a, b), (c, _) in itertools.pairwise(merged):
        assert a < b < c
    for a, b in merged:
        assert a >= 0.0 and b > a
    for start, end in raw:  # every point of every input interval (as rounded) is covered
        a, b = max(round(start, 3), 0.0), round(end, 3)
        if b > a:
            assert any(x <= a and b <= y for x, y in merged)


# --- the cache --------------------------------------------------------------------------------------------------


@pytest.fixture
def stored(database, tmp_path: Path):
    """(database, store, call id): a μ-law stereo call in a real audio store."""
    store = LocalAudioStore(tmp_path / "audio")
    recording = tmp_path / "call.wav"
    _write_av(recording, "pcm_mulaw", 8000, 2)
    digest = store.put_file(recording, ".wav")
    with database.session() as session:
        new = NewCall(digest, recording.stat().st_size, "call-1.wav", "upload", "A01", call_id="call-1")
        (registered,) = register_calls(session, [new], TZ)
    return database, store, registered.call_id


def _rows(session) -> int:
    return session.scalar(select(func.count()).select_from(MaskedAudio))


def test_masked_recording_is_made_once_and_reused(stored, monkeypatch: pytest.MonkeyPatch) -> None:
    database, store, call_id = stored
    masked_files: list[Path] = []
    real_mask = masking.mask_file

    def counted(src: Path, dst: Path, intervals: list[tuple[float, float]]) -> None:
        masked_files.append(dst)
        real_mask(src, dst, intervals)

    monkeypatch.setattr(masking, "mask_file", counted)
    intervals = [(1.0, 2.0), (4.0, 4.5)]
    with database.session() as session:
        call = session.get(Call, call_id)
        first = masked_recording(session, store, call, intervals)
    with database.session() as session:
        call = session.get(Call, call_id)
        (row,) = session.scalars(select(MaskedAudio)).all()
        assert row.call_id == call_id and row.spans == 2 and row.source_sha256 == call.audio_sha256
        assert first == store.local_path(row.masked_sha256) and first != store.local_path(call.audio_sha256)
        assert row.masked_sha256 == sha256_file(first) and row.masked_bytes == first.stat().st_size
        assert masked_blob_referenced(session, row.masked_sha256)
        assert not masked_blob_referenced(session, "0" * 64)
        mtime = first.stat().st_mtime_ns
        again = masked_recording(session, store, call, [(4.0, 4.5), (1.0, 2.0)])
        assert again == first and first.stat().st_mtime_ns == mtime and _rows(session) == 1
        assert len(masked_files) == 1  # reused, not made again
        samples, rate = _decode(first)
        assert _tone_share(samples[0, int(1.1 * rate) : int(1.9 * rate)], rate) > 0.95

        other = masked_recording(session, store, call, [(1.0, 2.5)])
        assert other != first and other.is_file() and _rows(session) == 2 and len(masked_files) == 2


def test_lost_blob_is_made_again(stored) -> None:
    database, store, call_id = stored
    with database.session() as session:
        call = session.get(Call, call_id)
        first = masked_recording(session, store, call, [(1.0, 2.0)])
    digest = sha256_file(first)
    store.delete(digest)
    with database.session() as session:
        call = session.get(Call, call_id)
        again = masked_recording(session, store, call, [(1.0, 2.0)])
        assert again.is_file() and sha256_file(again) == digest and _rows(session) == 1


def test_no_intervals_is_the_original(stored) -> None:
    database, store, call_id = stored
    with database.session() as session:
        call = session.get(Call, call_id)
        path = masked_recording(session, store, call, [])
        assert path == store.local_path(call.audio_sha256)
        (row,) = session.scalars(select(MaskedAudio)).all()
        assert (row.spans, row.masked_sha256) == (0, call.audio_sha256)
        assert masked_blob_referenced(session, call.audio_sha256)  # retention must not delete it as an original


def test_missing_original(stored) -> None:
    database, store, call_id = stored
    with database.session() as session:
        call = session.get(Call, call_id)
        cached = masked_recording(session, store, call, [(1.0, 2.0)])
    with database.session() as session:
        call = session.get(Call, call_id)
        store.delete(call.audio_sha256)
        assert masked_recording(session, store, call, [(1.0, 2.0)]) == cached  # the cached copy needs no original
        with pytest.raises(FileNotFoundError):
            masked_recording(session, store, call, [(3.0, 4.0)])
        with pytest.raises(FileNotFoundError):
            masked_recording(session, store, call, [])


def test_concurrent_insert_reuses_the_other_row(stored, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another request adds and commits the same row while this one masks: this one uses that row."""
    database, store, call_id = stored
    real_mask = masking.mask_file
    raced: list[Path] = []

    def mask_then_race(src: Path, dst: Path, intervals: list[tuple[float, float]]) -> None:
        real_mask(src, dst, intervals)
        if not raced:
            raced.append(dst)
            with database.session() as other:
                raced.append(masked_recording(other, store, other.get(Call, call_id), intervals))

    monkeypatch.setattr(masking, "mask_file", mask_then_race)
    with database.session() as session:
        path = masked_recording(session, store, session.get(Call, call_id), [(1.0, 2.0)])
    assert len(raced) == 2 and path == raced[1]
    with database.session() as session:
        assert _rows(session) == 1


def test_new_blob_stays_pinned_until_the_transaction_ends(stored) -> None:
    database, store, call_id = stored
    outcome: list[bool] = []
    with database.session() as session:
        path = masked_recording(session, store, session.get(Call, call_id), [(1.0, 2.0)])
        digest = sha256_file(path)
        deleter = threading.Thread(target=lambda: outcome.append(store.delete_unless(digest, lambda: False)))
        deleter.start()
        deleter.join(0.5)
        assert deleter.is_alive() and path.is_file()  # waits for this transaction
    deleter.join(10)
    assert outcome == [True] and not path.exists()
