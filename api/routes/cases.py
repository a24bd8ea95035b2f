"""Complaint cases (投诉工单): the list, one case, opening one, moving it on, the statistics.

Who (built from ``api.deps``' names): reading is for staff (a team lead sees its team's agents' cases,
``agent_filter``); opening and moving a case on for admin, reviewer and team lead (``HANDLERS``; a team lead only
its team's). Agents: 403. Every change is audit-logged by ``inspector.people.cases``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field

from api.deps import DbSession, Principal, Staff, State, agent_filter, may_see_agent, require_roles, visible_call
from api.errors import ApiError, invalid_param
from api.fields import AgentQuery, CallIdText, IdPath, MultiLine, PageQuery, PageSizeQuery, ProjectQuery, SingleLine
from api.queries import agent_names
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.cases import (
    CaseDetail,
    CasePage,
    CaseStatsList,
    case_out,
    event_out,
    notice_out,
    stats_out,
)
from api.schemas.errors import error_responses
from api.state import AppState
from inspector.people import alerts, cases
from inspector.people.case_stats import CaseGroup, case_stats
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import Case
from inspector.vocab import CaseStatus, RevisitOutcome

router = APIRouter(tags=["投诉工单"], responses=error_responses(409))

HANDLERS = ("admin", "reviewer", "team_lead")
Handler = Annotated[Principal, Depends(require_roles(*HANDLERS))]
Level = Literal["red", "yellow", "blue"]
StatusFilter = Literal["open", "accepted", "verifying", "handling", "feedback", "revisit", "closed"]
MAX_DAYS = 366


class CaseIn(BaseModel):
    call_id: Annotated[str, CallIdText] = Field(description="立案的通话")
    alert_id: int | None = Field(None, ge=1, description="来自哪条预警（可选；一条预警只能立一个工单）")
    level: Level | None = Field(None, description="级别；缺省为预警的级别，无预警时为 yellow")
    title: Annotated[str, SingleLine] | None = Field(None, max_length=200)
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="立案说明")


class AdvanceIn(BaseModel):
    status: CaseStatus | None = Field(None, description="要转到的状态（可选，用于核对当前环节）")
    outcome: RevisitOutcome | None = Field(None, description="回访结果（回访必填）：satisfied 满意/unsatisfied 不满意")
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="处理说明")


def _visible_case(session: DbSession, principal: Principal, case_id: int) -> Case:
    case = cases.get_case(session, case_id)
    if not may_see_agent(principal, case.agent_id):
        raise ApiError(404, "case_not_found", f"工单 {case_id} 不存在")
    return case


def _detail(state: AppState, session: DbSession, case: Case, now: datetime) -> CaseDetail:
    name = agent_names(session, [case.agent_id]).get(case.agent_id)
    base = case_out(state, state.settings.cases, case, name, now)
    history = [event_out(state, e) for e in audit.history(session, "case", case.id)]
    notices = [notice_out(state, n) for n in cases.case_notices(session, case.id)]
    return CaseDetail(**base.model_dump(), call_ids=cases.case_call_ids(session, case.id), history=history,
                      notices=notices)  # fmt: skip


@router.get("/cases", response_model=CasePage, summary="投诉工单列表（筛选、分页，最新在前）")
def list_cases(
    principal: Staff,
    state: State,
    session: DbSession,
    status: Annotated[StatusFilter | None, Query(description="状态；open 表示未关闭的全部")] = None,
    project: ProjectQuery = None,
    agent_id: AgentQuery = None,
    level: Annotated[Level | None, Query(description="级别")] = None,
    overdue: Annotated[bool | None, Query(description="true 只看已超时未完成的；false 只看未超时的")] = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
) -> CasePage:
    size, now = page_size or state.settings.api.page_size, utcnow()
    found = cases.list_cases(session, now=now, status=status, project=project or None, agent_id=agent_id or None,
                             level=level, overdue=overdue, visible=agent_filter(principal, Case.agent_id),
                             offset=(page - 1) * size, limit=size)  # fmt: skip
    names = agent_names(session, [c.agent_id for c in found.items])
    items = [case_out(state, state.settings.cases, c, names.get(c.agent_id), now) for c in found.items]
    return CasePage(items=items, total=found.total, page=page, page_size=size)


@router.get("/cases/stats", response_model=CaseStatsList, summary="投诉工单统计：按原因、项目或坐席")
def get_case_stats(
    principal: Staff,
    state: State,
    session: DbSession,
    by: Annotated[CaseGroup, Query(description="分组：topic 原因（话题）/project 项目/agent 坐席")] = CaseGroup.TOPIC,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    project: ProjectQuery = None,
) -> CaseStatsList:
    first, last = date_range(state, date_from, date_to, MAX_DAYS)

    def utc(day: date) -> datetime:  # a local day's first instant, naive UTC
        return datetime.combine(day, time(0), state.tz).astimezone(UTC).replace(tzinfo=None)

    overall, groups = case_stats(session, by, now=utcnow(), start=utc(first), end=utc(last + timedelta(days=1)),
                                 project=project or None, visible=agent_filter(principal, Case.agent_id))  # fmt: skip
    return CaseStatsList(by=by, date_from=first.isoformat(), date_to=last.isoformat(), overall=stats_out(overall),
                         groups=[stats_out(g) for g in groups])  # fmt: skip


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="投诉工单详情：时限、涉及通话、处理记录")
def get_case(case_id: IdPath, principal: Staff, state: State, session: DbSession) -> CaseDetail:
    return _detail(state, session, _visible_case(session, principal, case_id), utcnow())


@router.post("/cases", status_code=201, response_model=CaseDetail, summary="人工立案（从通话或预警）")
def open_case(principal: Handler, state: State, session: DbSession, body: Annotated[CaseIn, Body()]) -> CaseDetail:
    call = visible_call(session, principal, body.call_id)
    alert = None
    if body.alert_id is not None:
        alert = alerts.get_alert(session, body.alert_id)
        if alert.call_id != call.id and body.call_id not in alerts.alert_call_ids(session, alert.id):
            raise invalid_param("alert_id", f"预警 {alert.id} 与通话 {call.id} 无关")
    now = utcnow()
    case = cases.open_case(session, state.settings.cases, call=call, actor=principal.actor, role=principal.role,
                           now=now, alert=alert, level=body.level, title=body.title, note=body.note)  # fmt: skip
    return _detail(state, session, case, now)


@router.post("/cases/{case_id}/advance", response_model=CaseDetail, summary="推进工单到下一环节（回访需填写结果）")
def advance_case(
    case_id: IdPath, principal: Handler, state: State, session: DbSession, body: Annotated[AdvanceIn, Body()]
) -> CaseDetail:
    _visible_case(session, principal, case_id)
    now = utcnow()
    case = cases.advance(session, case_id, to=body.status, actor=principal.actor, role=principal.role, now=now,
                         note=body.note, outcome=body.outcome)  # fmt: skip
    return _detail(state, session, case, now)
