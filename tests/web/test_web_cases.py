"""The complaint-case pages (投诉工单) in the browser: a red alert of a seeded call opened a case; a reviewer
takes it from 受理 through 核实, 处理, 反馈 and 回访 (not satisfied: back to 处理) to 关闭, and the page shows the
steps, the clocks and every step with its note in the history; a reviewer opens a case from a yellow alert; an
agent has no case pages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from inspector.store.schema import Case


def _advance(page: Any, button: str, note: str, toast: str) -> None:
    page.locator("#case-note").fill(note)
    page.get_by_role("button", name=button).click()
    expect(page.locator(".toast")).to_have_text(toast)


def test_reviewer_drives_a_case_from_accepted_to_closed(site: Any, ui: Any, make_ui: Any) -> None:
    with site.db.session() as session:  # the worker opened a case for each red alert of the seeded calls
        opened = session.scalars(select(Case).where(Case.status == "accepted").order_by(Case.id)).all()
        assert opened and all(c.source == "alert" and c.level == "red" for c in opened)
        case_id = opened[0].id

    page = ui.login("reviewer")
    page.get_by_role("link", name="投诉工单").click()
    expect(page).to_have_url(re.compile(r"#/cases"))
    row = page.locator(f"#cases tr[data-case-id='{case_id}']")
    expect(row).to_contain_text("受理")
    expect(row.locator("[data-clock='respond']")).to_have_attribute("data-state", "running")  # opened just now
    expect(page.locator("#case-stats")).to_contain_text("合计")
    ui.shot("cases")

    row.get_by_role("link", name=f"#{case_id}").click()
    expect(page).to_have_url(re.compile(rf"#/cases/{case_id}$"))
    expect(page.locator("#case-steps li.current")).to_have_text("受理")
    expect(page.locator("#case-calls li")).not_to_have_count(0)

    _advance(page, "转入核实", "已电话联系业主，核实情况", "工单已转入核实")
    expect(page.locator("#case-steps li.current")).to_have_text("核实")
    expect(page.locator("[data-clock='respond']")).to_have_attribute("data-state", "met")  # answered in time
    _advance(page, "转入处理", "派维修师傅上门", "工单已转入处理")
    _advance(page, "转入反馈", "已修复，告知业主", "工单已转入反馈")
    _advance(page, "转入回访", "", "工单已转入回访")
    expect(page.locator("#case-steps li.current")).to_have_text("回访")
    _advance(page, "回访不满意，重新处理", "业主说仍有渗水", "工单已退回处理")
    expect(page.locator("#case-steps li.current")).to_have_text("处理")
    _advance(page, "转入反馈", "二次维修完成", "工单已转入反馈")
    _advance(page, "转入回访", "", "工单已转入回访")
    _advance(page, "回访满意，关闭工单", "业主确认已解决", "工单已关闭")

    expect(page.locator("#case-steps li.done")).to_have_count(6)
    expect(page.locator("#case-actions")).to_have_count(0)  # nothing left to do on a closed case
    expect(page.locator("[data-clock='close']")).to_have_attribute("data-state", "met")
    history = page.locator("#case-history")
    expect(history.locator("tr[data-action='case.reopen']")).to_contain_text("业主说仍有渗水")
    expect(history.locator("tr[data-action='case.closed']")).to_contain_text("业主确认已解决")
    expect(history.locator("tr[data-action='case.verifying']")).to_contain_text("reviewer")
    expect(history.locator("tbody tr")).to_have_count(9)  # opened + 8 steps
    ui.shot("case")
    ui.assert_clean()
    with site.db.session() as session:
        case = session.get(Case, case_id)
        assert case.status == "closed" and case.reopened == 1 and case.revisit_outcome == "satisfied"

    # A reviewer opens a case from a yellow alert (立案 on the alert list): a case of its own, opened by a person.
    page.get_by_role("link", name="预警").click()
    page.get_by_label("级别").select_option("yellow")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"level=yellow"))
    yellow = page.locator("#alerts tbody tr").first
    alert_id = int(yellow.get_attribute("data-alert-id"))
    yellow.get_by_label("处理说明").fill("业主要求书面答复")
    yellow.get_by_role("button", name="立案").click()
    expect(page).to_have_url(re.compile(r"#/cases/\d+$"))
    expect(page.locator("#case-steps li.current")).to_have_text("受理")
    expect(page.locator("#case-history")).to_contain_text("业主要求书面答复")
    with site.db.session() as session:
        made = session.scalars(select(Case).where(Case.alert_id == alert_id)).one()
        assert made.source == "person" and made.level == "yellow" and made.opened_by == "user:reviewer"
    ui.assert_clean()

    agent = make_ui()
    agent_page = agent.login("agent8001")
    expect(agent_page.locator("#topbar")).to_be_visible()
    expect(agent_page.get_by_role("link", name="投诉工单")).to_have_count(0)
    agent.assert_clean()
