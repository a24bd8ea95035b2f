"""How the commands that print analyzed calls (``analyze``, ``score``, ``report``) write them: one JSON
object per line, or the Chinese report of each call closed by the per-agent summary table; a call that
could not be analyzed is one ``错误：`` line on stderr (and, in JSON, one object with its error). Also
the exit codes every command shares.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from inspector.errors import InspectorError

EXIT_USER_ERROR = 2
EXIT_SOME_FAILED = 1


def print_analysis(analysis: Any, fmt: str, about: dict[str, Any] | None = None) -> None:
    """One analyzed call; ``about`` (e.g. ``{"call_id": ...}``) opens its JSON object."""
    from inspector.qa.analysis import to_dict
    from inspector.reports.call_report import format_table

    if fmt == "json":
        print(json.dumps({**(about or {}), **to_dict(analysis)}, ensure_ascii=False), flush=True)
    else:
        print(format_table(analysis) + "\n", flush=True)


def print_summary(analyses: list[Any], fmt: str) -> None:
    """The per-agent summary table closes a table report (JSON output stays one object per line)."""
    from inspector.reports.call_report import agent_summary, format_summary

    if fmt == "table" and analyses:
        print(format_summary(agent_summary(analyses)), flush=True)


def report_failure(about: dict[str, Any], err: InspectorError, fmt: str) -> None:
    """A call that could not be analyzed; ``about`` (``{"file": ...}`` or ``{"call_id": ...}``) names it."""
    print(f"错误：{err}", file=sys.stderr)
    if fmt == "json":
        print(json.dumps({**about, "error": {"code": err.code, "message": str(err)}}, ensure_ascii=False), flush=True)
