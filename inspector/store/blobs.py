"""Content-addressed recording store: a recording is kept once, under its sha256.

``AudioStore`` is the interface the rest of inspector uses (put / open / path / exists / size);
``LocalAudioStore`` keeps files on a local or shared filesystem as ``ab/cd/abcd….wav``. An object
storage backend (S3, OSS) implements the same protocol; workers that need a file on disk call
``local_path``, which a remote backend would satisfy by downloading to a cache.

Deleting a blob is safe against concurrent writers, in this process and in others on the same
filesystem: every writer holds a shared lock (``fcntl.flock``) on the blob's lock stripe from the
moment it places (or finds) the blob until it releases its ``BlobPin`` — for an upload, until the call
is registered or refused. ``delete_unless`` takes the stripe's exclusive lock, so it waits for those
writers, then asks its caller whether anything references the blob before removing it. Lock stripes
are ``<root>.locks/<first two hex digits>.lock`` beside the store (256 small files, never deleted).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class AudioStore(Protocol):
    def put_file(self, path: Path, suffix: str, digest: str | None = None) -> str: ...
    def put_stream(self, stream: BinaryIO, suffix: str, max_bytes: int) -> tuple[str, int]: ...
    def exists(self, digest: str) -> bool: ...
    def local_path(self, digest: str) -> Path: ...
    def size(self, digest: str) -> int: ...
    def delete(self, digest: str) -> None: ...


class BlobTooLarge(Exception):
    """Raised by ``put_stream`` once more than ``max_bytes`` arrived; nothing is kept."""


class BlobPin:
    """A shared lock on a stored blob's stripe: while it is held, ``delete_unless`` waits."""

    def __init__(self, lock_path: Path, digest: str, size: int = 0) -> None:
        self.digest = digest
        self.size = size
        self._fd: int | None = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        self._lock = threading.Lock()

    def release(self) -> None:
        """Drop the lock (idempotent). Closing the descriptor releases the flock."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> BlobPin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class LocalAudioStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4]

    def _find(self, digest: str) -> Path | None:
        folder = self._dir(digest)
        if not folder.is_dir():
            return None
        for entry in folder.iterdir():
            if entry.name.split(".", 1)[0] == digest and not entry.name.endswith(".tmp"):
                return entry
        return None

    def exists(self, digest: str) -> bool:
        return self._find(digest) is not None

    def local_path(self, digest: str) -> Path:
        found = self._find(digest)
        if found is None:
            raise FileNotFoundError(f"recording {digest} is not in the audio store {self.root}")
        return found

    def size(self, digest: str) -> int:
        return self.local_path(digest).stat().st_size

    def delete(self, digest: str) -> None:
        """Forget a recording (callers check first that no call refers to it; see ``delete_unless``)."""
        found = self._find(digest)
        if found is not None:
            found.unlink(missing_ok=True)

    def _lock_path(self, digest: str) -> Path:
        folder = self.root.with_name(self.root.name + ".locks")
        folder.mkdir(exist_ok=True)
        return folder / f"{digest[:2]}.lock"

    def pin(self, digest: str) -> BlobPin:
        """Hold ``digest`` against deletion until the pin is released (the blob need not exist yet)."""
        return BlobPin(self._lock_path(digest), digest)

    def delete_unless(self, digest: str, referenced: Callable[[], bool]) -> bool:
        """Delete the blob unless ``referenced()`` says something uses it; True when it was deleted.

        Waits until no writer holds a pin on the blob's stripe (the caller must not hold one itself), so a
        request that is still checking or registering the same recording never loses it."""
        fd = os.open(self._lock_path(digest), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if referenced():
                return False
            self.delete(digest)
            return True
        finally:
            os.close(fd)

    def _target(self, digest: str, suffix: str) -> Path:
        suffix = suffix.lower() if suffix.startswith(".") and len(suffix) <= 8 else ""
        return self._dir(digest) / f"{digest}{suffix}"

    def put_file(self, path: Path, suffix: str, digest: str | None = None) -> str:
        """Keep ``path`` (hard link when on the same filesystem, else a copy); returns its sha256."""
        digest = digest or sha256_file(path)
        with self.pin(digest):  # not while a refused upload of the same bytes deletes them
            return self._place_file(path, suffix, digest)

    def _place_file(self, path: Path, suffix: str, digest: str) -> str:
        if self.exists(digest):
            return digest
        target = self._target(digest, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")  # unique per thread and process
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, target)  # atomic: a reader never sees half a file
        return digest

    def put_stream(self, stream: BinaryIO, suffix: str, max_bytes: int) -> tuple[str, int]:
        """Copy an upload into the store while hashing it; refuses more than ``max_bytes``."""
        with self.put_stream_pinned(stream, suffix, max_bytes) as pin:
            return pin.digest, pin.size

    def put_stream_pinned(self, stream: BinaryIO, suffix: str, max_bytes: int) -> BlobPin:
        """``put_stream``, returning the blob pinned: the caller releases the pin once the recording is
        registered (or refused, before it calls ``delete_unless``)."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while block := stream.read(CHUNK):
                    size += len(block)
                    if size > max_bytes:
                        raise BlobTooLarge(size)
                    digest.update(block)
                    out.write(block)
            hexdigest = digest.hexdigest()
            pin = BlobPin(self._lock_path(hexdigest), hexdigest, size)  # waits for a deletion in progress
            try:
                if not self.exists(hexdigest):
                    target = self._target(hexdigest, suffix)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, target)
            except BaseException:
                pin.release()
                raise
            return pin
        finally:
            tmp.unlink(missing_ok=True)
