"""Training: the catalog file, competency scores, coaching assignments, their effect, monthly grades.

Done calls are built through the storage layer with the real analyzer on hand-made transcripts (no
speech models), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from fakecalls import four_turn_transcript as transcript
from scipy import stats
from sqlalchemy import update

from inspector.errors import RuleFileError
from inspector.people import assessment, coaching
from inspector.people.catalog import TrainingCatalog, load_training
from inspector.people.competency import (
    agent_competencies,
    composite_score,
    skill_profile,
    suggest_by_tier,
    weakest_competency,
)
from inspector.people.effect import EffectVerdict, coaching_effect, contrast_interval
from inspector.people.errors import CoachingStateError, TrainingError, TrainingNotFound
from inspector.qa.analysis import Analyzer
from inspector.qa.rules.loader import load_ruleset
from inspector.settings import PROJECT_ROOT, Settings
from inspector.store import audit, rulesets
from inspector.store import calls as store
from inspector.store.db import Database
from inspector.store.schema import Agent, Analysis, CoachingAssignment
from inspector.vocab import CourseTier

TZ = ZoneInfo("Asia/Shanghai")
RULES = PROJECT_ROOT / "rules"
OPENING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
ISSUE = "我家厨房漏水了，麻烦派人来修一下。"
CLOSING = "感谢您的来电，再见。"
# Scores with the default rule pack: good 100 (no alert); bad 82, yellow: empathy, apology and prohibited
# missed, so 情绪管理 12/20 (60 %) and 合规 5/15 (33.3 %).
GOOD = (OPENING, ISSUE, "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。", CLOSING)
BAD = (OPENING, ISSUE, "这个不归我们管，你自己去找开发商。", CLOSING)
WORSE = (OPENING, ISSUE, "这不归我们管。", "嗯。")  # BAD without the closing either


@dataclass
class Env:
    db: Database
    analyzer: Analyzer
    rule_set_id: int
    count: int = 0

    def call(self, agent: str, started: datetime, lines: tuple[str, ...] = GOOD, team: str = "A组") -> str:
        """A done call of ``agent`` started at ``started`` (local time)."""
        self.count += 1
        call_id = f"{agent}-{self.count:03d}"
        new = store.NewCall(audio_sha256=f"{call_id:0>64}", audio_bytes=10, audio_name=f"{call_id}.wav",
                            source="import", agent_id=agent, call_id=call_id, started_at=started.replace(tzinfo=TZ),
                            team_id=team, agent_name=f"坐席{agent}")  # fmt: skip
        with self.db.session() as session:
            store.register_calls(session, [new], TZ)
        with self.db.session() as session:
            call = store.claim(session, call_id, lease_s=600)
            assert call is not None
            text = transcript(lines)
            store.save_transcript(session, call_id, text)
            store.save_analysis(session, call, self.analyzer.analyze_transcript(text, agent), self.rule_set_id, True)
            store.finish(session, call)
        return call_id


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Settings())


@pytest.fixture
def env(database: Database, analyzer: Analyzer) -> Iterator[Env]:
    with database.session() as session:
        rule_set_id = rulesets.ensure_default(session, RULES).id
    yield Env(database, analyzer, rule_set_id)


@pytest.fixture(scope="module")
def catalog() -> TrainingCatalog:
    return load_training(RULES / "training.yaml", load_ruleset(RULES))


# --- the catalog file ----------------------------------------------------------------------------


def test_default_catalog_matches_the_rule_set(catalog: TrainingCatalog) -> None:
    assert [c.name for c in catalog.competencies] == ["专业知识", "服务技能", "职业素养"]
    assert len(catalog.courses) >= 8
    names = {c.name for c in catalog.courses}
    assert {"共情与安抚话术", "标准开场与自报工号", "服务禁语与情绪控制", "物业费政策解读"} <= names
    assert catalog.weak_below == 80
    assert catalog.competency("service_skills").main_dimension() == "service"  # weight 3 of 5
    assert catalog.competency("professionalism").main_dimension() == "emotion"  # a tie: the first
    for course in catalog.courses:
        assert course.duration_min > 0 and all(catalog.competency(c) for c in course.competencies)
    # The rule loader skips the file, so the rules folder still loads as one rule set.
    assert load_ruleset(RULES).id == "property-default"


GOOD_FILE = (RULES / "training.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "line_of", "reason"),
    [
        ("    name: 专业知识\n", "", "  - id: knowledge", "缺少字段 competencies[0].name"),
        ("    duration_min: 60\n    competencies: [professionalism]\n    rules: [empathy, apology, no_empathy",
         "    duration_min: 一小时\n    competencies: [professionalism]\n    rules: [empathy, apology, no_empathy",
         "    duration_min: 一小时", "必须是整数"),
        ("weak_below: 80", "weak_below: 180", "weak_below: 180", "必须 ≤ 100"),
        ("    description: 标准开场", "    colour: red\n    description: 标准开场", "    colour: red", "不支持的字段"),
        ("    competencies: [service_skills]\n    rules: [closing]", "    competencies: [sales]\n    rules: [closing]",
         "    competencies: [sales]", "不存在的能力项 sales"),
        ("  - id: fee_policy", "  - id: pace_listening", "  - id: pace_listening\n    name: 物业费",
         "课程 id pace_listening 重复"),
        ("dimensions: {resolution: 1}", "dimensions: {resolutions: 1}", "dimensions: {resolutions: 1}",
         "不存在的维度 resolutions"),
        ("rules: [slow_reply, silence]\n\n", "rules: [slow_reply, silent]\n\n", "rules: [slow_reply, silent]",
         "不存在的规则 silent"),
        ("\nkind: training\n", "\nkind: trainings\n", "kind: trainings", "kind 应为 training"),
        ("name: 物业客服能力模型与培训课程", "name: [物业客服", "weak_below", "YAML 语法错误"),
        ("id: property-training\n", "id: property-training\nid: again\n", "id: again", "字段 id 重复"),
        ("    weight: 35\n", "    weight: 0\n", "    weight: 0", "字段 competencies[0].weight 必须 > 0"),
        ("    weight: 45\n", "    weight: -45\n", "    weight: -45", "字段 competencies[1].weight 必须 > 0"),
        ("    weight: 20\n", "    weight: 很多\n", "    weight: 很多", "字段 competencies[2].weight 必须是数字"),
        ("tiers: {basic_below: 70, leadership_from: 90}", "tiers: {basic_below: 90, leadership_from: 70}",
         "tiers:", "tiers.basic_below（90）必须小于 tiers.leadership_from（70）"),
        ("tiers: {basic_below: 70, leadership_from: 90}", "tiers: {basic_below: 80, leadership_from: 80}",
         "tiers:", "tiers.basic_below（80）必须小于 tiers.leadership_from（80）"),
        ("tiers: {basic_below: 70, leadership_from: 90}", "tiers: {basic_below: 70, leadership_from: 190}",
         "tiers:", "字段 tiers.leadership_from 必须 ≤ 100"),
        ("tiers: {basic_below: 70, leadership_from: 90}", "tiers: {basic_below: 70, leader: 90}",
         "tiers:", "不支持的字段 tiers.leader"),
        ("    tier: basic\n", "    tier: expert\n", "    tier: expert",
         "字段 courses[8].tier 的值 'expert' 无效（可选：basic、advanced、leadership）"),
    ],
)  # fmt: skip
def test_catalog_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line_of: str, reason: str) -> None:
    assert old in GOOD_FILE
    text = GOOD_FILE.replace(old, new, 1)
    path = tmp_path / "training.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_training(path, load_ruleset(RULES))
    message = str(caught.value)
    line = text[: text.index(line_of)].count("\n") + 1
    if reason == "YAML 语法错误":  # the parser reports where it noticed: at or just after the bad line
        assert caught.value.line is not None and caught.value.line >= text[: text.index(new)].count("\n") + 1
    else:
        assert message.startswith(f"{path}:{line}:"), message
    assert reason in message and "\n" not in message


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="培训配置文件不存在"):
        load_training(tmp_path / "training.yaml")


# --- the skill model (技能模型) ---------------------------------------------------------------------


def test_weights_are_normalized_by_their_sum(tmp_path: Path, catalog: TrainingCatalog) -> None:
    assert [c.weight for c in catalog.competencies] == [35, 45, 20]
    assert catalog.weights() == pytest.approx({"knowledge": 0.35, "service_skills": 0.45, "professionalism": 0.2})
    # Only the ratios count: 7 / 9 / 4 is 35 / 45 / 20.
    text = GOOD_FILE
    for old, new in (("weight: 35", "weight: 7"), ("weight: 45", "weight: 9"), ("weight: 20", "weight: 4")):
        text = text.replace(old, new)
    path = tmp_path / "training.yaml"
    path.write_text(text, encoding="utf-8")
    scaled = load_training(path, load_ruleset(RULES))
    assert [c.weight for c in scaled.competencies] == [7, 9, 4]
    assert scaled.weights() == pytest.approx(catalog.weights())
    # Without weights every competency counts the same.
    path.write_text(GOOD_FILE.replace("    weight: 35\n", "").replace("    weight: 45\n", "").replace(
        "    weight: 20\n", ""), encoding="utf-8")  # fmt: skip
    assert load_training(path).weights() == pytest.approx(dict.fromkeys(catalog.weights(), 1 / 3))


def test_composite_is_the_weighted_mean(catalog: TrainingCatalog) -> None:
    weights = catalog.weights()
    # 0.35 × 80 + 0.45 × 60 + 0.2 × 90 = 28 + 27 + 18 = 73
    assert composite_score({"knowledge": 80.0, "service_skills": 60.0, "professionalism": 90.0}, weights) == 73.0
    # 0.35 × 100 + 0.45 × 100 + 0.2 × 46.7 = 89.34
    assert composite_score({"knowledge": 100.0, "service_skills": 100.0, "professionalism": 46.7}, weights) == 89.3
    # 专业知识 without a score: the other two renormalized, (0.45 × 60 + 0.2 × 90) / 0.65 = 45 / 0.65 = 69.23
    assert composite_score({"knowledge": None, "service_skills": 60.0, "professionalism": 90.0}, weights) == 69.2
    assert composite_score({"service_skills": 60.0}, weights) == 60.0
    assert composite_score({"knowledge": None, "service_skills": None, "professionalism": None}, weights) is None
    assert composite_score({}, weights) is None
    assert weakest_competency({"knowledge": 80.0, "service_skills": 60.0, "professionalism": 60.0}) == "service_skills"
    assert weakest_competency({"knowledge": None, "service_skills": 95.0}) == "service_skills"
    assert weakest_competency({"knowledge": None}) is None


def test_tier_thresholds(catalog: TrainingCatalog) -> None:
    tiers = catalog.tiers
    assert (tiers.basic_below, tiers.leadership_from) == (70, 90)
    assert tiers.tier_for(0.0) == tiers.tier_for(69.9) == CourseTier.BASIC
    assert tiers.tier_for(70.0) == tiers.tier_for(89.9) == CourseTier.ADVANCED
    assert tiers.tier_for(90.0) == tiers.tier_for(100.0) == CourseTier.LEADERSHIP
    assert tiers.tier_for(None) is None
    for tier in CourseTier:
        assert len(catalog.courses_of_tier(tier)) >= 2, tier
    names = {c.name for c in catalog.courses}
    assert {"新员工入职：物业服务基础与流程", "班组带教与辅导技巧", "投诉升级处置与团队管理"} <= names


def test_suggested_courses_by_tier(catalog: TrainingCatalog) -> None:
    def ids(composite: float | None, weakest: str | None) -> list[str]:
        return [c.id for c in suggest_by_tier(catalog, composite, weakest)]

    # 基础层: 新员工入职 trains knowledge + service skills, 服务礼仪 service skills + professionalism.
    assert ids(55.0, "knowledge") == ["onboarding_basics", "service_etiquette_basics"]
    assert ids(55.0, "professionalism") == ["service_etiquette_basics", "onboarding_basics"]
    assert ids(55.0, None) == ["onboarding_basics", "service_etiquette_basics"]  # catalog order
    # 提升层: 班组带教 trains service skills + professionalism, 投诉升级处置 professionalism + knowledge.
    assert ids(95.0, "knowledge") == ["escalation_team_management", "peer_coaching"]
    assert ids(95.0, "service_skills") == ["peer_coaching", "escalation_team_management"]
    # 进阶层: only skill courses, those for the weakest competency first, each group in catalog order.
    advanced = ids(80.0, "knowledge")
    tiers = {c.id: c.tier for c in catalog.courses}
    assert {tiers[c] for c in advanced} == {CourseTier.ADVANCED} and len(advanced) == 8
    assert advanced[:3] == ["repair_process", "complaint_escalation", "fee_policy"]
    assert advanced[3:] == ["empathy_soothing", "opening_self_id", "taboo_emotion_control", "standard_closing",
                            "pace_listening"]  # fmt: skip
    assert ids(None, "knowledge") == []


# --- competency scores ---------------------------------------------------------------------------


def test_competencies_from_the_scorecard(env: Env, catalog: TrainingCatalog) -> None:
    bad = [env.call("8001", datetime(2024, 3, d, 9), BAD) for d in (4, 5)]
    env.call("8001", datetime(2024, 3, 6, 9), GOOD)
    env.call("8001", datetime(2024, 4, 6, 9), BAD)  # out of the range
    env.call("8002", datetime(2024, 3, 6, 9), GOOD)
    with env.db.session() as session:
        scores = {s.id: s for s in agent_competencies(session, catalog, "8001", date(2024, 3, 1),
                                                               date(2024, 3, 31))}  # fmt: skip
        good = {s.id: s for s in agent_competencies(session, catalog, "8002", None, None)}
        empty = agent_competencies(session, catalog, "8001", date(2025, 1, 1), date(2025, 1, 31))
        with pytest.raises(TrainingNotFound):
            agent_competencies(session, catalog, "nobody", None, None)

    # 情绪管理: (12 + 12 + 20) / 3 / 20 = 73.3 %; 合规: (5 + 5 + 15) / 3 / 15 = 55.6 %; mean 64.4.
    pro = scores["professionalism"]
    assert pro.name == "职业素养" and pro.score == 64.4 and pro.weak
    assert [(m.rule_id, m.calls, m.rate) for m in pro.evidence_rules] == [
        ("apology", 2, 0.667), ("empathy", 2, 0.667), ("prohibited", 2, 0.667)]  # fmt: skip
    assert pro.evidence_rules[0].name == "致歉"
    assert [c.id for c in pro.suggested_courses][:2] in (
        ["empathy_soothing", "complaint_escalation"], ["complaint_escalation", "empathy_soothing"])  # fmt: skip
    assert {c.id for c in pro.suggested_courses} == {"empathy_soothing", "taboo_emotion_control",
                                                     "complaint_escalation"}  # fmt: skip
    assert pro.evidence_calls == [bad[1], bad[0]]  # equal deductions: the newer first
    assert scores["service_skills"].score == 100.0 and not scores["service_skills"].weak
    assert scores["service_skills"].suggested_courses == [] and scores["service_skills"].evidence_calls == []
    assert scores["knowledge"].score == 100.0
    assert all(s.score == 100.0 and not s.weak for s in good.values())
    assert all(s.score is None and not s.weak for s in empty)

    # 技能综合分: 0.35 × 100 + 0.45 × 100 + 0.2 × 64.4 = 92.88 → 提升层 though 职业素养 is weak.
    profile = skill_profile(catalog, list(scores.values()))
    assert (profile.composite, profile.tier, profile.tier_label, profile.weakest) == (
        92.9, CourseTier.LEADERSHIP, "提升层", "professionalism")  # fmt: skip
    assert [c.id for c in profile.tier_courses] == ["peer_coaching", "escalation_team_management"]
    as_dict = profile.to_dict()
    assert as_dict["tier"] == "leadership" and as_dict["tier_courses"][0]["name"] == "班组带教与辅导技巧"
    nothing = skill_profile(catalog, empty)
    assert (nothing.composite, nothing.tier, nothing.weakest, nothing.tier_courses) == (None, None, None, [])


# --- coaching ------------------------------------------------------------------------------------


def test_assign_validates_and_audits(env: Env, catalog: TrainingCatalog) -> None:
    mine = env.call("8001", datetime(2024, 3, 4, 9), BAD)
    theirs = env.call("8002", datetime(2024, 3, 4, 9), BAD)
    args = ("user:trainer", "trainer")
    with env.db.session() as session:
        assignment = coaching.assign(session, catalog, *args, "8001", "professionalism", "empathy_soothing",
                                     [mine, mine], date(2024, 4, 1), "请重点练习共情话术")  # fmt: skip
        assert assignment.status == "assigned" and assignment.dimension == "emotion"  # the main dimension
        assert assignment.evidence == [mine] and assignment.trainer == "user:trainer"
        other = coaching.assign(session, catalog, *args, "8001", "professionalism", None, [], None, None, "compliance")
        assert other.dimension == "compliance" and other.course_id is None
        bad_inputs = [
            (("nobody", "professionalism", None, []), "agent_not_found", None),
            (("8001", "charm", None, []), "invalid_coaching", "competency"),
            (("8001", "knowledge", "yoga", []), "invalid_coaching", "course_id"),
            (("8001", "knowledge", None, [theirs]), "invalid_coaching", "evidence"),
            (("8001", "knowledge", None, ["no-such-call"]), "invalid_coaching", "evidence"),
        ]
        for (agent, competency, course, evidence), code, field in bad_inputs:
            with pytest.raises(TrainingError) as caught:
                coaching.assign(session, catalog, *args, agent, competency, course, evidence, None, None)
            assert caught.value.code == code and caught.value.field == field, caught.value
        with pytest.raises(TrainingError) as caught:
            coaching.assign(session, catalog, *args, "8001", "knowledge", None, [], None, None, "emotion")
        assert caught.value.field == "dimension"
        assignment_id, other_id = assignment.id, other.id

    with env.db.session() as session:
        done = coaching.mark_done(session, "token:9", "agent", assignment_id, "已学习")
        assert done.status == "done" and done.done_at is not None
        with pytest.raises(CoachingStateError):
            coaching.mark_done(session, "token:9", "agent", assignment_id)
        with pytest.raises(CoachingStateError):
            coaching.cancel(session, "user:trainer", "trainer", assignment_id)
        assert coaching.cancel(session, "user:trainer", "trainer", other_id, "重复布置").status == "cancelled"
        with pytest.raises(TrainingNotFound) as missing:
            coaching.get_assignment(session, 999_999)
        assert missing.value.code == "coaching_not_found"

    with env.db.session() as session:
        log = audit.history(session, "coaching", assignment_id)
        assert [e.action for e in log] == ["coaching.assign", "coaching.done"]
        assert log[0].actor == "user:trainer" and log[0].reason == "请重点练习共情话术"
        assert log[0].after is not None and log[0].after["course_id"] == "empathy_soothing"
        assert log[1].before["status"] == "assigned" and log[1].after["status"] == "done"
        assert log[1].actor_role == "agent" and log[1].reason == "已学习"
        cancelled = audit.history(session, "coaching", other_id)
        assert [e.action for e in cancelled] == ["coaching.assign", "coaching.cancel"]
        assert [a.id for a in coaching.list_assignments(session, agent_id="8001")] == [other_id, assignment_id]
        assert [a.id for a in coaching.list_assignments(session, status="done")] == [assignment_id]
        assignment = coaching.get_assignment(session, assignment_id)
        assert not coaching.is_overdue(assignment, date(2030, 1, 1))  # done: never overdue
        open_one = CoachingAssignment(status="assigned", due_date=date(2024, 4, 1))
        assert coaching.is_overdue(open_one, date(2024, 4, 2)) and not coaching.is_overdue(open_one, date(2024, 4, 1))


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)


def test_effect_uses_the_same_number_of_calls_each_side(env: Env, catalog: TrainingCatalog) -> None:
    # Before: 5 calls, the oldest two good, the last three bad; during the coaching: one bad call;
    # after: three good calls.
    before = [env.call("8001", datetime(2024, 3, d, 9), GOOD if d < 3 else BAD) for d in range(1, 6)]
    env.call("8001", datetime(2024, 3, 12, 9), BAD)  # between assignment and done: not counted
    after = [env.call("8001", datetime(2024, 3, 20 + d, 9), GOOD) for d in range(3)]
    env.call("8002", datetime(2024, 3, 22, 9), BAD)  # someone else
    with env.db.session() as session:
        assignment = coaching.assign(session, catalog, "user:t", "trainer", "8001", "professionalism",
                                     "empathy_soothing", [], None, None)  # fmt: skip
        assignment.created_at = _utc(datetime(2024, 3, 10, 12))
        assignment_id = assignment.id

    with env.db.session() as session:
        assignment = coaching.get_assignment(session, assignment_id)
        open_effect = coaching_effect(session, assignment, n=10)  # not done: after the creation
        assert open_effect.n_used == 4 and len(open_effect.after_calls) == 4
        coaching.mark_done(session, "user:t", "trainer", assignment_id)
        assignment.done_at = _utc(datetime(2024, 3, 15, 12))

    with env.db.session() as session:
        assignment = coaching.get_assignment(session, assignment_id)
        effect = coaching_effect(session, assignment, n=10)
        assert effect.dimension == "emotion" and effect.n_used == 3
        assert effect.before_calls == before[2:] and effect.after_calls == after  # the last 3 vs the first 3
        assert (effect.before_avg, effect.after_avg, effect.delta) == (60.0, 100.0, 40.0)  # 12/20 → 20/20
        two = coaching_effect(session, assignment, n=2)
        assert two.n_used == 2 and two.before_calls == before[3:] and two.after_calls == after[:2]
        old_keys = ("dimension", "before_calls", "before_avg", "after_calls", "after_avg", "delta", "n")
        assert {key: two.to_dict()[key] for key in old_keys} == {
            "dimension": "emotion", "before_calls": before[3:], "before_avg": 60.0, "after_calls": after[:2],
            "after_avg": 100.0, "delta": 40.0, "n": 2}  # fmt: skip
        assignment.done_at = _utc(datetime(2024, 4, 1))  # nothing after
        nothing = coaching_effect(session, assignment, n=10)
        assert nothing.n_used == 0 and nothing.before_calls == [] and nothing.after_calls == []
        assert nothing.before_avg is None and nothing.after_avg is None and nothing.delta is None


def test_contrast_interval_is_welchs_interval() -> None:
    before = [60.0, 72.5, 65.0, 80.0, 55.0]
    after = [80.0, 90.0, 75.0, 95.0, 85.0, 70.0, 88.0]
    interval = contrast_interval([(1.0, after), (-1.0, before)], 0.95)
    expected = stats.ttest_ind(after, before, equal_var=False).confidence_interval(0.95)
    assert interval is not None and interval.estimate == pytest.approx(sum(after) / 7 - sum(before) / 5)
    assert (interval.low, interval.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    wider = contrast_interval([(1.0, after), (-1.0, before)], 0.99)
    assert wider is not None and wider.low < interval.low and wider.high > interval.high
    # A team without spread adds no uncertainty: the difference in differences is the agent's interval,
    # shifted by the team's change (40 → 50: +10).
    did = contrast_interval([(1.0, after), (-1.0, before), (-1.0, [50.0, 50.0]), (1.0, [40.0, 40.0, 40.0])])
    assert did is not None and did.low == pytest.approx(expected.low - 10)
    assert did.high == pytest.approx(expected.high - 10)
    # With spread on the team too, the interval widens beyond both two-sample intervals.
    team_before, team_after = [70.0, 60.0, 75.0, 65.0], [80.0, 72.0, 90.0]
    team = stats.ttest_ind(team_after, team_before, equal_var=False).confidence_interval(0.95)
    full = contrast_interval([(1.0, after), (-1.0, before), (-1.0, team_after), (1.0, team_before)])
    assert full is not None and full.high - full.low > max(expected.high - expected.low, team.high - team.low)
    assert contrast_interval([(1.0, after), (-1.0, [60.0])]) is None  # one call: no spread to measure
    flat = contrast_interval([(1.0, [90.0, 90.0]), (-1.0, [60.0, 60.0, 60.0])])
    assert flat is not None and (flat.low, flat.estimate, flat.high, flat.df) == (30.0, 30.0, 30.0, None)


def _assigned(env: Env, catalog: TrainingCatalog, agent: str, created: datetime, done: datetime) -> int:
    with env.db.session() as session:
        assignment = coaching.assign(session, catalog, "user:t", "trainer", agent, "professionalism",
                                     "empathy_soothing", [], None, None)  # fmt: skip
        assignment.created_at = _utc(created)
        assignment.status = "done"
        assignment.done_at = _utc(done)
        return assignment.id


def test_effect_interval_and_too_few_calls(env: Env, catalog: TrainingCatalog) -> None:
    # 情绪管理: BAD 60 %, GOOD 100 %. Before: 60 60 100 60 60 100 (avg 73.3); after: 100 100 60 100 100 100 (93.3).
    before_lines = (BAD, BAD, GOOD, BAD, BAD, GOOD)
    after_lines = (GOOD, GOOD, BAD, GOOD, GOOD, GOOD)
    for day, lines in enumerate(before_lines, start=1):
        env.call("8001", datetime(2024, 3, day, 9), lines, team="独行组")
    for day, lines in enumerate(after_lines, start=16):
        env.call("8001", datetime(2024, 3, day, 9), lines, team="独行组")
    assignment_id = _assigned(env, catalog, "8001", datetime(2024, 3, 10, 12), datetime(2024, 3, 15, 12))

    with env.db.session() as session:
        assignment = coaching.get_assignment(session, assignment_id)
        effect = coaching_effect(session, assignment, n=10, min_calls=5)
        assert (effect.n_used, effect.before_avg, effect.after_avg, effect.delta) == (6, 73.3, 93.3, 20.0)
        expected = stats.ttest_ind([100, 100, 60, 100, 100, 100], [60, 60, 100, 60, 60, 100],
                                   equal_var=False).confidence_interval(0.95)  # fmt: skip
        assert effect.ci_low == pytest.approx(expected.low, abs=0.051)
        assert effect.ci_high == pytest.approx(expected.high, abs=0.051)
        assert effect.ci_low is not None and effect.ci_low < 0 < effect.ci_high  # 6 calls a side: not sure
        assert effect.enough and effect.verdict == EffectVerdict.UNCLEAR and effect.label == "无明显变化"
        assert effect.team_id == "独行组" and not effect.team_compared  # nobody else in the team
        assert (effect.team_before_n, effect.team_after_n, effect.did, effect.did_low) == (0, 0, None, None)
        assert effect.before_from == _utc(datetime(2024, 3, 1, 9)) and effect.after_to == _utc(datetime(2024, 3, 21, 9))

        few = coaching_effect(session, assignment, n=4, min_calls=5)  # 4 calls a side, 5 needed
        assert few.n_used == 4 and not few.enough and few.verdict == EffectVerdict.INSUFFICIENT
        assert few.label == "样本不足" and few.to_dict()["label"] == "样本不足" and few.to_dict()["enough"] is False
        assert few.ci_low is not None and few.delta is not None  # still computed, only not concluded from
        assert coaching_effect(session, assignment, n=5, min_calls=5).enough


def test_effect_against_the_team_cancels_a_season_wide_change(env: Env, catalog: TrainingCatalog) -> None:
    # The agent and the rest of the team both go from 72 % (3 GOOD, 7 BAD) to 92 % (8 GOOD, 2 BAD): +20 each.
    before_lines = (GOOD, BAD, BAD, GOOD, BAD, BAD, BAD, GOOD, BAD, BAD)
    after_lines = (GOOD, GOOD, BAD, GOOD, GOOD, GOOD, GOOD, BAD, GOOD, GOOD)
    for day, lines in enumerate(before_lines, start=1):
        env.call("8001", datetime(2024, 3, day, 9), lines)
        env.call("8002" if day % 2 else "8003", datetime(2024, 3, day, 10), lines)
    for day, lines in enumerate(after_lines, start=16):
        env.call("8001", datetime(2024, 3, day, 9), lines)
        env.call("8003" if day % 2 else "8002", datetime(2024, 3, day, 8), lines)
    env.call("8002", datetime(2024, 2, 28, 9), WORSE)  # before the agent's first counted call
    env.call("8002", datetime(2024, 3, 12, 9), WORSE)  # during the coaching
    env.call("8003", datetime(2024, 3, 25, 10), WORSE)  # after the agent's last counted call (3-25 09:00)
    env.call("9001", datetime(2024, 3, 5, 9), WORSE, team="B组")  # another team
    env.call("9001", datetime(2024, 3, 20, 9), GOOD, team="B组")
    assignment_id = _assigned(env, catalog, "8001", datetime(2024, 3, 10, 12), datetime(2024, 3, 15, 12))

    with env.db.session() as session:
        assignment = coaching.get_assignment(session, assignment_id)
        effect = coaching_effect(session, assignment, n=10, min_calls=5)
        assert (effect.n_used, effect.before_avg, effect.after_avg, effect.delta) == (10, 72.0, 92.0, 20.0)
        assert effect.ci_low is not None and effect.ci_low > 0  # on its own the change looks real …
        assert effect.team_id == "A组" and (effect.team_before_n, effect.team_after_n) == (10, 10)
        assert (effect.team_before_avg, effect.team_after_avg, effect.team_delta) == (72.0, 92.0, 20.0)
        assert effect.did == 0.0 and effect.did_low is not None and effect.did_high is not None
        assert effect.did_low < 0 < effect.did_high  # … but the whole team changed as much
        assert effect.did_high - effect.did_low > effect.ci_high - effect.ci_low
        assert effect.team_compared and effect.verdict == EffectVerdict.UNCLEAR and effect.label == "无明显变化"
        mine = contrast_interval([(1.0, _values(after_lines)), (-1.0, _values(before_lines))])
        assert mine is not None and effect.ci_low == pytest.approx(mine.low, abs=0.051)

        # The same agent change while the team stayed where it was: credited to the course.
        session.execute(update(Agent).where(Agent.id.in_(["8002", "8003"])).values(team_id="B组"))
    for day in range(1, 11):  # the new team: 60 % before and after
        env.call("9002", datetime(2024, 3, day, 11), BAD)
        env.call("9002", datetime(2024, 3, day + 15, 8), BAD)
    with env.db.session() as session:
        assignment = coaching.get_assignment(session, assignment_id)
        flat = coaching_effect(session, assignment, n=10, min_calls=5)
        assert (flat.team_before_n, flat.team_before_avg, flat.team_after_avg, flat.team_delta) == (10, 60.0, 60.0, 0.0)
        assert flat.did == 20.0 and (flat.did_low, flat.did_high) == (flat.ci_low, flat.ci_high)  # no team spread
        assert flat.team_compared and flat.verdict == EffectVerdict.IMPROVED and flat.label == "有提升"


def _values(lines: tuple[tuple[str, ...], ...]) -> list[float]:
    return [100.0 if each == GOOD else 60.0 for each in lines]


# --- monthly assessment --------------------------------------------------------------------------


def test_grades() -> None:
    assert assessment.grade_for(95.0, 0) == "A"
    assert assessment.grade_for(90.0, 0) == "A"
    assert assessment.grade_for(89.9, 0) == "B"
    assert assessment.grade_for(80.0, 0) == "B"
    assert assessment.grade_for(79.9, 0) == "C"
    assert assessment.grade_for(70.0, 0) == "C"
    assert assessment.grade_for(69.9, 0) == "D"
    assert assessment.grade_for(None, 0) == "D"
    assert assessment.grade_for(98.0, 1) == "C"  # a fatal call caps the month at C
    assert assessment.grade_for(85.0, 2) == "C"
    assert assessment.grade_for(50.0, 1) == "D"


def test_month_range() -> None:
    assert assessment.month_range("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert assessment.month_range("2024-12") == (date(2024, 12, 1), date(2024, 12, 31))
    for bad in ("2024-13", "March", "2024/03", ""):
        with pytest.raises(TrainingError) as caught:
            assessment.month_range(bad)
        assert caught.value.field == "month"


def test_monthly_assessment(env: Env, catalog: TrainingCatalog) -> None:
    for day in (4, 5, 6):
        env.call("8001", datetime(2024, 3, day, 9), GOOD)  # 100 → A
    for day in range(1, 11):
        env.call("8002", datetime(2024, 3, day, 9), GOOD)
    fatal = env.call("8002", datetime(2024, 3, 11, 9), GOOD)  # made fatal below: 1000 / 11 = 90.9, capped to C
    env.call("8003", datetime(2024, 3, 4, 9), BAD)  # 82 → B
    env.call("8005", datetime(2024, 3, 4, 9), BAD)
    env.call("8005", datetime(2024, 3, 5, 9), WORSE)
    env.call("9001", datetime(2024, 3, 4, 9), BAD, team="B组")
    env.call("8004", datetime(2024, 4, 1, 9), GOOD)  # April: not in March
    with env.db.session() as session:  # a fatal (一票否决) analysis: total 0
        call = store.get_call(session, fatal)
        assert call is not None
        session.execute(update(Analysis).where(Analysis.id == call.analysis_id).values(fatal=True, total=0.0))
        call.score, call.fatal = 0.0, True
        store.refresh_agent_days(session, {("8002", call.day)})
        late = coaching.assign(session, catalog, "user:t", "trainer", "8003", "professionalism", None, [], None, None)
        coaching.mark_done(session, "user:t", "trainer", late.id)
        late.done_at = datetime(2024, 3, 31, 17)  # 2024-04-01 01:00 in Shanghai: April there
        done = coaching.assign(session, catalog, "user:t", "trainer", "8003", "knowledge", None, [], None, None)
        coaching.mark_done(session, "user:t", "trainer", done.id)
        done.done_at = datetime(2024, 3, 20, 2)

    with env.db.session() as session:
        rows = assessment.monthly_assessment(session, catalog, "2024-03", tz=TZ)
        team_b = assessment.monthly_assessment(session, catalog, "2024-03", "B组", tz=TZ)
        utc_rows = assessment.monthly_assessment(session, catalog, "2024-03")
    by_agent = {r.agent_id: r for r in rows}
    assert list(by_agent) == ["8001", "8002", "8003", "8005", "9001"]
    first = by_agent["8001"]
    assert (first.name, first.team, first.calls, first.average_score, first.red, first.fatal, first.grade) == (
        "坐席8001", "A组", 3, 100.0, 0, 0, "A")  # fmt: skip
    assert first.competencies == {"knowledge": 100.0, "service_skills": 100.0, "professionalism": 100.0}
    capped = by_agent["8002"]
    assert (capped.calls, capped.average_score, capped.fatal, capped.grade) == (11, 90.9, 1, "C")
    assert (by_agent["8003"].average_score, by_agent["8003"].grade) == (82.0, "B")
    assert by_agent["8003"].competencies["professionalism"] == 46.7  # (60 + 33.3) / 2
    assert by_agent["8003"].coaching_done == 1  # the other one was done in April, local time
    assert {r.agent_id: r.coaching_done for r in utc_rows}["8003"] == 2  # in UTC both are March
    low = by_agent["8005"]
    assert low.average_score is not None and low.average_score < 80 and low.grade in ("C", "D")
    assert low.grade == assessment.grade_for(low.average_score, 0)
    assert [r.agent_id for r in team_b] == ["9001"] and team_b[0].team == "B组" and team_b[0].grade == "B"

    frame = assessment.assessment_frame(rows, catalog)
    assert list(frame.columns) == ["坐席", "姓名", "班组", "通话数", "平均分", "专业知识", "服务技能", "职业素养",
                                   "技能综合分", "建议层级", "红色预警数", "一票否决数", "完成辅导数",
                                   "考核等级"]  # fmt: skip
    assert frame["考核等级"].tolist() == [r.grade for r in rows]
    assert frame.loc[0, "职业素养"] == 100.0 and frame.loc[2, "完成辅导数"] == 1

    # 技能综合分: 8001 scores 100 everywhere; 8003: 0.35 × 100 + 0.45 × 100 + 0.2 × 46.7 = 89.34.
    assert (first.composite, first.tier) == (100.0, CourseTier.LEADERSHIP)
    assert by_agent["8003"].competencies == {"knowledge": 100.0, "service_skills": 100.0, "professionalism": 46.7}
    assert (by_agent["8003"].composite, by_agent["8003"].tier) == (89.3, CourseTier.ADVANCED)
    low_scores = low.competencies
    assert low.composite == round(0.35 * low_scores["knowledge"] + 0.45 * low_scores["service_skills"]
                                  + 0.2 * low_scores["professionalism"], 1)  # fmt: skip
    assert low.tier == catalog.tiers.tier_for(low.composite)
    assert by_agent["8003"].to_dict()["tier"] == "advanced" and by_agent["8003"].to_dict()["tier_label"] == "进阶层"
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name="月度考核")
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    header, *cells = list(sheet.iter_rows(values_only=True))
    table = {row[0]: dict(zip(header, row, strict=True)) for row in cells}
    assert (table["8001"]["技能综合分"], table["8001"]["建议层级"]) == (100, "提升层")
    assert (table["8003"]["技能综合分"], table["8003"]["建议层级"]) == (89.3, "进阶层")
    assert pd.read_excel(io.BytesIO(buffer.getvalue()))["技能综合分"].tolist() == [r.composite for r in rows]
    with env.db.session() as session:
        assert assessment.monthly_assessment(session, catalog, "2023-01") == []
