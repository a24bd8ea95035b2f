"""Satisfaction joined to QA (满意度与质检): surveys matched to their calls and stored with what the QA engine
found on each call, and the effect of each rule and dimension on CSAT.

- **Matching** (``match_surveys``): by call id; a row without one by caller and time: the caller's last call
  that started before the survey was answered and ended at most ``satisfaction.match_window_min`` before it.
- **Storing** (``save_surveys``): one survey per call (a new import replaces it), with the call's agent, day,
  effective QA score and the pattern of rules that deducted points on its current analysis (``deducted``:
  findings with negative points that are not uncertain; a reviewer's verdicts are not applied here).
  ``refresh_survey`` keeps them equal to the current analysis after rescoring or a review.
- **Effects** (``rule_effects``): one linear regression of CSAT on an indicator per rule ("the rule deducted
  on this call"), so each rule's effect is adjusted for the others that tend to fire with it; the same over
  dimensions ("any rule of the dimension deducted"); and the slope of CSAT per 10 QA points. The database
  groups the surveyed calls by (pattern, CSAT), so a million calls come back as a few thousand rows, and
  statsmodels fits a Gaussian GLM with those counts as frequency weights: the same estimates and standard
  errors as ordinary least squares on every call. A rule with fewer than ``satisfaction.min_responses``
  surveyed calls on either side gets no estimate (样本不足).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from inspector.intake.survey import SurveyError, SurveyRow
from inspector.qa.deductions import parse_pattern, pattern_of
from inspector.settings import SatisfactionSettings
from inspector.store.schema import Analysis, Call, Survey

CHUNK = 900  # ids per IN (...) (SQLite allows 999 bound parameters per statement)


@dataclass(frozen=True)
class Matched:
    row: SurveyRow
    call_id: str


@dataclass
class ImportResult:
    imported: int = 0
    replaced: int = 0  # calls whose earlier survey this import replaced
    errors: list[SurveyError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "replaced": self.replaced, "errors": [e.to_dict() for e in self.errors]}


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def match_surveys(
    session: Session, rows: Sequence[SurveyRow], settings: SatisfactionSettings
) -> tuple[list[Matched], list[SurveyError]]:
    """Each row's call; rows that match none are returned as errors with their line."""
    ids = sorted({r.call_id for r in rows if r.call_id})
    known: set[str] = set()
    for chunk in _chunks(ids):
        known.update(session.scalars(select(Call.id).where(Call.id.in_(chunk))))
    callers = sorted({r.caller for r in rows if not r.call_id and r.caller})
    calls_of: dict[str, list[tuple[datetime, float, str]]] = {}  # caller -> [(start, duration, id)] by start
    for chunk in _chunks(callers):
        query = select(Call.caller, func.coalesce(Call.started_at, Call.created_at), Call.duration_s, Call.id)
        for caller, start, duration, call_id in session.execute(query.where(Call.caller.in_(chunk))):
            calls_of.setdefault(caller, []).append((start, duration or 0.0, call_id))
    for found in calls_of.values():
        found.sort()
    window = timedelta(minutes=settings.match_window_min)
    matched: list[Matched] = []
    errors: list[SurveyError] = []
    for row in rows:
        if row.call_id:
            if row.call_id in known:
                matched.append(Matched(row, row.call_id))
            else:
                errors.append(SurveyError(row.line, f"通话 {row.call_id} 不存在"))
            continue
        assert row.caller is not None and row.answered_at is not None  # read_surveys guarantees one way
        call_id = _by_caller(calls_of.get(row.caller, []), row.answered_at, window)
        if call_id is None:
            errors.append(
                SurveyError(
                    row.line, f"来电号码 {row.caller} 在回访时间前 {settings.match_window_min:g} 分钟内没有结束的通话"
                )
            )
        else:
            matched.append(Matched(row, call_id))
    return matched, errors


def _by_caller(calls: list[tuple[datetime, float, str]], answered_at: datetime, window: timedelta) -> str | None:
    """The last call that started before ``answered_at`` and ended within ``window`` before it."""
    at = bisect.bisect_right(calls, (answered_at, float("inf"), "\uffff"))
    if at == 0:
        return None
    start, duration, call_id = calls[at - 1]
    return call_id if start + timedelta(seconds=duration) >= answered_at - window else None


def _call_facts(session: Session, call_ids: Sequence[str]) -> dict[str, tuple[str, date | None, float | None, str]]:
    """call id -> (agent, day, effective score, deduction pattern) of each call's current analysis. The pattern
    is stored with the analysis; only analyses stored before it was (``deducted`` null) have their hits read."""
    facts: dict[str, tuple[str, date | None, float | None, str]] = {}
    legacy: list[int] = []
    for chunk in _chunks(call_ids):
        query = (
            select(Call.id, Call.agent_id, Call.day, func.coalesce(Analysis.reviewed_total, Analysis.total),
                   Analysis.deducted, Analysis.id)
            .outerjoin(Analysis, Analysis.id == Call.analysis_id)
            .where(Call.id.in_(chunk))
        )  # fmt: skip
        for call_id, agent_id, day, score, deducted, analysis_id in session.execute(query):
            facts[call_id] = (agent_id, day, score, deducted or "")
            if deducted is None and analysis_id is not None:
                legacy.append(analysis_id)
    for chunk in _chunks(legacy):
        for call_id, hits in session.execute(select(Analysis.call_id, Analysis.hits).where(Analysis.id.in_(chunk))):
            agent_id, day, score, _ = facts[call_id]
            facts[call_id] = (agent_id, day, score, pattern_of(hits or ()))
    return facts








def save_surveys(session: Session, matched: Sequence[Matched], *, source: str, now: datetime) -> ImportResult:
    """Store the matched surveys (replacing each call's earlier survey) with their calls' QA facts."""
    result = ImportResult()
    latest: dict[str, Matched] = {m.call_id: m for m in matched}  # two rows on one call (by caller): the last
    call_ids = sorted(latest)
    for chunk in _chunks(call_ids):
        result.replaced += session.execute(delete(Survey).where(Survey.call_id.in_(chunk))).rowcount or 0
    facts = _call_facts(session, call_ids)
    surveys = []
    for call_id in call_ids:
        row = latest[call_id].row
        agent_id, day, score, deducted = facts[call_id]
        surveys.append({"call_id": call_id, "agent_id": agent_id, "day": day, "csat": row.csat, "nps": row.nps,
                        "comment": row.comment, "answered_at": row.answered_at, "score": score,
                        "deducted": deducted, "source": source, "imported_at": now})  # fmt: skip
    if surveys:  # a Core executemany: the ORM's bulk path costs twice as much at 100,000 rows
        session.execute(insert(Survey.__table__), surveys)
    result.imported = len(surveys)
    return result


def import_surveys(
    session: Session, rows: Sequence[SurveyRow], settings: SatisfactionSettings, *, source: str, now: datetime,
    errors: Sequence[SurveyError] = (),
) -> ImportResult:  # fmt: skip
    """Match and store ``rows``; the result lists every row not stored (``errors`` first: the file's own)."""
    matched, unmatched = match_surveys(session, rows, settings)
    result = save_surveys(session, matched, source=source, now=now)
    result.errors = sorted([*errors, *unmatched], key=lambda e: e.line)
    return result


def refresh_survey(session: Session, call: Call, analysis: Analysis) -> None:
    """After ``analysis`` became the call's current one: the call's survey (if any) follows it."""
    survey = session.get(Survey, call.id)
    if survey is None:
        return
    survey.agent_id, survey.day = call.agent_id, call.day
    survey.score = analysis.reviewed_total if analysis.reviewed_total is not None else analysis.total
    survey.deducted = analysis.deducted if analysis.deducted is not None else pattern_of(analysis.hits or ())


# --- effects -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    key: str  # rule or dimension id
    name: str
    with_calls: int  # surveyed calls the rule (dimension) deducted on
    without_calls: int
    csat_with: float | None  # mean CSAT on those calls
    csat_without: float | None
    effect: float | None  # adjusted difference in CSAT points when it deducted (None: 样本不足)
    low: float | None
    high: float | None
    p_value: float | None

    @property
    def enough(self) -> bool:
        return self.effect is not None


@dataclass(frozen=True)
class Effects:
    date_from: date | None
    date_to: date | None
    responses: int  # surveyed calls with a CSAT in the range
    mean_csat: float | None
    confidence: float
    rules: list[Effect]
    dimensions: list[Effect]
    per_10_points: Effect | None  # CSAT change per 10 QA points (key "score")
    elapsed_s: float = 0.0


def _conditions(date_from: date | None, date_to: date | None) -> list[Any]:
    cond: list[Any] = [Survey.csat.is_not(None)]
    if date_from is not None:
        cond.append(Survey.day >= date_from)
    if date_to is not None:
        cond.append(Survey.day <= date_to)
    return cond


def _fit(y: np.ndarray, x: np.ndarray, weights: np.ndarray, confidence: float) -> tuple[Any, np.ndarray]:
    """Least squares of ``y`` on a constant and ``x`` with frequency weights (statsmodels GLM, Gaussian)."""
    import statsmodels.api as sm

    design = sm.add_constant(x.astype(float), has_constant="add")
    fit = sm.GLM(y, design, family=sm.families.Gaussian(), freq_weights=weights).fit()
    return fit, fit.conf_int(alpha=1 - confidence)


def _regress(
    y: np.ndarray, weights: np.ndarray, keys: list[str], columns: np.ndarray, names: dict[str, str],
    settings: SatisfactionSettings,
) -> list[Effect]:  # fmt: skip
    """One regression of CSAT on the indicator ``columns`` (groups × keys) over the groups ``y`` with ``weights``
    calls each; keys without enough calls on both sides are left out and reported without an estimate."""
    n = int(weights.sum())
    counts = (columns * weights[:, None]).sum(axis=0) if keys else np.zeros(0)
    usable = [j for j, c in enumerate(counts) if settings.min_responses <= c <= n - settings.min_responses]
    fitted: dict[int, tuple[float, float, float, float]] = {}
    if usable and len(y) > len(usable) + 1:
        fit, interval = _fit(y, columns[:, usable], weights, settings.confidence)
        for position, j in enumerate(usable, start=1):
            fitted[j] = (float(fit.params[position]), float(interval[position][0]), float(interval[position][1]),
                         float(fit.pvalues[position]))  # fmt: skip
    effects = []
    for j, key in enumerate(keys):
        mask = columns[:, j]
        with_n, with_sum = int(weights[mask].sum()), float((y * weights)[mask].sum())
        without_sum = float((y * weights).sum()) - with_sum
        est = fitted.get(j)
        effects.append(Effect(
            key=key, name=names.get(key, key), with_calls=with_n, without_calls=n - with_n,
            csat_with=round(with_sum / with_n, 3) if with_n else None,
            csat_without=round(without_sum / (n - with_n), 3) if with_n < n else None,
            effect=round(est[0], 3) if est else None, low=round(est[1], 3) if est else None,
            high=round(est[2], 3) if est else None, p_value=est[3] if est else None,
        ))  # fmt: skip
    effects.sort(key=lambda e: (e.effect is None, e.effect if e.effect is not None else 0.0, e.key))
    return effects


def _score_slope(session: Session, cond: list[Any], settings: SatisfactionSettings) -> Effect | None:
    """CSAT per 10 QA points, from the calls grouped by (CSAT, score to the point)."""
    points = func.round(Survey.score)
    groups = session.execute(
        select(Survey.csat, points, func.count()).where(*cond, Survey.score.is_not(None)).group_by(Survey.csat, points)
    ).all()
    if not groups:
        return None
    y = np.array([g[0] for g in groups], dtype=float)
    x = np.array([float(g[1]) / 10.0 for g in groups])
    w = np.array([g[2] for g in groups], dtype=float)
    if w.sum() < settings.min_responses or np.ptp(x) == 0:
        return None
    fit, interval = _fit(y, x[:, None], w, settings.confidence)
    return Effect(key="score", name="质检得分每 10 分", with_calls=int(w.sum()), without_calls=0, csat_with=None,
                  csat_without=None, effect=round(float(fit.params[1]), 3), low=round(float(interval[1][0]), 3),
                  high=round(float(interval[1][1]), 3), p_value=float(fit.pvalues[1]))  # fmt: skip


def rule_effects(
    session: Session, settings: SatisfactionSettings, date_from: date | None, date_to: date | None,
    names: dict[str, str] | None = None,
) -> Effects:  # fmt: skip
    """Which rules and dimensions move CSAT over the surveyed calls of the range (see the module doc).
    ``names``: rule and dimension ids -> Chinese names."""
    import time

    started = time.perf_counter()
    cond = _conditions(date_from, date_to)
    groups = session.execute(
        select(Survey.deducted, Survey.csat, func.count()).where(*cond).group_by(Survey.deducted, Survey.csat)
    ).all()
    y = np.array([g[1] for g in groups], dtype=float)
    w = np.array([g[2] for g in groups], dtype=float)
    patterns = [parse_pattern(g[0] or "") for g in groups]
    rule_keys = sorted({r for p in patterns for r, _ in p})
    dim_keys = sorted({d for p in patterns for _, d in p if d})
    rule_col = {k: j for j, k in enumerate(rule_keys)}
    dim_col = {k: j for j, k in enumerate(dim_keys)}
    rules_x = np.zeros((len(groups), len(rule_keys)), dtype=bool)
    dims_x = np.zeros((len(groups), len(dim_keys)), dtype=bool)
    for i, pattern in enumerate(patterns):
        for rule, dimension in pattern:
            rules_x[i, rule_col[rule]] = True
            if dimension:
                dims_x[i, dim_col[dimension]] = True
    n = int(w.sum())
    labels = names or {}
    return Effects(
        date_from=date_from, date_to=date_to, responses=n,
        mean_csat=round(float((y * w).sum() / n), 3) if n else None, confidence=settings.confidence,
        rules=_regress(y, w, rule_keys, rules_x, labels, settings) if n else [],
        dimensions=_regress(y, w, dim_keys, dims_x, labels, settings) if n else [],
        per_10_points=_score_slope(session, cond, settings) if n else None,
        elapsed_s=round(time.perf_counter() - started, 3),
    )  # fmt: skip
