"""Teams: the team list (a team lead: its own team) and the leaderboard of one team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.deps import DbSession, Staff, State, check_team, team_scope
from api.errors import ApiError
from api.fields import MAX_ID
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.agents import LeaderboardOut, TeamList, TeamOut
from inspector.reports import leaderboards
from inspector.store.schema import Agent, Team

router = APIRouter(tags=["班组"])


@router.get("/teams", response_model=TeamList, summary="班组列表（含坐席人数；班组长只看到本班组）")
def list_teams(principal: Staff, session: DbSession) -> TeamList:
    agents = select(Agent.team_id, func.count(Agent.id).label("n")).group_by(Agent.team_id).subquery()
    query = (
        select(Team.id, Team.name, func.coalesce(agents.c.n, 0))
        .outerjoin(agents, agents.c.team_id == Team.id)
        .order_by(Team.id)
    )
    scope = team_scope(principal)
    if scope is not None:
        query = query.where(Team.id.in_(sorted(scope)))
    rows = session.execute(query)
    return TeamList(items=[TeamOut(team_id=team_id, name=name, agents=int(n)) for team_id, name, n in rows])


@router.get("/teams/{team}/leaderboard", response_model=LeaderboardOut, summary="班组排行榜（按平均分）")
def get_leaderboard(
    team: str,
    principal: Staff,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    min_calls: Annotated[int, Query(ge=1, le=MAX_ID, description="上榜所需的最少通话数")] = 1,
) -> LeaderboardOut:
    check_team(principal, team)
    if session.get(Team, team) is None:
        raise ApiError(404, "team_not_found", f"班组 {team} 不存在", team=team)
    start, end = date_range(state, date_from, date_to)
    board = leaderboards.leaderboard(session, team, start, end, min_calls=min_calls)
    return LeaderboardOut.model_validate(
        {"team_id": team, "from": start.isoformat(), "to": end.isoformat(), "items": [e.to_dict() for e in board]}
    )
