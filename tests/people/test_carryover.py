"""Reviews survive rule changes (``inspector.people.carryover``): activating a new rule set and rescoring
the calls (the real ``inspector.service.rescore.rescore_calls`` job function, stored transcripts) carries
every verdict, added finding and explicit score over to the new analysis, on SQLite and PostgreSQL.

Targets: the same pack in a new version keeps every reviewed call's effective score exactly
(``test_a_new_version_of_the_same_pack_keeps_every_reviewed_score``); a changed pack keeps every verdict
whose finding still exists and lists the others as lost (``test_a_changed_pack_keeps_what_still_exists_and_
lists_the_rest``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from inspector.people import carryover, verdicts
from inspector.qa.rules.engine import evaluate
from inspector.qa.scoring import score_call
from inspector.service import rescore
from inspector.service.context import WorkerContext, use_context
from inspector.settings import Settings
from inspector.speech.transcript import Diarization, Transcript, Utterance
from inspector.store import audit, rulesets
from inspector.store import calls as store
from inspector.store.blobs import LocalAudioStore
from inspector.store.schema import (
    AddedFinding,
    AgentDay,
    Analysis,
    AuditEntry,
    Base,
    Call,
    CarryOverLoss,
    HitVerdict,
    Review,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 3, 13)
GREETING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
CARING = "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"
CLOSING = "感谢您的来电，再见。"
ASK = ("customer", "我家厨房漏水了，麻烦派人来看看。")


def _transcript(*turns: tuple[str, str]) -> Transcript:
    utts = [
        Utterance(i * 3.0, i * 3.0 + 2.5, "S0" if role == "agent" else "S1", role, text)
        for i, (role, text) in enumerate(turns)
    ]
    return Transcript("x.wav", len(turns) * 3.0, 1, 8000, utts, Diarization("channels", 1.0, "S0", ["S0", "S1"]))


# With the default rules: every call loses 3 for the agent's fast first sentence (speech_rate).
GOOD = _transcript(("agent", GREETING), ASK, ("agent", CARING), ("agent", CLOSING))  # 97
RED = _transcript(
    ("agent", GREETING), ("customer", "你们怎么还不来修，我要投诉！"), ("agent", CARING), ("agent", CLOSING)
)  # 97, red alert (escalation)
TABOO = _transcript(("agent", GREETING), ASK, ("agent", "非常抱歉给您带来不便，我理解您的心情，这个不归我们管。"),
                    ("agent", CLOSING))  # fmt: skip  # 87: prohibited -10


@dataclass
class World:
    ctx: WorkerContext
    base_id: int


@pytest.fixture
def world(database: Any, tmp_path: Path) -> World:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    with database.session() as s:
        base_id = rulesets.ensure_default(s, settings.rules_dir).id
    return World(WorkerContext(settings, database, LocalAudioStore(settings.audio_store_dir)), base_id)


_counter = iter(range(1_000_000))


def _done_call(world: World, transcript: Transcript, agent: str = "8001") -> str:
    n = next(_counter)
    call_id = f"carry-{n}"
    new = store.NewCall(audio_sha256=f"{n:064d}", audio_bytes=10, audio_name=f"{call_id}.wav", source="import",
                        agent_id=agent, call_id=call_id, started_at=datetime(2024, 3, 13, 10, tzinfo=TZ),
                        team_id="A组")  # fmt: skip
    with world.ctx.db.session() as s:
        store.register_calls(s, [new], TZ)
        call = store.claim(s, call_id, lease_s=600)
        assert call is not None
        record = rulesets.active_ruleset(s)
        assert record is not None
        store.save_transcript(s, call_id, transcript)
        analysis = world.ctx.analyzer(record).analyze_transcript(transcript, agent)
        store.save_analysis(s, call, analysis, record.id, True)
        store.finish(s, call)
    return call_id


def _bundle(settings: Settings, version: int, edit: Any = None) -> dict[str, str]:
    """The default bundle as a new version, optionally edited (``edit(data)`` on the parsed YAML)."""
    files = rulesets.read_bundle(settings.rules_dir)
    data = yaml.safe_load(files["property-default.yaml"])
    data["version"] = version
    if edit is not None:
        edit(data)
    files["property-default.yaml"] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return files


def _activate(world: World, files: dict[str, str] | None, call_ids: list[str], rule_set_id: int | None = None) -> int:
    """Activate a rule set (a new bundle, or a stored one by id) and run the rescoring job on the calls."""
    with world.ctx.db.session() as s:
        if rule_set_id is None:
            assert files is not None
            record, created = rulesets.add_ruleset(s, files)
            assert created
            rule_set_id = record.id
        assert rulesets.activate(s, rule_set_id) is not None
    with use_context(world.ctx):
        assert rescore.rescore_calls(call_ids, rule_set_id) == len(call_ids)
    return rule_set_id


def _index(analysis: Analysis, rule_id: str, points_below_zero: bool = True) -> int:
    return next(
        i for i, h in enumerate(analysis.hits) if h["rule_id"] == rule_id and (h["points"] < 0) == points_below_zero
    )


def _current(s: Any, call_id: str) -> tuple[Call, Analysis]:
    call = s.get(Call, call_id)
    return call, s.get(Analysis, call.analysis_id)


def _verdicts(s: Any, analysis_id: int) -> dict[int, tuple[str, str, str, str | None]]:
    rows = s.scalars(select(HitVerdict).where(HitVerdict.analysis_id == analysis_id))
    return {v.hit_index: (v.rule_id, v.verdict, v.reviewer, v.comment) for v in rows}


def _findings(s: Any, analysis_id: int) -> list[tuple[str | None, str | None, str, float, str]]:
    rows = s.scalars(select(AddedFinding).where(AddedFinding.analysis_id == analysis_id).order_by(AddedFinding.id))
    return [(f.rule_id, f.dimension, f.description, f.points, f.reviewer) for f in rows]


def _carry_entries(s: Any, call_id: str) -> list[AuditEntry]:
    return [e for e in audit.history(s, "call", call_id) if e.action == carryover.ACTION]


def _day_sum(s: Any, agent: str = "8001") -> float:
    return s.scalars(select(AgentDay).where(AgentDay.agent_id == agent, AgentDay.day == DAY)).one().score_sum


# --- the same pack, a new version ----------------------------------------------------------------


def test_a_new_version_of_the_same_pack_keeps_every_reviewed_score(world: World) -> None:
    rejected, found, adjusted, replaced, untouched = (_done_call(world, t) for t in (TABOO, GOOD, RED, GOOD, GOOD))
    with world.ctx.db.session() as s:
        call, analysis = _current(s, rejected)
        verdicts.set_verdict(s, "user:li", "reviewer", call, _index(analysis, "prohibited"), "rejected", "非禁语")
        verdicts.set_verdict(s, "user:li", "reviewer", call, 1, "confirmed", "物业")  # greeting: 3 hits, one span
        call, analysis = _current(s, found)
        verdicts.add_finding(s, "user:wang", "reviewer", call, description="未核实住址", points=-4.0,
                             dimension="service", start=3.0, end=5.5)  # fmt: skip
        verdicts.set_verdict(s, "user:wang", "reviewer", call, _index(analysis, "speech_rate"), "confirmed", None)
        call, _ = _current(s, adjusted)
        verdicts.adjust_score(s, "user:zhao", "reviewer", call, 81.5, "综合判断")
        call, analysis = _current(s, replaced)  # an explicit score, then a verdict: the verdict's score counts
        verdicts.adjust_score(s, "user:zhao", "reviewer", call, 60.0, "先调分")
        verdicts.set_verdict(s, "user:zhao", "reviewer", call, _index(analysis, "speech_rate"), "rejected", "不快")
    ids = [rejected, found, adjusted, replaced, untouched]
    with world.ctx.db.session() as s:
        before = {i: s.get(Call, i).score for i in ids}
        old = {i: _current(s, i)[1] for i in ids}
        old_verdicts = {i: _verdicts(s, old[i].id) for i in ids}
        old_findings = {i: _findings(s, old[i].id) for i in ids}
        day_before = _day_sum(s)
    assert before == {rejected: 97.0, found: 93.0, adjusted: 81.5, replaced: 100.0, untouched: 97.0}

    v2 = _activate(world, _bundle(world.ctx.settings, 2), ids)

    with world.ctx.db.session() as s:
        for call_id in ids:
            call, new = _current(s, call_id)
            assert new.rule_set_id == v2 and new.id != old[call_id].id
            assert call.score == before[call_id] and new.total == old[call_id].total
            assert _verdicts(s, new.id) == old_verdicts[call_id]  # the same hits, the same reviewers and comments
            assert _findings(s, new.id) == old_findings[call_id]
        assert _day_sum(s) == day_before  # the scorecards follow
        call, new = _current(s, adjusted)
        assert new.reviewed_total == 81.5 and new.reviewed_by == "user:zhao"
        adjust = [e for e in audit.history(s, "call", adjusted) if e.action == "score.adjust"][-1]
        assert adjust.after["analysis_id"] == new.id and adjust.after["carried_from"] == old[adjusted].id
        assert "综合判断" in adjust.reason
        assert _current(s, replaced)[1].reviewed_total == 100.0  # recomputed, not the replaced 60
        # One audit entry per reviewed call; the untouched call has none (nothing was reviewed).
        entries = {i: _carry_entries(s, i) for i in ids}
        assert [len(entries[i]) for i in ids] == [1, 1, 1, 1, 0]
        assert entries[rejected][0].after["verdicts_carried"] == 2 and entries[rejected][0].after["lost"] == []
        assert entries[found][0].after["findings_carried"] == 1
        assert entries[adjusted][0].after["adjustment_carried"] is True
        assert entries[replaced][0].after["adjustment_carried"] is False
        assert all(entries[i][0].actor == "system" and entries[i][0].reason for i in ids[:4])
        # The review queue entries (manual, pending) moved along: the call is not shown as unreviewed.
        for call_id in ids[:4]:
            assert s.scalars(select(Review).where(Review.analysis_id == _current(s, call_id)[1].id)).one()
        assert s.scalars(select(CarryOverLoss)).all() == []

    # The explicit score is in force on the new analysis: a later verdict replaces it and says so.
    with world.ctx.db.session() as s:
        call, new = _current(s, adjusted)
        verdicts.set_verdict(s, "user:li", "reviewer", call, _index(new, "speech_rate"), "confirmed", None)
        assert audit.history(s, "call", adjusted)[-1].after["override_replaced"] is True
        assert call.score == new.total

    # Back to the first version: its analyses are stored again (their old review rows replaced by the
    # carried ones), and every score is still the reviewers'.
    _activate(world, None, ids, rule_set_id=world.base_id)
    with world.ctx.db.session() as s:
        after = {i: s.get(Call, i).score for i in ids}
        assert after == {**before, adjusted: 97.0}  # 97: the verdict above replaced the explicit score
        for call_id in ids:
            assert _current(s, call_id)[1].id == old[call_id].id
        assert _verdicts(s, old[rejected].id) == old_verdicts[rejected]
        assert _findings(s, old[found].id) == old_findings[found]  # replaced, not doubled
        assert _carry_entries(s, found)[-1].after["replaced"] == {"verdicts": 1, "findings": 1}


# --- a changed pack ------------------------------------------------------------------------------


def _changed(data: dict[str, Any]) -> None:
    """escalation removed; closing no longer matches 感谢您的来电/再见 (so the call misses its closing)."""
    data["rules"] = [r for r in data["rules"] if r["id"] != "escalation"]
    closing = next(r for r in data["rules"] if r["id"] == "closing")
    closing["when"]["phrase"]["phrases"] = ["还有其他可以帮您"]


def test_a_changed_pack_keeps_what_still_exists_and_lists_the_rest(world: World) -> None:
    good, red, taboo, adjusted = (_done_call(world, t) for t in (GOOD, RED, TABOO, GOOD))
    with world.ctx.db.session() as s:
        call, analysis = _current(s, good)
        speech = _index(analysis, "speech_rate")
        closing = _index(analysis, "closing", points_below_zero=False)
        verdicts.set_verdict(s, "user:li", "reviewer", call, speech, "rejected", "语速正常")
        verdicts.set_verdict(s, "user:li", "reviewer", call, closing, "confirmed", "有结束语")
        call, analysis = _current(s, red)
        escalation = _index(analysis, "escalation", points_below_zero=False)
        verdicts.set_verdict(s, "user:li", "reviewer", call, escalation, "confirmed", "确有投诉")
        call, analysis = _current(s, taboo)
        verdicts.set_verdict(s, "user:li", "reviewer", call, _index(analysis, "prohibited"), "rejected", "误报")
        verdicts.add_finding(s, "user:li", "reviewer", call, description="未告知上门时间", points=-4.0,
                             dimension="service")  # fmt: skip
        call, _ = _current(s, adjusted)
        verdicts.adjust_score(s, "user:zhao", "reviewer", call, 90.0, "人工复核")
        old = {i: _current(s, i)[1].id for i in (good, red, taboo, adjusted)}

    changed = _activate(world, _bundle(world.ctx.settings, 2, _changed), [good, red, taboo, adjusted])

    with world.ctx.db.session() as s:
        record = rulesets.active_ruleset(s)
        assert record is not None and record.id == changed
        compiled = world.ctx.analyzer(record)
        # good: the speech_rate verdict still has its finding and is kept; the closing hit vanished.
        call, new = _current(s, good)
        kept = _verdicts(s, new.id)
        assert [(v[0], v[1]) for v in kept.values()] == [("speech_rate", "rejected")]
        assert new.hits[next(iter(kept))]["points"] == -3
        findings = evaluate(compiled.compiled, GOOD)
        drop = {i for i, f in enumerate(findings) if f.rule_id == "speech_rate" and f.points < 0}
        expected = score_call(compiled.compiled, [f for i, f in enumerate(findings) if i not in drop]).total
        assert new.total == 92.0 and call.score == new.reviewed_total == expected == 95.0  # closing -5 now counts
        # red: its rule is gone; nothing carried, the machine's score counts.
        call, new = _current(s, red)
        assert _verdicts(s, new.id) == {} and new.reviewed_total is None and call.score == new.total
        # taboo: the prohibited verdict and the added finding are kept.
        call, new = _current(s, taboo)
        assert [v[0] for v in _verdicts(s, new.id).values()] == ["prohibited"]
        assert _findings(s, new.id) == [(None, "service", "未告知上门时间", -4.0, "user:li")]
        assert call.score == new.reviewed_total == 88.0  # 87 - 5 (closing) + 10 (prohibited rejected) - 4
        # adjusted: the explicit score holds under the new rules.
        call, new = _current(s, adjusted)
        assert call.score == new.reviewed_total == 90.0 and new.total == 92.0

        losses = carryover.list_losses(s)
        assert losses.total == 2
        lost = sorted((x.call_id, x.kind, x.reason, x.rule_id, x.hit_index, x.verdict, x.reviewer, x.comment)
                      for x in losses.items)  # fmt: skip
        assert lost == sorted([
            (good, "verdict", "finding_vanished", "closing", closing, "confirmed", "user:li", "有结束语"),
            (red, "verdict", "rule_removed", "escalation", escalation, "confirmed", "user:li", "确有投诉"),
        ])  # fmt: skip
        by_call = {x.call_id: x for x in losses.items}
        assert by_call[red].item["text"] == "我要投诉" and by_call[good].item["text"] == "感谢您的来电"
        assert by_call[red].from_analysis_id == old[red] and by_call[red].to_analysis_id == _current(s, red)[1].id
        assert carryover.LOSS_REASONS[by_call[red].reason] == "新规则集中已没有该规则"
        assert carryover.list_losses(s, call_id=taboo).total == 0

        # The audit entries list the counts and the lost items.
        [entry] = _carry_entries(s, good)
        assert entry.after["verdicts_carried"] == 1 and entry.after["lost_count"] == 1
        assert entry.after["lost"] == [{"loss_id": by_call[good].id, "kind": "verdict",
                                        "reason": "finding_vanished", "rule_id": "closing", "hit_index": closing,
                                        "verdict": "confirmed"}]  # fmt: skip
        assert "1 项无法沿用" in entry.reason
        [entry] = _carry_entries(s, red)
        assert entry.after["verdicts_carried"] == 0 and entry.after["lost"][0]["reason"] == "rule_removed"
        record = carryover.carry_over_of(s, red, _current(s, red)[1].id)
        assert record is not None and [x.id for x in record.lost] == [by_call[red].id]
        assert carryover.carry_over_of(s, red, old[red]) is None


def _without_resolution(data: dict[str, Any]) -> None:
    """The 问题解决 dimension removed, its rules moved to 沟通技巧."""
    data["dimensions"] = [d for d in data["dimensions"] if d["id"] != "resolution"]
    for rule in data["rules"]:
        if rule.get("dimension") == "resolution":
            rule["dimension"] = "communication"


def test_a_finding_whose_dimension_is_gone_is_listed_as_lost(world: World) -> None:
    call_id = _done_call(world, GOOD)
    with world.ctx.db.session() as s:
        call, _ = _current(s, call_id)
        verdicts.add_finding(s, "user:li", "reviewer", call, description="未解决问题", points=-6.0,
                             dimension="resolution")  # fmt: skip
        verdicts.add_finding(s, "user:li", "reviewer", call, description="未核实住址", points=-2.0,
                             dimension="service")  # fmt: skip
        assert call.score == 89.0

    _activate(world, _bundle(world.ctx.settings, 2, _without_resolution), [call_id])

    with world.ctx.db.session() as s:
        call, new = _current(s, call_id)
        assert _findings(s, new.id) == [(None, "service", "未核实住址", -2.0, "user:li")]
        assert call.score == new.reviewed_total == new.total - 2.0
        [loss] = carryover.list_losses(s).items
        assert (loss.kind, loss.reason, loss.comment, loss.item["points"]) == (
            "finding", "dimension_removed", "未解决问题", -6.0)  # fmt: skip
        assert _carry_entries(s, call_id)[0].after["findings_carried"] == 1


def test_match_hit_prefers_overlap_then_the_same_words() -> None:
    old = {"rule_id": "greeting", "start": 0.0, "end": 2.5, "text": "物业", "points": 0}
    new = [
        {"rule_id": "greeting", "start": 0.0, "end": 2.5, "text": "您好", "points": 0},
        {"rule_id": "greeting", "start": 0.0, "end": 2.5, "text": "物业", "points": 0},
        {"rule_id": "greeting", "start": 1.0, "end": 9.0, "text": "物业", "points": 0},
        {"rule_id": "closing", "start": 0.0, "end": 2.5, "text": "物业", "points": 0},
        {"rule_id": "greeting", "start": 0.0, "end": 12.0, "text": "", "points": -5},  # a "missing" entry
    ]
    assert carryover.match_hit(old, new, set()) == 1
    assert carryover.match_hit(old, new, {1}) == 0  # same overlap, other words
    assert carryover.match_hit(old, new, {0, 1}) == 2  # less overlap
    assert carryover.match_hit(old, new, {0, 1, 2}) is None  # another rule, or a missing entry: no match
    missing = {"rule_id": "greeting", "start": 0.0, "end": 12.0, "text": "", "points": -5}
    assert carryover.match_hit(missing, new, set()) == 4
    assert carryover.match_hit({**old, "start": 5.0, "end": 5.0}, new, set()) == 2  # a point inside a span


def test_the_migration_matches_the_schema(database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "carry_over_losses" in repr(d)] == []
