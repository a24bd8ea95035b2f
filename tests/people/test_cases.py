"""Complaint cases (投诉工单) on SQLite and PostgreSQL: opening (by a red alert, by a person), the state machine
受理 → 核实 → 处理 → 反馈 → 回访 → 关闭 with reopening, the SLA clocks and the escalation ladder under a controlled
clock (across a restart and with the process in another time zone), and the statistics.

Calls are built through the storage layer with the real analyzer on hand-made transcripts (no speech models)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakecalls import four_turn_transcript as transcript

from inspector.people import alerts, cases
from inspector.people.case_sla import ClockState, Deadline, clock, escalate_overdue, escalated_to, steps_reached
from inspector.people.case_stats import CaseGroup, case_stats
from inspector.qa.analysis import Analyzer
from inspector.settings import PROJECT_ROOT, AlertSettings, CaseSettings, Settings
from inspector.store import audit, rulesets
from inspector.store import calls as store
from inspector.store.db import Database
from inspector.store.schema import Call, Case
from inspector.store.topics import refresh_call_topics
from inspector.vocab import CaseStatus, RevisitOutcome

TZ = ZoneInfo("Asia/Shanghai")
OPENING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
CLOSING = "感谢您的来电，再见。"
SOOTHE = "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"
RED = (OPENING, "我家厨房漏水三天了，再不来修我要投诉你们。", SOOTHE, CLOSING)
YELLOW = (OPENING, "我家厨房漏水了，麻烦派人来修一下。", "这个不归我们管，你自己去找开发商。", CLOSING)
T0 = datetime(2024, 3, 15, 15, 50)  # naive UTC: 23:50 in Shanghai, the day before in New York
SETTINGS = CaseSettings()
LEAD = ("user:lead_a", "team_lead")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Settings())


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    with database.session() as session:
        rulesets.ensure_default(session, PROJECT_ROOT / "rules")
    yield database


def make_call(db: Database, analyzer: Analyzer, lines: tuple[str, ...], agent: str = "8001",
              project: str | None = "yangguang") -> str:  # fmt: skip
    """A done, scored call with its topics stored; its alert raised. Returns its id."""
    call_id = f"k-{uuid.uuid4().hex[:8]}"
    new = store.NewCall(audio_sha256=uuid.uuid4().hex * 2, audio_bytes=10, audio_name=f"{call_id}.wav",
                        source="import", agent_id=agent, call_id=call_id, started_at=T0, team_id="A组",
                        project=project, caller="13900000001")  # fmt: skip
    with db.session() as session:
        store.register_calls(session, [new], TZ)
        rule_set_id = rulesets.ensure_default(session, PROJECT_ROOT / "rules").id
    with db.session() as session:
        call = store.claim(session, call_id, lease_s=600)
        assert call is not None
        text = transcript(lines)
        store.save_transcript(session, call_id, text)
        analysis = store.save_analysis(session, call, analyzer.analyze_transcript(text, agent), rule_set_id, True)
        store.finish(session, call)
        refresh_call_topics(session, call, list(analysis.topics or ()))
        alert = alerts.raise_alert(session, AlertSettings(), call, analysis)
        cases.on_alerts(session, SETTINGS, call, [alert] if alert else [], T0)
    return call_id


def case_for(db: Database, call_id: str) -> Case | None:
    from sqlalchemy import select

    with db.session() as session:
        return session.scalar(select(Case).where(Case.call_id == call_id))


def step(db: Database, case_id: int, to: CaseStatus | None, minutes: float, **extra: object) -> Case:
    with db.session() as session:
        return cases.advance(session, case_id, to=to, actor=LEAD[0], role=LEAD[1],
                             now=T0 + timedelta(minutes=minutes), **extra)  # type: ignore[arg-type]  # fmt: skip


# --- opening -------------------------------------------------------------------------------------


def test_a_red_alert_opens_one_case_with_its_deadlines(db: Database, analyzer: Analyzer) -> None:
    red = make_call(db, analyzer, RED)
    yellow = make_call(db, analyzer, YELLOW)
    case = case_for(db, red)
    assert case is not None and case_for(db, yellow) is None  # only red opens by itself
    assert (case.status, case.level, case.source, case.opened_by) == ("accepted", "red", "alert", cases.SYSTEM)
    assert case.respond_due == T0 + timedelta(minutes=15) and case.close_due == T0 + timedelta(hours=48)
    assert case.project == "yangguang" and case.topic == "漏水/维修" and "投诉" in case.title
    with db.session() as session:
        assert cases.case_call_ids(session, case.id) == [red]
        assert case.alert_id is not None
        alert = alerts.get_alert(session, case.alert_id)
        call = session.get(Call, red)
        assert call is not None
        cases.on_alerts(session, SETTINGS, call, [alert], T0)  # a stray rerun: still one case
        with pytest.raises(cases.CaseStateError, match="已有工单"):
            cases.open_case(session, SETTINGS, call=call, actor="user:r", role="reviewer", now=T0, alert=alert)
        [entry] = audit.history(session, "case", case.id)
        assert entry.action == "case.open" and entry.actor == cases.SYSTEM


def test_a_reviewer_opens_a_case_from_a_call(db: Database, analyzer: Analyzer) -> None:
    call_id = make_call(db, analyzer, YELLOW)
    with db.session() as session:
        call = session.get(Call, call_id)
        assert call is not None
        case = cases.open_case(session, SETTINGS, call=call, actor="user:reviewer", role="reviewer", now=T0,
                               note="坐席推诿，业主不满")  # fmt: skip
        assert (case.level, case.source, case.alert_id) == ("yellow", "person", None)
        assert case.respond_due == T0 + timedelta(hours=4) and case.close_due == T0 + timedelta(hours=72)
        with pytest.raises(cases.CaseStateError, match="级别无效"):
            cases.open_case(session, SETTINGS, call=call, actor="user:r", role="reviewer", now=T0, level="none")


# --- the state machine ---------------------------------------------------------------------------


def test_a_case_goes_from_accepted_to_closed_and_reopens_when_the_owner_is_not_satisfied(
    db: Database, analyzer: Analyzer
) -> None:
    case = case_for(db, make_call(db, analyzer, RED))
    assert case is not None
    with pytest.raises(cases.CaseStateError, match="下一步是核实"):
        step(db, case.id, CaseStatus.HANDLING, 5)
    with pytest.raises(cases.CaseStateError, match="只有回访环节"):
        step(db, case.id, None, 5, outcome=RevisitOutcome.SATISFIED)
    assert step(db, case.id, CaseStatus.VERIFYING, 10, note="已致电业主").responded_at == T0 + timedelta(minutes=10)
    step(db, case.id, CaseStatus.HANDLING, 30)
    step(db, case.id, CaseStatus.FEEDBACK, 120)
    step(db, case.id, CaseStatus.REVISIT, 180)
    with pytest.raises(cases.CaseStateError, match="回访须填写结果"):
        step(db, case.id, CaseStatus.CLOSED, 200)
    reopened = step(db, case.id, None, 200, outcome=RevisitOutcome.UNSATISFIED, note="业主说还在漏")
    assert (reopened.status, reopened.reopened, reopened.closed_at) == ("handling", 1, None)
    step(db, case.id, CaseStatus.FEEDBACK, 300)
    step(db, case.id, CaseStatus.REVISIT, 360)
    with pytest.raises(cases.CaseStateError, match="不能转为处理"):
        step(db, case.id, CaseStatus.HANDLING, 400, outcome=RevisitOutcome.SATISFIED)
    closed = step(db, case.id, CaseStatus.CLOSED, 400, outcome=RevisitOutcome.SATISFIED, note="业主满意")
    assert (closed.status, closed.revisit_outcome, closed.closed_at) == ("closed", "satisfied", T0 + timedelta(
        minutes=400))
    with pytest.raises(cases.CaseStateError, match="已关闭"):
        step(db, case.id, None, 500)
    with db.session() as session:
        history = audit.history(session, "case", case.id)
    assert [e.action for e in history] == ["case.open", "case.verifying", "case.handling", "case.feedback",
                                           "case.revisit", "case.reopen", "case.feedback", "case.revisit",
                                           "case.closed"]  # fmt: skip
    assert history[1].actor == "user:lead_a" and history[1].reason == "已致电业主"
    assert history[5].before["status"] == "revisit" and history[5].after["status"] == "handling"
    assert history[-1].reason == "业主满意"


# --- clocks and escalation -----------------------------------------------------------------------


def test_the_clocks_say_met_missed_running_and_overdue(db: Database, analyzer: Analyzer) -> None:
    case = case_for(db, make_call(db, analyzer, RED))
    assert case is not None
    running = clock(case, Deadline.RESPOND, T0 + timedelta(minutes=5))
    assert running.state == ClockState.RUNNING and running.minutes_left == pytest.approx(10)
    overdue = clock(case, Deadline.RESPOND, T0 + timedelta(minutes=20))
    assert overdue.state == ClockState.OVERDUE and overdue.minutes_left == pytest.approx(-5)
    late = step(db, case.id, None, 16)
    assert clock(late, Deadline.RESPOND, T0 + timedelta(days=9)).state == ClockState.MISSED
    assert clock(late, Deadline.CLOSE, T0 + timedelta(hours=47)).state == ClockState.RUNNING
    other = case_for(db, make_call(db, analyzer, RED))
    assert other is not None
    assert clock(step(db, other.id, None, 15), Deadline.RESPOND, T0).state == ClockState.MET  # on the minute


def test_an_overdue_case_climbs_the_ladder_once_per_step_across_a_restart(
    database_url: str, analyzer: Analyzer
) -> None:
    db = Database(database_url)
    db.upgrade()
    case_id = case_for(db, make_call(db, analyzer, RED))
    assert case_id is not None
    case_id = case_id.id
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    with db.session() as session:
        assert escalate_overdue(session, SETTINGS, at(14)) == []  # not due yet
        [first] = escalate_overdue(session, SETTINGS, at(16))
        assert (first.step, first.role, first.deadline) == (1, "班组长", Deadline.RESPOND)
        assert escalate_overdue(session, SETTINGS, at(17)) == []  # once per step
    db.dispose()

    db = Database(database_url)  # a restart: nothing but the stored case
    with db.session() as session:
        steps = escalate_overdue(session, SETTINGS, at(15 + 250))  # nothing ran for hours: both steps, once
        assert [(s.step, s.role) for s in steps] == [(2, "项目经理"), (3, "区域")]
        case = cases.get_case(session, case_id)
        assert case.escalation == 3 and escalated_to(SETTINGS, case) == "区域"
        assert escalate_overdue(session, SETTINGS, at(15 + 900)) == []  # the top of the ladder
        logged = [e for e in audit.history(session, "case", case_id) if e.action == "case.escalate"]
        assert [e.after["role"] for e in logged] == ["班组长", "项目经理", "区域"]
        assert logged[0].actor == "system:sla" and logged[0].reason == "首次响应超时，升级至班组长"

    answered = step(db, case_id, None, 300)  # answered late: the ladder starts again, for the resolution
    assert answered.escalation == 0
    with db.session() as session:
        assert escalate_overdue(session, SETTINGS, at(60 * 47)) == []
        [again] = escalate_overdue(session, SETTINGS, at(60 * 48 + 1))
        assert (again.step, again.deadline) == (1, Deadline.CLOSE)
    db.dispose()


def test_the_clocks_do_not_depend_on_the_process_time_zone(
    database_url: str, analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(database_url)
    db.upgrade()
    found = case_for(db, make_call(db, analyzer, RED))
    assert found is not None
    db.dispose()
    for zone in ("America/New_York", "Asia/Kolkata", "UTC"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        db = Database(database_url)
        with db.session() as session:
            case = cases.get_case(session, found.id)
            assert case.respond_due == T0 + timedelta(minutes=15)  # naive UTC, as stored
            assert steps_reached(SETTINGS, case, T0 + timedelta(minutes=16)) == 1
            assert clock(case, Deadline.RESPOND, T0 + timedelta(minutes=10)).state == ClockState.RUNNING
        db.dispose()
    monkeypatch.delenv("TZ")
    time.tzset()
    assert os.environ.get("TZ") is None


def test_a_ladder_out_of_order_is_refused() -> None:
    with pytest.raises(ValueError, match="after_min must increase"):
        CaseSettings(ladder=[{"role": "项目经理", "after_min": 60}, {"role": "班组长", "after_min": 0}])


# --- statistics ----------------------------------------------------------------------------------


def test_statistics_by_cause_project_and_agent(db: Database, analyzer: Analyzer, tmp_path: Path) -> None:
    fast = case_for(db, make_call(db, analyzer, RED, agent="8001"))
    slow = case_for(db, make_call(db, analyzer, RED, agent="8002"))
    waiting = case_for(db, make_call(db, analyzer, RED, agent="8002", project="lanting"))
    assert fast is not None and slow is not None and waiting is not None
    for minutes, status in ((5, CaseStatus.VERIFYING), (60, CaseStatus.HANDLING), (120, CaseStatus.FEEDBACK),
                            (180, CaseStatus.REVISIT)):  # fmt: skip
        step(db, fast.id, status, minutes)
    step(db, fast.id, CaseStatus.CLOSED, 240, outcome=RevisitOutcome.SATISFIED)
    for minutes, status in ((25, CaseStatus.VERIFYING), (60, CaseStatus.HANDLING), (120, CaseStatus.FEEDBACK),
                            (180, CaseStatus.REVISIT)):  # fmt: skip
        step(db, slow.id, status, minutes)
    step(db, slow.id, None, 200, outcome=RevisitOutcome.UNSATISFIED)
    now = T0 + timedelta(hours=1)
    with db.session() as session:
        overall, by_agent = case_stats(session, CaseGroup.AGENT, now=now)
        _, by_project = case_stats(session, CaseGroup.PROJECT, now=now)
        _, by_topic = case_stats(session, CaseGroup.TOPIC, now=now)
        _, none = case_stats(session, CaseGroup.AGENT, now=now, start=T0 + timedelta(days=1))
    assert (overall.cases, overall.open, overall.closed, overall.overdue) == (3, 2, 1, 1)
    assert overall.respond_median_min == 15.0  # 5 and 25 minutes
    assert overall.respond_sla_rate == pytest.approx(1 / 3, abs=1e-4)  # 5 met; 25 missed; the third overdue now
    assert overall.close_median_h == 4.0 and overall.close_sla_rate == 1.0
    assert overall.reopen_rate == 0.5
    assert [(g.key, g.cases) for g in by_agent] == [("8002", 2), ("8001", 1)]
    assert by_agent[1].respond_sla_rate == 1.0 and by_agent[0].respond_sla_rate == 0.0
    assert {g.key: g.cases for g in by_project} == {"yangguang": 2, "lanting": 1}
    assert [(g.key, g.cases) for g in by_topic] == [("漏水/维修", 3)]
    assert none == []
