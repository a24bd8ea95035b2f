"""Training: the competency model, course catalog, agents' competency scores and coaching assignments.

Who may do what (from ``api.deps``; team leads see and act on their own team's agents only, through
``check_agent`` / ``agent_filter``):

- GET /competencies, /courses: everyone.
- GET /agents/{id}/competencies: staff, an agent for itself (``check_agent``).
- POST /coaching: ``deps.Coach`` (admin, trainer, team lead for its own team's agents).
- GET /coaching: everyone, narrowed by ``agent_filter`` (an agent: its own; a team lead: its team);
  ``agent_id`` of someone not visible is 403.
- POST /coaching/{id}/done: admin, trainer (``CLOSERS``), or the agent the assignment is for (another
  agent's assignment: 404).
- POST /coaching/{id}/cancel: admin, trainer (``CLOSERS``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import (
    Anyone,
    Coach,
    DbSession,
    Principal,
    State,
    agent_filter,
    agent_scope,
    check_agent,
    require_roles,
)
from api.errors import ApiError
from api.fields import AgentQuery, IdPath, MultiLine, SingleLine
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas import error_responses
from api.state import AppState
from inspector import training
from inspector.store.schema import Agent, CoachingAssignment

router = APIRouter(tags=["培训辅导"], responses=error_responses(409))

CLOSERS = ("admin", "trainer")  # mark any assignment done, cancel one
# Mark done: admin/trainer for any assignment, an agent for their own (checked in the handler: 404 otherwise).
Completer = Annotated[Principal, Depends(require_roles(*CLOSERS, "agent"))]
Closer = Annotated[Principal, Depends(require_roles(*CLOSERS))]
StatusName = Literal["assigned", "done", "cancelled"]


class CoachingIn(BaseModel):
    agent_id: Annotated[str, SingleLine] = Field(min_length=1, max_length=64, description="坐席工号")
    competency: Annotated[str, SingleLine] = Field(min_length=1, max_length=64, description="能力项 id")
    course_id: Annotated[str, SingleLine] | None = Field(None, max_length=64, description="课程 id")
    evidence: list[Annotated[str, Field(max_length=128), SingleLine]] = Field(
        default_factory=list, description=f"证据通话（最多 {training.MAX_EVIDENCE_CALLS} 个）"
    )
    due_date: date | None = Field(None, description="截止日期 YYYY-MM-DD")
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="辅导说明")
    dimension: Annotated[str, SingleLine] | None = Field(
        None, max_length=64, description="评估效果的维度（缺省为能力项的主要维度）"
    )


class NoteIn(BaseModel):
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="备注")


OptionalNote = Annotated[NoteIn | None, Body()]


def catalog(state: AppState) -> training.TrainingCatalog:
    return training.catalog_for(state.settings.rules_dir)


def training_error(err: training.TrainingError) -> ApiError:
    if isinstance(err, training.TrainingNotFound):
        return ApiError(404, err.code, err.message)
    if isinstance(err, training.CoachingStateError):
        return ApiError(409, err.code, err.message)
    return ApiError(422, err.code, err.message, field=err.field)


def assignment_out(
    state: AppState, session: Session, cat: training.TrainingCatalog, assignment: CoachingAssignment
) -> dict[str, Any]:
    competency = cat.competency(assignment.competency)
    course = cat.course(assignment.course_id) if assignment.course_id else None
    agent_name = session.scalar(select(Agent.name).where(Agent.id == assignment.agent_id))
    effect = training.coaching_effect(session, assignment, state.settings.training.effect_calls)
    return {
        "id": assignment.id,
        "agent_id": assignment.agent_id,
        "agent_name": agent_name or "",
        "competency": assignment.competency,
        "competency_name": competency.name if competency else assignment.competency,
        "course_id": assignment.course_id,
        "course_name": course.name if course else None,
        "evidence": list(assignment.evidence or []),
        "due_date": assignment.due_date.isoformat() if assignment.due_date else None,
        "status": assignment.status,
        "trainer": assignment.trainer,
        "note": assignment.note,
        "created_at": state.local_iso(assignment.created_at),
        "done_at": state.local_iso(assignment.done_at),
        "overdue": training.is_overdue(assignment, state.today()),
        "effect": effect.to_dict(),
    }


@router.get("/competencies", summary="能力模型（能力项及其对应的维度与规则）")
def list_competencies(_: Anyone, state: State) -> dict[str, Any]:
    return {
        "competencies": [
            {"id": c.id, "name": c.name, "description": c.description, "dimensions": dict(c.dimensions),
             "rules": list(c.rules)}
            for c in catalog(state).competencies
        ]
    }  # fmt: skip


@router.get("/courses", summary="培训课程目录")
def list_courses(_: Anyone, state: State) -> dict[str, Any]:
    return {
        "courses": [
            {"id": c.id, "name": c.name, "duration_min": c.duration_min, "competencies": list(c.competencies),
             "rules": list(c.rules), "description": c.description}
            for c in catalog(state).courses
        ]
    }  # fmt: skip


@router.get("/agents/{agent_id}/competencies", summary="坐席能力评估（薄弱项、证据通话、推荐课程）")
def get_agent_competencies(
    agent_id: str, principal: Anyone, state: State, session: DbSession, date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> dict[str, Any]:  # fmt: skip
    check_agent(principal, agent_id)
    start, end = date_range(state, date_from, date_to)
    try:
        scores = training.agent_competencies(session, catalog(state), agent_id, start, end)
    except training.TrainingError as err:
        raise training_error(err) from None
    return {
        "agent_id": agent_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "items": [
            {"id": s.id, "name": s.name, "score": s.score, "weak": s.weak,
             "suggested_courses": [c.to_dict() for c in s.suggested_courses],
             "evidence_calls": list(s.evidence_calls), "evidence_rules": [r.to_dict() for r in s.evidence_rules]}
            for s in scores
        ],
    }  # fmt: skip


@router.post("/coaching", status_code=201, summary="布置辅导任务")
def create_coaching(body: CoachingIn, principal: Coach, state: State, session: DbSession) -> dict[str, Any]:
    check_agent(principal, body.agent_id)
    cat = catalog(state)
    try:
        assignment = training.assign(
            session, cat, principal.actor, principal.role, body.agent_id, body.competency, body.course_id,
            body.evidence, body.due_date, body.note, body.dimension,
        )  # fmt: skip
    except training.TrainingError as err:
        raise training_error(err) from None
    return assignment_out(state, session, cat, assignment)


@router.get("/coaching", summary="辅导任务列表（坐席只能看到自己的）")
def list_coaching(
    principal: Anyone,
    state: State,
    session: DbSession,
    agent_id: AgentQuery = None,
    status: Annotated[StatusName | None, Query(description="状态")] = None,
) -> dict[str, Any]:
    if agent_id:
        check_agent(principal, agent_id)
    visible = agent_filter(principal, CoachingAssignment.agent_id)
    items = training.list_assignments(session, agent_id=agent_id or None, status=status, visible=visible)
    cat = catalog(state)
    return {"items": [assignment_out(state, session, cat, a) for a in items]}


@router.post("/coaching/{assignment_id}/done", summary="完成辅导任务（本人或培训师）")
def complete_coaching(
    assignment_id: IdPath, principal: Completer, state: State, session: DbSession, body: OptionalNote = None
) -> dict[str, Any]:
    scope = agent_scope(principal)
    try:
        assignment = training.get_assignment(session, assignment_id)
        if scope is not None and assignment.agent_id != scope:  # another agent's: as if it did not exist
            raise training.TrainingNotFound(f"辅导任务 {assignment_id} 不存在", "coaching_not_found")
        note = body.note if body is not None else None
        assignment = training.mark_done(session, principal.actor, principal.role, assignment_id, note)
    except training.TrainingError as err:
        raise training_error(err) from None
    return assignment_out(state, session, catalog(state), assignment)


@router.post("/coaching/{assignment_id}/cancel", summary="取消辅导任务")
def cancel_coaching(
    assignment_id: IdPath, principal: Closer, state: State, session: DbSession, body: OptionalNote = None
) -> dict[str, Any]:
    try:
        note = body.note if body is not None else None
        assignment = training.cancel(session, principal.actor, principal.role, assignment_id, note)
    except training.TrainingError as err:
        raise training_error(err) from None
    return assignment_out(state, session, catalog(state), assignment)
