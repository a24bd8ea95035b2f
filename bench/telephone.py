"""Benchmark audio as a PBX delivers it: 8 kHz μ-law mono, 300-3400 Hz (sox), cached on disk.
Shared by the speech benchmarks; the copies go to a git-ignored folder, never into the repo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def telephone_copy(src: Path, cache: Path) -> Path:
    """``src`` as a PBX would deliver it: 8 kHz μ-law mono, 300-3400 Hz (cached)."""
    dst = cache / (src.stem + ".wav")
    if not dst.exists():
        if shutil.which("sox") is None:
            sys.exit("需要 sox 来转换评测音频：apt-get install -y sox")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(".tmp.wav")
        subprocess.run(["sox", str(src), "-r", "8000", "-c", "1", "-e", "mu-law", str(tmp), "sinc", "300-3400"],
                       check=True, capture_output=True)  # fmt: skip
        tmp.rename(dst)
    return dst
