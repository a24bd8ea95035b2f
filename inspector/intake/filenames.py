"""PBX recording file-name conventions: the call metadata a recording's file name carries (all times
in a file name are local time of the PBX, given as ``tz``). The conventions:

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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from inspector.intake.metadata import CallMetadata, ImportInputError, audio_stem, is_extension, normalize_direction
from inspector.vocab import CallDirection

# FreePBX recording types whose "to" side is a queue / ring group, not a person.
_GROUP_TYPES = frozenset({"q", "rg"})
_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


def _two_party_roles(
    to: str | None, frm: str | None, kind: str | None, direction: str | None
) -> tuple[str | None, str | None, str | None]:
    """(agent_id, caller, direction) from a file name's "to" and "from" sides (see module docstring)."""
    if kind in _GROUP_TYPES:
        return None, frm, CallDirection.INBOUND
    if direction == CallDirection.OUTBOUND:
        return frm, to, CallDirection.OUTBOUND
    if direction == CallDirection.INBOUND:
        return (to if is_extension(to) else None), frm, CallDirection.INBOUND
    if is_extension(to) and not is_extension(frm):
        return to, frm, CallDirection.INBOUND
    if is_extension(frm) and not is_extension(to):
        return frm, to, CallDirection.OUTBOUND
    if is_extension(to):  # both extensions: an internal call
        return to, frm, None
    return None, frm, None


@dataclass(frozen=True)
class FilenameConvention:
    """A file name layout: a regex with named groups among ``call_id``, ``agent_id``, ``caller``,
    ``callee``, ``direction``, ``date``, ``time``, ``datetime``, ``epoch``, ``project``.

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
        match = self.regex.fullmatch(filename if self.whole_name else audio_stem(filename))
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
            project=groups.get("project"),
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
    "project": r"(?P<project>[^/]+?)",
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

    Placeholders: ``{agent_id}``, ``{caller}`` (the customer), ``{call_id}``, ``{project}``, ``{direction}``,
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
    whole_name = "ext" in seen or audio_stem(pattern) != pattern
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
