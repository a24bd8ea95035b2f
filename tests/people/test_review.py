"""Review (复核) and appeals: sampling, verdicts, added findings, explicit scores, audit, precision.

Calls are stored through ``inspector.store.calls`` with the real analyzer on hand-made transcripts, on
SQLite and PostgreSQL (the ``database`` fixture).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from inspector.people import appeals, errors, precision, reading, rescoring, review_queue, verdicts
from inspector.qa.analysis import Analyzer
from inspector.qa.rules.engine import evaluate
from inspector.qa.scoring import score_call
from inspector.reports.scorecards import scorecard
from inspector.settings import ReviewSettings, Settings
from inspector.speech.transcript import Diarization, Transcript, Utterance
from inspector.store import audit, rulesets
from inspector.store import calls as store
from inspector.store.schema import AgentDay, Analysis, Call, Review

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 3, 13)  # a Wednesday; its ISO week starts on Monday 2024-03-11
GREETING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
CARING = "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"
CLOSING = "感谢您的来电，再见。"


def _transcript(*turns: tuple[str, str]) -> Transcript:
    utts = [
        Utterance(i * 3.0, i * 3.0 + 2.5, "S0" if role == "agent" else "S1", role, text)
        for i, (role, text) in enumerate(turns)
    ]
    return Transcript("x.wav", len(turns) * 3.0, 1, 8000, utts, Diarization("channels", 1.0, "S0", ["S0", "S1"]))


ASK = ("customer", "我家厨房漏水了，麻烦派人来看看。")
# Scores with the default rules: every call loses 3 for the agent's fast first sentence (speech_rate).
GOOD = _transcript(("agent", GREETING), ASK, ("agent", CARING), ("agent", CLOSING))  # 97
RED = _transcript(
    ("agent", GREETING), ("customer", "你们怎么还不来修，我要投诉！"), ("agent", CARING), ("agent", CLOSING)
)
NO_CLOSING = _transcript(("agent", GREETING), ASK, ("agent", CARING), ("agent", "好的。"))  # 92: closing -5
TABOO = _transcript(("agent", GREETING), ASK, ("agent", "非常抱歉给您带来不便，我理解您的心情，这个不归我们管。"),
                    ("agent", CLOSING))  # fmt: skip  # 87: prohibited -10 (compliance, weight 15)


@dataclass
class Rules:
    rule_set_id: int
    analyzer: Analyzer


@pytest.fixture
def rules(database: Any, tmp_path: Path) -> Rules:
    with database.session() as s:
        record = rulesets.ensure_default(s, Settings().rules_dir)
        folder = rulesets.materialize(record, tmp_path / "rulesets")
        return Rules(record.id, Analyzer(Settings(), folder))


@pytest.fixture
def fatal_rules(database: Any, tmp_path: Path) -> Rules:
    """The default bundle with 服务禁语 (prohibited) made a fatal rule (一票否决)."""
    files = rulesets.read_bundle(Settings().rules_dir)
    old = "    points: 10\n    alert: yellow\n"
    assert files["property-default.yaml"].count(old) == 1
    files["property-default.yaml"] = files["property-default.yaml"].replace(old, old + "    fatal: true\n")
    with database.session() as s:
        record, _ = rulesets.add_ruleset(s, files)
        folder = rulesets.materialize(record, tmp_path / "rulesets")
        return Rules(record.id, Analyzer(Settings(), folder))


_counter = iter(range(1_000_000))


def _done_call(
    database: Any, rules: Rules, transcript: Transcript, agent: str = "8001", day: date = DAY, call_id: str = ""
) -> str:
    n = next(_counter)
    call_id = call_id or f"call-{n}"
    started = datetime(day.year, day.month, day.day, 10, tzinfo=TZ)
    new = store.NewCall(audio_sha256=f"{n:064d}", audio_bytes=10, audio_name=f"{call_id}.wav", source="import",
                        agent_id=agent, call_id=call_id, started_at=started, team_id="A组")  # fmt: skip
    with database.session() as s:
        store.register_calls(s, [new], TZ)
        call = store.claim(s, call_id, lease_s=600)
        assert call is not None
        store.save_transcript(s, call_id, transcript)
        store.save_analysis(s, call, rules.analyzer.analyze_transcript(transcript, agent), rules.rule_set_id, True)
        store.finish(s, call)
    return call_id


def _get(s: Any, call_id: str) -> tuple[Call, Analysis]:
    call = s.get(Call, call_id)
    analysis = s.get(Analysis, call.analysis_id)
    return call, analysis


def _expected_without(rules: Rules, transcript: Transcript, drop: set[int]) -> float:
    findings = evaluate(rules.analyzer.compiled, transcript)
    return score_call(rules.analyzer.compiled, [f for i, f in enumerate(findings) if i not in drop]).total


def _index(analysis: Analysis, rule_id: str) -> int:
    return next(i for i, h in enumerate(analysis.hits) if h["rule_id"] == rule_id and h["points"] < 0)


def _average(s: Any, agent: str = "8001", day: date = DAY) -> float | None:
    card = scorecard(s, agent, day, day)
    assert card is not None
    return card.average_score


# --- reconstruction ------------------------------------------------------------------------------


def test_unreviewed_findings_score_exactly_as_the_machine(database, rules, samples_dir) -> None:
    transcripts = [Transcript.from_dict(json.loads(p.read_text("utf-8"))) for p in sorted(samples_dir.glob("*.json"))]
    ids = [_done_call(database, rules, t) for t in [*transcripts, GOOD, RED, NO_CLOSING, TABOO]]
    with database.session() as s:
        for call_id in ids:
            _, analysis = _get(s, call_id)
            again = rescoring.reviewed_score(s, analysis)
            assert (again.total, again.alert, again.fatal) == (analysis.total, analysis.alert, analysis.fatal)


# --- the queue -----------------------------------------------------------------------------------


def test_red_and_fatal_calls_are_queued_at_once_and_only_once(database, rules, fatal_rules) -> None:
    red, good = _done_call(database, rules, RED), _done_call(database, rules, GOOD)
    fatal = _done_call(database, fatal_rules, TABOO)
    settings = ReviewSettings()
    with database.session() as s:
        call, analysis = _get(s, red)
        assert analysis.alert == "red"
        review = review_queue.on_analysis(s, settings, call, analysis)
        assert review is not None and (review.reason, review.status, review.call_id) == ("red", "pending", red)
        assert review_queue.on_analysis(s, settings, call, analysis).id == review.id  # idempotent
        assert review_queue.on_analysis(s, settings, *_get(s, good)) is None
        call, analysis = _get(s, fatal)
        assert analysis.fatal and analysis.total == 0
        assert review_queue.on_analysis(s, ReviewSettings(red=False), call, analysis).reason == "fatal"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 2
        # already queued: kept
        assert review_queue.on_analysis(s, ReviewSettings(red=False), *_get(s, red)).id == review.id
        entries = audit.history(s, "review", review.id)
        assert [(e.action, e.actor, e.after["reason"]) for e in entries] == [("review.queue", "system", "red")]


def test_weekly_sample_lowest_and_random_per_agent_are_deterministic(database, rules) -> None:
    a_calls = [_done_call(database, rules, t, "8001") for t in (GOOD, GOOD, NO_CLOSING, TABOO, GOOD, RED)]
    b_calls = [_done_call(database, rules, t, "8002") for t in (GOOD, NO_CLOSING, GOOD, GOOD)]
    next_week = _done_call(database, rules, TABOO, "8002", day=date(2024, 3, 18))
    settings = ReviewSettings(lowest_percent=10, random_percent=20)  # 10 calls → 1 lowest; 1 random per agent
    with database.session() as s:
        red_review = review_queue.on_analysis(s, settings, *_get(s, a_calls[5]))
        assert red_review is not None
    with database.session() as s:
        added = review_queue.sample_week(s, settings, date(2024, 3, 14), seed="s1")  # any day of the week
    with database.session() as s:
        reviews = {r.call_id: r.reason for r in s.scalars(select(Review))}
    assert reviews[a_calls[3]] == "lowest"  # TABOO: 87, the week's lowest
    assert next_week not in reviews
    random_picks = {call_id for call_id, reason in reviews.items() if reason == "random"}
    expected = set()
    for agent, ids in (("8001", a_calls), ("8002", b_calls)):
        pick = random.Random(f"s1|2024-03-11|{agent}").sample(sorted(ids), 1)[0]
        if pick not in (a_calls[3], a_calls[5]):  # already queued (lowest / red): not queued twice
            expected.add(pick)
    assert random_picks == expected
    assert added == len(reviews) - 1  # everything but the red review

    with database.session() as s:  # rerun: the same picks, nothing added
        assert review_queue.sample_week(s, settings, date(2024, 3, 11), seed="s1") == 0
    with database.session() as s:  # deterministic: dropping the random ones and rerunning picks the same calls
        for r in s.scalars(select(Review).where(Review.reason == "random")):
            s.delete(r)
    with database.session() as s:
        assert review_queue.sample_week(s, settings, date(2024, 3, 17), seed="s1") == len(random_picks)
        assert {r.call_id for r in s.scalars(select(Review).where(Review.reason == "random"))} == random_picks
        assert review_queue.sample_week(s, ReviewSettings(lowest_percent=0, random_percent=0), DAY) == 0


def test_complete_review(database, rules) -> None:
    call_id = _done_call(database, rules, RED)
    with database.session() as s:
        review = review_queue.on_analysis(s, ReviewSettings(), *_get(s, call_id))
        assert review is not None
        done = review_queue.complete_review(s, "user:li", "reviewer", review.id, "  已核实  ")
        assert (done.status, done.reviewer, done.comment) == ("done", "user:li", "已核实")
        with pytest.raises(errors.ReviewDone):
            review_queue.complete_review(s, "user:li", "reviewer", review.id, None)
        with pytest.raises(errors.ReviewNotFound):
            review_queue.complete_review(s, "user:li", "reviewer", 99999, None)
        (entry,) = [e for e in audit.history(s, "review", review.id) if e.action == "review.complete"]
        assert (entry.actor, entry.actor_role, entry.reason) == ("user:li", "reviewer", "已核实")
        assert entry.before == {"status": "pending"} and entry.after["status"] == "done"


# --- verdicts, findings, explicit scores ---------------------------------------------------------


def test_rejecting_a_hit_restores_what_score_call_says_and_the_scorecard_follows(database, rules) -> None:
    call_id = _done_call(database, rules, NO_CLOSING)
    with database.session() as s:
        call, analysis = _get(s, call_id)
        closing = _index(analysis, "closing")
        assert call.score == 92 and _average(s) == 92
        verdicts.set_verdict(s, "user:li", "reviewer", call, closing, "rejected", "结束语其实说了")
    expected = _expected_without(rules, NO_CLOSING, {closing})
    assert expected == 97
    with database.session() as s:
        call, analysis = _get(s, call_id)
        assert (analysis.total, analysis.reviewed_total, analysis.reviewed_by) == (92, expected, "user:li")
        assert call.score == expected and _average(s) == expected
        (entry,) = audit.history(s, "call", call_id)
        assert (entry.action, entry.actor, entry.actor_role, entry.reason) == ("verdict.set", "user:li", "reviewer",
                                                                              "结束语其实说了")  # fmt: skip
        assert entry.before["verdict"] is None and entry.before["reviewed_total"] is None
        assert entry.before["effective_score"] == 92
        assert entry.after["verdict"] == "rejected" and entry.after["reviewed_total"] == expected
        assert s.scalars(select(Review)).one().reason == "manual"  # a reviewed call is in the queue

        # A rejected finding no longer counts among the agent's most-missed rules.
        assert s.scalars(select(AgentDay)).one().missed.get("closing") is None

        verdicts.set_verdict(s, "user:li", "reviewer", call, closing, "confirmed", None)  # changed mind
        assert call.score == 92 and _average(s) == 92
        assert s.scalars(select(AgentDay)).one().missed["closing"] == 1
        with pytest.raises(errors.HitNotFound):
            verdicts.set_verdict(s, "user:li", "reviewer", call, len(analysis.hits), "rejected", None)
        with pytest.raises(errors.InvalidReviewInput):
            verdicts.set_verdict(s, "user:li", "reviewer", call, 0, "maybe", None)


def test_a_fatal_veto_holds_until_its_finding_is_rejected(database, fatal_rules) -> None:
    call_id = _done_call(database, fatal_rules, TABOO)
    with database.session() as s:
        call, analysis = _get(s, call_id)
        assert call.score == 0
        verdicts.set_verdict(s, "user:li", "reviewer", call, _index(analysis, "speech_rate"), "rejected", None)
        assert analysis.reviewed_total == 0  # still vetoed
        verdicts.set_verdict(s, "user:li", "reviewer", call, _index(analysis, "prohibited"), "rejected", None)
        assert analysis.reviewed_total == 100 and call.score == 100


def test_added_findings_lower_the_score_within_dimension_floors(database, rules) -> None:
    call_id = _done_call(database, rules, TABOO)
    with database.session() as s:
        call, analysis = _get(s, call_id)
        assert call.score == 87  # compliance (15) lost 10 to 服务禁语
        added = verdicts.add_finding(s, "user:li", "reviewer", call, description="未核实业主身份", points=-10,
                               dimension="compliance")  # fmt: skip
        assert analysis.reviewed_total == 82 and call.score == 82  # compliance floored at 0: 5 more, not 10
        verdicts.add_finding(s, "user:li", "reviewer", call, description="未告知上门时间", points=-4, rule_id="closing",
                       start=3.0, end=5.0)  # fmt: skip
        assert call.score == 78 and _average(s) == 78
        entry = audit.history(s, "call", call_id)[-1]
        assert entry.action == "finding.add" and entry.after["dimension"] == "service"
        assert (entry.before["effective_score"], entry.after["reviewed_total"]) == (82, 78)
        assert added.reviewer == "user:li" and added.points == -10
        bad_inputs: list[dict[str, Any]] = [
            {"points": 0, "dimension": "service"},
            {"points": -5, "dimension": "nope"},
            {"points": -5},
            {"points": -5, "rule_id": "nope"},
            {"points": -5, "dimension": "service", "start": 5, "end": 1},
        ]
        for bad in bad_inputs:
            with pytest.raises(errors.InvalidReviewInput):
                verdicts.add_finding(s, "user:li", "reviewer", call, description="x", **bad)
        with pytest.raises(errors.InvalidReviewInput):
            verdicts.add_finding(s, "user:li", "reviewer", call, description="  ", points=-1, dimension="service")


def test_an_explicit_score_needs_a_reason_and_a_later_verdict_replaces_it(database, rules) -> None:
    call_id = _done_call(database, rules, NO_CLOSING)
    with database.session() as s:
        call, analysis = _get(s, call_id)
        for score, reason in ((60, ""), (60, "   "), (101, "x"), (-1, "x"), (float("nan"), "x")):
            with pytest.raises(errors.InvalidReviewInput):
                verdicts.adjust_score(s, "user:li", "reviewer", call, score, reason)
        verdicts.adjust_score(s, "user:li", "reviewer", call, 60, "客户录音外另有投诉记录")
        assert (analysis.total, analysis.reviewed_total, call.score, _average(s)) == (92, 60, 60, 60)
        entry = audit.history(s, "call", call_id)[-1]
        assert (entry.action, entry.reason, entry.before["effective_score"], entry.after["reviewed_total"]) == (
            "score.adjust", "客户录音外另有投诉记录", 92, 60)  # fmt: skip

        verdicts.set_verdict(s, "user:wang", "admin", call, _index(analysis, "closing"), "rejected", None)
        assert call.score == 97  # the latest change wins: recomputed
        entry = audit.history(s, "call", call_id)[-1]
        assert entry.before["reviewed_total"] == 60 and entry.after["override_replaced"] is True
        verdicts.set_verdict(s, "user:wang", "admin", call, _index(analysis, "speech_rate"), "confirmed", None)
        assert audit.history(s, "call", call_id)[-1].after["override_replaced"] is False


def test_not_analyzed_calls_cannot_be_reviewed(database, rules) -> None:
    with database.session() as s:
        store.register_calls(s, [store.NewCall("f" * 64, 1, "q.wav", "import", "8001", call_id="queued")], TZ)
        call = s.get(Call, "queued")
        with pytest.raises(errors.NotAnalyzed):
            verdicts.set_verdict(s, "user:li", "reviewer", call, 0, "rejected", None)
        with pytest.raises(errors.NotAnalyzed):
            reading.call_review(s, call)


# --- precision -----------------------------------------------------------------------------------


def test_rule_precision_from_verdicts(database, rules) -> None:
    ids = [_done_call(database, rules, t) for t in (NO_CLOSING, NO_CLOSING, GOOD)]
    late = _done_call(database, rules, NO_CLOSING, day=date(2024, 4, 2))
    with database.session() as s:
        for call_id in [*ids, late]:
            call, analysis = _get(s, call_id)
            verdict = "rejected" if call_id != ids[2] else "confirmed"
            verdicts.set_verdict(s, "user:li", "reviewer", call, _index(analysis, "speech_rate"), verdict, None)
        for call_id in ids[:2]:
            call, analysis = _get(s, call_id)
            verdicts.set_verdict(s, "user:li", "reviewer", call, _index(analysis, "closing"), "confirmed", None)
        result = precision.rule_precision(s, date(2024, 3, 1), date(2024, 3, 31))
        assert [r.to_dict() for r in result] == [
            {"rule_id": "speech_rate", "name": "语速过快", "confirmed": 1, "rejected": 2, "precision": 0.333},
            {"rule_id": "closing", "name": "规范结束语", "confirmed": 2, "rejected": 0, "precision": 1.0},
        ]
        (speech,) = [r for r in precision.rule_precision(s, None, None) if r.rule_id == "speech_rate"]
        assert (speech.confirmed, speech.rejected) == (1, 3)


# --- appeals -------------------------------------------------------------------------------------


def test_appeals_accepted_restore_points_and_rejected_keep_them(database, rules) -> None:
    call_id = _done_call(database, rules, TABOO)
    with database.session() as s:
        call, analysis = _get(s, call_id)
        taboo, fast = _index(analysis, "prohibited"), _index(analysis, "speech_rate")
        topic = next(i for i, h in enumerate(analysis.hits) if h["points"] == 0)
        appeal = appeals.create_appeal(s, "token:7", "agent", "8001", call, taboo, "客户问的是物业范围外的事")
        assert (appeal.status, appeal.rule_id, appeal.agent_id) == ("open", "prohibited", "8001")
        with pytest.raises(errors.DuplicateAppeal):
            appeals.create_appeal(s, "token:7", "agent", "8001", call, taboo, "再申诉一次")
        with pytest.raises(errors.AppealNotAllowed):
            appeals.create_appeal(s, "token:7", "agent", "8001", call, topic, "没有扣分")
        with pytest.raises(errors.AppealNotAllowed):
            appeals.create_appeal(s, "token:8", "agent", "8002", call, fast, "不是我的通话")
        with pytest.raises(errors.HitNotFound):
            appeals.create_appeal(s, "token:7", "agent", "8001", call, 999, "越界")
        second = appeals.create_appeal(s, "token:7", "agent", "8001", call, fast, "语速正常")

        resolved = appeals.resolve_appeal(s, "user:li", "reviewer", appeal.id, "accepted", "确属误报")
        assert (resolved.status, resolved.resolver, resolved.resolution) == ("accepted", "user:li", "确属误报")
        expected = _expected_without(rules, TABOO, {taboo})
        assert expected == 97 and analysis.reviewed_total == expected and call.score == expected
        assert _average(s) == expected
        assert s.scalars(select(Review).where(Review.call_id == call_id)).one().reason == "appeal"
        with pytest.raises(errors.AppealResolved):
            appeals.resolve_appeal(s, "user:li", "reviewer", appeal.id, "rejected", "改主意")

        appeals.resolve_appeal(s, "user:li", "reviewer", second.id, "rejected", "语速确实过快")
        assert call.score == expected  # unchanged
        page = reading.call_review(s, call)
        assert page.hits[taboo].verdict.verdict == "rejected" and page.hits[taboo].appeal.status == "accepted"
        assert page.hits[fast].verdict.verdict == "confirmed" and page.hits[fast].appeal.status == "rejected"
        actions = [(e.entity, e.action) for e in page.audit]
        assert actions.count(("appeal", "appeal.create")) == 2 and actions.count(("appeal", "appeal.resolve")) == 2
        assert ("review", "review.queue") in actions and actions.count(("call", "verdict.set")) == 2
        verdict_entry = next(e for e in page.audit if e.action == "verdict.set")
        assert verdict_entry.after["appeal_id"] == appeal.id and verdict_entry.reason == "确属误报"
        with pytest.raises(errors.AppealNotFound):
            appeals.resolve_appeal(s, "user:li", "reviewer", 99999, "accepted", "x")
        rows, total = appeals.list_appeals(s, agent_id="8001", status="accepted")
        assert total == 1 and rows[0].rule_name == "服务禁语" and rows[0].hit["points"] == -10


# --- uncertain findings (heard with low confidence) ----------------------------------------------


@pytest.fixture
def doubtful_rules(database: Any, tmp_path: Path) -> Rules:
    """The default bundle with a pack threshold: findings heard below 0.5 are uncertain."""
    files = rulesets.read_bundle(Settings().rules_dir)
    pack = files["property-default.yaml"]
    assert "\nmin_confidence:" not in pack
    files["property-default.yaml"] = pack.replace("\ndimensions:", "\nmin_confidence: 0.5\ndimensions:", 1)
    with database.session() as s:
        record, _ = rulesets.add_ruleset(s, files)
        folder = rulesets.materialize(record, tmp_path / "rulesets")
        return Rules(record.id, Analyzer(Settings(), folder))


def _taboo_heard_with(confidence: float):
    """The TABOO call (87 with the default pack: 服务禁语 -10) with its taboo utterance heard at ``confidence``."""
    utterances = [replace(u, confidence=confidence) if "不归我们管" in u.text else u for u in TABOO.utterances]
    return replace(TABOO, utterances=utterances)


def _prohibited(analysis) -> int:
    return next(i for i, h in enumerate(analysis.hits) if h["rule_id"] == "prohibited" and h["points"] < 0)


def _day(s: Any, agent: str = "8001") -> AgentDay:
    row = s.get(AgentDay, (agent, DAY))
    assert row is not None
    return row


def test_an_uncertain_taboo_waits_for_a_reviewer_and_then_counts(database, doubtful_rules) -> None:
    call_id = _done_call(database, doubtful_rules, _taboo_heard_with(0.3))
    with database.session() as s:
        call, analysis = _get(s, call_id)
        hit = analysis.hits[_prohibited(analysis)]
        assert hit["uncertain"] is True and hit["confidence"] == pytest.approx(0.3)
        assert analysis.total == 97.0 and analysis.alert == "none"  # no -10, no yellow alert
        assert analysis.score["uncertain_rules"] == ["prohibited"]
        review = review_queue.on_analysis(s, ReviewSettings(), call, analysis)
        assert review is not None and review.reason == "uncertain"
        assert review_queue.on_analysis(s, ReviewSettings(uncertain=False), call, analysis) is review  # already queued
        day = _day(s)
        assert day.uncertain == 1 and "prohibited" not in day.missed
        card = scorecard(s, "8001", DAY, DAY)
        assert card is not None and card.uncertain_calls == 1
        assert card.to_dict()["uncertain_share"] == 1.0

        verdicts.set_verdict(s, "user:li", "reviewer", call, _prohibited(analysis), "confirmed", "确实说了")
        call, analysis = _get(s, call_id)
        assert analysis.reviewed_total == 87.0 and call.score == 87.0
        day = _day(s)
        assert day.uncertain == 0 and day.missed.get("prohibited") == 1

        verdicts.set_verdict(s, "user:li", "reviewer", call, _prohibited(analysis), "rejected", "听错了")
        call, analysis = _get(s, call_id)
        assert analysis.reviewed_total == 97.0 and _day(s).uncertain == 0


def test_a_clearly_heard_taboo_deducts_at_once(database, doubtful_rules) -> None:
    call_id = _done_call(database, doubtful_rules, _taboo_heard_with(0.9))
    with database.session() as s:
        call, analysis = _get(s, call_id)
        assert analysis.total == 87.0 and analysis.alert == "yellow" and analysis.score["uncertain_rules"] == []
        review = review_queue.on_analysis(s, ReviewSettings(), call, analysis)
        assert review is None  # yellow: not queued by itself
        assert _day(s).uncertain == 0


def test_the_default_pack_trusts_every_finding(database, rules) -> None:
    """The default pack's min_confidence is 0 (README: no threshold removed a wrong deduction on the
    samples or their noisy copies), so a doubtful taboo still deducts."""
    call_id = _done_call(database, rules, _taboo_heard_with(0.1))
    with database.session() as s:
        _, analysis = _get(s, call_id)
        assert analysis.total == 87.0 and analysis.score["uncertain_rules"] == []
