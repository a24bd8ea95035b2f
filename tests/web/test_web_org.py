"""The organization page (组织架构) in the browser: an admin drills down 集团 → 区域 → 项目 and sees each level's
figures, children and ranked agents; a project manager (a team lead scoped to a project) starts at its project
and is refused another one; an agent has no such page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import delete

from inspector.store.schema import OrgUnit, User, WebSession

ORG = {
    "id": "huaxia", "name": "华夏物业集团",
    "regions": [{"id": "east", "name": "华东区域", "projects": [
        {"id": "yangguang", "name": "阳光花园", "teams": ["A组"]},
        {"id": "jinxiu", "name": "锦绣华庭", "teams": ["B组"]},
    ]}],
}  # fmt: skip
PASSWORD = "zhijian-2024-demo"


def test_drilling_down_the_hierarchy_and_a_project_managers_scope(site: Any, ui: Any, make_ui: Any) -> None:
    from inspector.people.org import apply_org, parse_org
    from inspector.store.users import create_user

    with site.db.session() as session:
        apply_org(session, parse_org(ORG))
        create_user(session, "pm_yg", PASSWORD, "team_lead", display_name="周经理", scope="yangguang")
    try:
        page = ui.login("admin")
        page.get_by_role("link", name="组织架构").click()
        expect(page).to_have_url(re.compile(r"#/org/huaxia"))
        expect(page.locator("#org-path")).to_contain_text("华夏物业集团")
        expect(page.locator("#org-kpis")).to_contain_text("通话数")
        expect(page.locator("#org-children tr[data-node='east']")).to_be_visible()
        page.locator("#org-children tr[data-node='east'] a", has_text="华东区域").click()
        expect(page).to_have_url(re.compile(r"#/org/east"))
        expect(page.locator("#org-children tbody tr")).to_have_count(2)
        page.locator("#org-children tr[data-node='yangguang'] a", has_text="阳光花园").click()
        expect(page).to_have_url(re.compile(r"#/org/yangguang"))
        expect(page.locator("#org-path")).to_contain_text("华夏物业集团 › 华东区域 › 阳光花园")
        expect(page.locator("#org-children tr[data-node='A组']")).to_be_visible()
        board = page.locator("#org-leaderboard")
        expect(board).to_contain_text("张晓雯")
        expect(board).to_contain_text("李建国")
        expect(board).not_to_contain_text("王芳")  # B组 is under 锦绣华庭
        ui.shot("org")
        page.locator("#org-path a", has_text="华东区域").click()
        expect(page).to_have_url(re.compile(r"#/org/east"))
        ui.assert_clean()

        manager = make_ui()
        pm = manager.page
        pm.goto(manager.url("#/login"))
        pm.get_by_label("用户名").fill("pm_yg")
        pm.get_by_label("密码").fill(PASSWORD)
        pm.get_by_role("button", name="登录").click()
        expect(pm.locator("#user-name")).to_have_text("周经理")
        pm.get_by_role("link", name="组织架构").click()
        expect(pm).to_have_url(re.compile(r"#/org/yangguang"))
        expect(pm.locator("#org-path")).to_have_text("阳光花园")  # nothing above its scope
        expect(pm.locator("#org-leaderboard")).not_to_contain_text("王芳")
        manager.goto("#/org/jinxiu")
        expect(pm.locator("#main [role=alert]")).to_contain_text("只能查看管辖范围内")
        manager.assert_clean()

        agent = make_ui()
        agent_page = agent.login("agent8001")
        expect(agent_page.get_by_role("link", name="组织架构")).to_have_count(0)
        agent.assert_clean()
    finally:
        with site.db.session() as session:
            session.execute(delete(OrgUnit))
            user_ids = [u.id for u in session.query(User).filter(User.username == "pm_yg")]
            session.execute(delete(WebSession).where(WebSession.user_id.in_(user_ids)))
            session.execute(delete(User).where(User.username == "pm_yg"))
