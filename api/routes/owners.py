"""Owner profiles (业主画像): ``GET /insights/owners`` — the most frequent callers (of a project), for staff.

Agents may not call it (403); a team lead counts only its team's calls (``agent_filter``). Numbers and units
are masked unless a principal with the ``pii`` permission asks ``reveal=true``, which is audited (one entry
naming the window and project)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DbSession, Staff, State, agent_filter, pii_revealed
from api.fields import ProjectQuery, RevealQuery
from api.privacy import audit_reveal
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.owners import OwnerList, owner_out
from inspector.reports.owners import owner_profiles
from inspector.store.schema import CallTopic

router = APIRouter(tags=["洞察"])


@router.get("/insights/owners", response_model=OwnerList, summary="业主画像：来电最多的业主（按项目）")
def list_owners(
    principal: Staff,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    project: ProjectQuery = None,
    limit: Annotated[int, Query(ge=1, le=200, description="返回的业主数")] = 20,
    reveal: RevealQuery = False,
) -> OwnerList:
    revealed = pii_revealed(principal, reveal)
    start, end = date_range(state, date_from, date_to)
    found = owner_profiles(session, start, end, project or None, limit, agent_filter(principal, CallTopic.agent_id))
    if revealed and found:
        audit_reveal(session, principal, f"{project or '*'}:{start}..{end}", "owners", ["caller", "unit"], "owners")
    return OwnerList(
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        project=project or None,
        revealed=revealed,
        items=[owner_out(state, p, revealed) for p in found],
    )
