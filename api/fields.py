"""Rules every request field follows, shared by the routes (each refusal is a 422 naming the field):

- text: no control characters (``SingleLine``; free text such as notes may hold line breaks and tabs,
  ``MultiLine``). Control characters break spreadsheets, logs and the web UI, and are never meant;
- call ids: ``CALL_ID_PATTERN`` (letters, digits, ``. _ : -``, 1-128, not starting with a dot), so an
  id is always reachable as one URL path segment;
- integers: ids ``1..MAX_ID`` (the database's 32-bit integer), pages ``1..MAX_PAGE``, hit indexes
  ``0..MAX_HIT_INDEX`` — a larger number would overflow the database driver;
- dates and times: between ``MIN_DATE`` and ``MAX_DATE`` (local dates; a datetime with an offset is
  converted to UTC first), so date arithmetic can never overflow.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator

MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000
MAX_HIT_INDEX = 100_000
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2099, 12, 31)
CALL_ID_PATTERN = r"^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _refuse(pattern: re.Pattern[str], value: Any) -> Any:
    if isinstance(value, str):
        found = pattern.search(value)
        if found is not None:
            raise ValueError(f"不能包含控制字符（U+{ord(found.group()):04X}）")
    return value


def refuse_control(value: Any) -> Any:
    return _refuse(_CONTROL, value)


def refuse_control_but_lines(value: Any) -> Any:
    return _refuse(_CONTROL_BUT_LINES, value)


SingleLine = AfterValidator(refuse_control)
MultiLine = AfterValidator(refuse_control_but_lines)
_CALL_ID = re.compile(CALL_ID_PATTERN)


def check_call_id(value: str) -> str:
    refuse_control(value)
    if not _CALL_ID.match(value):
        raise ValueError("只能包含字母、数字和 . _ : -，不以点开头，最长 128 个字符")
    return value


CallIdText = AfterValidator(check_call_id)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="编号")]
HitIndexPath = Annotated[int, Path(ge=0, le=MAX_HIT_INDEX, description="命中序号（从 0 开始）")]
PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="页码，从 1 开始")]
PageSizeQuery = Annotated[int | None, Query(ge=1, le=1000, description="每页条数")]
AgentQuery = Annotated[str | None, Query(max_length=64, description="坐席工号"), SingleLine]
TeamQuery = Annotated[str | None, Query(max_length=64, description="班组"), SingleLine]
ProjectQuery = Annotated[str | None, Query(max_length=64, description="项目/小区编号"), SingleLine]
RevealQuery = Annotated[bool, Query(description="显示未脱敏的个人信息（需管理员或 pii 权限；每次查看记入操作记录）")]


def non_utf8(value: str) -> bool:
    """Whether a form value was not UTF-8: Starlette decodes such a value as Latin-1, which is the only
    way a value made of ASCII and U+0080..U+00FF alone that is not valid UTF-8 as Latin-1 bytes arises.
    (A genuine value of only Latin-1 letters, such as ``é``, is refused too: the fields we take are ids,
    phone numbers, team names and times.)"""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return False  # holds characters beyond Latin-1: decoded as UTF-8
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def date_out_of_range(value: date) -> str | None:
    """The reason a local date is refused, or None."""
    if not MIN_DATE <= value <= MAX_DATE:
        return f"日期必须在 {MIN_DATE.isoformat()} 与 {MAX_DATE.isoformat()} 之间"
    return None


def datetime_out_of_range(value: datetime) -> str | None:
    """The reason an aware datetime is refused (out of range, or not convertible to UTC), or None."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return f"时间必须在 {MIN_DATE.isoformat()} 与 {MAX_DATE.isoformat()} 之间"
    return date_out_of_range(utc.date()) or date_out_of_range(value.date())
