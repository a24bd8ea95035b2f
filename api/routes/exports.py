"""Exports for Excel: calls (the list's filters), per-agent scorecard summaries and one call's transcript, as
CSV or XLSX; and one call's recording as a download.

Personal data is masked in every export (the caller's number, and phone/ID numbers, bank cards, plates and
addresses said on the call; the recording with a tone over them). A transcript or recording export with
``reveal=true`` is unmasked for admins and users granted ``pii`` and is audited like any other reveal.

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
from fastapi.responses import FileResponse, Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from api.deps import (
    Anyone,
    DbSession,
    Principal,
    Staff,
    State,
    agent_scope,
    check_team,
    pii_revealed,
    team_scope,
    visible_call,
)
from api.errors import ApiError
from api.fields import RevealQuery, TeamQuery
from api.privacy import audit_reveal, recording_for, stored_transcript, transcript_view
from api.queries import CallFilterParams, call_filter_params, count_calls, list_calls
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.calls import call_summary
from api.schemas.errors import error_responses
from inspector.qa.scoring import ALERT_NAMES_ZH
from inspector.reports import agent_summary
from inspector.speech.transcript import ROLE_NAMES_ZH

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
    summaries = (call_summary(state, c, name, team, False) for c, name, team in list_calls(session, f))
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
    teams: str | frozenset[str] | None = team or team_scope(principal)  # a team lead: its scope's teams
    if team:
        check_team(principal, team)  # naming a team outside the scope is 403
    start, end = date_range(state, date_from, date_to)
    frame = agent_summary.agents_summary(session, start, end, team_id=teams)
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


TRANSCRIPT_COLUMNS_ZH = {"start": "开始（秒）", "end": "结束（秒）", "role": "角色", "speaker": "说话人",
                         "text": "内容", "confidence": "置信度"}  # fmt: skip


def _transcript_export(
    fmt: Format, call_id: str, principal: Principal, session: DbSession, reveal: bool
) -> Response:  # fmt: skip
    revealed = pii_revealed(principal, reveal)
    call = visible_call(session, principal, call_id)
    data, kinds = transcript_view(stored_transcript(session, call), words=False, reveal=revealed)
    if revealed:
        audit_reveal(session, principal, call.id, f"export.{fmt}", kinds)
    rows = [{k: u.get(k) for k in TRANSCRIPT_COLUMNS_ZH} for u in data["utterances"]]
    frame = pd.DataFrame(rows, columns=list(TRANSCRIPT_COLUMNS_ZH))
    frame["role"] = frame["role"].map(lambda r: ROLE_NAMES_ZH.get(r, r) if r else "")
    return table_response(frame.rename(columns=TRANSCRIPT_COLUMNS_ZH), fmt, f"transcript-{call.id}", "转写")


@router.get(
    "/exports/calls/{call_id}/transcript.csv",
    response_class=Response,
    responses={**file_responses("csv"), **error_responses(410)},
    summary="导出一通电话的转写（CSV；个人信息已脱敏）",
)
def export_transcript_csv(
    call_id: str, principal: Anyone, session: DbSession, reveal: RevealQuery = False
) -> Response:  # fmt: skip
    return _transcript_export("csv", call_id, principal, session, reveal)


@router.get(
    "/exports/calls/{call_id}/transcript.xlsx",
    response_class=Response,
    responses={**file_responses("xlsx"), **error_responses(410)},
    summary="导出一通电话的转写（Excel；个人信息已脱敏）",
)
def export_transcript_xlsx(
    call_id: str, principal: Anyone, session: DbSession, reveal: RevealQuery = False
) -> Response:  # fmt: skip
    return _transcript_export("xlsx", call_id, principal, session, reveal)


@router.get(
    "/exports/calls/{call_id}/audio",
    response_class=Response,
    responses={200: {"description": "录音文件（附件下载；个人信息处为提示音）",
                     "content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}}},
               **error_responses(409, 410)},
    summary="下载一通电话的录音（个人信息处已替换为提示音）",
)  # fmt: skip
def export_audio(
    call_id: str, principal: Anyone, state: State, session: DbSession, reveal: RevealQuery = False
) -> Response:  # fmt: skip
    revealed = pii_revealed(principal, reveal)
    call = visible_call(session, principal, call_id)
    path, _ = recording_for(state, session, principal, call, revealed)
    suffix = path.suffix or ".wav"
    stem = call.audio_name.rsplit(".", 1)[0] if call.audio_name else call.id
    name = f"{stem}{'' if revealed else '-masked'}{suffix}"
    return FileResponse(path, filename=name, content_disposition_type="attachment")
