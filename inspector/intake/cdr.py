"""The PBX's CDR (call detail records) export, read into call metadata by recording (``read_cdr``);
every row that cannot be used is reported with its line. A CDR is a CSV with a header row, UTF-8
(with or without BOM) or GBK/GB18030. Column names are configurable (``CdrMapping``, CLI
``--cdr-columns field=column,...``); the defaults fit Asterisk's ``Master.csv`` written with a header.
For a FreeSWITCH ``cdr_csv`` export use e.g.
``call_id=uuid,agent_id=destination_number,caller=caller_id_number,started_at=start_stamp,recording=``.
A CDR entry wins over what the file name says; the file name fills the gaps.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from inspector.intake.metadata import (
    CallMetadata,
    ImportInputError,
    audio_stem,
    is_extension,
    is_external,
    normalize_direction,
)
from inspector.vocab import CallDirection

# Fields of CdrMapping that name a column.
_COLUMN_FIELDS = (
    "recording", "call_id", "agent_id", "caller", "started_at", "duration", "direction", "project", "building", "unit"
)  # fmt: skip
# Asterisk channel names in a CDR column, e.g. "PJSIP/8001-0000002a", "Local/8001@from-queue-00000f;1".
_CHANNEL = re.compile(r"[A-Za-z0-9]+/([^/@;-]+)[-@;]")
_CDR_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


@dataclass(frozen=True)
class CdrMapping:
    """Which CDR column holds which field. A field set to None is not read."""

    recording: str | None = "recordingfile"
    call_id: str | None = "uniqueid"
    agent_id: str | None = "dst"
    caller: str | None = "src"
    started_at: str | None = "calldate"
    duration: str | None = "billsec"
    direction: str | None = None
    project: str | None = None  # 项目/小区 column (id, name or alias of a project in settings.projects_file)
    building: str | None = None
    unit: str | None = None
    datetime_format: str | None = None  # None: ISO 8601, "YYYY-MM-DD HH:MM:SS" or "YYYY/MM/DD HH:MM:SS"

    @classmethod
    def parse(cls, spec: str) -> CdrMapping:
        """``"agent_id=工号,caller=客户号码"`` (``field=column``; an empty column turns the field off)."""
        values = parse_column_spec(spec, (*_COLUMN_FIELDS, "datetime_format"), "--cdr-columns")
        mapping = cls(**values)
        if mapping.recording is None and mapping.call_id is None:
            raise ImportInputError("--cdr-columns: recording 和 call_id 至少要指定一个，否则无法对应录音")
        return mapping


def parse_column_spec(spec: str, fields: Sequence[str], option: str) -> dict[str, str | None]:
    """``"field=column,..."`` of a column-mapping option (``option`` names it in errors): field → column, None
    for an empty column (the field turned off). An unknown or repeated field is refused."""
    values: dict[str, str | None] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in fields:
            hint = f"（写反了？应为 {value}={key}）" if value in fields else ""
            raise ImportInputError(f"{option}: 未知字段 {key!r}{hint}，格式为 字段=列名，字段可为 {'、'.join(fields)}")
        if key in values:
            raise ImportInputError(f"{option}: 字段 {key} 指定了多次")
        values[key] = value or None
    return values


@dataclass(frozen=True)
class CdrRowError:
    line: int  # 1-based line in the file where the row starts; the header is line 1
    reason: str
    path: Path

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class Cdr:
    path: Path
    by_recording: dict[str, CallMetadata]  # recording basename as written in the CDR, and its stem
    by_call_id: dict[str, CallMetadata]
    errors: list[CdrRowError]

    def lookup(self, path: Path, parsed: CallMetadata | None) -> CallMetadata | None:
        """The CDR entry of a recording: by file name, by stem (another extension), then by call id."""
        found = self.by_recording.get(path.name) or self.by_recording.get(path.stem)
        if found is None and parsed is not None and parsed.call_id:
            found = self.by_call_id.get(parsed.call_id)
        return found


def read_cdr(path: Path, mapping: CdrMapping, tz: tzinfo) -> Cdr:
    """Read a CDR CSV export. Bad rows are reported in ``Cdr.errors`` and skipped; the others are kept.

    When several rows name the same recording (FreePBX writes one row per leg of a ring group or a
    queue, all with the call's recording), the row with the longest duration (the answered leg) is
    kept, the earlier one on a tie; every other row is reported.
    """
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise ImportInputError(f"{path}:1: CDR 表头无法解析：{err}") from err
    if not header or not any(cell.strip() for cell in header):
        raise ImportInputError(f"{path}: CDR 文件为空或缺少表头行")
    names = [cell.strip() for cell in header]
    columns = _column_indexes(path, names, mapping)

    cdr = Cdr(path=path, by_recording={}, by_call_id={}, errors=[])
    kept: dict[str, tuple[int, CallMetadata]] = {}  # row key -> (line, metadata)
    for line, row in csv_rows(path, reader):
        if len(row) != len(names):
            cdr.errors.append(CdrRowError(line, f"该行有 {len(row)} 列，表头有 {len(names)} 列", path))
            continue
        try:
            recording, metadata = _row_metadata(row, columns, mapping, tz)
        except ValueError as err:
            cdr.errors.append(CdrRowError(line, str(err), path))
            continue
        _keep(cdr, kept, line, recording, metadata)
    cdr.errors.sort(key=lambda error: error.line)
    _index(cdr, kept)
    return cdr


def csv_rows(path: Path, reader: Any, what: str = "CDR") -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) of every non-blank row after the header (``reader``: a csv.reader)."""
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader, None)
        except csv.Error as err:
            raise ImportInputError(f"{path}:{previous_end + 1}: {what} 无法解析：{err}") from err
        if row is None:
            return
        line, previous_end = previous_end + 1, reader.line_num
        if any(cell.strip() for cell in row):  # else a blank line
            yield line, row


def _keep(
    cdr: Cdr, kept: dict[str, tuple[int, CallMetadata]], line: int, recording: str | None, metadata: CallMetadata
) -> None:
    """Keep the row, unless another row of the same recording (or call id) is longer: report the other."""
    key = recording or f"\0{metadata.call_id}"
    if key not in kept:
        kept[key] = (line, metadata)
        return
    other_line, other = kept[key]
    what = f"录音文件 {recording}" if recording else f"通话 ID {metadata.call_id}"
    if (metadata.duration_s or 0.0) > (other.duration_s or 0.0):
        reason = f"{what} 与第 {line} 行重复，保留时长更长的第 {line} 行"
        cdr.errors.append(CdrRowError(other_line, reason, cdr.path))
        kept[key] = (line, metadata)
    else:
        cdr.errors.append(CdrRowError(line, f"{what} 与第 {other_line} 行重复，已忽略本行", cdr.path))


def _index(cdr: Cdr, kept: dict[str, tuple[int, CallMetadata]]) -> None:
    """Index the kept rows by recording name (and its stem) and by call id (the longest per id)."""
    for key, (_, metadata) in kept.items():
        if not key.startswith("\0"):
            cdr.by_recording[key] = metadata
            stem = audio_stem(key)
            if stem != key:
                cdr.by_recording.setdefault(stem, metadata)
        if metadata.call_id:
            current = cdr.by_call_id.get(metadata.call_id)
            if current is None or (metadata.duration_s or 0.0) > (current.duration_s or 0.0):
                cdr.by_call_id[metadata.call_id] = metadata


def read_text(path: Path, what: str = "CDR") -> str:
    """A CSV file's text: UTF-8 (with or without BOM) or GBK/GB18030; ImportInputError naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ImportInputError(f"{path}: {what} 文件不存在") from err
    except OSError as err:
        raise ImportInputError(f"{path}: 无法读取 {what} 文件：{err.strerror or err}") from err
    return decode_text(data, str(path), what)


def decode_text(data: bytes, source: str, what: str = "CDR") -> str:
    """Bytes of a CSV file as text: UTF-8 (with or without BOM), else GBK/GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportInputError(f"{source}: {what} 文件编码无法识别（支持 UTF-8 与 GBK/GB18030）")


def _column_indexes(path: Path, names: list[str], mapping: CdrMapping) -> dict[str, int]:
    indexes: dict[str, int] = {}
    for field in _COLUMN_FIELDS:
        column = getattr(mapping, field)
        if column is None:
            continue
        if column not in names:
            shown = "、".join(names[:12]) + ("…" if len(names) > 12 else "")
            raise ImportInputError(
                f"{path}: CDR 缺少列 {column!r}（字段 {field}；第 1 行须为表头，现有列：{shown}；"
                f"可用 --cdr-columns {field}=列名 指定）"
            )
        indexes[field] = names.index(column)
    return indexes


def cell_text(value: str) -> str:
    """A cell without padding, and without Excel's ="..." wrapping that keeps leading zeros."""
    value = value.strip()
    if value.startswith('="') and value.endswith('"') and len(value) >= 3:
        value = value[2:-1].strip()
    return value


def _row_metadata(
    row: list[str], columns: dict[str, int], mapping: CdrMapping, tz: tzinfo
) -> tuple[str | None, CallMetadata]:
    """(recording basename, metadata) of one CDR row; ValueError with a Chinese reason when malformed."""
    cells = {field: cell_text(row[index]) or None for field, index in columns.items()}
    recording = cells.get("recording")
    if recording:
        recording = re.split(r"[/\\]", recording)[-1] or None
    call_id = cells.get("call_id")
    if not recording and not call_id:
        raise ValueError("录音文件名和通话 ID 都为空，无法对应录音")
    started_text = cells.get("started_at")
    started_at = parse_local_datetime(started_text, mapping.datetime_format, tz) if started_text else None
    if started_text and started_at is None:
        raise ValueError(f"通话时间 {started_text!r} 无法解析（列 {mapping.started_at}）")
    duration_text = cells.get("duration")
    duration_s = None
    if duration_text:
        try:
            duration_s = float(duration_text)
        except ValueError:
            duration_s = math.nan
        if not math.isfinite(duration_s) or duration_s < 0:
            raise ValueError(f"时长 {duration_text!r} 不是有效的秒数（列 {mapping.duration}）")
    agent_id = cells.get("agent_id")
    if agent_id:
        channel = _CHANNEL.match(agent_id)
        agent_id = channel.group(1) if channel else agent_id
    caller = cells.get("caller")
    direction = normalize_direction(cells.get("direction"))
    if is_external(agent_id) and is_extension(caller):
        # Master.csv: dst is the called party; on an outbound call that is the customer.
        agent_id, caller = caller, agent_id
        direction = direction or CallDirection.OUTBOUND
    metadata = CallMetadata(
        call_id=call_id,
        agent_id=agent_id,
        started_at=started_at,
        direction=direction,
        caller=caller,
        duration_s=duration_s,
        project=cells.get("project"),
        building=cells.get("building"),
        unit=cells.get("unit"),
    )
    return recording, metadata


def parse_local_datetime(text: str, fmt: str | None, tz: tzinfo) -> datetime | None:
    """Aware datetime from a CDR cell (local time in ``tz`` unless it carries an offset), or None."""
    parsed: datetime | None = None
    if fmt is not None:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            return None
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            for candidate in _CDR_FORMATS:
                try:
                    parsed = datetime.strptime(text, candidate)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
