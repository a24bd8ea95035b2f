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
from typing import Annotated, Literal

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
from api.fields import AgentQuery, IdPath, MultiLine, SingleLine
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.errors import error_responses
from api.schemas.training import (
    AgentCompetencies,
    AssignmentList,
    AssignmentOut,
    CompetencyList,
    CompetencyOut,
    CompetencyScoreOut,
    CourseList,
    CourseOut,
    EffectOut,
)
from api.state import AppState
from inspector.people import coaching
from inspector.people.catalog import TrainingCatalog, catalog_for
from inspector.people.competency import agent_competencies, skill_profile
from inspector.people.effect import coaching_effect
from inspector.people.errors import TrainingNotFound
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
        default_factory=list, description=f"证据通话（最多 {coaching.MAX_EVIDENCE_CALLS} 个）"
    )
    due_date: date | None = Field(None, description="截止日期 YYYY-MM-DD")
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="辅导说明")
    dimension: Annotated[str, SingleLine] | None = Field(
        None, max_length=64, description="评估效果的维度（缺省为能力项的主要维度）"
    )


class NoteIn(BaseModel):
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="备注")


OptionalNote = Annotated[NoteIn | None, Body()]


def catalog(state: AppState) -> TrainingCatalog:
    return catalog_for(state.settings.rules_dir)


def assignment_out(
    state: AppState, session: Session, cat: TrainingCatalog, assignment: CoachingAssignment
) -> AssignmentOut:
    competency = cat.competency(assignment.competency)
    course = cat.course(assignment.course_id) if assignment.course_id else None
    agent_name = session.scalar(select(Agent.name).where(Agent.id == assignment.agent_id))
    training = state.settings.training
    effect = coaching_effect(session, assignment, training.effect_calls, training.min_calls)
    spans = {"before_from": effect.before_from, "before_to": effect.before_to, "after_from": effect.after_from,
             "after_to": effect.after_to}  # fmt: skip
    return AssignmentOut(
        id=assignment.id,
        agent_id=assignment.agent_id,
        agent_name=agent_name or "",
        competency=assignment.competency,
        competency_name=competency.name if competency else assignment.competency,
        course_id=assignment.course_id,
        course_name=course.name if course else None,
        evidence=list(assignment.evidence or []),
        due_date=assignment.due_date.isoformat() if assignment.due_date else None,
        status=assignment.status,
        trainer=assignment.trainer,
        note=assignment.note,
        created_at=state.local_iso(assignment.created_at),
        done_at=state.local_iso(assignment.done_at),
        overdue=coaching.is_overdue(assignment, state.today()),
        effect=EffectOut(**effect.to_dict(), **{key: state.local_iso(value) for key, value in spans.items()}),
    )


@router.get("/competencies", response_model=CompetencyList, summary="能力模型（能力项及其对应的维度与规则）")
def list_competencies(_: Anyone, state: State) -> CompetencyList:
    cat = catalog(state)
    weights = cat.weights()
    return CompetencyList(
        competencies=[
            CompetencyOut(id=c.id, name=c.name, description=c.description, dimensions=dict(c.dimensions),
                          rules=list(c.rules), weight=round(weights[c.id], 4))
            for c in cat.competencies
        ]
    )  # fmt: skip


@router.get("/courses", response_model=CourseList, summary="培训课程目录")
def list_courses(_: Anyone, state: State) -> CourseList:
    return CourseList(
        courses=[
            CourseOut(id=c.id, name=c.name, duration_min=c.duration_min, competencies=list(c.competencies),
                      rules=list(c.rules), description=c.description, tier=c.tier)
            for c in catalog(state).courses
        ]
    )  # fmt: skip


@router.get(
    "/agents/{agent_id}/competencies",
    response_model=AgentCompetencies,
    summary="坐席能力评估（薄弱项、证据通话、推荐课程）",
)
def get_agent_competencies(
    agent_id: str, principal: Anyone, state: State, session: DbSession, date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> AgentCompetencies:  # fmt: skip
    check_agent(principal, agent_id)
    start, end = date_range(state, date_from, date_to)
    scores = agent_competencies(session, catalog(state), agent_id, start, end)
    items = [
        CompetencyScoreOut.model_validate(
            {"id": s.id, "name": s.name, "score": s.score, "weak": s.weak,
             "suggested_courses": [c.to_dict() for c in s.suggested_courses],
             "evidence_calls": list(s.evidence_calls), "evidence_rules": [r.to_dict() for r in s.evidence_rules]}
        )
        for s in scores
    ]  # fmt: skip
    return AgentCompetencies.model_validate(
        {"agent_id": agent_id, "from": start.isoformat(), "to": end.isoformat(), "items": items,
         **skill_profile(catalog(state), scores).to_dict()}
    )  # fmt: skip


@router.post("/coaching", status_code=201, response_model=AssignmentOut, summary="布置辅导任务")
def create_coaching(body: CoachingIn, principal: Coach, state: State, session: DbSession) -> AssignmentOut:
    check_agent(principal, body.agent_id)
    cat = catalog(state)
    assignment = coaching.assign(
        session, cat, principal.actor, principal.role, body.agent_id, body.competency, body.course_id,
        body.evidence, body.due_date, body.note, body.dimension,
    )  # fmt: skip
    return assignment_out(state, session, cat, assignment)


@router.get("/coaching", response_model=AssignmentList, summary="辅导任务列表（坐席只能看到自己的）")
def list_coaching(
    principal: Anyone,
    state: State,
    session: DbSession,
    agent_id: AgentQuery = None,
    status: Annotated[StatusName | None, Query(description="状态")] = None,
) -> AssignmentList:
    if agent_id:
        check_agent(principal, agent_id)
    visible = agent_filter(principal, CoachingAssignment.agent_id)
    items = coaching.list_assignments(session, agent_id=agent_id or None, status=status, visible=visible)
    cat = catalog(state)
    return AssignmentList(items=[assignment_out(state, session, cat, a) for a in items])


@router.post("/coaching/{assignment_id}/done", response_model=AssignmentOut, summary="完成辅导任务（本人或培训师）")
def complete_coaching(
    assignment_id: IdPath, principal: Completer, state: State, session: DbSession, body: OptionalNote = None
) -> AssignmentOut:
    scope = agent_scope(principal)
    assignment = coaching.get_assignment(session, assignment_id)
    if scope is not None and assignment.agent_id != scope:
        # Another agent's assignment: 404 as if it did not exist (not 403, which would confirm it does).
        raise TrainingNotFound(f"辅导任务 {assignment_id} 不存在", "coaching_not_found")
    note = body.note if body is not None else None
    assignment = coaching.mark_done(session, principal.actor, principal.role, assignment_id, note)
    return assignment_out(state, session, catalog(state), assignment)


@router.post("/coaching/{assignment_id}/cancel", response_model=AssignmentOut, summary="取消辅导任务")
def cancel_coaching(
    assignment_id: IdPath, principal: Closer, state: State, session: DbSession, body: OptionalNote = None
) -> AssignmentOut:
    note = body.note if body is not None else None
    assignment = coaching.cancel(session, principal.actor, principal.role, assignment_id, note)
    return assignment_out(state, session, catalog(state), assignment)
