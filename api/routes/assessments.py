"""Monthly assessment (月度考核): per agent, calls, average, competency scores, 技能综合分 with its 建议层级,
coaching done and a grade (thresholds in ``inspector.people.assessment``); as JSON and as Excel. Staff only
(admin, reviewer, trainer, team lead); a team lead gets its own team (``deps.team_scope``), another team is 403
(``deps.check_team``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import DbSession, Principal, Staff, State, check_team, team_scope
from api.fields import SingleLine, TeamQuery
from api.routes.coaching import catalog
from api.routes.exports import file_responses, table_response
from api.schemas.training import AssessmentOut, AssessmentRowOut
from api.state import AppState
from inspector.people import assessment

router = APIRouter(tags=["考核"])

MonthQuery = Annotated[
    str | None, Query(max_length=7, description="月份 YYYY-MM（缺省为本月）", examples=["2024-03"]), SingleLine
]


def _assessment(
    principal: Principal, state: AppState, session: Session, month: str | None, team: str | None
) -> tuple[str, str | None, list[assessment.AssessmentRow]]:
    teams: str | frozenset[str] | None = team or None
    if team:
        check_team(principal, team)
    else:
        teams = team_scope(principal)  # a team lead: the teams of its scope
    today: date = state.today()
    month = month or f"{today.year:04d}-{today.month:02d}"
    rows = assessment.monthly_assessment(session, catalog(state), month, teams, tz=state.tz)
    return month, team or (principal.scope if teams is not None else None), rows


@router.get(
    "/assessments",
    response_model=AssessmentOut,
    summary="月度考核（平均分、能力项得分、技能综合分、建议层级、完成辅导数、考核等级）",
)
def get_assessments(
    principal: Staff, state: State, session: DbSession, month: MonthQuery = None, team: TeamQuery = None
) -> AssessmentOut:
    month, team, rows = _assessment(principal, state, session, month, team)
    return AssessmentOut(month=month, team=team, items=[AssessmentRowOut(**row.to_dict()) for row in rows])


@router.get(
    "/exports/assessments.xlsx",
    summary="导出月度考核（Excel）",
    response_class=Response,
    responses=file_responses("xlsx"),
)
def export_assessments(
    principal: Staff, state: State, session: DbSession, month: MonthQuery = None, team: TeamQuery = None
) -> Response:
    month, _team, rows = _assessment(principal, state, session, month, team)
    frame = assessment.assessment_frame(rows, catalog(state))
    return table_response(frame, "xlsx", f"assessment-{month}", "月度考核")
