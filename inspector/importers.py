"""Batch import from a PBX, the database-free half: walk a folder of recordings, work out each one's
call metadata from its file name and/or the PBX's CDR export, and report every file or CDR row that
cannot be used together with the reason. Nothing is dropped silently, except directories and hidden
files (names starting with ".", and anything inside a hidden folder, e.g. ``.DS_Store``, ``.Trash``).

Nothing here decodes or hashes audio: ``scan`` costs one ``stat`` and one ``open`` per file.

File name conventions (all times in a file name are local time of the PBX, given as ``tz``):

* ``ASTERISK`` -- Asterisk / FreePBX MixMonitor, ``{type}-{to}-{from}-{YYYYMMDD}-{HHMMSS}-{uniqueid}.{ext}``
  (FreePBX ``sub-record-check``: ``CALLFILENAME=${ARG1}-${ARG2}-${FROMEXTEN}-${TIMESTR}-${UNIQUEID}``,
  stored under ``monitor/YYYY/MM/DD/``). ``uniqueid`` becomes ``call_id``. By ``type``:

  - ``in-8001-13812345678-20240315-093012-1710466212.42.wav``: inbound; agent = "to" (8001),
    customer = "from". When "to" is not an extension (2-6 digits) it is the dialled DID
    (stock FreePBX inbound routes write ``in-{DID}-{caller}``), so the agent is left unknown.
  - ``out-13812345678-8001-20240315-101500-1710468900.57.wav``: outbound; agent = "from" (8001),
    customer = "to".
  - ``q-600-13812345678-20240315-093012-1710466212.42.wav`` (queue) and ``rg-...`` (ring group):
    inbound; "to" is the queue / group number, so the agent is unknown (the CDR may supply it).
  - ``exten-8001-13812345678-...``, ``force-...``, ``external-...`` and other types: the side that
    looks like an extension (2-6 digits) is the agent, the other the customer; extension to
    external number is outbound, external number to extension inbound. ``exten-8001-8002-...``
    (two extensions, an internal call): agent = "to", ``caller`` = "from", direction unknown.

* ``FREESWITCH`` -- two common ``record_session`` layouts:

  - ``${strftime(%Y-%m-%d-%H-%M-%S)}_${destination_number}_${caller_id_number}.wav``, e.g.
    ``2024-03-15-09-30-12_8001_13812345678.wav``: agent = destination (8001), customer = caller id.
    When instead the caller id is the extension and the destination an external number
    (``..._13812345678_8001.wav``), the call is outbound and the roles swap.
  - ``${uuid}.wav``, e.g. ``archive/2024/03/15/6f1c2f0e-3b4a-4e55-9a7c-1d2e3f405162.wav``
    (FreeSWITCH's default ``recordings/archive/Y/M/D/`` tree, which ``scan`` walks): only ``call_id``;
    everything else has to come from the CDR.

* custom (``--pattern``, see ``convention_from_pattern``): a template such as
  ``{agent_id}_{caller}_{datetime}`` matching ``8001_13812345678_20240315093012.wav``. It is tried
  first, then ``ASTERISK``, then ``FREESWITCH``.

Phone numbers are kept exactly as written (leading zeros, ``+86``). A file name with an impossible
date (``20241345``) does not match its convention.

CDR (``read_cdr``): a CSV with a header row, UTF-8 (with or without BOM) or GBK/GB18030. Column
names are configurable (``CdrMapping``, CLI ``--cdr-columns field=column,...``); the defaults fit
Asterisk's ``Master.csv`` written with a header. For a FreeSWITCH ``cdr_csv`` export use e.g.
``call_id=uuid,agent_id=destination_number,caller=caller_id_number,started_at=start_stamp,recording=``.
A CDR entry wins over what the file name says; the file name fills the gaps.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from inspector.audio import AUDIO_SUFFIXES
from inspector.errors import InspectorError


class ImportInputError(InspectorError):
    """An import input that cannot be used as a whole: the folder, a ``--pattern``, a CDR file."""

    code = "invalid_import_input"

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


# --------------------------------------------------------------------------- metadata

INBOUND = "inbound"
OUTBOUND = "outbound"
_DIRECTIONS = {
    "in": INBOUND,
    "inbound": INBOUND,
    "q": INBOUND,
    "rg": INBOUND,
    "呼入": INBOUND,
    "来电": INBOUND,
    "out": OUTBOUND,
    "outbound": OUTBOUND,
    "呼出": OUTBOUND,
    "去电": OUTBOUND,
}
# FreePBX recording types whose "to" side is a queue / ring group, not a person.
_GROUP_TYPES = frozenset({"q", "rg"})
# An internal extension as PBXs write them; external numbers have 7+ digits (local numbers 7-8).
_EXTENSION = re.compile(r"\d{2,6}")
_EXTERNAL = re.compile(r"\+?\d{7,}")
# Asterisk channel names in a CDR column, e.g. "PJSIP/8001-0000002a", "Local/8001@from-queue-00000f;1".
_CHANNEL = re.compile(r"[A-Za-z0-9]+/([^/@;-]+)[-@;]")


def normalize_direction(value: str | None) -> str | None:
    """"in"/"inbound"/"呼入"/"q" -> "inbound", "out"/"outbound"/"呼出" -> "outbound", else None."""
    if not value:
        return None
    return _DIRECTIONS.get(value.strip().lower())


@dataclass(frozen=True)
class CallMetadata:
    call_id: str | None = None  # PBX unique id (Asterisk uniqueid / FreeSWITCH uuid)
    agent_id: str | None = None  # agent extension / 工号
    started_at: datetime | None = None  # timezone-aware
    direction: str | None = None  # "inbound" | "outbound" | None
    caller: str | None = None  # the customer's number (the external party)
    duration_s: float | None = None  # from the CDR (billsec / duration)

    def merged(self, other: CallMetadata) -> CallMetadata:
        """Fields of ``self`` win; those that are None are filled from ``other``."""
        values = {}
        for field in dataclasses.fields(self):
            mine = getattr(self, field.name)
            values[field.name] = mine if mine is not None else getattr(other, field.name)
        return CallMetadata(**values)


def _is_extension(value: str | None) -> bool:
    return value is not None and _EXTENSION.fullmatch(value) is not None


def _is_external(value: str | None) -> bool:
    return value is not None and _EXTERNAL.fullmatch(value) is not None


def _two_party_roles(
    to: str | None, frm: str | None, kind: str | None, direction: str | None
) -> tuple[str | None, str | None, str | None]:
    """(agent_id, caller, direction) from a file name's "to" and "from" sides (see module docstring)."""
    if kind in _GROUP_TYPES:
        return None, frm, INBOUND
    if direction == OUTBOUND:
        return frm, to, OUTBOUND
    if direction == INBOUND:
        return (to if _is_extension(to) else None), frm, INBOUND
    if _is_extension(to) and not _is_extension(frm):
        return to, frm, INBOUND
    if _is_extension(frm) and not _is_extension(to):
        return frm, to, OUTBOUND
    if _is_extension(to):  # both extensions: an internal call
        return to, frm, None
    return None, frm, None


# --------------------------------------------------------------------------- file names

# Extensions stripped before a file name is matched: the audio suffixes plus Asterisk's own.
_EXT_NAMES = frozenset({s.lstrip(".").lower() for s in AUDIO_SUFFIXES} | {"gsm", "wav49"})
_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


@dataclass(frozen=True)
class FilenameConvention:
    """A file name layout: a regex with named groups among ``call_id``, ``agent_id``, ``caller``,
    ``callee``, ``direction``, ``date``, ``time``, ``datetime``, ``epoch``.

    With an ``agent_id`` group, ``caller`` is the customer. Without one, ``callee`` ("to") and
    ``caller`` ("from") are the two parties of the call and the roles follow from the direction.

    The regex must match the whole name without its audio extension (``.wav``, ``.MP3``, ...), or
    with ``whole_name`` the whole name extension included.
    """

    name: str  # "asterisk", "freeswitch" or "custom"
    regex: re.Pattern[str]
    whole_name: bool = False
    datetime_format: str = "%Y%m%d%H%M%S"
    date_format: str = "%Y%m%d"
    time_format: str = "%H%M%S"

    def parse(self, filename: str, tz: tzinfo) -> CallMetadata | None:
        """Metadata from a file name (not a path), or None when it does not match or its date is invalid."""
        match = self.regex.fullmatch(filename if self.whole_name else _audio_stem(filename))
        if match is None:
            return None
        groups = {key: value for key, value in match.groupdict().items() if value}
        try:
            started_at = self._started_at(groups, tz)
        except (ValueError, OverflowError, OSError):
            return None
        kind = groups["direction"].lower() if "direction" in groups else None
        direction = normalize_direction(kind)
        if "agent_id" in groups:
            agent_id, caller = groups["agent_id"], groups.get("caller")
        else:
            agent_id, caller, direction = _two_party_roles(groups.get("callee"), groups.get("caller"), kind, direction)
        metadata = CallMetadata(
            call_id=groups.get("call_id"),
            agent_id=agent_id,
            started_at=started_at,
            direction=direction,
            caller=caller,
        )
        return None if metadata == CallMetadata() else metadata

    def _started_at(self, groups: dict[str, str], tz: tzinfo) -> datetime | None:
        """Start time; a date without a time is validated but gives no start time."""
        if "datetime" in groups:
            return datetime.strptime(groups["datetime"], self.datetime_format).replace(tzinfo=tz)
        if "epoch" in groups:
            return datetime.fromtimestamp(int(groups["epoch"]), tz)
        if "date" in groups and "time" in groups:
            text = groups["date"] + " " + groups["time"]
            return datetime.strptime(text, self.date_format + " " + self.time_format).replace(tzinfo=tz)
        if "date" in groups:
            datetime.strptime(groups["date"], self.date_format)
        if "time" in groups:
            datetime.strptime(groups["time"], self.time_format)
        return None


ASTERISK = FilenameConvention(
    name="asterisk",
    regex=re.compile(
        r"(?P<direction>[A-Za-z]+)-(?P<callee>[^-]*)-(?P<caller>[^-]*)-(?P<date>\d{8})-(?P<time>\d{6})"
        r"-(?P<call_id>[\w.-]+)"
    ),
)

FREESWITCH = FilenameConvention(
    name="freeswitch",
    regex=re.compile(
        r"(?P<datetime>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_(?P<callee>[^_]+)_(?P<caller>[^_]+)"
        r"|(?P<call_id>" + _UUID + r")"
    ),
    datetime_format="%Y-%m-%d-%H-%M-%S",
)

# Placeholders of a custom --pattern and what they match.
_PLACEHOLDERS = {
    "agent_id": r"(?P<agent_id>[^/]+?)",
    "caller": r"(?P<caller>[^/]+?)",
    "call_id": r"(?P<call_id>[^/]+?)",
    "direction": r"(?P<direction>[A-Za-z]+|呼入|呼出|来电|去电)",
    "date": r"(?P<date>\d{8})",
    "time": r"(?P<time>\d{6})",
    "datetime": r"(?P<datetime>\d{14})",
    "epoch": r"(?P<epoch>\d{10})",
    "ext": r"[A-Za-z0-9]+",
    "*": r".*?",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def convention_from_pattern(pattern: str) -> FilenameConvention:
    """A convention from a ``--pattern`` template matched against the file name.

    Placeholders: ``{agent_id}``, ``{caller}`` (the customer), ``{call_id}``, ``{direction}``,
    ``{date}`` (YYYYMMDD), ``{time}`` (HHMMSS), ``{datetime}`` (YYYYMMDDHHMMSS), ``{epoch}`` (unix
    seconds), ``{ext}`` and ``{*}`` (anything). Other text is literal. A template that names the
    extension (``.wav``, ``.{ext}``) is matched against the whole file name, any other against the
    name without its audio extension, so ``{agent_id}_{caller}`` matches ``8001_138....wav``.
    """
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(_literal(pattern, pattern[position : match.start()]))
        name = match.group(1).strip()
        if name not in _PLACEHOLDERS:
            known = "、".join("{" + key + "}" for key in _PLACEHOLDERS)
            raise ImportInputError(f"--pattern {pattern!r}: 未知占位符 {{{name}}}（可用：{known}）")
        if name in seen and name not in ("*", "ext"):
            raise ImportInputError(f"--pattern {pattern!r}: 占位符 {{{name}}} 出现了多次")
        seen.add(name)
        parts.append(_PLACEHOLDERS[name])
        position = match.end()
    parts.append(_literal(pattern, pattern[position:]))
    if not seen - {"*", "ext"}:
        raise ImportInputError(f"--pattern {pattern!r}: 模式中没有可提取信息的占位符（如 {{agent_id}}）")
    whole_name = "ext" in seen or _audio_stem(pattern) != pattern
    return FilenameConvention(name="custom", regex=re.compile("".join(parts)), whole_name=whole_name)


def _literal(pattern: str, text: str) -> str:
    if "{" in text or "}" in text:
        raise ImportInputError(f"--pattern {pattern!r}: 花括号不成对（占位符写作 {{agent_id}}）")
    return re.escape(text)


def conventions_for(pattern: str | None) -> tuple[FilenameConvention, ...]:
    """The conventions tried for ``--pattern`` (None: the built-in ones): custom, ASTERISK, FREESWITCH."""
    builtin = (ASTERISK, FREESWITCH)
    return builtin if pattern is None else (convention_from_pattern(pattern), *builtin)


def parse_filename(filename: str, conventions: Sequence[FilenameConvention], tz: tzinfo) -> CallMetadata | None:
    """Metadata from the first convention that matches ``filename``, or None."""
    for convention in conventions:
        metadata = convention.parse(filename, tz)
        if metadata is not None:
            return metadata
    return None


# --------------------------------------------------------------------------- CDR

# Fields of CdrMapping that name a column.
_COLUMN_FIELDS = ("recording", "call_id", "agent_id", "caller", "started_at", "duration", "direction")


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
    datetime_format: str | None = None  # None: ISO 8601, "YYYY-MM-DD HH:MM:SS" or "YYYY/MM/DD HH:MM:SS"

    @classmethod
    def parse(cls, spec: str) -> CdrMapping:
        """``"agent_id=工号,caller=客户号码"`` (``field=column``; an empty column turns the field off)."""
        values: dict[str, str | None] = {}
        fields = (*_COLUMN_FIELDS, "datetime_format")
        for item in spec.split(","):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or key not in fields:
                hint = f"（写反了？应为 {value}={key}）" if value in fields else ""
                raise ImportInputError(
                    f"--cdr-columns: 未知字段 {key!r}{hint}，格式为 字段=列名，字段可为 {'、'.join(fields)}"
                )
            if key in values:
                raise ImportInputError(f"--cdr-columns: 字段 {key} 指定了多次")
            values[key] = value or None
        mapping = cls(**values)
        if mapping.recording is None and mapping.call_id is None:
            raise ImportInputError("--cdr-columns: recording 和 call_id 至少要指定一个，否则无法对应录音")
        return mapping


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
    text = _read_text(path)
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
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader, None)
        except csv.Error as err:
            raise ImportInputError(f"{path}:{previous_end + 1}: CDR 无法解析：{err}") from err
        if row is None:
            break
        line, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(names):
            cdr.errors.append(CdrRowError(line, f"该行有 {len(row)} 列，表头有 {len(names)} 列", path))
            continue
        try:
            recording, metadata = _row_metadata(row, columns, mapping, tz)
        except ValueError as err:
            cdr.errors.append(CdrRowError(line, str(err), path))
            continue
        key = recording or f"\0{metadata.call_id}"
        if key in kept:
            other_line, other = kept[key]
            what = f"录音文件 {recording}" if recording else f"通话 ID {metadata.call_id}"
            if (metadata.duration_s or 0.0) > (other.duration_s or 0.0):
                reason = f"{what} 与第 {line} 行重复，保留时长更长的第 {line} 行"
                cdr.errors.append(CdrRowError(other_line, reason, path))
                kept[key] = (line, metadata)
            else:
                cdr.errors.append(CdrRowError(line, f"{what} 与第 {other_line} 行重复，已忽略本行", path))
            continue
        kept[key] = (line, metadata)

    cdr.errors.sort(key=lambda error: error.line)
    for key, (_, metadata) in kept.items():
        if not key.startswith("\0"):
            cdr.by_recording[key] = metadata
            stem = _audio_stem(key)
            if stem != key:
                cdr.by_recording.setdefault(stem, metadata)
        if metadata.call_id:
            current = cdr.by_call_id.get(metadata.call_id)
            if current is None or (metadata.duration_s or 0.0) > (current.duration_s or 0.0):
                cdr.by_call_id[metadata.call_id] = metadata
    return cdr


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ImportInputError(f"{path}: CDR 文件不存在") from err
    except OSError as err:
        raise ImportInputError(f"{path}: 无法读取 CDR 文件：{err.strerror or err}") from err
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportInputError(f"{path}: CDR 文件编码无法识别（支持 UTF-8 与 GBK/GB18030）")


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


def _cell(value: str) -> str:
    """A cell without padding, and without Excel's ="..." wrapping that keeps leading zeros."""
    value = value.strip()
    if value.startswith('="') and value.endswith('"') and len(value) >= 3:
        value = value[2:-1].strip()
    return value


def _row_metadata(
    row: list[str], columns: dict[str, int], mapping: CdrMapping, tz: tzinfo
) -> tuple[str | None, CallMetadata]:
    """(recording basename, metadata) of one CDR row; ValueError with a Chinese reason when malformed."""
    cells = {field: _cell(row[index]) or None for field, index in columns.items()}
    recording = cells.get("recording")
    if recording:
        recording = re.split(r"[/\\]", recording)[-1] or None
    call_id = cells.get("call_id")
    if not recording and not call_id:
        raise ValueError("录音文件名和通话 ID 都为空，无法对应录音")
    started_text = cells.get("started_at")
    started_at = _parse_cdr_datetime(started_text, mapping.datetime_format, tz) if started_text else None
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
    if _is_external(agent_id) and _is_extension(caller):
        # Master.csv: dst is the called party; on an outbound call that is the customer.
        agent_id, caller = caller, agent_id
        direction = direction or OUTBOUND
    metadata = CallMetadata(
        call_id=call_id,
        agent_id=agent_id,
        started_at=started_at,
        direction=direction,
        caller=caller,
        duration_s=duration_s,
    )
    return recording, metadata


_CDR_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def _parse_cdr_datetime(text: str, fmt: str | None, tz: tzinfo) -> datetime | None:
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


def _audio_stem(name: str) -> str:
    """``name`` without its extension when that is an audio extension (uniqueids contain dots)."""
    base, dot, suffix = name.rpartition(".")
    if dot and base and suffix.lower() in _EXT_NAMES:
        return base
    return name


# --------------------------------------------------------------------------- scan


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
