"""Satisfaction joined to QA on SQLite and PostgreSQL: matching surveys to calls (by id, by caller and time),
storing them with the rules that deducted on the call, replacing on re-import, following a rescored call, the
agent's CSAT/NPS on the scorecard, and the rule-effect regression (a known effect is found, a rare rule is
样本不足)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fakecalls import four_turn_transcript as transcript
from sqlalchemy import insert, select

from inspector.intake.survey import SurveyRow
from inspector.people import satisfaction
from inspector.qa.analysis import Analyzer
from inspector.qa.deductions import parse_pattern
from inspector.reports.scorecards import scorecard
from inspector.settings import PROJECT_ROOT, SatisfactionSettings, Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.db import Database
from inspector.store.schema import Agent, Analysis, Call, Survey

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 5, 6, 2, 0)  # naive UTC: 10:00 in Shanghai
GOOD = ("您好，物业客服中心，工号三一五七，请问有什么可以帮您？", "我家厨房漏水了。",
        "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。", "感谢您的来电，再见。")  # fmt: skip
RUDE = ("喂。", "我家厨房漏水了，麻烦派人来修一下。", "这个不归我们管，你自己去找开发商。", "挂了。")
SETTINGS = SatisfactionSettings()


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Settings())


def make_call(db: Database, analyzer: Analyzer, lines: tuple[str, ...], *, caller: str = "13900000001",
              started_at: datetime = T0, agent: str = "8001") -> str:  # fmt: skip
    call_id = f"s-{uuid.uuid4().hex[:8]}"
    new = store.NewCall(audio_sha256=uuid.uuid4().hex * 2, audio_bytes=10, audio_name=f"{call_id}.wav",
                        source="import", agent_id=agent, call_id=call_id, started_at=started_at, team_id="A组",
                        caller=caller, duration_s=120.0)  # fmt: skip
    with db.session() as session:
        store.register_calls(session, [new], TZ)
        rule_set_id = rulesets.ensure_default(session, PROJECT_ROOT / "rules").id
    with db.session() as session:
        call = store.claim(session, call_id, lease_s=600)
        text = transcript(lines)
        store.save_transcript(session, call_id, text)
        store.save_analysis(session, call, analyzer.analyze_transcript(text, agent), rule_set_id, True)
        store.finish(session, call)
    return call_id


def row(line: int, **values) -> SurveyRow:
    base = {"call_id": None, "caller": None, "answered_at": None, "csat": None, "nps": None, "comment": None}
    return SurveyRow(line=line, **{**base, **values})


def test_surveys_match_by_call_id_or_by_caller_and_time(database: Database, analyzer: Analyzer) -> None:
    good = make_call(database, analyzer, GOOD, caller="13800000001")
    rude = make_call(database, analyzer, RUDE, caller="13800000002")
    later = make_call(database, analyzer, GOOD, caller="13800000002", started_at=T0 + timedelta(hours=5))
    rows = [
        row(2, call_id=good, csat=5, nps=10, comment="很满意"),
        row(3, call_id="no-such-call", csat=1),
        # answered 30 min after the rude call ended: that call, not the later one
        row(4, caller="13800000002", answered_at=T0 + timedelta(minutes=32), csat=1, nps=2),
        # answered 3 h after the call, outside the 120 min window
        row(5, caller="13800000001", answered_at=T0 + timedelta(hours=3), csat=4),
        row(6, caller="13800000002", answered_at=T0 + timedelta(hours=5, minutes=10), nps=9),
    ]
    with database.session() as session:
        result = satisfaction.import_surveys(session, rows, SETTINGS, source="csv", now=T0)
    assert result.imported == 3 and result.replaced == 0
    assert [(e.line, e.reason) for e in result.errors] == [
        (3, "通话 no-such-call 不存在"),
        (5, "来电号码 13800000001 在回访时间前 120 分钟内没有结束的通话"),
    ]
    with database.session() as session:
        stored = {s.call_id: s for s in session.scalars(select(Survey))}
        assert stored[good].csat == 5 and stored[good].comment == "很满意" and stored[good].agent_id == "8001"
        assert stored[rude].nps == 2 and stored[later].nps == 9 and stored[later].csat is None
        assert stored[rude].day == date(2024, 5, 6)
        call_score = session.get(Call, rude).score
        assert stored[rude].score == call_score
        rules = dict(parse_pattern(stored[rude].deducted))
        assert rules["prohibited"] == "compliance" and "greeting" in rules
        assert "prohibited" not in dict(parse_pattern(stored[good].deducted))

        # Importing a call's survey again replaces it (one per call), with its rules.
        again = satisfaction.import_surveys(session, [row(2, call_id=rude, csat=3)], SETTINGS, source="api", now=T0)
        assert again.imported == 1 and again.replaced == 1
        assert session.get(Survey, rude).csat == 3 and session.get(Survey, rude).nps is None

        # The scorecard has the agent's CSAT and NPS: csat (5 + 3) / 2; NPS of 10 and 9: two promoters → +100.
        card = scorecard(session, "8001", date(2024, 5, 1), date(2024, 5, 31))
        assert card.satisfaction.responses == 3
        assert card.satisfaction.csat == 4.0 and card.satisfaction.csat_responses == 2
        assert card.satisfaction.nps == 100.0 and card.satisfaction.nps_responses == 2
        assert card.to_dict()["satisfaction"]["csat"] == 4.0
        empty = scorecard(session, "8001", date(2024, 6, 1), date(2024, 6, 30))
        assert empty.satisfaction.responses == 0 and empty.satisfaction.csat is None


def test_an_analysis_stored_before_the_pattern_column_is_read_from_its_hits(
    database: Database, analyzer: Analyzer
) -> None:
    call_id = make_call(database, analyzer, RUDE)
    with database.session() as session:
        analysis = session.get(Analysis, session.get(Call, call_id).analysis_id)
        stored = analysis.deducted
        assert "prohibited:compliance" in stored.split(",")  # written with the analysis
        analysis.deducted = None  # as a row stored before migration 0013
    with database.session() as session:
        satisfaction.import_surveys(session, [row(2, call_id=call_id, csat=1)], SETTINGS, source="csv", now=T0)
        assert session.get(Survey, call_id).deducted == stored


def test_a_rescored_call_keeps_its_survey_in_step(database: Database, analyzer: Analyzer) -> None:
    from inspector.people.verdicts import adjust_score

    call_id = make_call(database, analyzer, RUDE)
    with database.session() as session:
        satisfaction.import_surveys(session, [row(2, call_id=call_id, csat=2)], SETTINGS, source="csv", now=T0)
    with database.session() as session:
        call = session.get(Call, call_id)
        adjust_score(session, "user:qa", "reviewer", call, 88.0, "复核改分")  # the survey follows by itself
    with database.session() as session:
        assert session.get(Survey, call_id).score == 88.0


def _seed_effects(database: Database, n: int, seed: int = 7) -> None:
    """``n`` surveyed calls: rule A deducts on 30% and lowers CSAT by 1.2; rule B (20%, independent of A) by
    0; rule C deducts on 10 calls only. CSAT = 4.3 − 1.2·A + noise, clipped to 1..5."""
    rng = np.random.default_rng(seed)
    with database.session() as session:
        session.add(Agent(id="9001", name="测试坐席", created_at=T0))
        session.flush()
        calls, surveys = [], []
        for i in range(n):
            call_id = f"e-{i:05d}"
            a, b, c = rng.random() < 0.3, rng.random() < 0.2, i < 10
            csat = int(np.clip(round(4.3 - 1.2 * a + rng.normal(0, 0.7)), 1, 5))
            calls.append({"id": call_id, "agent_id": "9001", "audio_sha256": uuid.uuid4().hex * 2, "audio_bytes": 1,
                          "audio_name": "x.wav", "source": "import", "status": "done", "created_at": T0,
                          "updated_at": T0, "day": date(2024, 5, 6)})  # fmt: skip
            planted = (("A", "service", a), ("B", "service", b), ("C", "compliance", c))
            deducted = ",".join(f"{r}:{d}" for r, d, on in planted if on)
            surveys.append({"call_id": call_id, "agent_id": "9001", "day": date(2024, 5, 6), "csat": csat,
                            "nps": None, "score": 90.0 - 20 * a, "deducted": deducted, "source": "csv",
                            "imported_at": T0})  # fmt: skip
        session.execute(insert(Call), calls)
        session.execute(insert(Survey), surveys)


def test_rule_effects_find_a_known_effect_and_say_when_a_sample_is_too_small(database: Database) -> None:
    _seed_effects(database, 2000)
    with database.session() as session:
        found = satisfaction.rule_effects(session, SETTINGS, date(2024, 5, 1), date(2024, 5, 31), {"A": "规则甲"})
    assert found.responses == 2000
    by = {e.key: e for e in found.rules}
    a, b, c = by["A"], by["B"], by["C"]
    assert a.name == "规则甲" and a.enough and a.low < -1.2 < a.high and a.high < -0.9  # the planted effect
    assert b.enough and b.low < 0 < b.high  # no effect: the interval holds 0
    assert not c.enough and c.effect is None and c.with_calls == 10  # 样本不足 (fewer than 30 calls)
    assert found.rules[0].key == "A"  # the rule that lowers CSAT most comes first
    dims = {e.key: e for e in found.dimensions}
    assert dims["service"].enough and dims["service"].effect < 0 and not dims["compliance"].enough
    assert found.per_10_points is not None and found.per_10_points.low > 0  # higher QA score, higher CSAT
    with database.session() as session:  # a range without surveys
        none = satisfaction.rule_effects(session, SETTINGS, date(2025, 1, 1), date(2025, 1, 31))
    assert none.responses == 0 and none.rules == [] and none.per_10_points is None
