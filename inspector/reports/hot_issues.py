"""Hot issues (热点问题): per project and topic, how many calls in a window, against the project's own baseline.

Counted from ``call_topics`` (one row per topic of each call's current analysis) by local day:

* **calls** — calls with the topic in the window [start, end]; **callers** — distinct callers among them
  (``call_topics.contact``: number, else unit, else the call), counted as the rows that are a contact's first
  in the window (``call_topics.prev_day``, kept by ``inspector.store.topics``);
* **baseline** — the same project and topic over the ``baseline_days`` days (default 28) before the window:
  ``baseline_per_day`` = its calls / ``baseline_days``, and ``expected`` = that rate × the window's days;
* **change** — calls / expected − 1 (None when nothing was expected);
* **spike** (突增) — ``calls`` is improbable if the topic kept its baseline rate: the Poisson tail probability
  P(X ≥ calls | λ = expected) is below ``spike_p`` (default 0.01) and calls ≥ ``spike_min_calls`` (default 3).
  λ is floored at ``MIN_EXPECTED`` (0.3 calls per window), so a topic never heard before is a spike with three
  calls, but not with one. The test is one-sided and per cell; with dozens of projects × topics a few false
  spikes a month are expected at p = 0.01, which is why the threshold is a setting.

Each cell also has its daily counts (the chart), and its newest example calls. Cells are sorted spikes first,
then by calls. Calls without a project are counted under project None (shown as 未知项目).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from scipy.special import pdtrc
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from inspector.settings import InsightSettings
from inspector.store.schema import CallTopic

MIN_EXPECTED = 0.3  # calls per window: the floor of the Poisson mean (a topic new to the project)
EXAMPLES = 5
EXAMPLE_CELLS = 30  # cells given example calls: the spikes (at most this many), else the three busiest


@dataclass
class HotIssue:
    project: str | None
    topic: str
    calls: int
    callers: int
    baseline_calls: int
    baseline_per_day: float
    expected: float
    change: float | None  # calls / expected - 1
    p_value: float  # P(X >= calls) under the baseline rate
    spike: bool
    daily: dict[date, int] = field(default_factory=dict)
    example_call_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HotIssues:
    date_from: date
    date_to: date
    baseline_from: date
    baseline_to: date
    items: list[HotIssue]


def spike_test(calls: int, expected: float, settings: InsightSettings) -> tuple[float, bool]:
    """The Poisson tail probability of ``calls`` at mean ``expected`` (floored), and whether it is a spike."""
    lam = max(expected, MIN_EXPECTED)
    p_value = float(pdtrc(calls - 1, lam)) if calls > 0 else 1.0  # P(X > calls - 1): scipy.stats.poisson.sf, as a ufunc
    return p_value, calls >= settings.spike_min_calls and p_value < settings.spike_p


def hot_issues(
    session: Session,
    settings: InsightSettings,
    start: date,
    end: date,
    project: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> HotIssues:
    """Every (project, topic) with calls in [start, end], with its baseline and spike flag (see above).
    ``visible``: a condition on ``CallTopic`` columns (the API's per-principal filter).

    Read in two grouped queries and the examples: the window's rows grouped by (day, project, topic) in the
    order of ``ix_call_topics_day`` (no sort), counted (the daily counts) and summed for the contacts' first calls
    in the window (``prev_day`` None or before ``start``: ``inspector.store.topics``), which are its distinct
    callers; then the baseline's calls (``_baseline``). A ``visible`` filter may hide a contact's earlier call in
    the window, so callers under one are counted from the contacts instead (``_callers``). Then the newest calls
    of the cells shown with examples (``_examples``, one small query each)."""
    base_from, base_to = start - timedelta(days=settings.baseline_days), start - timedelta(days=1)
    scope = [] if project is None else [CallTopic.project == project]
    if visible is not None:
        scope.append(visible)
    first_call = case((or_(CallTopic.prev_day.is_(None), CallTopic.prev_day < start), 1), else_=0)
    window: dict[tuple[str | None, str], dict[date, int]] = {}
    callers: dict[tuple[str | None, str], int] = {}
    for day, proj, topic, n, first in session.execute(
        select(CallTopic.day, CallTopic.project, CallTopic.topic, func.count(), func.sum(first_call))
        .where(CallTopic.day.in_(_days(start, end)), *scope)
        .group_by(CallTopic.day, CallTopic.project, CallTopic.topic)
    ):
        window.setdefault((proj, topic), {})[day] = int(n)
        callers[(proj, topic)] = callers.get((proj, topic), 0) + int(first)
    baseline = _baseline(session, base_from, base_to, scope)
    if visible is not None:
        callers = _callers(session, start, end, scope)
    days = (end - start).days + 1
    cells: list[HotIssue] = []
    for (proj, topic), daily in window.items():
        calls = sum(daily.values())
        past = baseline.get((proj, topic), 0)
        per_day = past / settings.baseline_days
        expected = per_day * days
        p_value, spike = spike_test(calls, expected, settings)
        change = calls / expected - 1 if expected > 0 else None
        cells.append(HotIssue(proj, topic, calls, callers.get((proj, topic), 0), past, per_day, expected, change,
                              p_value, spike, dict(sorted(daily.items()))))  # fmt: skip
    items = sorted(cells, key=lambda c: (not c.spike, -c.calls, c.project or "", c.topic))
    _examples(session, start, end, [c for c in items if c.spike][:EXAMPLE_CELLS] or items[:3], scope)
    return HotIssues(start, end, base_from, base_to, items)


def _days(first: date, last: date) -> list[date]:
    """Every day of [first, last]: as ``day IN (...)``, the day and the project are both equalities, which lets
    one project be read from ``ix_call_topics_day`` (day, project, …) instead of all its rows of the year."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _baseline(
    session: Session, base_from: date, base_to: date, scope: list[ColumnElement[bool]]
) -> dict[tuple[str | None, str], int]:
    """Calls of each (project, topic) in [base_from, base_to]: counted per day in the order of
    ``ix_call_topics_day``, then summed per cell by the database over those few rows. (Grouped on project and
    topic alone, the query may be planned on ``ix_call_topics_project_topic_at``, over every row of the year.)"""
    key = (CallTopic.project, CallTopic.topic)
    per_day = (
        select(*key, func.count().label("n"))
        .where(CallTopic.day.in_(_days(base_from, base_to)), *scope)
        .group_by(CallTopic.day, *key)
        .subquery()
    )
    rows = session.execute(select(per_day.c.project, per_day.c.topic, func.sum(per_day.c.n))
                           .group_by(per_day.c.project, per_day.c.topic))  # fmt: skip
    return {(p, t): int(n) for p, t, n in rows}


def _callers(
    session: Session, start: date, end: date, scope: list[ColumnElement[bool]]
) -> dict[tuple[str | None, str], int]:
    """Distinct callers (``contact``) of each (project, topic) in [start, end] among the rows ``scope`` lets
    through, counted by the database: its (topic, contact) pairs grouped per day on ``ix_call_topics_day``,
    then per cell here."""
    key = (CallTopic.project, CallTopic.topic)
    pairs = session.execute(
        select(*key, CallTopic.contact)
        .where(CallTopic.day.in_(_days(start, end)), *scope)
        .group_by(CallTopic.day, *key, CallTopic.contact)
    )
    contacts: dict[tuple[str | None, str], set[str]] = {}
    for p, t, contact in pairs:
        contacts.setdefault((p, t), set()).add(contact)
    return {cell: len(found) for cell, found in contacts.items()}


def _examples(
    session: Session, start: date, end: date, cells: list[HotIssue], scope: list[ColumnElement[bool]]
) -> None:
    """The newest calls of each cell: one small query per cell on ix_call_topics_project_topic_at (project,
    topic, at). ``at`` is bounded too (a local day lies within a day either side of the same UTC date), so the
    index is read from the window's end, not from the newest call of the topic; ``day`` keeps it exact."""
    at_from = datetime.combine(start, time.min) - timedelta(days=1)
    at_to = datetime.combine(end, time.min) + timedelta(days=2)
    for cell in cells:
        where = [CallTopic.topic == cell.topic, CallTopic.day >= start, CallTopic.day <= end, *scope,
                 CallTopic.at >= at_from, CallTopic.at < at_to]  # fmt: skip
        where.append(CallTopic.project.is_(None) if cell.project is None else CallTopic.project == cell.project)
        cell.example_call_ids = list(session.scalars(
            select(CallTopic.call_id).where(*where).order_by(CallTopic.at.desc(), CallTopic.call_id).limit(EXAMPLES)
        ))  # fmt: skip
