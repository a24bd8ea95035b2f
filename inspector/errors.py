"""Errors a user can cause. Each carries what it is about (file, field, line) and a reason.

Messages are in Simplified Chinese because operators read them; ``code`` is a stable English
identifier for programs and tests. The CLI and the API turn these into one line / one 4xx each.
"""

from __future__ import annotations

import enum
from pathlib import Path


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` with every run of whitespace (newlines included) folded to one space, cut at ``limit``."""
    folded = " ".join(text.split())
    return folded if limit is None else folded[:limit]


class ErrorKind(enum.StrEnum):
    """What kind of failure an error is: the one thing the API needs to answer with a status."""

    INVALID = "invalid"  # bad input: a file, a field, a rule (HTTP 422 / 400)
    NOT_FOUND = "not_found"  # what the request names does not exist (404)
    CONFLICT = "conflict"  # the request does not fit the current state (409)
    UNAVAILABLE = "unavailable"  # a part of the service is down or missing (503)


class InspectorError(Exception):
    """Base of all errors inspector reports to users instead of a traceback.

    ``code`` is the stable identifier of the error; ``kind`` how the API answers it (one mapping, in
    ``api/errors.py``)."""

    code = "error"
    kind: ErrorKind = ErrorKind.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AudioError(InspectorError):
    """A recording that cannot be used. ``str(err)`` is one line naming the file and the reason."""

    code = "audio_error"

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class AudioNotFound(AudioError):
    code = "not_found"
    kind = ErrorKind.NOT_FOUND


class EmptyAudio(AudioError):
    code = "empty_file"


class NotAudio(AudioError):
    code = "not_audio"


class UnsupportedCodec(AudioError):
    code = "unsupported_codec"


class CorruptAudio(AudioError):
    code = "corrupt"


class TruncatedAudio(AudioError):
    code = "truncated"


class SilentAudio(AudioError):
    code = "silent"


class AudioTooLong(AudioError):
    code = "too_long"


class UnsupportedSampleRate(AudioError):
    code = "unsupported_sample_rate"


class UnsupportedChannels(UnsupportedCodec):
    code = "unsupported_channels"


class AudioTooLarge(AudioError):
    code = "too_large"


class RuleFileError(InspectorError):
    """An invalid rule file. Names the file, the line (when known) and the rule id (when known)."""

    code = "invalid_rule_file"

    def __init__(self, path: str | Path, reason: str, line: int | None = None, rule_id: str | None = None):
        self.path = str(path)
        # Reasons may quote a parser's multi-line message; the error is always one line.
        self.reason = one_line(reason)
        self.line = line
        self.rule_id = rule_id
        where = self.path + (f":{line}" if line else "")
        rule = f" 规则 {rule_id}" if rule_id else ""
        super().__init__(f"{where}:{rule} {self.reason}")


class ModelError(InspectorError):
    """A model that cannot be found or assembled."""

    code = "model_error"
    kind = ErrorKind.UNAVAILABLE


class EvaluationError(InspectorError):
    """A reference file for ``inspector eval`` that cannot be used."""

    code = "evaluation_error"
