"""Appeals (申诉): an agent contests a deduction on their own call; a reviewer accepts or rejects it.

- ``POST /calls/{call_id}/hits/{index}/appeal``: agents only, on their own call (another agent's call is
  404, as everywhere); only deduction hits, one appeal per hit.
- ``GET /appeals``: reviewers, admins, trainers and team leads see every appeal (the latter two read
  only); an agent sees their own (asking for another agent's is 403). Agents do not see the resolver.
- ``POST /appeals/{id}/resolve``: reviewers and admins. Accepted: the finding is rejected, its points
  restored (the score, the call and the scorecard follow) and the call queued for review (reason
  ``appeal``); rejected: the finding is confirmed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import (
    EVERYONE,
    STAFF,
    Anyone,
    DbSession,
    Principal,
    Reviewer,
    State,
    agent_filter,
    check_agent,
    require_roles,
    visible_call,
)
from api.fields import AgentQuery, HitIndexPath, IdPath, PageQuery, PageSizeQuery
from api.queries import agent_names
from api.routes.reviews import RequiredText, shows_people
from api.schemas.appeals import AppealOut, AppealPage, appeal_out
from api.schemas.errors import error_responses
from api.state import AppState
from inspector.people import appeals
from inspector.store.schema import Appeal

router = APIRouter(tags=["申诉"], responses=error_responses(409))

# Roles that may appeal: everyone who is not staff, i.e. agents.
APPELLANTS = tuple(role for role in EVERYONE if role not in STAFF)
Appellant = Annotated[Principal, Depends(require_roles(*APPELLANTS))]


class AppealIn(BaseModel):
    comment: RequiredText = Field(description="申诉理由")


class ResolveIn(BaseModel):
    decision: Literal["accepted", "rejected"] = Field(description="accepted：申诉成立，撤销扣分；rejected：维持扣分")
    resolution: RequiredText = Field(description="处理意见")


def _one(state: AppState, session: Session, appeal: Appeal, people: bool) -> AppealOut:
    rows, _ = appeals.list_appeals(session, appeal_id=appeal.id)
    row = rows[0]
    name = agent_names(session, [row.appeal.agent_id]).get(row.appeal.agent_id)
    return appeal_out(state, row.appeal, row.hit, row.rule_name, people, name)


@router.post(
    "/calls/{call_id}/hits/{index}/appeal", status_code=201, response_model=AppealOut, summary="坐席对扣分项提出申诉"
)
def create_appeal(
    call_id: str, index: HitIndexPath, body: AppealIn, principal: Appellant, state: State, session: DbSession
) -> AppealOut:
    call = visible_call(session, principal, call_id)
    appeal = appeals.create_appeal(session, principal.actor, principal.role, principal.agent_id or "", call, index,
                                   body.comment)  # fmt: skip
    return _one(state, session, appeal, people=False)


@router.get("/appeals", response_model=AppealPage, summary="申诉列表（坐席只能看到自己的申诉）")
def list_appeals(
    principal: Anyone,
    state: State,
    session: DbSession,
    status: Annotated[Literal["open", "accepted", "rejected"] | None, Query(description="状态")] = None,
    agent_id: AgentQuery = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
) -> AppealPage:
    if agent_id:
        check_agent(principal, agent_id)
    size = page_size or state.settings.api.page_size
    rows, total = appeals.list_appeals(session, status=status, agent_id=agent_id or None, offset=(page - 1) * size,
                                       limit=size, visible=agent_filter(principal, Appeal.agent_id))  # fmt: skip
    people = shows_people(principal)
    names = agent_names(session, [row.appeal.agent_id for row in rows])
    items = [appeal_out(state, row.appeal, row.hit, row.rule_name, people, names.get(row.appeal.agent_id))
             for row in rows]  # fmt: skip
    return AppealPage(items=items, total=total, page=page, page_size=size)


@router.post(
    "/appeals/{appeal_id}/resolve", response_model=AppealOut, summary="处理申诉（成立则撤销扣分并进入复核队列）"
)
def resolve(appeal_id: IdPath, body: ResolveIn, principal: Reviewer, state: State, session: DbSession) -> AppealOut:
    appeal = appeals.resolve_appeal(session, principal.actor, principal.role, appeal_id, body.decision,
                                    body.resolution)  # fmt: skip
    return _one(state, session, appeal, people=True)
