"""The import plan of a folder of PBX recordings, the database-free half of a batch import: walk the
folder, work out each recording's call metadata from its file name (``inspector.intake.filenames``)
and/or the PBX's CDR export (``inspector.intake.cdr``), and report every file that cannot be used
together with the reason. Nothing is dropped silently, except directories and hidden files (names
starting with ".", and anything inside a hidden folder, e.g. ``.DS_Store``, ``.Trash``). Nothing
here decodes or hashes audio: ``scan`` costs one ``stat`` and one ``open`` per file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from inspector.intake.cdr import Cdr
from inspector.intake.filenames import ASTERISK, FREESWITCH, FilenameConvention, parse_filename
from inspector.intake.metadata import CallMetadata, ImportInputError
from inspector.speech.audio import AUDIO_SUFFIXES


@dataclass(frozen=True)
class ImportItem:
    path: Path
    metadata: CallMetadata
    source: str  # "filename", "cdr", "filename+cdr", or "none" (only with require_agent=False)


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


def scan(
    directory: Path,
    *,
    glob: str = "**/*",
    conventions: Sequence[FilenameConvention] = (ASTERISK, FREESWITCH),
    cdr: Cdr | None = None,
    tz: tzinfo,
    require_agent: bool = True,
) -> Iterator[ImportItem | SkippedFile]:
    """Every file under ``directory`` matching ``glob``, in sorted order, as an ImportItem or a SkippedFile.

    Directories and hidden files are passed over silently. Raises ImportInputError at once (not on
    the first ``next``) when the folder does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        what = "不是目录" if directory.exists() else "目录不存在"
        raise ImportInputError(f"{directory}: {what}")
    return _scan(directory, glob, conventions, cdr, tz, require_agent)


def _scan(
    directory: Path,
    glob: str,
    conventions: Sequence[FilenameConvention],
    cdr: Cdr | None,
    tz: tzinfo,
    require_agent: bool,
) -> Iterator[ImportItem | SkippedFile]:
    for path in sorted(directory.glob(glob)):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts):
            continue
        skipped = _check_file(path)
        if skipped == "":
            continue  # a directory
        if skipped is not None:
            yield SkippedFile(path, skipped)
            continue
        yield _item(path, conventions, cdr, tz, require_agent)


def _check_file(path: Path) -> str | None:
    """None for a usable audio file, "" for a directory, else the reason to skip it."""
    try:
        info = path.stat()
    except OSError as err:
        return f"无法读取：{err.strerror or err}"
    if stat.S_ISDIR(info.st_mode):
        return ""
    if not stat.S_ISREG(info.st_mode):
        return "不是普通文件"
    suffix = path.suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        return f"不是支持的录音格式 ({path.suffix or '无扩展名'})"
    if info.st_size == 0:
        return "文件为空（0 字节）"
    try:
        _probe_readable(path)
    except OSError as err:
        return f"无法读取：{err.strerror or err}"
    return None


def _probe_readable(path: Path) -> None:
    """Open and close the file: raises the OS error (e.g. PermissionError) when it cannot be read."""
    os.close(os.open(path, os.O_RDONLY))


def _item(
    path: Path, conventions: Sequence[FilenameConvention], cdr: Cdr | None, tz: tzinfo, require_agent: bool
) -> ImportItem | SkippedFile:
    parsed = parse_filename(path.name, conventions, tz)
    entry = cdr.lookup(path, parsed) if cdr is not None else None
    if entry is not None and parsed is not None:
        metadata, source = entry.merged(parsed), "filename+cdr"
    elif entry is not None:
        metadata, source = entry, "cdr"
    elif parsed is not None:
        metadata, source = parsed, "filename"
    else:
        metadata, source = CallMetadata(), "none"
    if require_agent and not metadata.agent_id:
        return SkippedFile(path, _no_agent_reason(parsed, entry, cdr, conventions))
    return ImportItem(path, metadata, source)


def _no_agent_reason(
    parsed: CallMetadata | None, entry: CallMetadata | None, cdr: Cdr | None, conventions: Sequence[FilenameConvention]
) -> str:
    names = "/".join(convention.name for convention in conventions)
    name_part = f"文件名不符合 {names} 命名规则" if parsed is None else "文件名中没有坐席工号（如队列录音 q-…）"
    if cdr is None:
        cdr_part = "且未提供 CDR"
    elif entry is None:
        cdr_part = "且 CDR 中没有该录音"
    else:
        cdr_part = "且 CDR 中该录音的坐席列为空"
    return f"无法确定坐席工号：{name_part}，{cdr_part}"
