"""Post-call satisfaction surveys (满意度回访) read from a CSV export (``read_surveys``): IVR CSAT 1–5, NPS
0–10 and a free-text comment per call. UTF-8 (with or without BOM) or GBK/GB18030, a header row; the
default columns are ``call_id,csat,nps,comment``, others are named with ``--columns field=列名,...``
(``SurveyColumns.parse``). A row is matched to its call by ``call_id`` or, without one, by ``caller`` and
``answered_at`` (``inspector.people.satisfaction``). Every row that cannot be used is reported with its line
and reason; the others are kept."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from inspector.intake.cdr import cell_text, csv_rows, parse_column_spec, parse_local_datetime, read_text
from inspector.intake.metadata import ImportInputError

CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
COMMENT_CHARS = 2000
WHAT = "满意度"


@dataclass(frozen=True)
class SurveyColumns:
    """Which column holds which field; None: not read. The defaults are read only when the header has them."""

    call_id: str | None = "call_id"
    csat: str | None = "csat"
    nps: str | None = "nps"
    comment: str | None = "comment"
    caller: str | None = "caller"
    answered_at: str | None = "answered_at"

    @classmethod
    def parse(cls, spec: str) -> tuple[SurveyColumns, frozenset[str]]:
        """``"csat=满意度,nps=推荐值"`` → the columns and the fields named explicitly (those must exist)."""
        values = parse_column_spec(spec, [f.name for f in fields(cls)], "--columns")
        return cls(**values), frozenset(k for k, v in values.items() if v)


@dataclass(frozen=True)
class SurveyRow:
    line: int  # where the row starts in the file (the header is line 1)
    call_id: str | None
    caller: str | None
    answered_at: datetime | None  # naive UTC
    csat: int | None
    nps: int | None
    comment: str | None


@dataclass(frozen=True)
class SurveyError:
    line: int
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason}


@dataclass
class SurveyFile:
    rows: list[SurveyRow]
    errors: list[SurveyError]


def read_surveys(path: Path, tz: tzinfo, columns: SurveyColumns | None = None,
                 required: frozenset[str] = frozenset()) -> SurveyFile:  # fmt: skip
    """Read a survey CSV file (see the module doc). ImportInputError when the file cannot be used at all."""
    return parse_surveys(read_text(path, WHAT), tz, columns, required, source=str(path))


def parse_surveys(text: str, tz: tzinfo, columns: SurveyColumns | None = None,
                  required: frozenset[str] = frozenset(), source: str = "CSV") -> SurveyFile:  # fmt: skip
    """The rows of a survey CSV text. A later row for the same call replaces the earlier one (reported)."""
    columns = columns or SurveyColumns()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise ImportInputError(f"{source}:1: 表头无法解析：{err}") from err
    if not header or not any(cell.strip() for cell in header):
        raise ImportInputError(f"{source}: 文件为空或缺少表头行")
    names = [cell.strip().lstrip("\ufeff") for cell in header]
    index = _indexes(source, names, columns, required)
    found = SurveyFile(rows=[], errors=[])
    by_call: dict[str, int] = {}  # call id -> position in found.rows
    for line, row in csv_rows(Path(source), reader, WHAT):
        if len(row) != len(names):
            found.errors.append(SurveyError(line, f"该行有 {len(row)} 列，表头有 {len(names)} 列"))
            continue
        try:
            survey = _row(line, row, index, tz)
        except ValueError as err:
            found.errors.append(SurveyError(line, str(err)))
            continue
        if survey.call_id is not None and survey.call_id in by_call:
            earlier = found.rows[by_call[survey.call_id]]
            found.errors.append(
                SurveyError(earlier.line, f"通话 {survey.call_id} 在第 {line} 行再次出现，以第 {line} 行为准")
            )
            found.rows[by_call[survey.call_id]] = survey
            continue
        if survey.call_id is not None:
            by_call[survey.call_id] = len(found.rows)
        found.rows.append(survey)
    found.errors.sort(key=lambda e: e.line)
    return found


def _indexes(source: str, names: list[str], columns: SurveyColumns, required: frozenset[str]) -> dict[str, int]:
    shown = "、".join(names[:12]) + ("…" if len(names) > 12 else "")
    index: dict[str, int] = {}
    for field in fields(columns):
        column = getattr(columns, field.name)
        if column is None:
            continue
        if column in names:
            index[field.name] = names.index(column)
        elif field.name in required:
            raise ImportInputError(f"{source}: 缺少列 {column!r}（字段 {field.name}；现有列：{shown}）")
    if "csat" not in index and "nps" not in index:
        raise ImportInputError(f"{source}: 没有满意度列（csat）也没有 NPS 列（nps）（现有列：{shown}；"
                               "可用 --columns csat=列名 指定）")  # fmt: skip
    if "call_id" not in index and not {"caller", "answered_at"} <= index.keys():
        raise ImportInputError(f"{source}: 没有通话 ID 列（call_id），也没有来电号码（caller）和回访时间"
                               f"（answered_at）两列，无法对应通话（现有列：{shown}）")  # fmt: skip
    return index


def _score(text: str | None, name: str, bounds: tuple[int, int]) -> int | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    low, high = bounds
    if not value.is_integer() or not low <= value <= high:
        raise ValueError(f"{name} {text!r} 无效（应为 {low}–{high} 的整数）")
    return int(value)


def _row(line: int, row: list[str], index: dict[str, int], tz: tzinfo) -> SurveyRow:
    cells = {field: cell_text(row[i]) or None for field, i in index.items()}
    csat = _score(cells.get("csat"), "满意度", CSAT_RANGE)
    nps = _score(cells.get("nps"), "NPS", NPS_RANGE)
    if csat is None and nps is None:
        raise ValueError("满意度和 NPS 都为空")
    answered_text = cells.get("answered_at")
    answered_at = None
    if answered_text:
        aware = parse_local_datetime(answered_text, None, tz)
        if aware is None:
            raise ValueError(f"回访时间 {answered_text!r} 无法解析（例如 2026-12-01 09:30:00）")
        answered_at = aware.astimezone(UTC).replace(tzinfo=None)
    call_id, caller = cells.get("call_id"), cells.get("caller")
    if call_id is None and (caller is None or answered_at is None):
        raise ValueError("通话 ID 为空，且没有来电号码和回访时间，无法对应通话")
    comment = cells.get("comment")
    return SurveyRow(line=line, call_id=call_id, caller=caller, answered_at=answered_at, csat=csat, nps=nps,
                     comment=comment[:COMMENT_CHARS] if comment else None)  # fmt: skip
