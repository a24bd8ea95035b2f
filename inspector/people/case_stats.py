"""Statistics of complaint cases (投诉工单) by cause (话题), project or agent: how many, how fast, how well.

Per group: cases, still open, closed; the median and 90th percentile of the minutes to first response and of
the hours to close (of the cases that got there); the SLA hit rate of each deadline (met ÷ decided, where a
deadline is decided once met, missed, or overdue now); the reopen rate (cases whose owner was not satisfied at
a 回访 ÷ cases that had one); and how many are overdue now. Percentiles by pandas.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from inspector.store.schema import Case
from inspector.vocab import CaseStatus


class CaseGroup(enum.StrEnum):
    TOPIC = "topic"
    PROJECT = "project"
    AGENT = "agent"


_COLUMNS = {CaseGroup.TOPIC: Case.topic, CaseGroup.PROJECT: Case.project, CaseGroup.AGENT: Case.agent_id}
UNKNOWN = "（未分类）"


@dataclass(frozen=True)
class CaseStats:
    key: str
    cases: int
    open: int
    closed: int
    overdue: int
    respond_median_min: float | None
    respond_p90_min: float | None
    close_median_h: float | None
    close_p90_h: float | None
    respond_sla_rate: float | None
    close_sla_rate: float | None
    reopen_rate: float | None


def _quantile(series: pd.Series, q: float) -> float | None:
    series = series.dropna()
    return round(float(series.quantile(q)), 2) if len(series) else None


def _rate(hits: pd.Series, decided: pd.Series) -> float | None:
    n = int(decided.sum())
    return round(float((hits & decided).sum()) / n, 4) if n else None


def _summarize(key: str, frame: pd.DataFrame, now: datetime) -> CaseStats:
    closed = frame["status"] == CaseStatus.CLOSED
    respond_min = (frame["responded_at"] - frame["opened_at"]).dt.total_seconds() / 60
    close_h = (frame["closed_at"] - frame["opened_at"]).dt.total_seconds() / 3600
    responded, done = frame["responded_at"].notna(), frame["closed_at"].notna()
    respond_met = responded & (frame["responded_at"] <= frame["respond_due"])
    close_met = done & (frame["closed_at"] <= frame["close_due"])
    respond_overdue = ~responded & (frame["respond_due"] < now)
    close_overdue = ~done & (frame["close_due"] < now)
    revisited = frame["revisit_outcome"].notna()
    return CaseStats(
        key=key,
        cases=len(frame),
        open=int((~closed).sum()),
        closed=int(closed.sum()),
        overdue=int(((respond_overdue | close_overdue) & ~closed).sum()),
        respond_median_min=_quantile(respond_min, 0.5),
        respond_p90_min=_quantile(respond_min, 0.9),
        close_median_h=_quantile(close_h, 0.5),
        close_p90_h=_quantile(close_h, 0.9),
        respond_sla_rate=_rate(respond_met, responded | respond_overdue),
        close_sla_rate=_rate(close_met, done | close_overdue),
        reopen_rate=_rate(frame["reopened"] > 0, revisited | (frame["reopened"] > 0)),
    )


def case_stats(
    session: Session,
    by: CaseGroup,
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    project: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> tuple[CaseStats, list[CaseStats]]:
    """(all cases, each group by cases descending) of the cases opened in [start, end) (naive UTC)."""
    key = _COLUMNS[by]
    query = select(key.label("key"), Case.status, Case.opened_at, Case.respond_due, Case.responded_at,
                   Case.close_due, Case.closed_at, Case.reopened, Case.revisit_outcome)  # fmt: skip
    if start is not None:
        query = query.where(Case.opened_at >= start)
    if end is not None:
        query = query.where(Case.opened_at < end)
    if project is not None:
        query = query.where(Case.project == project)
    if visible is not None:
        query = query.where(visible)
    frame = pd.DataFrame(session.execute(query).all(), columns=list(query.selected_columns.keys()))
    for column in ("opened_at", "respond_due", "responded_at", "close_due", "closed_at"):
        frame[column] = pd.to_datetime(frame[column])
    frame["key"] = frame["key"].fillna(UNKNOWN)
    overall = _summarize("全部", frame, now)
    groups = [_summarize(str(name), part, now) for name, part in frame.groupby("key", sort=False)]
    return overall, sorted(groups, key=lambda g: (-g.cases, g.key))
