"""Repeat contacts (重复来电): ``GET /insights/repeat-contacts`` — chains of one owner's calls about one problem.

Staff see every chain (a team lead: chains with a call of its team, showing only its team's calls,
``agent_filter``); an agent only chains with its own calls, and only those calls. Numbers, units and quoted
words are masked unless a principal with the ``pii`` permission asks ``reveal=true`` (audited)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Anyone, DbSession, State, agent_filter, agent_scope, check_agent, pii_revealed
from api.fields import AgentQuery, PageQuery, PageSizeQuery, ProjectQuery, RevealQuery
from api.privacy import audit_reveal
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.repeats import RepeatChainPage, chain_out
from inspector.people.repeats import repeat_chains
from inspector.store.schema import Call

router = APIRouter(tags=["洞察"])


@router.get("/insights/repeat-contacts", response_model=RepeatChainPage, summary="重复来电：同一业主同一问题的来电链")
def list_repeat_contacts(
    principal: Anyone,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    project: ProjectQuery = None,
    agent_id: AgentQuery = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
    reveal: RevealQuery = False,
) -> RepeatChainPage:
    revealed = pii_revealed(principal, reveal)
    if agent_id:
        check_agent(principal, agent_id)
    start, end = date_range(state, date_from, date_to)
    size = page_size or state.settings.api.page_size
    found = repeat_chains(
        session, start, end, project=project or None, agent_id=agent_id or agent_scope(principal),
        visible=agent_filter(principal, Call.agent_id), offset=(page - 1) * size, limit=size,
        days=state.settings.insights.repeat_days,
    )  # fmt: skip
    if revealed and found.items:
        audit_reveal(session, principal, f"{project or '*'}:{start}..{end}", "repeat_contacts", ["caller", "unit"],
                     "repeat_contacts")  # fmt: skip
    return RepeatChainPage(
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        items=[chain_out(state, c, revealed) for c in found.items],
        total=found.total,
        page=page,
        page_size=size,
    )
