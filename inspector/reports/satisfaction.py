"""Satisfaction of an agent's surveyed calls (满意度): mean CSAT (1–5), NPS (−100..100: the share of 9–10 minus
the share of 0–6, in points) and how many surveys, read from the ``surveys`` table over a range of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from inspector.store.schema import Survey

PROMOTER_FROM = 9  # NPS 9–10
DETRACTOR_UNTIL = 6  # NPS 0–6


@dataclass(frozen=True)
class SatisfactionSummary:
    responses: int  # surveys (with a CSAT, an NPS or both)
    csat: float | None  # mean CSAT of the surveys that have one
    csat_responses: int
    nps: float | None  # promoters − detractors, in points
    nps_responses: int

    def to_dict(self) -> dict[str, Any]:
        return {"responses": self.responses, "csat": self.csat, "csat_responses": self.csat_responses,
                "nps": self.nps, "nps_responses": self.nps_responses}  # fmt: skip


NO_SURVEYS = SatisfactionSummary(responses=0, csat=None, csat_responses=0, nps=None, nps_responses=0)


def nps_of(promoters: int, detractors: int, responses: int) -> float | None:
    return round(100.0 * (promoters - detractors) / responses, 1) if responses else None


def agent_satisfaction(
    session: Session, agent_ids: list[str], date_from: date | None, date_to: date | None
) -> dict[str, SatisfactionSummary]:
    """The summary of each agent's surveyed calls in the range (agents without surveys are absent)."""
    query = select(
        Survey.agent_id,
        func.count(),
        func.avg(Survey.csat),
        func.count(Survey.csat),
        func.count(Survey.nps),
        func.sum(case((Survey.nps >= PROMOTER_FROM, 1), else_=0)),
        func.sum(case((Survey.nps <= DETRACTOR_UNTIL, 1), else_=0)),
    ).where(Survey.agent_id.in_(agent_ids))
    if date_from is not None:
        query = query.where(Survey.day >= date_from)
    if date_to is not None:
        query = query.where(Survey.day <= date_to)
    found: dict[str, SatisfactionSummary] = {}
    for agent, n, csat, csat_n, nps_n, promoters, detractors in session.execute(query.group_by(Survey.agent_id)):
        found[agent] = SatisfactionSummary(
            responses=n,
            csat=round(float(csat), 2) if csat is not None else None,
            csat_responses=csat_n,
            nps=nps_of(int(promoters or 0), int(detractors or 0), nps_n),
            nps_responses=nps_n,
        )
    return found
