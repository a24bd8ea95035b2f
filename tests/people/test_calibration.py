"""Reviewer calibration (校准): rounds, blind verdicts, agreement figures checked against hand-computed kappa.

The designed examples store calls whose analyses hold hand-made hits (so the number of hits per rule is
known); the score test uses a call analyzed by the real analyzer. SQLite and PostgreSQL (``database``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from inspector.people import calibration
from inspector.qa.analysis import Analyzer
from inspector.settings import Settings
from inspector.speech.transcript import Transcript
from inspector.store import audit, rulesets
from inspector.store import calls as store
from inspector.store.db import utcnow
from inspector.store.schema import Agent, AgentDay, Analysis, Call, HitVerdict, Review, RuleSetRecord
from inspector.store.users import create_user

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 3, 13)
C, R = "confirmed", "rejected"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from inspector.store import users

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture
def world(database: Any) -> int:
    """Reviewers ``wang``, ``li``, ``zhao`` and admin ``boss``, trainer ``coach``; the default rule set's id."""
    with database.session() as s:
        for name, role in (("wang", "reviewer"), ("li", "reviewer"), ("zhao", "reviewer"), ("boss", "admin"),
                           ("coach", "trainer")):  # fmt: skip
            create_user(s, name, "correct-horse-battery", role)
        s.add(Agent(id="8001", name="坐席8001", team_id=None, created_at=utcnow()))
        return rulesets.ensure_default(s, Settings().rules_dir).id


def _designed_call(database: Any, rule_set_id: int, call_id: str, rules: list[str], day: date = DAY) -> str:
    """A done call whose current analysis has one hit per entry of ``rules`` (its rule id)."""
    hits = [{"rule_id": rule, "text": f"{call_id} 第{i}条", "start": float(i), "end": i + 1.0, "points": -5}
            for i, rule in enumerate(rules)]  # fmt: skip
    now = utcnow()
    with database.session() as s:
        s.add(Call(id=call_id, agent_id="8001", day=day, audio_sha256=call_id.ljust(64, "0"), audio_bytes=1,
                   audio_name=f"{call_id}.wav", source="import", status="done", attempts=1, created_at=now,
                   updated_at=now))  # fmt: skip
        s.flush()
        analysis = Analysis(call_id=call_id, rule_set_id=rule_set_id, created_at=now, total=80.0, alert="none",
                            fatal=False, score={}, checks={}, hits=hits, emotion={}, topics=[], metrics={})  # fmt: skip
        s.add(analysis)
        s.flush()
        call = s.get(Call, call_id)
        assert call is not None
        call.analysis_id, call.score, call.alert, call.fatal = analysis.id, 80.0, "none", False
    return call_id


def _round(database: Any, call_ids: list[str], reviewers: list[str]) -> int:
    with database.session() as s:
        calls = calibration.calls_by_id(s, call_ids)
        return calibration.create_round(s, "user:boss", "admin", "三月校准", reviewers, calls).id


def _judge(database: Any, round_id: int, reviewer: str, call_id: str, verdicts: list[str]) -> None:
    with database.session() as s:
        for index, verdict in enumerate(verdicts):
            calibration.record_verdict(s, f"user:{reviewer}", "reviewer", round_id, reviewer, call_id, index, verdict)


def _agreement(database: Any, round_id: int) -> calibration.Agreement:
    with database.session() as s:
        return calibration.agreement(s, round_id)


# --- kappa against hand-computed values ---------------------------------------------------------


def test_cohen_kappa_of_two_reviewers_on_ten_hits(database, world) -> None:
    """wang: 7 confirmed, 3 rejected; li the same marginals; they agree on 8 of 10 hits.
    p_o = 0.8, p_e = 0.7·0.7 + 0.3·0.3 = 0.58, kappa = (0.8 − 0.58) / (1 − 0.58) = 0.22 / 0.42 = 0.5238.
    Fleiss' kappa with equal marginals is the same value (pooled p = 0.7)."""
    call = _designed_call(database, world, "k1", ["greeting"] * 10)
    round_id = _round(database, [call], ["wang", "li"])
    _judge(database, round_id, "wang", call, [C, C, C, C, C, C, C, R, R, R])
    _judge(database, round_id, "li", call, [C, C, C, C, C, C, R, R, R, C])
    result = _agreement(database, round_id)
    (rule,) = result.rules
    assert (rule.rule_id, rule.hits, rule.agreed, rule.percent) == ("greeting", 10, 8, 0.8)
    assert rule.cohen == pytest.approx(0.22 / 0.42, abs=1e-4)
    assert rule.fleiss == pytest.approx(0.22 / 0.42, abs=1e-4)
    assert [(d.call_id, d.hit_index, d.verdicts) for d in rule.disagreements] == [
        ("k1", 6, {"li": R, "wang": C}),
        ("k1", 9, {"li": C, "wang": R}),
    ]
    assert rule.disagreements[0].text == "k1 第6条"


def test_cohen_and_fleiss_differ_when_marginals_differ(database, world) -> None:
    """6 hits: wang C C C C R R, li C C R R R R.
    Cohen: p_o = 4/6; p_e = (4/6)(2/6) + (2/6)(4/6) = 16/36; kappa = (24/36 − 16/36) / (20/36) = 0.4.
    Fleiss: pooled p_C = 6/12 = 0.5, P_e = 0.5; P̄ = 4/6; kappa = (2/3 − 1/2) / (1/2) = 1/3."""
    call = _designed_call(database, world, "k2", ["closing"] * 6)
    round_id = _round(database, [call], ["wang", "li"])
    _judge(database, round_id, "wang", call, [C, C, C, C, R, R])
    _judge(database, round_id, "li", call, [C, C, R, R, R, R])
    (rule,) = _agreement(database, round_id).rules
    assert rule.cohen == pytest.approx(0.4, abs=1e-4)
    assert rule.fleiss == pytest.approx(1 / 3, abs=1e-4)


def test_fleiss_kappa_of_three_reviewers(database, world) -> None:
    """5 hits, 3 reviewers: CCC, CCC, CCR, CRR, RRR. P_i = 1, 1, 1/3, 1/3, 1 → P̄ = 11/15; p_C = 9/15 = 0.6,
    P_e = 0.36 + 0.16 = 0.52; kappa = (11/15 − 0.52) / 0.48 = 4/9. All agree on 3 of 5 hits; no Cohen's kappa."""
    call = _designed_call(database, world, "k3", ["empathy"] * 5)
    round_id = _round(database, [call], ["wang", "li", "zhao"])
    _judge(database, round_id, "wang", call, [C, C, C, C, R])
    _judge(database, round_id, "li", call, [C, C, C, R, R])
    _judge(database, round_id, "zhao", call, [C, C, R, R, R])
    (rule,) = _agreement(database, round_id).rules
    assert (rule.hits, rule.agreed, rule.percent, rule.cohen) == (5, 3, 0.6, None)
    assert rule.fleiss == pytest.approx(4 / 9, abs=1e-4)
    assert len(rule.disagreements) == 2


def test_per_rule_figures_only_over_hits_every_reviewer_judged(database, world) -> None:
    """Two rules across two calls; one hit judged by one reviewer only does not count; one category only:
    kappa undefined (None) while percent agreement is 1."""
    a = _designed_call(database, world, "m1", ["greeting", "closing", "greeting"])
    b = _designed_call(database, world, "m2", ["closing", "greeting"])
    round_id = _round(database, [a, b], ["wang", "li"])
    _judge(database, round_id, "wang", a, [C, C, R])
    _judge(database, round_id, "li", a, [C, C, C])
    _judge(database, round_id, "wang", b, [C, R])
    _judge(database, round_id, "li", b, [C])  # m2 hit 1 (greeting) judged by wang only
    result = _agreement(database, round_id)
    by_rule = {r.rule_id: r for r in result.rules}
    assert (by_rule["closing"].hits, by_rule["closing"].percent) == (2, 1.0)
    assert (by_rule["closing"].cohen, by_rule["closing"].fleiss) == (None, None)
    assert (by_rule["greeting"].hits, by_rule["greeting"].agreed) == (2, 1)
    # wang C/R, li C/C: p_o = 0.5 = p_e → Cohen 0; pooled p_C = 3/4, P_e = 0.625, P̄ = 0.5 → Fleiss −1/3.
    assert by_rule["greeting"].cohen == pytest.approx(0.0, abs=1e-4)
    assert by_rule["greeting"].fleiss == pytest.approx(-1 / 3, abs=1e-4)
    assert result.overall.hits == 4 and result.overall.agreed == 3
    assert result.calls == 2


# --- rounds, blindness, who may judge ------------------------------------------------------------


def test_creating_a_round_checks_reviewers_and_calls(database, world) -> None:
    call = _designed_call(database, world, "c1", ["greeting"])
    with database.session() as s:
        calls = calibration.calls_by_id(s, [call])
        with pytest.raises(calibration.InvalidCalibration, match="至少需要 2 名"):
            calibration.create_round(s, "user:boss", "admin", "x", ["wang"], calls)
        with pytest.raises(calibration.InvalidCalibration, match="nobody 不存在"):
            calibration.create_round(s, "user:boss", "admin", "x", ["wang", "nobody"], calls)
        with pytest.raises(calibration.InvalidCalibration, match="coach 不是质检员"):
            calibration.create_round(s, "user:boss", "admin", "x", ["wang", "coach"], calls)
        with pytest.raises(calibration.InvalidCalibration, match="通话 nope 不存在"):
            calibration.calls_by_id(s, ["nope"])
        row = calibration.create_round(s, "user:boss", "admin", " 三月 ", ["wang", "boss"], calls)
        assert (row.name, row.status) == ("三月", "open")
        (entry,) = audit.history(s, "calibration", row.id)
        assert entry.action == "calibration.create" and entry.after["reviewers"] == ["boss", "wang"]


def test_a_random_sample_of_done_calls_in_a_date_range(database, world) -> None:
    for i in range(6):
        _designed_call(database, world, f"s{i}", ["greeting"], day=date(2024, 3, 10 + i))
    with database.session() as s:
        picked = calibration.sample_calls(s, date(2024, 3, 11), date(2024, 3, 14), 3, seed="x")
        again = calibration.sample_calls(s, date(2024, 3, 11), date(2024, 3, 14), 3, seed="x")
        assert [c.id for c in picked] == [c.id for c in again] and len(picked) == 3
        assert {c.id for c in picked} <= {"s1", "s2", "s3", "s4"}
        assert len(calibration.sample_calls(s, date(2024, 3, 11), date(2024, 3, 14), 50)) == 4
        with pytest.raises(calibration.InvalidCalibration, match="没有已完成分析的通话"):
            calibration.sample_calls(s, date(2025, 1, 1), date(2025, 1, 2), 3)


def test_reviewers_judge_blind_and_only_when_assigned(database, world) -> None:
    call = _designed_call(database, world, "b1", ["greeting", "closing"])
    round_id = _round(database, [call], ["wang", "li"])
    _judge(database, round_id, "wang", call, [C, R])
    _judge(database, round_id, "li", call, [R])
    with database.session() as s:
        wang = calibration.round_view(s, round_id, "wang")
        assert [h.verdicts for h in wang.calls[0].hits] == [{"wang": C}, {"wang": R}]
        li = calibration.round_view(s, round_id, "li")
        assert [h.verdicts for h in li.calls[0].hits] == [{"li": R}, {}]
        outsider = calibration.round_view(s, round_id, "zhao")
        assert [h.verdicts for h in outsider.calls[0].hits] == [{}, {}]
        admin = calibration.round_view(s, round_id, None)
        assert admin.calls[0].hits[0].verdicts == {"wang": C, "li": R}
        assert [(p.reviewer, p.judged, p.total) for p in admin.progress] == [("li", 1, 2), ("wang", 2, 2)]
        with pytest.raises(calibration.NotAssigned):
            calibration.record_verdict(s, "user:zhao", "reviewer", round_id, "zhao", call, 0, C)
        with pytest.raises(calibration.InvalidCalibration, match="命中序号"):
            calibration.record_verdict(s, "user:wang", "reviewer", round_id, "wang", call, 5, C)
        with pytest.raises(calibration.InvalidCalibration, match="不在校准"):
            calibration.record_verdict(s, "user:wang", "reviewer", round_id, "wang", "other", 0, C)
        with pytest.raises(calibration.InvalidCalibration, match="结论必须是"):
            calibration.record_verdict(s, "user:wang", "reviewer", round_id, "wang", call, 0, "maybe")
    _judge(database, round_id, "wang", call, [R])  # the latest word wins
    with database.session() as s:
        assert calibration.round_view(s, round_id, "wang").calls[0].hits[0].verdicts == {"wang": R}
        calibration.close_round(s, "user:boss", "admin", round_id)
        after = calibration.round_view(s, round_id, "wang")  # closed: everyone's verdicts
        assert after.calls[0].hits[0].verdicts == {"wang": R, "li": R}
        with pytest.raises(calibration.CalibrationClosed):
            calibration.record_verdict(s, "user:li", "reviewer", round_id, "li", call, 1, C)
        with pytest.raises(calibration.CalibrationClosed):
            calibration.close_round(s, "user:boss", "admin", round_id)
        actions = [e.action for e in audit.history(s, "calibration", round_id)]
        assert actions == ["calibration.create"] + ["calibration.verdict"] * 4 + ["calibration.close"]
        with pytest.raises(calibration.CalibrationNotFound):
            calibration.get_round(s, round_id + 100)


def test_the_analysis_is_frozen_at_creation(database, world) -> None:
    """A rescore after creation (a new current analysis) does not change what the round judges."""
    call = _designed_call(database, world, "f1", ["greeting"])
    round_id = _round(database, [call], ["wang", "li"])
    with database.session() as s:
        other = RuleSetRecord(name="other", version="2", sha256="b" * 64, files={}, rule_count=0, created_at=utcnow())
        s.add(other)
        s.flush()
        newer = Analysis(call_id=call, rule_set_id=other.id, created_at=utcnow(), total=50.0, alert="none",
                         fatal=False, score={}, checks={}, hits=[], emotion={}, topics=[], metrics={})  # fmt: skip
        s.add(newer)
        s.flush()
        row = s.get(Call, call)
        assert row is not None
        frozen, row.analysis_id = row.analysis_id, newer.id
    with database.session() as s:
        view = calibration.round_view(s, round_id, "wang")
        assert view.calls[0].analysis_id == frozen != newer.id and len(view.calls[0].hits) == 1


def test_calibration_verdicts_change_no_score(database, world, samples_dir: Path, tmp_path: Path) -> None:
    """A real analyzed call: rejecting every hit in calibration leaves its score, review queue, verdicts and
    the rollup exactly as they were."""
    with database.session() as s:
        record = s.get(RuleSetRecord, world)
        folder = rulesets.materialize(record, tmp_path / "rulesets")
    analyzer = Analyzer(Settings(), folder)
    transcript = Transcript.from_dict(json.loads((samples_dir / "call02_angry_stereo.json").read_text("utf-8")))
    new = store.NewCall(audio_sha256="a" * 64, audio_bytes=10, audio_name="real.wav", source="import",
                        agent_id="8001", call_id="real", started_at=datetime(2024, 3, 13, 10, tzinfo=TZ),
                        team_id="A组")  # fmt: skip
    with database.session() as s:
        store.register_calls(s, [new], TZ)
        call = store.claim(s, "real", lease_s=600)
        assert call is not None
        store.save_transcript(s, "real", transcript)
        store.save_analysis(s, call, analyzer.analyze_transcript(transcript, "8001"), world, True)
        store.finish(s, call)

    def snapshot() -> tuple[Any, ...]:
        with database.session() as s:
            c = s.get(Call, "real")
            a = s.get(Analysis, c.analysis_id)
            day = s.get(AgentDay, ("8001", c.day))
            return (c.score, c.alert, c.fatal, a.total, a.reviewed_total, a.reviewed_at,
                    s.scalar(select(func.count()).select_from(HitVerdict)),
                    s.scalar(select(func.count()).select_from(Review)), day.score_sum, day.calls)  # fmt: skip

    before = snapshot()
    with database.session() as s:
        hits = len(s.get(Analysis, s.get(Call, "real").analysis_id).hits)
    assert hits > 0
    round_id = _round(database, ["real"], ["wang", "li"])
    _judge(database, round_id, "wang", "real", [R] * hits)
    _judge(database, round_id, "li", "real", [R] * hits)
    with database.session() as s:
        calibration.close_round(s, "user:boss", "admin", round_id)
    assert snapshot() == before
    assert _agreement(database, round_id).overall.percent == 1.0
