"""Demand forecast (需求预测): weekly calls ahead with intervals and the backtest error
(``inspector.reports.forecast``)."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, Field

from inspector.reports.forecast import Forecast


class WeekCount(BaseModel):
    week: str = Field(description="周起始日（周一），YYYY-MM-DD")
    calls: int = Field(description="该周来电量")


class ForecastPointOut(BaseModel):
    week: str = Field(description="周起始日（周一），YYYY-MM-DD")
    predicted: float = Field(description="预测来电量")
    lower: float = Field(description="预测区间下限")
    upper: float = Field(description="预测区间上限")


class BacktestOut(BaseModel):
    holdout_weeks: int = Field(description="回测留出的最近周数（用其余历史拟合后预测这些周）")
    mape: float | None = Field(description="回测平均绝对百分比误差 MAPE（小数；留出周均无来电时为 null）")
    mase: float | None = Field(description="回测平均绝对标度误差 MASE（< 1 即优于朴素预测）")
    baseline: str = Field(description="对照的朴素预测：季节性朴素（去年同周）或 朴素（上一周）")
    baseline_mape: float | None = Field(description="朴素预测在同样留出周上的 MAPE")


class ForecastOut(BaseModel):
    project: str | None = Field(description="项目/小区（null：全部项目）")
    topic: str | None = Field(description="话题（null：全部来电）")
    weeks: int = Field(description="预测周数")
    enough: bool = Field(description="历史是否足以预测；否时见 reason，且没有预测点")
    reason: str | None = Field(description="不预测的原因")
    method: str | None = Field(description="预测方法")
    level: float = Field(description="预测区间的置信水平（模型预测区间），如 0.8 即 80%")
    history_weeks: int = Field(description="用于拟合的历史周数")
    history: list[WeekCount] = Field(description="历史每周来电量（最近的完整周为止）")
    points: list[ForecastPointOut] = Field(description="未来每周的预测")
    backtest: BacktestOut | None = Field(description="在已存历史上的回测误差")


def forecast_out(project: str | None, topic: str | None, weeks: int, series: pd.Series, found: Forecast) -> ForecastOut:
    backtest = found.backtest
    return ForecastOut(
        project=project,
        topic=topic,
        weeks=weeks,
        enough=found.enough,
        reason=found.reason,
        method=found.method,
        level=found.level,
        history_weeks=found.history_weeks,
        history=[WeekCount(week=ts.date().isoformat(), calls=int(n)) for ts, n in series.items()],
        points=[
            ForecastPointOut(
                week=p.week.isoformat(),
                predicted=round(p.predicted, 1),
                lower=round(p.lower, 1),
                upper=round(p.upper, 1),
            )
            for p in found.points
        ],
        backtest=None
        if backtest is None
        else BacktestOut(
            holdout_weeks=backtest.holdout_weeks,
            mape=None if backtest.mape is None else round(backtest.mape, 4),
            mase=None if backtest.mase is None else round(backtest.mase, 3),
            baseline=backtest.baseline,
            baseline_mape=None if backtest.baseline_mape is None else round(backtest.baseline_mape, 4),
        ),
    )
