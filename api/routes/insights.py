"""Hot issues (热点问题): ``GET /insights/hot-issues`` — per project and topic, calls against the project's own
baseline, with a spike flag; ``GET /insights/emerging`` — phrases owners newly say (新出现的说法). Staff only
(agents 403); a team lead counts only its team's calls."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DbSession, Staff, State, agent_filter
from api.fields import ProjectQuery
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.insights import EmergingPhraseList, HotIssueList, emerging_list, hot_issue_list
from inspector.reports.emerging import emerging_phrases
from inspector.reports.hot_issues import hot_issues
from inspector.store.schema import Call, CallTopic

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
    start, end = date_range(state, date_from, date_to, MAX_DAYS)
    found = hot_issues(session, state.settings.insights, start, end, project or None,
                       agent_filter(principal, CallTopic.agent_id))  # fmt: skip
    return hot_issue_list(found)


@router.get("/insights/emerging", response_model=EmergingPhraseList,
            summary="新出现的说法：客户话语中相对前几周突然增多或首次出现的词语")  # fmt: skip
def list_emerging(
    principal: Staff,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    project: ProjectQuery = None,
) -> EmergingPhraseList:
    start, end = date_range(state, date_from, date_to, MAX_DAYS)
    found = emerging_phrases(session, state.settings.insights, start, end, project or None,
                             agent_filter(principal, Call.agent_id))  # fmt: skip
    return emerging_list(found)
