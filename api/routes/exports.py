"""Exports for Excel: calls (the list's filters) and per-agent scorecard summaries, as CSV or XLSX.

CSV is UTF-8 with a byte order mark so Excel opens the Chinese headers correctly; XLSX has one sheet.

Every text cell (and header) goes through ``safe_cell`` in both formats, whatever is stored:

- characters a spreadsheet cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE``: control characters but
  tab, line feed and carriage return) become U+FFFD, so one bad record can never break an export;
- text starting with ``= + - @``, tab or carriage return gets a leading ``'`` (OWASP's advice against
  formula injection), so Excel shows it as text instead of running it. Numbers stay numbers.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from api.deps import DbSession, Principal, Staff, State, agent_scope, check_team, sees_full_caller, team_scope
from api.errors import ApiError
from api.fields import TeamQuery
from api.queries import CallFilterParams, call_filter_params, count_calls, list_calls
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.calls import call_summary
from inspector.qa.scoring import ALERT_NAMES_ZH
from inspector.reports import agent_summary

router = APIRouter(tags=["导出"])

Format = Literal["csv", "xlsx"]
MAX_EXPORT_ROWS = 100_000
CALL_COLUMNS_ZH = {
    "call_id": "通话编号",
    "agent_id": "坐席工号",
    "agent_name": "坐席姓名",
    "team_id": "班组",
    "started_at": "开始时间",
    "direction": "呼叫方向",
    "caller": "主叫号码",
    "duration_s": "时长（秒）",
    "status": "处理状态",
    "score": "总分",
    "alert": "预警",
    "fatal": "一票否决",
}
STATUS_ZH = {"queued": "排队中", "processing": "分析中", "done": "已完成", "failed": "失败"}
DIRECTION_ZH = {"inbound": "呼入", "outbound": "呼出"}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value that cannot break the file nor run as a formula (see the module docstring)."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def table_response(frame: pd.DataFrame, fmt: Format, stem: str, sheet: str) -> Response:
    frame = frame.map(safe_cell)
    frame.columns = [safe_cell(str(c)) for c in frame.columns]
    if fmt == "csv":
        # CRLF rows (RFC 4180): a cell holding a lone CR or LF is then quoted instead of breaking the row.
        content = frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    else:
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name=sheet)
        content = buffer.getvalue()
    filename = f"{stem}-{datetime.now():%Y%m%d-%H%M%S}.{fmt}"
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def file_responses(fmt: Format) -> dict[int | str, dict[str, Any]]:
    media = MEDIA_TYPES[fmt].split(";")[0]
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "文件（附件下载）", "content": {media: binary}}}


def _calls_export(
    fmt: Format, principal: Staff, state: State, session: DbSession, params: CallFilterParams
) -> Response:
    f = params.to_filter(state.tz, agent_scope(principal), team_scope(principal))
    if count_calls(session, f, at_most=MAX_EXPORT_ROWS) > MAX_EXPORT_ROWS:
        raise ApiError(
            422, "export_too_large", f"导出超过 {MAX_EXPORT_ROWS} 条，请缩小筛选范围", limit_rows=MAX_EXPORT_ROWS
        )
    full = sees_full_caller(principal)
    summaries = (call_summary(state, c, name, team, full) for c, name, team in list_calls(session, f))
    rows = [summary.model_dump(mode="json") for summary in summaries]
    frame = pd.DataFrame(rows, columns=list(CALL_COLUMNS_ZH))
    frame["status"] = frame["status"].map(lambda s: STATUS_ZH.get(s, s))
    frame["direction"] = frame["direction"].map(lambda d: DIRECTION_ZH.get(d, d) if d else "")
    frame["alert"] = frame["alert"].map(lambda a: ALERT_NAMES_ZH.get(a, a) if a else "")
    frame["fatal"] = frame["fatal"].map(lambda v: "" if v is None else ("是" if v else "否"))
    return table_response(frame.rename(columns=CALL_COLUMNS_ZH), fmt, "calls", "通话")


def _scorecards_export(
    fmt: Format, principal: Principal, state: State, session: DbSession, date_from: str | None, date_to: str | None,
    team: str | None,
) -> Response:  # fmt: skip
    team = team or team_scope(principal)  # a team lead: its own team (naming another one is 403)
    if team is not None:
        check_team(principal, team)
    start, end = date_range(state, date_from, date_to)
    frame = agent_summary.agents_summary(session, start, end, team_id=team or None)
    return table_response(frame, fmt, "scorecards", "坐席汇总")


CallParams = Annotated[CallFilterParams, Depends(call_filter_params)]


@router.get(
    "/exports/calls.csv",
    response_class=Response,
    responses=file_responses("csv"),
    summary="导出通话（CSV，筛选条件同通话列表）",
)
def export_calls_csv(principal: Staff, state: State, session: DbSession, params: CallParams) -> Response:
    return _calls_export("csv", principal, state, session, params)


@router.get(
    "/exports/calls.xlsx",
    response_class=Response,
    responses=file_responses("xlsx"),
    summary="导出通话（Excel，筛选条件同通话列表）",
)
def export_calls_xlsx(principal: Staff, state: State, session: DbSession, params: CallParams) -> Response:
    return _calls_export("xlsx", principal, state, session, params)


@router.get(
    "/exports/scorecards.csv",
    response_class=Response,
    responses=file_responses("csv"),
    summary="导出坐席汇总（CSV）",
)
def export_scorecards_csv(
    principal: Staff, state: State, session: DbSession, date_from: FromQuery = None, date_to: ToQuery = None,
    team: TeamQuery = None,
) -> Response:  # fmt: skip
    return _scorecards_export("csv", principal, state, session, date_from, date_to, team)


@router.get(
    "/exports/scorecards.xlsx",
    response_class=Response,
    responses=file_responses("xlsx"),
    summary="导出坐席汇总（Excel）",
)
def export_scorecards_xlsx(
    principal: Staff, state: State, session: DbSession, date_from: FromQuery = None, date_to: ToQuery = None,
    team: TeamQuery = None,
) -> Response:  # fmt: skip
    return _scorecards_export("xlsx", principal, state, session, date_from, date_to, team)
