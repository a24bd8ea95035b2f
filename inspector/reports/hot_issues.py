"""Hot issues (热点问题): per project and topic, how many calls in a window, against the project's own baseline.

Counted from ``call_topics`` (one row per topic of each call's current analysis) by local day:

* **calls** — calls with the topic in the window [start, end]; **callers** — distinct callers among them
  (``call_topics.contact``: number, else unit, else the call);
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
from datetime import date, timedelta

from scipy.special import pdtrc
from sqlalchemy import ColumnElement, func, select
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
    ``visible``: a condition on ``CallTopic`` columns (the API's per-principal filter)."""
    base_from, base_to = start - timedelta(days=settings.baseline_days), start - timedelta(days=1)
    scope = [] if project is None else [CallTopic.project == project]
    if visible is not None:
        scope.append(visible)
    key = (CallTopic.project, CallTopic.topic)
    window = session.execute(
        select(*key, CallTopic.day, func.count())
        .where(CallTopic.day >= start, CallTopic.day <= end, *scope)
        .group_by(*key, CallTopic.day)
    ).all()
    callers = dict(
        ((p, t), int(n))
        for p, t, n in session.execute(
            select(*key, func.count(func.distinct(CallTopic.contact)))
            .where(CallTopic.day >= start, CallTopic.day <= end, *scope)
            .group_by(*key)
        )
    )
    baseline = dict(
        ((p, t), int(n))
        for p, t, n in session.execute(
            select(*key, func.count())
            .where(CallTopic.day >= base_from, CallTopic.day <= base_to, *scope)
            .group_by(*key)
        )
    )
    days = (end - start).days + 1
    cells: dict[tuple[str | None, str], HotIssue] = {}
    for proj, topic, day, n in window:
        cell = cells.get((proj, topic))
        if cell is None:
            past = baseline.get((proj, topic), 0)
            per_day = past / settings.baseline_days
            cell = cells[(proj, topic)] = HotIssue(proj, topic, 0, callers.get((proj, topic), 0), past, per_day,
                                                   per_day * days, None, 1.0, False)  # fmt: skip
        cell.calls += int(n)
        cell.daily[day] = cell.daily.get(day, 0) + int(n)
    for cell in cells.values():
        cell.p_value, cell.spike = spike_test(cell.calls, cell.expected, settings)
        cell.change = cell.calls / cell.expected - 1 if cell.expected > 0 else None
        cell.daily = dict(sorted(cell.daily.items()))
    items = sorted(cells.values(), key=lambda c: (not c.spike, -c.calls, c.project or "", c.topic))
    _examples(session, start, end, [c for c in items if c.spike][:EXAMPLE_CELLS] or items[:3], scope)
    return HotIssues(start, end, base_from, base_to, items)


def _examples(
    session: Session, start: date, end: date, cells: list[HotIssue], scope: list[ColumnElement[bool]]
) -> None:
    """The newest calls of each cell: one small query per cell (on ix_call_topics_project_topic_at)."""
    for cell in cells:
        where = [CallTopic.topic == cell.topic, CallTopic.day >= start, CallTopic.day <= end, *scope]
        where.append(CallTopic.project.is_(None) if cell.project is None else CallTopic.project == cell.project)
        cell.example_call_ids = list(session.scalars(
            select(CallTopic.call_id).where(*where).order_by(CallTopic.at.desc(), CallTopic.call_id).limit(EXAMPLES)
        ))  # fmt: skip
