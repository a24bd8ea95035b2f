"""Content-addressed recording store: a recording is kept once, under its sha256.

``AudioStore`` is the interface the rest of inspector uses (put / open / path / exists / size);
``LocalAudioStore`` keeps files on a local or shared filesystem as ``ab/cd/abcd….wav``. An object
storage backend (S3, OSS) implements the same protocol; workers that need a file on disk call
``local_path``, which a remote backend would satisfy by downloading to a cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
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
        """Forget a recording (callers check first that no call refers to it)."""
        found = self._find(digest)
        if found is not None:
            found.unlink(missing_ok=True)

    def _target(self, digest: str, suffix: str) -> Path:
        suffix = suffix.lower() if suffix.startswith(".") and len(suffix) <= 8 else ""
        return self._dir(digest) / f"{digest}{suffix}"

    def put_file(self, path: Path, suffix: str, digest: str | None = None) -> str:
        """Keep ``path`` (hard link when on the same filesystem, else a copy); returns its sha256."""
        digest = digest or sha256_file(path)
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
            if not self.exists(hexdigest):
                target = self._target(hexdigest, suffix)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            return hexdigest, size
        finally:
            tmp.unlink(missing_ok=True)
