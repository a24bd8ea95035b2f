"""Demand forecast (需求预测): ``GET /insights/forecast`` — weekly calls of a project and topic, ``weeks`` weeks
ahead with intervals and the backtest error beside them; ``GET /insights/forecast.csv`` — the same for staff
planning (排班), history rows marked 实际. Staff only (agents 403); a team lead counts only its team's calls.

History runs to the last complete week on or before ``to`` (default: yesterday). With too little history the
answer is 200 with ``enough`` false and the reason, and no points.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import DbSession, Principal, Staff, State, agent_filter
from api.fields import ProjectQuery, SingleLine
from api.queries import parse_date
from api.routes.exports import file_responses, table_response
from api.schemas.forecast import ForecastOut, forecast_out
from inspector.reports.forecast import Forecast, forecast, weekly_counts
from inspector.store.schema import Call, CallTopic

router = APIRouter(tags=["洞察"])

MAX_WEEKS = 26
TopicQuery = Annotated[str | None, Query(max_length=64, description="话题；缺省为全部来电"), SingleLine]
WeeksQuery = Annotated[int, Query(ge=1, le=MAX_WEEKS, description=f"预测周数（1–{MAX_WEEKS}）")]
UntilQuery = Annotated[str | None, Query(alias="to", description="历史截至日期（含），YYYY-MM-DD；缺省为昨天")]
CSV_COLUMNS = ["周起始日", "类型", "实际来电量", "预测来电量", "下限", "上限"]


def _run(
    principal: Principal, state: State, session: DbSession, project: str | None, topic: str | None, weeks: int,
    until: str | None,
) -> tuple[pd.Series, Forecast]:  # fmt: skip
    end = parse_date("to", until) or state.today() - timedelta(days=1)
    visible = agent_filter(principal, CallTopic.agent_id if topic else Call.agent_id)
    series = weekly_counts(session, project or None, topic or None, end, visible)
    return series, forecast(series, weeks, state.settings.insights)


@router.get("/insights/forecast", response_model=ForecastOut, summary="需求预测：每周来电量预测（含区间与回测误差）")
def get_forecast(
    principal: Staff,
    state: State,
    session: DbSession,
    project: ProjectQuery = None,
    topic: TopicQuery = None,
    weeks: WeeksQuery = 12,
    until: UntilQuery = None,
) -> ForecastOut:
    series, found = _run(principal, state, session, project, topic, weeks, until)
    return forecast_out(project or None, topic or None, weeks, series, found)


@router.get(
    "/insights/forecast.csv",
    summary="导出需求预测（CSV，供排班）：历史周标为 实际，预测周含区间",
    response_class=Response,
    responses=file_responses("csv"),
)
def export_forecast_csv(
    principal: Staff,
    state: State,
    session: DbSession,
    project: ProjectQuery = None,
    topic: TopicQuery = None,
    weeks: WeeksQuery = 12,
    until: UntilQuery = None,
) -> Response:
    series, found = _run(principal, state, session, project, topic, weeks, until)
    rows: list[list[object]] = [[ts.date().isoformat(), "实际", int(n), None, None, None] for ts, n in series.items()]
    rows += [[p.week.isoformat(), "预测", None, round(p.predicted, 1), round(p.lower, 1), round(p.upper, 1)]
             for p in found.points]  # fmt: skip
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS).astype({"实际来电量": "Int64"})
    return table_response(frame, "csv", "forecast", "需求预测")
