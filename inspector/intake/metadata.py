"""Call metadata of a recording as a PBX gives it (file name and/or CDR): call id, agent, start time,
direction, the customer's number, duration; and ``ImportInputError``, the error of an import input
that cannot be used as a whole (the folder, a ``--pattern``, a CDR file). Also the small helpers the
file-name conventions and the CDR reader share: what an extension looks like, direction words, and
a recording's name without its audio extension.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from inspector.errors import ErrorKind, InspectorError
from inspector.speech.audio import AUDIO_SUFFIXES
from inspector.vocab import CallDirection


class ImportInputError(InspectorError):
    """An import input that cannot be used as a whole: the folder, a ``--pattern``, a CDR file."""

    code = "invalid_import_input"
    kind = ErrorKind.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


_DIRECTIONS = {
    "in": CallDirection.INBOUND,
    "inbound": CallDirection.INBOUND,
    "q": CallDirection.INBOUND,
    "rg": CallDirection.INBOUND,
    "呼入": CallDirection.INBOUND,
    "来电": CallDirection.INBOUND,
    "out": CallDirection.OUTBOUND,
    "outbound": CallDirection.OUTBOUND,
    "呼出": CallDirection.OUTBOUND,
    "去电": CallDirection.OUTBOUND,
}
# An internal extension as PBXs write them; external numbers have 7+ digits (local numbers 7-8).
_EXTENSION = re.compile(r"\d{2,6}")
_EXTERNAL = re.compile(r"\+?\d{7,}")
# Extensions stripped before a file name is matched: the audio suffixes plus Asterisk's own.
_EXT_NAMES = frozenset({s.lstrip(".").lower() for s in AUDIO_SUFFIXES} | {"gsm", "wav49"})


def normalize_direction(value: str | None) -> CallDirection | None:
    """"in"/"inbound"/"呼入"/"q" -> "inbound", "out"/"outbound"/"呼出" -> "outbound", else None."""
    if not value:
        return None
    return _DIRECTIONS.get(value.strip().lower())


@dataclass(frozen=True)
class CallMetadata:
    call_id: str | None = None  # PBX unique id (Asterisk uniqueid / FreeSWITCH uuid)
    agent_id: str | None = None  # agent extension / 工号
    started_at: datetime | None = None  # timezone-aware
    direction: str | None = None  # CallDirection ("inbound" | "outbound") or None
    caller: str | None = None  # the customer's number (the external party)
    duration_s: float | None = None  # from the CDR (billsec / duration)
    project: str | None = None  # 项目/小区 as the CDR or file name gives it (normalized at registration)
    building: str | None = None
    unit: str | None = None

    def merged(self, other: CallMetadata) -> CallMetadata:
        """Fields of ``self`` win; those that are None are filled from ``other``."""
        values = {}
        for field in dataclasses.fields(self):
            mine = getattr(self, field.name)
            values[field.name] = mine if mine is not None else getattr(other, field.name)
        return CallMetadata(**values)


def is_extension(value: str | None) -> bool:
    """An internal extension (2-6 digits)."""
    return value is not None and _EXTENSION.fullmatch(value) is not None


def is_external(value: str | None) -> bool:
    """An external number (7 or more digits, optionally with a leading ``+``)."""
    return value is not None and _EXTERNAL.fullmatch(value) is not None


def audio_stem(name: str) -> str:
    """``name`` without its extension when that is an audio extension (uniqueids contain dots)."""
    base, dot, suffix = name.rpartition(".")
    if dot and base and suffix.lower() in _EXT_NAMES:
        return base
    return name
