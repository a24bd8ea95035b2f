"""API-specific read queries: the call list filter (shared by the list and the exports) and call rows.

Dates: ``from`` / ``to`` are inclusive local dates of the call centre (``calls.day``), or ISO 8601
datetimes compared with ``calls.started_at`` (a naive datetime is local time). Calls without a start
time have no day and are left out whenever a range is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.errors import invalid_param
from api.fields import AgentQuery, ProjectQuery, TeamQuery, date_out_of_range, datetime_out_of_range
from inspector.store.schema import Agent, Analysis, Call, RuleSetRecord
from inspector.vocab import CallStatus

AlertLevel = Literal["red", "yellow", "blue", "none"]
StatusName = Literal["queued", "processing", "done", "failed"]
Direction = Literal["inbound", "outbound"]


def parse_date_or_datetime(field: str, value: str | None, tz: tzinfo) -> date | datetime | None:
    """A local date, or an aware datetime (a naive one is taken as local time); 422 naming ``field``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        _check(field, date_out_of_range(day))
        return day
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid_param(field, "应为日期 YYYY-MM-DD 或 ISO 8601 时间（如 2024-03-15T09:30:00+08:00）") from None
    moment = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    _check(field, datetime_out_of_range(moment))
    return moment


def _check(field: str, reason: str | None) -> None:
    if reason is not None:
        raise invalid_param(field, reason)


def parse_date(field: str, value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise invalid_param(field, "应为日期 YYYY-MM-DD") from None
    _check(field, date_out_of_range(day))
    return day


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CallFilter:
    agent_id: str | None = None
    team: str | None = None
    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    alert: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    status: str | None = None
    project: str | None = None
    visible_agent: str | None = None  # set from the principal (deps.agent_scope), never from the query
    visible_teams: frozenset[str] | None = None  # set from the principal (deps.team_scope), never from the query


@dataclass(frozen=True)
class CallFilterParams:
    """The query parameters of GET /calls and the call exports (turned into a ``CallFilter`` per request)."""

    agent_id: str | None
    team: str | None
    date_from: str | None
    date_to: str | None
    alert: AlertLevel | None
    min_score: float | None
    max_score: float | None
    status: StatusName | None
    project: str | None = None

    def to_filter(
        self, tz: tzinfo, visible_agent: str | None, visible_teams: frozenset[str] | None = None
    ) -> CallFilter:
        """``visible_agent`` / ``visible_teams``: ``deps.agent_scope`` / ``deps.team_scope`` of the principal."""
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise invalid_param("min_score", "不能大于 max_score")
        return CallFilter(
            agent_id=self.agent_id or None,
            team=self.team or None,
            date_from=parse_date_or_datetime("from", self.date_from, tz),
            date_to=parse_date_or_datetime("to", self.date_to, tz),
            alert=self.alert,
            min_score=self.min_score,
            max_score=self.max_score,
            status=self.status,
            project=self.project or None,
            visible_agent=visible_agent,
            visible_teams=visible_teams,
        )


async def call_filter_params(  # no I/O: on the event loop, not a thread-pool hop
    agent_id: AgentQuery = None,
    team: TeamQuery = None,
    date_from: Annotated[
        str | None, Query(alias="from", description="起始日期（含），YYYY-MM-DD 本地日期或 ISO 8601 时间")
    ] = None,
    date_to: Annotated[
        str | None, Query(alias="to", description="结束日期（含），YYYY-MM-DD 本地日期或 ISO 8601 时间")
    ] = None,
    alert: Annotated[AlertLevel | None, Query(description="预警级别")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=100, description="最低总分")] = None,
    max_score: Annotated[float | None, Query(ge=0, le=100, description="最高总分")] = None,
    status: Annotated[StatusName | None, Query(description="处理状态")] = None,
    project: ProjectQuery = None,
) -> CallFilterParams:
    return CallFilterParams(agent_id, team, date_from, date_to, alert, min_score, max_score, status, project)


def _date_condition(query: Select[Any], bound: date | datetime, lower: bool) -> Select[Any]:
    if isinstance(bound, datetime):
        moment = naive_utc(bound)
        return query.where(Call.started_at >= moment if lower else Call.started_at <= moment)
    return query.where(Call.day >= bound if lower else Call.day <= bound)


def _filtered(query: Select[Any], f: CallFilter) -> Select[Any]:
    if f.visible_agent is not None:
        query = query.where(Call.agent_id == f.visible_agent)
    if f.visible_teams is not None:
        query = query.where(Agent.team_id.in_(sorted(f.visible_teams)))
    if f.agent_id is not None:
        query = query.where(Call.agent_id == f.agent_id)
    if f.team is not None:
        query = query.where(Agent.team_id == f.team)
    if f.date_from is not None:
        query = _date_condition(query, f.date_from, lower=True)
    if f.date_to is not None:
        query = _date_condition(query, f.date_to, lower=False)
    if f.alert is not None:
        query = query.where(Call.alert == f.alert)
    if f.min_score is not None:
        query = query.where(Call.score >= f.min_score)
    if f.max_score is not None:
        query = query.where(Call.score <= f.max_score)
    if f.status is not None:
        query = query.where(Call.status == f.status)
    if f.project is not None:
        query = query.where(Call.project == f.project)
    return query


def _rows_query(f: CallFilter) -> Select[Any]:
    query = select(Call, Agent.name, Agent.team_id).join(Agent, Agent.id == Call.agent_id)
    # Newest first; calls without a start time last, then by arrival.
    return _filtered(query, f).order_by(
        Call.started_at.is_(None), Call.started_at.desc(), Call.created_at.desc(), Call.id
    )


def count_calls(session: Session, f: CallFilter, at_most: int | None = None) -> int:
    """Calls matching ``f``; with ``at_most``, counting stops after ``at_most + 1`` of them (so a result
    above ``at_most`` means "more than that"): an exact count of a million rows reads a million index
    entries on every request, a bounded one reads at most ``at_most + 1``."""
    bounded = at_most is not None
    query = select(Call.id if bounded else func.count()).select_from(Call)
    if f.team is not None or f.visible_teams is not None:
        # Joined only to filter by team: every call has its agent (foreign key), so the join drops no row,
        # and counting calls alone reads one small index instead of probing agents a million times.
        query = query.join(Agent, Agent.id == Call.agent_id)
    query = _filtered(query, f)
    if at_most is not None:
        query = select(func.count()).select_from(query.limit(at_most + 1).subquery())
    return int(session.scalar(query) or 0)


def list_calls(
    session: Session, f: CallFilter, offset: int = 0, limit: int | None = None
) -> list[tuple[Call, str, str | None]]:
    """(call, agent name, team id) rows matching ``f``, newest first."""
    query = _rows_query(f).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [(call, name or "", team) for call, name, team in session.execute(query).all()]


def agent_of(session: Session, agent_id: str) -> tuple[str, str | None]:
    """(name, team id) of an agent ("" / None when unknown)."""
    row = session.execute(select(Agent.name, Agent.team_id).where(Agent.id == agent_id)).one_or_none()
    return ("", None) if row is None else (row[0] or "", row[1])


def current_analysis(session: Session, call: Call) -> tuple[Analysis, RuleSetRecord | None] | None:
    if call.status != CallStatus.DONE.value or call.analysis_id is None:
        return None
    analysis = session.get(Analysis, call.analysis_id)
    if analysis is None:
        return None
    return analysis, session.get(RuleSetRecord, analysis.rule_set_id)


def agent_names(session: Session, agent_ids: Iterable[str]) -> dict[str, str]:
    """{agent id: name} of these agents, in one query; unknown agents and empty names are left out."""
    ids = {agent_id for agent_id in agent_ids if agent_id}
    if not ids:
        return {}
    rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))
    return {agent_id: name for agent_id, name in rows if name}
