"""Demand forecast (需求预测): weekly calls per project and topic, ``weeks`` weeks ahead, with intervals and the
error the same method made on the stored history (backtest).

History (``weekly_counts``): calls per ISO week (Monday start), from ``call_topics`` for one topic (one row per
topic of each call) or from ``calls`` for all calls; from the first week with a call to the last complete week
on or before ``until``, weeks without calls filled with 0.

Method (``forecast``), chosen by the length of the history (``settings.insights``):

* fewer than ``forecast_min_weeks`` weeks (16): refused — ``enough`` False with the reason, no points;
* up to ``forecast_seasonal_weeks`` weeks (104, two years): ETS with a damped additive trend
  (``statsmodels.tsa.exponential_smoothing.ets.ETSModel``), no yearly season;
* from then on: dynamic harmonic regression — a linear trend plus Fourier terms of the year (period
  365.25 / 7 weeks, ``FOURIER_ORDER`` harmonics) with AR(1) errors (``statsmodels`` SARIMAX over a
  ``DeterministicProcess``). A handful of parameters instead of Holt-Winters' 52 seasonal states, so the
  backtest fit (the history less the holdout, < 2 years) is still seasonal. The Spring Festival moves by
  up to four weeks from year to year, which no 52-week season follows: the model is also fitted with a
  dummy for each week from two before to two after the festival's week (dates in ``SPRING_FESTIVAL``,
  2015–2035), and that one is kept when its AIC is lower.

Both are fitted to log(1 + calls): the season and trend act multiplicatively, and forecasts back on the count
scale are never negative (they are still clipped at 0). Intervals are the **model's** prediction intervals
(``get_prediction`` / ``get_forecast``) at ``forecast_level`` (default 80%), transformed back; the point is
the back-transformed median, so it always lies inside its interval. A history that never changes (e.g. all 0)
is forecast as that constant.

Backtest: hold out the last ``forecast_holdout_weeks`` weeks (12; fewer when the history is short, so that at
least half of ``forecast_min_weeks`` remain to fit on), fit the same method on the rest and compare:
MAPE over the held-out weeks with calls, and MASE — mean absolute error over the in-sample mean absolute error
of the naive forecast (the seasonal naive, 52 weeks back, for the seasonal method). The naive forecast's own
MAPE on the same weeks is given beside it (``baseline_mape``), so the method can be seen to beat it or not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from statsmodels.tsa.deterministic import DeterministicProcess, Fourier
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.statespace.sarimax import SARIMAX

from inspector.settings import InsightSettings
from inspector.store.schema import Call, CallTopic

SEASON_WEEKS = 52  # the seasonal naive looks back this many weeks
YEAR_WEEKS = 365.25 / 7  # the Fourier period
FOURIER_ORDER = 4  # harmonics of the year: enough for a summer hump and a few-week festival peak
MAX_HISTORY_WEEKS = 156  # at most the last three years are fitted (older ones say little and cost time)
SEASONAL = "季节性谐波回归（趋势 + 年周期 + AR(1)）"
SEASONAL_FESTIVAL = "季节性谐波回归（趋势 + 年周期 + 春节 + AR(1)）"
# The Spring Festival (春节, 农历正月初一) moves with the lunar calendar, so a 52-week season misses it; the
# seasonal method may add a dummy for each week from two before to two after the festival's week.
SPRING_FESTIVAL = (
    date(2015, 2, 19), date(2016, 2, 8), date(2017, 1, 28), date(2018, 2, 16), date(2019, 2, 5),
    date(2020, 1, 25), date(2021, 2, 12), date(2022, 2, 1), date(2023, 1, 22), date(2024, 2, 10),
    date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6), date(2028, 1, 26), date(2029, 2, 13),
    date(2030, 2, 3), date(2031, 1, 23), date(2032, 2, 11), date(2033, 1, 31), date(2034, 2, 19),
    date(2035, 2, 8),
)  # fmt: skip
FESTIVAL_OFFSETS = (-2, -1, 0, 1, 2)
TREND = "指数平滑（阻尼趋势 ETS）"
CONSTANT = "常数（历史无变化）"


@dataclass(frozen=True)
class ForecastPoint:
    week: date  # Monday
    predicted: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Backtest:
    holdout_weeks: int
    mape: float | None  # over held-out weeks with calls; None when all had 0
    mase: float | None  # None when the naive forecast made no in-sample error
    baseline: str  # 季节性朴素 / 朴素
    baseline_mape: float | None


@dataclass(frozen=True)
class Forecast:
    enough: bool
    reason: str | None  # why not (Chinese), when not enough
    method: str | None
    history_weeks: int
    level: float  # of the prediction intervals
    points: list[ForecastPoint]
    backtest: Backtest | None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_counts(
    session: Session,
    project: str | None,
    topic: str | None,
    until: date | None,
    visible: ColumnElement[bool] | None = None,
) -> pd.Series:
    """Calls per ISO week (index: Monday timestamps, freq W-MON; values: int), gaps filled with 0.

    With ``topic`` the calls of that topic (``call_topics``), else all calls (``calls``); ``project`` None: all
    projects. ``until``: only complete weeks (Sunday on or before it); None: up to the week of the newest call.
    ``visible``: a condition on the queried table (the API's per-principal filter)."""
    table_day = CallTopic.day if topic is not None else Call.day
    where: list[ColumnElement[bool]] = [table_day.is_not(None)]
    if topic is not None:
        where.append(CallTopic.topic == topic)
        if project is not None:
            where.append(CallTopic.project == project)
    elif project is not None:
        where.append(Call.project == project)
    last_week: date | None = None
    if until is not None:
        last_week = week_start(until) - timedelta(days=7 if until.weekday() < 6 else 0)
        where.append(table_day <= last_week + timedelta(days=6))
    if visible is not None:
        where.append(visible)
    rows = session.execute(select(table_day, func.count()).where(*where).group_by(table_day)).all()
    counts: dict[date, int] = {}
    for day, n in rows:
        counts[week_start(day)] = counts.get(week_start(day), 0) + int(n)
    if not counts:
        return pd.Series([], index=pd.DatetimeIndex([], freq="W-MON"), dtype="int64", name="calls")
    end = last_week if last_week is not None else max(counts)
    index = pd.date_range(min(counts), end, freq="W-MON")
    values = [counts.get(ts.date(), 0) for ts in index]
    return pd.Series(values, index=index, dtype="int64", name="calls")


def forecast(series: pd.Series, weeks: int = 12, settings: InsightSettings | None = None) -> Forecast:
    """The next ``weeks`` weeks after ``series`` (weekly counts as from ``weekly_counts``), see the module doc."""
    settings = settings or InsightSettings()
    level = settings.forecast_level
    history = series.iloc[-MAX_HISTORY_WEEKS:].astype(float)
    n = len(history)
    if n < settings.forecast_min_weeks:
        reason = f"历史数据不足：仅有 {n} 周，至少需要 {settings.forecast_min_weeks} 周才能预测"
        return Forecast(False, reason, None, n, level, [], None)
    seasonal = n >= settings.forecast_seasonal_weeks
    values = history.to_numpy()
    first = history.index[0].date()
    method, predicted, lower, upper = _predict(values, first, weeks, level, seasonal)
    start = history.index[-1].date() + timedelta(days=7)
    points = [
        ForecastPoint(start + timedelta(days=7 * i), float(p), float(lo), float(hi))
        for i, (p, lo, hi) in enumerate(zip(predicted, lower, upper, strict=True))
    ]
    holdout = min(settings.forecast_holdout_weeks, n - settings.forecast_min_weeks // 2)
    return Forecast(True, None, method, n, level, points, backtest(values, first, holdout, level, seasonal))


def backtest(values: np.ndarray, first: date, holdout: int, level: float, seasonal: bool) -> Backtest:
    """Fit on all but the last ``holdout`` weekly values (the first of them the week of Monday ``first``),
    forecast them, and score (MAPE, MASE, the naive's MAPE)."""
    train, test = values[:-holdout], values[-holdout:]
    _, predicted, _, _ = _predict(train, first, holdout, level, seasonal)
    lag = SEASON_WEEKS if seasonal and len(train) > SEASON_WEEKS else 1
    # The naive forecast: the same week a year before (holdout <= 52 weeks), else the last week at every horizon.
    year_before = values[len(train) - lag : len(train) - lag + holdout]
    naive = year_before if lag == SEASON_WEEKS else np.full(holdout, train[-1])
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag]))) if len(train) > lag else 0.0
    mae = float(np.mean(np.abs(test - predicted)))
    return Backtest(
        holdout_weeks=holdout,
        mape=mape(test, predicted),
        mase=mae / scale if scale > 0 else None,
        baseline="季节性朴素" if lag == SEASON_WEEKS else "朴素",
        baseline_mape=mape(test, naive),
    )


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error (a fraction) over the weeks whose actual count is above 0."""
    mask = (actual > 0) & np.isfinite(predicted)
    if not mask.any():
        return None
    return float(np.mean(np.abs(actual[mask] - predicted[mask]) / actual[mask]))


def _predict(
    values: np.ndarray, first: date, steps: int, level: float, seasonal: bool
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Method name, point forecasts, lower and upper bounds (counts, clipped at 0) for the ``steps`` weeks
    after ``values`` (weekly, the first the week of Monday ``first``)."""
    if np.ptp(values) == 0:
        flat = np.full(steps, max(float(values[0]), 0.0))
        return CONSTANT, flat, flat.copy(), flat.copy()
    y = np.log1p(np.clip(values, 0, None))
    alpha = 1 - level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimizers: the backtest says how good it is
        if seasonal:
            method, frame = _harmonic(y, first, steps, alpha)
        else:
            method, frame = TREND, _ets(y, steps, alpha)
    predicted, lower, upper = (np.clip(np.expm1(frame[:, i]), 0, None) for i in range(3))
    bad = ~np.isfinite(predicted)
    if bad.any():  # a diverged fit: fall back to the last value, without an interval of its own
        predicted[bad] = lower[bad] = upper[bad] = values[-1]
    lower, upper = np.where(np.isfinite(lower), lower, 0.0), np.where(np.isfinite(upper), upper, predicted)
    return method, predicted, np.minimum(lower, predicted), np.maximum(upper, predicted)


def _harmonic(y: np.ndarray, first: date, steps: int, alpha: float) -> tuple[str, np.ndarray]:
    """The method and columns mean, lower, upper on the log scale: trend + yearly Fourier terms, AR(1) errors,
    with or without Spring Festival week dummies (whichever has the lower AIC; only when the history has one)."""
    process = DeterministicProcess(pd.RangeIndex(len(y)), constant=True, order=1,
                                   additional_terms=[Fourier(YEAR_WEEKS, FOURIER_ORDER)])  # fmt: skip
    exog, future = process.in_sample().to_numpy(), process.out_of_sample(steps).to_numpy()
    mondays = [first + timedelta(days=7 * i) for i in range(len(y) + steps)]
    festival = spring_festival_weeks(mondays)
    seen = festival[: len(y)].any(axis=0)  # a dummy the history never had cannot be estimated
    candidates = [(SEASONAL, exog, future)]
    if seen.any():
        with_festival = np.hstack([exog, festival[: len(y), seen]]), np.hstack([future, festival[len(y) :, seen]])
        candidates.append((SEASONAL_FESTIVAL, *with_festival))
    best: tuple[float, str, np.ndarray] | None = None
    for method, x, x_future in candidates:
        fitted = SARIMAX(y, exog=x, order=(1, 0, 0), trend="n").fit(disp=False)
        if best is not None and not fitted.aic < best[0]:
            continue
        result = fitted.get_forecast(steps, exog=x_future)
        bounds = np.asarray(result.conf_int(alpha=alpha))
        best = fitted.aic, method, np.column_stack([np.asarray(result.predicted_mean), bounds[:, 0], bounds[:, 1]])
    assert best is not None
    return best[1], best[2]


def spring_festival_weeks(mondays: list[date]) -> np.ndarray:
    """One 0/1 column per week offset in ``FESTIVAL_OFFSETS`` from the week of the Spring Festival (春节)."""
    festival_weeks = {week_start(day) for day in SPRING_FESTIVAL}
    columns = np.zeros((len(mondays), len(FESTIVAL_OFFSETS)))
    for row, monday in enumerate(mondays):
        for col, offset in enumerate(FESTIVAL_OFFSETS):
            if monday - timedelta(days=7 * offset) in festival_weeks:
                columns[row, col] = 1.0
    return columns


def _ets(y: np.ndarray, steps: int, alpha: float) -> np.ndarray:
    """Columns mean, lower, upper on the log scale: additive errors, damped additive trend, no season."""
    # A Series, not an array: statsmodels 0.15's ETS get_prediction needs an index.
    fitted = ETSModel(pd.Series(y), error="add", trend="add", damped_trend=True).fit(disp=False)
    frame = fitted.get_prediction(start=len(y), end=len(y) + steps - 1).summary_frame(alpha=alpha)
    return frame[["mean", "pi_lower", "pi_upper"]].to_numpy()
