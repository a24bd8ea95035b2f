"""The hot-issue page (热点问题) in the browser: the heat table 项目 × 话题 with a spike cell, the per-project
chart, the link to an example call; not in an agent's navigation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import delete, select

from inspector.store.schema import Call, CallTopic

TZ = ZoneInfo("Asia/Shanghai")


def test_the_heat_table_marks_a_wave_of_calls_as_a_spike(site: Any, ui: Any, make_ui: Any) -> None:
    # Three of the seeded calls also reported the lift of 阳光花园 (rows added here and removed at the end).
    with site.db.session() as session:
        calls = session.scalars(select(Call).order_by(Call.started_at.desc()).limit(3)).all()
        today = datetime.now(TZ).date()  # the call centre's day, which the page's default window ends on
        added = [c.id for c in calls]
        for n, call in enumerate(calls):
            session.add(CallTopic(call_id=call.id, topic="电梯", project="yangguang", day=today,
                                  at=datetime.now() - timedelta(minutes=n), agent_id=call.agent_id,
                                  caller=call.caller, unit=None, contact=f"web-{n}"))  # fmt: skip
    try:
        page = ui.login("admin")
        page.get_by_role("link", name="热点问题").click()
        expect(page).to_have_url(re.compile(r"#/insights"))
        heat = page.locator("#heat")
        expect(heat).to_be_visible()
        spike = heat.locator("tr[data-project='yangguang'] td[data-topic='电梯']")
        expect(spike).to_have_attribute("data-spike", "true")
        expect(spike).to_contain_text("3")
        expect(spike).to_contain_text("突增")
        chart = page.locator(".hot-project[data-project='yangguang']")
        expect(chart.locator("svg rect")).to_have_count(30)  # one bar per day of the default 30 days
        emerging = page.locator("#emerging")
        expect(emerging).to_contain_text("新出现的说法")
        expect(emerging).to_contain_text("基线期")
        ui.shot("hot-issues")
        chart.locator("a").first.click()
        expect(page).to_have_url(re.compile(r"#/calls/"))
        assert page.url.split("#/calls/")[1] in added
        ui.assert_clean()

        agent = make_ui()
        agent_page = agent.login("agent8001")
        expect(agent_page.locator("#topbar")).to_be_visible()
        expect(agent_page.get_by_role("link", name="热点问题")).to_have_count(0)
        agent.assert_clean()
    finally:
        with site.db.session() as session:
            session.execute(delete(CallTopic).where(CallTopic.topic == "电梯", CallTopic.project == "yangguang"))
