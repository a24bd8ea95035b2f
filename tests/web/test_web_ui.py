"""The web UI in a real browser (Chromium via Playwright) against the real app; see conftest.py for the setup.

Each test is one person's (or two people's) path through the UI; every browser context is checked for
requests that left the machine and for JavaScript errors.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any

from playwright.sync_api import expect

ROLE_HOME = re.compile(r"/ui/#/")


def number(text: str) -> float:
    found = re.search(r"-?\d+(?:\.\d+)?", text)
    assert found, f"no number in {text!r}"
    return float(found.group())


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """A plain GET without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_static_app_is_served_offline_and_login_errors_are_chinese(site: Any, ui: Any) -> None:
    base = site.base_url.replace("localhost", "127.0.0.1")
    status, headers, _ = fetch(f"{base}/")
    assert status in (302, 307) and headers["location"].endswith("/ui/")
    for path, kind in (("/ui/", "text/html"), ("/ui/app.js", "text/javascript"), ("/ui/style.css", "text/css"),
                       ("/ui/favicon.svg", "image/svg+xml"), ("/ui/calls/HL1", "text/html")):  # fmt: skip
        status, headers, body = fetch(base + path)
        assert status == 200, path
        assert headers["content-type"].startswith(kind), (path, headers["content-type"])
        assert "default-src 'self'" in headers["content-security-policy"]
        urls = set(re.findall(rb"https?://[^\s'\"<>)]+", body)) - {b"http://www.w3.org/2000/svg"}  # a namespace
        assert not urls, f"{path} refers to another host: {urls}"
    # The data needs a login; the pages do not.
    assert fetch(f"{base}/api/v1/calls")[0] == 401

    page = ui.page
    ui.goto("#/calls")
    expect(page).to_have_url(re.compile(r"#/login\?next=%2Fcalls$"))
    expect(page.locator("#topbar")).to_be_hidden()
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".form-error")).to_have_text("请输入用户名和密码")
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".form-error")).to_have_text("用户名或密码错误")
    page.get_by_label("密码").fill("")
    ui.shot("login")
    ui.assert_clean()


def test_reviewer_plays_the_call_and_rejects_a_hit(site: Any, ui: Any) -> None:
    page = ui.login("reviewer")
    expect(page).to_have_url(re.compile(r"#/reviews$"))  # a reviewer's home: the review queue
    expect(page.locator("#nav a.active")).to_have_text("复核队列")
    queue = page.locator("#review-queue")
    expect(queue).to_be_visible()
    for reason in ("红色预警", "随机抽检"):
        expect(queue.get_by_text(reason).first).to_be_visible()
    ui.shot("review-queue")

    call_id = site.calls["a2_angry"]
    queue.locator(f"tr[data-call-id='{call_id}']").get_by_role("link", name="开始复核").click()
    expect(page).to_have_url(re.compile(f"#/calls/{call_id}$"))
    utterances = page.locator("#transcript .utt")
    expect(utterances.first).to_be_visible()
    assert utterances.count() >= 10
    expect(page.locator("#transcript .utt.agent .who b").first).to_have_text("坐席")
    expect(page.locator("#transcript .utt.customer .who b").first).to_have_text("客户")
    # Hits are listed with rule name, points and time, and marked in the transcript.
    prohibited = page.locator("#hits .hit-item.deduct[data-rule-id='prohibited']")
    expect(prohibited).to_contain_text("服务禁语")
    expect(prohibited).to_contain_text("-10 分")
    expect(prohibited).to_contain_text("「不归我们管」")
    expect(page.locator("#transcript mark.hit-deduct", has_text="不归我们管")).to_be_visible()
    expect(page.locator("#alert-box")).to_contain_text("红色预警")

    # Clicking an utterance seeks the recording there and highlights it; playback moves the highlight on.
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('player').currentTime") == 0
    target = utterances.nth(4)
    start = float(target.get_attribute("data-start"))
    target.click()
    expect(target).to_have_class(re.compile(r"\bcurrent\b"))
    page.wait_for_function(f"document.getElementById('player').currentTime >= {start}")
    later = utterances.nth(9)
    later_start = float(later.get_attribute("data-start"))
    page.evaluate(f"document.getElementById('player').currentTime = {later_start + 0.2}")  # as playback would
    expect(later).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator("#transcript .utt.current")).to_have_count(1)
    # Clicking a hit seeks to it as well.
    prohibited.locator(".hit-main").click()
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 21.3) < 1.5")
    page.evaluate("document.getElementById('player').pause()")
    page.locator("#side").evaluate("side => { side.scrollTop = 0; }")  # the score panel in the picture
    ui.shot("call-detail")

    machine = number(page.locator("#machine-score").inner_text())
    expect(page.locator("#reviewed-score")).to_have_text("未复核")
    prohibited.get_by_role("button", name="驳回").click()
    expect(prohibited.locator(".form-error")).to_have_text("驳回命中需要填写理由")
    prohibited.get_by_label("判定说明").fill("坐席是在转述客户原话，不属于服务禁语")
    prohibited.get_by_role("button", name="驳回").click()
    expect(page.locator("#hits .hit-item.deduct[data-rule-id='prohibited']")).to_contain_text("已驳回")
    expect(page.locator("#reviewed-score")).not_to_have_text("未复核")
    reviewed = number(page.locator("#reviewed-score").inner_text())
    assert reviewed == machine + 10, (machine, reviewed)
    assert number(page.locator("#effective-score").inner_text()) == reviewed
    audit = page.locator("#audit")
    expect(audit).to_contain_text("命中判定")
    expect(audit).to_contain_text("驳回")
    expect(audit).to_contain_text("坐席是在转述客户原话")
    expect(audit).to_contain_text(f"{machine:g}")  # the effective score before → after
    expect(audit).to_contain_text(f"{reviewed:g}")

    page.get_by_role("button", name="完成复核").click()
    expect(page.locator("#review-panel")).to_contain_text("完成复核")
    expect(page.locator("#score-panel")).to_contain_text("已复核")
    ui.assert_clean()


def test_agent_sees_own_calls_only_and_appeals_a_deduction(site: Any, make_ui: Any) -> None:
    agent = make_ui()
    page = agent.login("agent8001")
    expect(page).to_have_url(re.compile(r"#/agents/8001$"))  # an agent's home: the own scorecard
    expect(page.locator("h1")).to_have_text("我的成绩单")

    page.get_by_role("link", name="我的通话").click()
    rows = page.locator("#calls-table tbody tr")
    own = sorted(call_id for call_id, agent_id in site.agents_of.items() if agent_id == "8001")
    expect(rows).to_have_count(len(own))
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.callId)")) == own
    expect(page.get_by_role("link", name="导出 CSV")).to_have_count(0)  # exports are for staff

    others = site.calls["a2_angry"]
    agent.goto(f"#/calls/{others}")
    expect(page.locator(".error-box")).to_contain_text("通话不存在")
    expect(page.locator("#player")).to_have_count(0)

    call_id = site.calls["a1_angry"]
    agent.goto(f"#/calls/{call_id}")
    hit = page.locator("#hits .hit-item.deduct[data-rule-id='prohibited']")
    expect(hit).to_be_visible()
    before = number(page.locator("#effective-score").inner_text())
    expect(page.locator("[data-action='confirm'], [data-action='reject']")).to_have_count(0)
    expect(page.locator("#review-panel, #audit")).to_have_count(0)
    hit.get_by_role("button", name="申诉").click()
    hit.get_by_role("button", name="提交申诉").click()
    expect(hit.locator(".form-error")).to_have_text("请填写申诉理由")
    hit.get_by_label("申诉理由").fill("客户先说“不归你们管”，我是在复述并马上给出了处理办法")
    hit.get_by_role("button", name="提交申诉").click()
    hit = page.locator("#hits .hit-item.deduct[data-rule-id='prohibited']")
    expect(hit.locator(".appeal-status")).to_have_text("申诉中")
    expect(hit.get_by_role("button", name="申诉")).to_have_count(0)
    page.get_by_role("link", name="我的申诉").click()
    expect(page.locator("#appeals")).to_contain_text("申诉中")

    reviewer = make_ui()
    review_page = reviewer.login("reviewer")
    review_page.get_by_role("link", name="申诉处理").click()
    row = review_page.locator(f"#appeals tr[data-call-id='{call_id}']")
    expect(row).to_contain_text("服务禁语")
    expect(row).to_contain_text("我是在复述")
    row.get_by_label("处理意见").fill("录音核实属实，撤销该项扣分")
    row.get_by_role("button", name="接受").click()
    expect(review_page.locator(f"#appeals tr[data-call-id='{call_id}']")).to_have_count(0)  # no longer open

    agent.goto(f"#/calls/{call_id}")
    hit = page.locator("#hits .hit-item.deduct[data-rule-id='prohibited']")
    expect(hit.locator(".appeal-status")).to_have_text("申诉成功")
    expect(hit).to_contain_text("录音核实属实")
    after = number(page.locator("#effective-score").inner_text())
    assert after == before + 10, (before, after)
    agent.goto("#/calls")
    expect(page.locator(f"#calls-table tr[data-call-id='{call_id}'] .score")).to_have_text(f"{after:g}")
    agent.assert_clean()
    reviewer.assert_clean()


def test_trainer_assigns_coaching_from_a_scorecard(site: Any, ui: Any) -> None:
    page = ui.login("trainer")
    expect(page).to_have_url(re.compile(r"#/coaching$"))  # a trainer's home: the coaching board
    ui.goto("#/agents/8001")
    expect(page.locator("h1")).to_have_text("坐席成绩单")
    kpis = page.locator("#kpis")
    for label in ("通话数", "平均分", "共情话术使用率", "红色预警", "团队百分位"):
        expect(kpis).to_contain_text(label)
    chart = page.locator("#trend svg.trend-chart")
    expect(chart).to_be_visible()
    assert chart.locator("circle.pt").count() >= 4  # about five weeks of calls, by week
    expect(chart.locator("polyline.line")).to_have_count(1)
    expect(page.locator("#dimensions .bar-row")).to_have_count(5)
    expect(page.locator("#checks")).to_contain_text("共情话术")
    # The most-missed rules (a finding a reviewer rejected earlier in the session no longer counts).
    expect(page.locator("#most-missed")).to_contain_text("共情安抚")
    competencies = page.locator("#competencies")
    expect(competencies.get_by_text("薄弱").first).to_be_visible()
    ui.shot("scorecard")

    weak = competencies.locator("tbody tr", has=page.get_by_text("薄弱")).first
    competency = weak.get_attribute("data-competency")
    weak.get_by_role("link", name="指派培训").click()
    form = page.locator("#assign-form")
    expect(form).to_be_visible()
    expect(form.get_by_label("坐席工号")).to_have_value("8001")
    expect(form.get_by_label("能力项")).to_have_value(competency)
    evidence = form.locator("#evidence-list input[type='checkbox']")
    expect(evidence.first).to_be_visible()
    for i in range(min(2, evidence.count())):
        evidence.nth(i).check()
    chosen = form.locator("#evidence-list input:checked").evaluate_all("els => els.map(e => e.value)")
    assert len(chosen) >= 2
    form.get_by_label("截止日期").fill("2099-12-31")
    form.get_by_label("备注").fill("重点练习情绪安抚与致歉话术")
    form.get_by_role("button", name="指派培训").click()

    board = page.locator("#coaching-board")
    card = board.locator("[data-column='assigned'] .task", has_text="张晓雯")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("2099-12-31")
    for call_id in chosen:
        expect(card).to_contain_text(call_id)
    expect(card).to_contain_text("培训效果")
    ui.shot("coaching-board")

    # No review powers: no controls on a call page, and the API refuses a forced POST.
    call_id = site.calls["a1_leak"]
    ui.goto(f"#/calls/{call_id}")
    expect(page.locator("#hits")).to_be_visible()
    expect(page.locator("[data-action='confirm'], [data-action='reject'], #review-panel, #audit")).to_have_count(0)
    forced = ui.api("POST", f"/calls/{call_id}/hits/0/verdict", {"verdict": "rejected", "comment": "强行驳回"})
    assert forced["status"] == 403, forced
    assert ui.api("POST", f"/calls/{call_id}/score", {"score": 100, "reason": "强行改分"})["status"] == 403
    ui.assert_clean()


def test_staff_pages_render(site: Any, ui: Any) -> None:
    """Every other page loads for an admin without errors (list filters, leaderboard, precision, alerts)."""
    page = ui.login("admin")
    expect(page).to_have_url(re.compile(r"#/calls$"))
    expect(page.locator("#calls-table tbody tr")).to_have_count(len(site.calls))
    page.get_by_label("预警").select_option("red")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"alert=red"))
    red_rows = page.locator("#calls-table tbody tr")
    expect(red_rows.first).to_be_visible()
    assert all("红色预警" in text for text in red_rows.all_inner_texts())
    csv = page.get_by_role("link", name="导出 CSV")
    assert csv.get_attribute("href").startswith("/api/v1/exports/calls.csv?alert=red")
    ui.shot("call-list")

    page.get_by_role("link", name="班组排行").click()
    board = page.locator("#leaderboard")
    expect(board).to_contain_text("张晓雯")
    expect(board).to_contain_text("李建国")
    page.get_by_role("link", name="规则精度").click()
    expect(page.locator("#precision")).to_contain_text("服务禁语")
    page.get_by_role("link", name="预警").click()
    alerts = page.locator("#alerts")
    expect(alerts.locator("tr[data-level='red']").first).to_be_visible()
    row = alerts.locator("tbody tr").first
    row.get_by_label("处理说明").fill("已回访客户")
    row.get_by_role("button", name="确认处理").click()
    expect(page.locator(".toast")).to_have_text("预警已确认处理")
    page.get_by_role("link", name="申诉处理").click()
    expect(page.locator("h1")).to_have_text("申诉处理")
    page.get_by_role("link", name="培训辅导").click()
    expect(page.locator("#coaching-board")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"#/login"))
    expect(page.locator("#topbar")).to_be_hidden()
    ui.assert_clean()


def test_rule_playground_and_backtest_before_activating(site: Any, ui: Any) -> None:
    """An admin tries an edited rule on a pasted dialogue (the words highlighted, a broken rule named by its
    line), then backtests a stored rule set: the result is on screen before 启用, which asks first."""
    from inspector.store import rulesets

    files = rulesets.read_bundle(site.settings.rules_dir)
    files["property-default.yaml"] = (
        files["property-default.yaml"]
        .replace("version: 1", "version: 2", 1)
        .replace(
            "category: closing\n    dimension: service\n    mode: require\n    points: 5",
            "category: closing\n    dimension: service\n    mode: require\n    points: 25",
            1,
        )
    )
    with site.db.session() as session:
        record, _ = rulesets.add_ruleset(session, files)
        candidate_id = record.id

    page = ui.login("admin")
    page.get_by_role("link", name="规则试验台").click()
    rule = page.locator("#pg-rule")
    expect(rule).to_have_value(re.compile(r"^id: greeting\n"))  # starts from the active pack's first rule
    rule.fill("id: sorry\nname: 致歉\ncategory: apology\ndimension: emotion\nmode: require\npoints: 5\n"
              "when:\n  keywords: {any: [抱歉]}\n")  # fmt: skip
    page.get_by_role("button", name="试运行").click()
    expect(page.locator("#pg-findings tbody tr")).to_have_count(1)
    expect(page.locator("#pg-findings")).to_contain_text("命中")
    hit = page.locator("#pg-transcript mark.pg-hit")
    expect(hit).to_have_text("抱歉")
    expect(page.locator("#pg-transcript .pg-line.pg-found")).to_contain_text("坐席：非常抱歉给您添麻烦了")
    page.locator("#pg-transcript").scroll_into_view_if_needed()
    ui.shot("rule-playground")
    rule.fill(
        "id: sorry\nname: 致歉\ncategory: apology\ndimension: speed\nmode: require\nwhen:\n  keywords: {any: [抱歉]}\n"
    )
    page.get_by_role("button", name="试运行").click()
    expect(page.locator("#pg-error")).to_contain_text("rule_yaml:4")
    expect(page.locator("#pg-error")).to_contain_text("未知的维度 speed")

    page.get_by_role("link", name="规则集").click()
    row = page.locator(f"#rulesets tr[data-ruleset-id='{candidate_id}']")
    expect(row).to_contain_text("未启用")
    expect(page.locator("#activate")).to_have_count(0)  # no 启用 before a backtest
    row.get_by_role("button", name="试运行（回测）").click()
    result = page.locator("#backtest")
    expect(result.locator("#backtest-rules tr[data-rule-id='greeting']")).to_be_visible()
    expect(result.locator("#backtest-summary")).to_contain_text(f"回测 {len(site.calls)} 通已完成通话")
    expect(result.locator("#backtest-agents tbody tr").first).to_be_visible()
    changed = result.locator("#backtest-calls tbody tr")  # the calls without a closing lose 20 more points
    expect(changed).to_have_count(6)
    assert changed.first.locator("a").get_attribute("href").startswith("#/calls/HL")
    activate = result.locator("#activate")
    expect(activate).to_be_visible()
    assert result.locator("#backtest-rules").bounding_box()["y"] < activate.bounding_box()["y"]
    activate.scroll_into_view_if_needed()
    ui.shot("ruleset-backtest")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    activate.click()
    expect(activate).to_be_enabled()
    assert asked and "确定启用" in asked[0]
    with site.db.session() as session:
        assert rulesets.active_ruleset(session).id != candidate_id  # dismissed: nothing activated
    ui.assert_clean()


def test_personal_data_is_masked_until_an_admin_reveals_it(site: Any, make_ui: Any) -> None:
    """A reviewer reads the owner's address masked and cannot reveal it; an admin reveals it, and the reveal is
    in the audit log."""
    call_id = site.calls["a2_angry"]  # the owner gives the address 一号楼一单元八零一 (utterance 3)
    reviewer = make_ui()
    page = reviewer.login("reviewer")
    reviewer.goto(f"#/calls/{call_id}")
    said = page.locator("#transcript .utt").nth(3)
    expect(said).to_contain_text("[地址]")
    assert "八零一" not in said.inner_text()
    expect(page.locator("#pii-note")).to_contain_text("个人信息已脱敏（地址）")
    expect(page.locator("#reveal-pii")).to_have_count(0)
    assert reviewer.api("GET", f"/calls/{call_id}/transcript?reveal=true")["status"] == 403
    reviewer.assert_clean()

    admin = make_ui()
    page = admin.login("admin")
    admin.goto(f"#/calls/{call_id}")
    said = page.locator("#transcript .utt").nth(3)
    expect(said).to_contain_text("[地址]")
    page.locator("#reveal-pii").click()
    expect(page.locator("#transcript .utt").nth(3)).to_contain_text("一号楼一单元八零一")
    expect(page.locator("#pii-note")).to_have_text("本次查看已记入操作记录")
    expect(page.locator("#reveal-pii")).to_be_disabled()
    assert "reveal=true" in page.locator("#player").get_attribute("src")
    admin.shot("call-pii-revealed")
    reveals = admin.api("GET", "/audit/reveals")
    assert reveals["status"] == 200
    surfaces = {e["after"]["surface"] for e in reveals["body"]["items"] if e["entity_id"] == call_id}
    assert {"transcript", "review"} <= surfaces
    admin.assert_clean()
