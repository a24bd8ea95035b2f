"""Team leaderboards (班组排行): the agents of a team over a date range, from the ``agent_days`` rollup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from inspector.reports.rollup import (
    average,
    check_rates,
    grouped,
    names_of,
    totals_by_agent,
)
from inspector.store.schema import AgentDay


@dataclass
class LeaderboardEntry:
    rank: int  # 1-based position in the sorted board
    agent_id: str
    agent_name: str
    calls: int
    average_score: float | None
    red: int
    fatal: int
    checks: dict[str, float]  # check category → rate 0..1

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "calls": self.calls,
            "average_score": self.average_score,
            "red": self.red,
            "fatal": self.fatal,
            "checks": dict(self.checks),
        }


# --- leaderboard ---------------------------------------------------------------------------------


def leaderboard(
    session: Session,
    team_id: str | frozenset[str],
    date_from: date | None,
    date_to: date | None,
    *,
    min_calls: int = 1,
) -> list[LeaderboardEntry]:
    """The team's agents (or those of any of a set of teams: an org node's) with at least ``min_calls`` calls
    in the range, best average first. Only the rollup rows of those teams count (the team of each day).

    Ties (equal rounded averages) go to more calls, then to the smaller agent id.
    """
    teams = {team_id} if isinstance(team_id, str) else team_id
    query = grouped(date_from, date_to).where(AgentDay.team_id.in_(sorted(teams)))
    totals = {a: t for a, t in totals_by_agent(session, query).items() if t.calls >= max(1, min_calls)}
    names = names_of(session, sorted(totals))
    board = sorted(
        totals.items(), key=lambda item: (-(average(item[1].score_sum, item[1].calls) or 0.0), -item[1].calls, item[0])
    )
    return [
        LeaderboardEntry(
            rank=rank,
            agent_id=agent_id,
            agent_name=names.get(agent_id, ("", None))[0],
            calls=t.calls,
            average_score=average(t.score_sum, t.calls),
            red=t.red,
            fatal=t.fatal,
            checks=check_rates(t.checks, t.calls),
        )
        for rank, (agent_id, t) in enumerate(board, start=1)
    ]
