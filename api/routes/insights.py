"""Hot issues (热点问题): ``GET /insights/hot-issues`` — per project and topic, calls against the project's own
baseline, with a spike flag. Staff only (agents 403); a team lead counts only its team's calls."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DbSession, Staff, State, agent_filter
from api.errors import invalid_param
from api.fields import ProjectQuery
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.insights import HotIssueList, hot_issue_list
from inspector.reports.hot_issues import hot_issues
from inspector.store.schema import CallTopic

router = APIRouter(tags=["洞察"])

MAX_DAYS = 366


@router.get("/insights/hot-issues", response_model=HotIssueList, summary="热点问题：项目 × 话题的来电量与突增")
def list_hot_issues(
    principal: Staff,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    project: ProjectQuery = None,
) -> HotIssueList:
    start, end = date_range(state, date_from, date_to)
    if (end - start).days + 1 > MAX_DAYS:
        raise invalid_param("from", f"统计期间不能超过 {MAX_DAYS} 天")
    found = hot_issues(session, state.settings.insights, start, end, project or None,
                       agent_filter(principal, CallTopic.agent_id))  # fmt: skip
    return hot_issue_list(found)
