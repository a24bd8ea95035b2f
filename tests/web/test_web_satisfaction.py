"""Satisfaction in the browser (满意度): an admin imports a survey CSV on 满意度分析 (a bad row reported with its
line), the rule-effect tables show every deducting rule (样本不足 with this few surveys), and the agent sees
CSAT and NPS on its own scorecard; an agent has no analysis page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import delete

from inspector.store.schema import Survey


def test_admin_imports_surveys_and_the_agent_sees_its_satisfaction(
    site: Any, ui: Any, make_ui: Any, tmp_path: Path
) -> None:
    own = [call_id for call_id, agent in site.agents_of.items() if agent == "8001"]
    csv = tmp_path / "回访.csv"
    rows = [f"{call_id},{5 - i % 3},{9 - i % 4},谢谢" for i, call_id in enumerate(own)]
    csv.write_bytes(("call_id,csat,nps,comment\n" + "\n".join(rows) + "\nnone-such,5,10,\n").encode("gbk"))
    try:
        page = ui.login("admin")
        page.get_by_role("link", name="满意度分析").click()
        expect(page).to_have_url(re.compile(r"#/satisfaction"))
        page.get_by_label("满意度 CSV 文件").set_input_files(str(csv))
        page.get_by_role("button", name="导入").click()
        result = page.locator("#survey-import-result")
        expect(result).to_contain_text(f"导入 {len(own)} 条")
        expect(result).to_contain_text(f"第 {len(own) + 2} 行：通话 none-such 不存在")
        page.get_by_label("开始").fill("2000-01-01")
        page.get_by_role("button", name="查询").click()
        expect(page.locator("#satisfaction-kpis")).to_contain_text(str(len(own)))
        effects = page.locator("#rule-effects tbody tr")
        expect(effects.first).to_be_visible()
        expect(effects.first).to_contain_text("样本不足")
        ui.shot("satisfaction")
        ui.assert_clean()

        agent = make_ui()
        agent_page = agent.login("agent8001")
        kpis = agent_page.locator("#kpis")
        expect(kpis).to_contain_text("满意度")
        expect(kpis).to_contain_text(f"{len(own)} 份")
        expect(agent_page.get_by_role("link", name="满意度分析")).to_have_count(0)
        agent.assert_clean()
    finally:
        with site.db.session() as session:
            session.execute(delete(Survey))
