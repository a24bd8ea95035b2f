from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inspector.store.blobs import BlobTooLarge, LocalAudioStore


def test_same_recording_is_kept_once_even_when_stored_concurrently(tmp_path: Path) -> None:
    data = b"RIFF" + bytes(range(256)) * 100
    sources = []
    for i in range(8):
        path = tmp_path / f"copy{i}.wav"
        path.write_bytes(data)
        sources.append(path)
    store = LocalAudioStore(tmp_path / "audio")
    with ThreadPoolExecutor(8) as pool:
        digests = set(pool.map(lambda p: store.put_file(p, ".wav"), sources))
    assert digests == {hashlib.sha256(data).hexdigest()}
    digest = digests.pop()
    assert store.local_path(digest).read_bytes() == data and store.size(digest) == len(data)
    files = [p for p in (tmp_path / "audio").rglob("*") if p.is_file()]
    assert files == [store.local_path(digest)]  # no temporary files left behind


def test_stream_upload_is_hashed_and_limited(tmp_path: Path) -> None:
    store = LocalAudioStore(tmp_path / "audio")
    digest, size = store.put_stream(io.BytesIO(b"x" * 1000), ".mp3", max_bytes=1000)
    assert size == 1000 and store.local_path(digest).suffix == ".mp3"
    with pytest.raises(BlobTooLarge):
        store.put_stream(io.BytesIO(b"y" * 1001), ".wav", max_bytes=1000)
    assert not store.exists(hashlib.sha256(b"y" * 1001).hexdigest())
    assert not list((tmp_path / "audio").glob("*.tmp"))
    with pytest.raises(FileNotFoundError):
        store.local_path("0" * 64)
