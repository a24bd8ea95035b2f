"""The per-agent summary export (坐席汇总, CSV/XLSX): every agent over a date range, from the ``agent_days``
rollup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from inspector.reports.call_report import RATE_COLUMNS_ZH
from inspector.reports.rollup import (
    Totals,
    average,
    grouped,
    names_of,
    rate,
    totals_by_agent,
)
from inspector.store.db import chunks
from inspector.store.schema import AgentDay

# Columns of ``agents_summary``: the names of inspector.reports.call_report.SUMMARY_COLUMNS where they mean the
# same, plus what the rollup adds. 最低分 is not there: the rollup keeps sums, not minimums.
AGENT_SUMMARY_COLUMNS = (
    "坐席", "姓名", "班组", "通话数", "平均分", "红色预警数", "黄色预警数", "蓝色预警数", "一票否决数",
    *RATE_COLUMNS_ZH.values(),
)  # fmt: skip


# --- export --------------------------------------------------------------------------------------


def agents_summary(
    session: Session,
    date_from: date | None,
    date_to: date | None,
    agent_ids: Sequence[str] | None = None,
    team_id: str | frozenset[str] | None = None,
) -> pd.DataFrame:
    """One row per agent (sorted by id) for CSV/XLSX export, columns ``AGENT_SUMMARY_COLUMNS``.

    Rows: the agents with calls in the range, narrowed to ``agent_ids`` and/or to the rollup rows of
    ``team_id`` (one team, or any of a set: an org node's teams). An agent named in ``agent_ids`` that exists
    (and, with ``team_id``, is in that team) but has no calls gets a row with 0 calls and an empty average;
    unknown ids are left out.
    """
    query = grouped(date_from, date_to)
    teams: frozenset[str] | None = None if team_id is None else (
        frozenset({team_id}) if isinstance(team_id, str) else team_id
    )
    if teams is not None:
        query = query.where(AgentDay.team_id.in_(sorted(teams)))
    totals: dict[str, Totals] = {}
    if agent_ids is None:
        totals = totals_by_agent(session, query)
    else:
        for chunk in chunks(sorted(set(agent_ids))):
            totals.update(totals_by_agent(session, query.where(AgentDay.agent_id.in_(chunk))))

    ids = sorted(set(totals) | set(agent_ids or ()))
    names = names_of(session, ids)
    rows: list[dict[str, Any]] = []
    for agent_id in ids:
        if agent_id not in names:
            continue  # unknown agent id asked for
        name, agent_team = names[agent_id]
        if agent_id not in totals and teams is not None and agent_team not in teams:
            continue  # asked for, no calls, and not in the team(s)
        t = totals.get(agent_id, Totals())
        row: dict[str, Any] = {
            "坐席": agent_id,
            "姓名": name,
            # one team asked for: the rows are that team's; several (an org node's): the agent's team now
            "班组": team_id if isinstance(team_id, str) else (agent_team or ""),
            "通话数": t.calls,
            "平均分": average(t.score_sum, t.calls),
            "红色预警数": t.red,
            "黄色预警数": t.yellow,
            "蓝色预警数": t.blue,
            "一票否决数": t.fatal,
        }
        for category, column in RATE_COLUMNS_ZH.items():
            row[column] = rate(int(t.checks.get(category, 0)), t.calls)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(AGENT_SUMMARY_COLUMNS))
