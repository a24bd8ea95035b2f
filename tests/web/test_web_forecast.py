"""The demand-forecast page (需求预测) in the browser: reached from 热点问题; 30 weeks of a topic's calls give a
chart with history, forecast and interval, the table of 12 weeks, the backtest error and the CSV link; the
five weeks of all seeded calls are too little history, and the page says so instead of guessing."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import delete, select

from inspector.store.schema import Call, CallTopic

TZ = ZoneInfo("Asia/Shanghai")
TOPIC = "空调维修"


def test_a_topic_with_history_is_forecast_and_too_little_history_is_refused(site: Any, ui: Any) -> None:
    today = datetime.now(TZ).date()
    added: list[str] = []
    try:
        page = ui.login("admin")
        page.get_by_role("link", name="热点问题").click()
        page.get_by_role("link", name="需求预测 →").click()
        expect(page).to_have_url(re.compile(r"#/forecast"))
        expect(page.locator("#forecast-refused")).to_contain_text("历史数据不足")  # the seeded five weeks

        with site.db.session() as session:  # calls of their own (call_topics holds one row per call and topic)
            agent = session.scalars(select(Call.agent_id).limit(1)).one()
            for week in range(30):  # the 30 weeks before the current one, with a gentle rise
                monday = today - timedelta(days=today.weekday() + 7 * (week + 1))
                at = datetime.combine(monday, datetime.min.time())
                for n in range(5 + (30 - week) // 3):
                    call_id = f"fc-{week:02d}-{n:02d}"
                    added.append(call_id)
                    session.add(Call(id=call_id, agent_id=agent, day=monday, started_at=at,
                                     audio_sha256=uuid.uuid4().hex * 2, audio_bytes=1, audio_name=f"{call_id}.wav",
                                     source="import", status="done", created_at=at, updated_at=at))  # fmt: skip
                    session.add(CallTopic(call_id=call_id, topic=TOPIC, project="yangguang", day=monday, at=at,
                                          agent_id=agent, caller=None, unit=None, contact=call_id))  # fmt: skip

        page.get_by_label("话题").fill(TOPIC)
        page.get_by_role("button", name="预测").click()
        expect(page.locator("#forecast-chart polyline.history")).to_have_count(1)
        expect(page.locator("#forecast-chart circle.predicted-dot")).to_have_count(12)
        expect(page.locator("#forecast-table tbody tr")).to_have_count(12)
        expect(page.locator("#forecast-kpis")).to_contain_text("MAPE")
        href = page.get_by_role("link", name="导出 CSV（排班用）").get_attribute("href")
        assert href.startswith("/api/v1/insights/forecast.csv") and "topic=" in href
        ui.shot("forecast")
        ui.assert_clean()
    finally:
        with site.db.session() as session:
            session.execute(delete(CallTopic).where(CallTopic.call_id.in_(added)))
            session.execute(delete(Call).where(Call.id.in_(added)))
