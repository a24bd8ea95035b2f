"""Agents: the agent list (narrowed to who the caller may see) and the scorecard of one agent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import Anyone, DbSession, State, agent_filter, check_agent
from api.errors import ApiError, invalid_param
from api.fields import TeamQuery
from api.queries import parse_date
from api.schemas.agents import AgentList, AgentOut, ScorecardOut
from api.state import AppState
from inspector.reports import scorecards
from inspector.store.schema import Agent

router = APIRouter(tags=["坐席"])

DEFAULT_DAYS = 30


def date_range(
    state: AppState, date_from: str | None, date_to: str | None, max_days: int | None = None
) -> tuple[date, date]:
    """Inclusive local dates; ``to`` defaults to today, ``from`` to the 30 days ending at ``to``; a range longer
    than ``max_days`` is refused (422 on ``from``)."""
    end = parse_date("to", date_to) or state.today()
    start = parse_date("from", date_from) or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise invalid_param("from", "起始日期不能晚于结束日期")
    if max_days is not None and (end - start).days + 1 > max_days:
        raise invalid_param("from", f"统计期间不能超过 {max_days} 天")
    return start, end


FromQuery = Annotated[str | None, Query(alias="from", description="起始日期（含），YYYY-MM-DD；缺省为结束日期前 29 天")]
ToQuery = Annotated[str | None, Query(alias="to", description="结束日期（含），YYYY-MM-DD；缺省为今天")]


@router.get("/agents", response_model=AgentList, summary="坐席列表（坐席只看到自己，班组长只看到本班组）")
def list_agents(
    principal: Anyone,
    session: DbSession,
    team: TeamQuery = None,
) -> AgentList:
    query = select(Agent).where(agent_filter(principal, Agent.id)).order_by(Agent.id)
    if team:
        query = query.where(Agent.team_id == team)
    return AgentList(items=[AgentOut(agent_id=a.id, name=a.name, team_id=a.team_id) for a in session.scalars(query)])


@router.get(
    "/agents/{agent_id}/scorecard",
    response_model=ScorecardOut,
    summary="坐席成绩单（平均分、维度、检查项达成率、趋势、常见扣分项）",
)
def get_scorecard(
    agent_id: str,
    principal: Anyone,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    trend: Annotated[Literal["day", "week", "month"], Query(description="趋势粒度")] = "week",
    most_missed: Annotated[int, Query(ge=0, le=50, description="列出的常见扣分项数")] = 5,
) -> ScorecardOut:
    check_agent(principal, agent_id)
    start, end = date_range(state, date_from, date_to)
    rule_names = state.active_rule_names(session)
    card = scorecards.scorecard(
        session, agent_id, start, end, trend=trend, rule_names=rule_names, most_missed=most_missed
    )
    if card is None:
        raise ApiError(404, "agent_not_found", f"坐席 {agent_id} 不存在", agent_id=agent_id)
    return ScorecardOut.model_validate(card.to_dict())
