"""Demand forecast (需求预测): too short a history is refused, a two-year seasonal series gets the seasonal
method and a small backtest error, intervals hold their points, nothing below 0; weekly counts from the
stored calls and topics on real databases, gaps filled."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from inspector.reports.forecast import (
    SEASONAL,
    SEASONAL_FESTIVAL,
    TREND,
    forecast,
    mape,
    spring_festival_weeks,
    week_start,
    weekly_counts,
)
from inspector.settings import InsightSettings
from inspector.store.schema import Agent, Call, CallTopic, Team

SETTINGS = InsightSettings()
LAST_MONDAY = date(2025, 9, 22)


def weekly(values: list[float] | np.ndarray, last_monday: date = LAST_MONDAY) -> pd.Series:
    index = pd.date_range(last_monday - timedelta(days=7 * (len(values) - 1)), last_monday, freq="W-MON")
    return pd.Series(np.asarray(values), index=index, name="calls")


def seasonal_rates(weeks: int, last_monday: date = LAST_MONDAY) -> np.ndarray:
    """A summer hump (peak mid-July, ×3) over a slowly rising base of 80 calls a week."""
    mondays = [last_monday - timedelta(days=7 * (weeks - 1 - i)) for i in range(weeks)]
    days = np.array([(m - date(m.year, 7, 15)).days for m in mondays], dtype=float)
    days = (days + 182) % 365.25 - 182  # days from the nearest mid-July
    return 80 * (1 + 0.1 * np.arange(weeks) / 52) * (1 + 2 * np.exp(-0.5 * (days / 25) ** 2))


def test_too_short_a_history_is_refused_in_chinese() -> None:
    found = forecast(weekly([5.0] * (SETTINGS.forecast_min_weeks - 1)), 12, SETTINGS)
    assert not found.enough and found.points == [] and found.backtest is None and found.method is None
    assert found.history_weeks == SETTINGS.forecast_min_weeks - 1
    assert found.reason is not None and "历史数据不足" in found.reason
    assert f"至少需要 {SETTINGS.forecast_min_weeks} 周" in found.reason
    assert forecast(weekly([5.0] * SETTINGS.forecast_min_weeks), 12, SETTINGS).enough


def test_a_two_year_seasonal_series_gets_the_seasonal_method_and_a_small_error() -> None:
    rng = np.random.default_rng(7)
    rates = seasonal_rates(104)
    found = forecast(weekly(rng.poisson(rates)), 12, SETTINGS)
    assert found.enough and found.method in (SEASONAL, SEASONAL_FESTIVAL) and found.history_weeks == 104
    bt = found.backtest
    assert bt is not None and bt.holdout_weeks == SETTINGS.forecast_holdout_weeks and bt.baseline == "季节性朴素"
    assert bt.mape is not None and bt.mape < 0.15, bt
    assert bt.mase is not None and bt.mase < 1.5
    # The forecast follows the season: the rates of the next 12 weeks (autumn, falling) within 20%.
    future = seasonal_rates(116, LAST_MONDAY + timedelta(days=7 * 12))[-12:]
    predicted = np.array([p.predicted for p in found.points])
    assert mape(future, predicted) < 0.2
    assert [p.week for p in found.points] == [LAST_MONDAY + timedelta(days=7 * (i + 1)) for i in range(12)]


def test_one_year_gets_the_trend_method_and_the_naive_baseline() -> None:
    rng = np.random.default_rng(3)
    found = forecast(weekly(rng.poisson(np.linspace(50, 80, 60))), 8, SETTINGS)
    assert found.method == TREND and len(found.points) == 8
    assert found.backtest is not None and found.backtest.baseline == "朴素"


def test_intervals_contain_their_points_and_widen_with_the_level() -> None:
    rng = np.random.default_rng(11)
    series = weekly(rng.poisson(seasonal_rates(110)))
    narrow = forecast(series, 12, InsightSettings(forecast_level=0.6))
    wide = forecast(series, 12, InsightSettings(forecast_level=0.95))
    assert wide.level == 0.95
    for a, b in zip(narrow.points, wide.points, strict=True):
        assert a.lower <= a.predicted <= a.upper and b.lower <= b.predicted <= b.upper
        assert a.upper - a.lower < b.upper - b.lower
        assert a.predicted == pytest.approx(b.predicted)


def test_forecasts_are_never_below_zero() -> None:
    # A steep fall to almost nothing: an unclipped trend would go negative.
    values = [200.0 - 12 * i for i in range(16)] + [2.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    found = forecast(weekly(values), 26, SETTINGS)
    assert found.enough and len(found.points) == 26
    for p in found.points:
        assert 0 <= p.lower <= p.predicted <= p.upper and math.isfinite(p.upper)
    silent = forecast(weekly([0.0] * 20), 4, SETTINGS)  # never a call: a flat 0, no error to score
    assert [p.predicted for p in silent.points] == [0.0] * 4
    assert silent.backtest is not None and silent.backtest.mape is None


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        InsightSettings(forecast_min_weeks=40, forecast_seasonal_weeks=30)
    with pytest.raises(ValueError):
        InsightSettings(forecast_holdout_weeks=16)
    with pytest.raises(ValueError):
        InsightSettings(forecast_level=1.0)


def test_spring_festival_weeks_follow_the_lunar_calendar() -> None:
    mondays = [date(2024, 1, 1) + timedelta(days=7 * i) for i in range(60)]
    columns = spring_festival_weeks(mondays)
    assert columns.sum(axis=0).tolist() == [2.0, 2.0, 2.0, 2.0, 2.0]  # 2024-02-10 and 2025-01-29
    assert mondays[int(np.argmax(columns[:, 2]))] == week_start(date(2024, 2, 10)) == date(2024, 2, 5)


# --- weekly counts from the store -------------------------------------------------------------------


def _add(session, call_id: str, day: date, project: str | None, topics: list[str], agent: str = "8001") -> None:
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=3)
    session.add(Call(id=call_id, agent_id=agent, started_at=at, day=day, audio_sha256=call_id.ljust(64, "0"),
                     audio_bytes=1, audio_name=f"{call_id}.wav", source="import", status="done", attempts=1,
                     created_at=at, updated_at=at, project=project))  # fmt: skip
    session.flush()
    for topic in topics:
        session.add(CallTopic(call_id=call_id, topic=topic, project=project, day=day, at=at, agent_id=agent,
                              caller=None, unit=None, contact=f"call:{call_id}"))  # fmt: skip


@pytest.fixture
def db(database):
    """yangguang: week of 2024-03-04 three calls (two 漏水/维修, one with also 噪音), nothing the next two
    weeks, 2024-03-25 one leak and 2024-03-31 (Sunday) one leak by 9001 (B组); lanting: one call 2024-03-06."""
    with database.session() as session:
        now = datetime(2024, 1, 1)
        session.add_all([Team(id="A组", name="A组"), Team(id="B组", name="B组")])
        session.flush()
        session.add_all([Agent(id="8001", name="甲", team_id="A组", created_at=now),
                         Agent(id="9001", name="乙", team_id="B组", created_at=now)])  # fmt: skip
        session.flush()
        _add(session, "c1", date(2024, 3, 4), "yangguang", ["漏水/维修"])
        _add(session, "c2", date(2024, 3, 6), "yangguang", ["漏水/维修", "噪音"])
        _add(session, "c3", date(2024, 3, 10), "yangguang", ["噪音"])
        _add(session, "c4", date(2024, 3, 25), "yangguang", ["漏水/维修"])
        _add(session, "c5", date(2024, 3, 31), "yangguang", ["漏水/维修"], agent="9001")
        _add(session, "c6", date(2024, 3, 6), "lanting", ["停车"])
    return database


def test_weekly_counts_fill_the_gaps_with_zero(db) -> None:
    with db.session() as session:
        leaks = weekly_counts(session, "yangguang", "漏水/维修", None)
        calls = weekly_counts(session, "yangguang", None, None)
        everyone = weekly_counts(session, None, None, None)
        noise = weekly_counts(session, None, "噪音", None)
        nothing = weekly_counts(session, "nowhere", None, None)
    weeks = [date(2024, 3, 4), date(2024, 3, 11), date(2024, 3, 18), date(2024, 3, 25)]
    assert [ts.date() for ts in leaks.index] == weeks and leaks.index.freqstr == "W-MON"
    assert leaks.tolist() == [2, 0, 0, 2]
    assert calls.tolist() == [3, 0, 0, 2]  # distinct calls: c2 has two topics but is one call
    assert everyone.tolist() == [4, 0, 0, 2]
    assert noise.tolist() == [2]
    assert nothing.empty


def test_weekly_counts_stop_at_the_last_complete_week(db) -> None:
    with db.session() as session:
        through_sunday = weekly_counts(session, "yangguang", "漏水/维修", date(2024, 3, 31))
        saturday = weekly_counts(session, "yangguang", "漏水/维修", date(2024, 3, 30))
        later = weekly_counts(session, "yangguang", None, date(2024, 4, 16))
    assert through_sunday.tolist() == [2, 0, 0, 2]
    assert saturday.tolist() == [2, 0, 0]  # the week of 2024-03-25 is not over on the 30th
    assert later.tolist() == [3, 0, 0, 2, 0, 0]  # weeks after the last call are 0, up to the week ending 04-14


def test_weekly_counts_obey_the_visibility_filter(db) -> None:
    with db.session() as session:
        a_team = weekly_counts(session, "yangguang", "漏水/维修", None, CallTopic.agent_id == "8001")
        a_calls = weekly_counts(session, "yangguang", None, None, Call.agent_id == "8001")
    assert a_team.tolist() == [2, 0, 0, 1] and a_calls.tolist() == [3, 0, 0, 1]
