"""Rule backtesting: a synthetic history of done calls stored with the default rules (real analyzer, real
database: SQLite and PostgreSQL), then a changed pack tried on it without storing anything.

The changed pack drops 规范结束语 (``closing``, require, 5 points) and adds 承诺时限 (``promise``, forbid
"马上", 4 points, blue alert). With the default rules every call loses 3 for speech rate; GOOD scores 97,
NO_CLOSING 92 (closing -5), TABOO 87 (prohibited -10, yellow) and RED (escalation, red) as stored.
GOOD, NO_CLOSING and RED say "马上安排师傅上门"; TABOO does not.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from inspector.errors import RuleFileError
from inspector.people import backtest, errors, verdicts
from inspector.qa.analysis import Analyzer
from inspector.settings import Settings
from inspector.speech.transcript import Diarization, Transcript, Utterance
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.schema import Analysis, Base, Call

TZ = ZoneInfo("Asia/Shanghai")
DAY1, DAY2 = date(2024, 3, 13), date(2024, 3, 20)
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


GOOD = _transcript(("agent", GREETING), ASK, ("agent", CARING), ("agent", CLOSING))
NO_CLOSING = _transcript(("agent", GREETING), ASK, ("agent", CARING), ("agent", "好的。"))
TABOO = _transcript(("agent", GREETING), ASK, ("agent", "非常抱歉给您带来不便，我理解您的心情，这个不归我们管。"),
                    ("agent", CLOSING))  # fmt: skip
RED = _transcript(
    ("agent", GREETING), ("customer", "你们怎么还不来修，我要投诉！"), ("agent", CARING), ("agent", CLOSING)
)

PROMISE_RULE = """
  - id: promise
    name: 承诺时限
    category: other
    dimension: service
    mode: forbid
    points: 4
    alert: blue
    role: agent
    when:
      keywords: {any: [马上]}
"""


def changed_pack() -> dict[str, str]:
    """The default bundle without ``closing`` and with ``promise``."""
    files = rulesets.read_bundle(Settings().rules_dir)
    text = files["property-default.yaml"]
    start = text.index("  - id: closing\n")
    end = text.index("  # ----", start)
    files["property-default.yaml"] = text[:start] + text[end:] + PROMISE_RULE
    return files


@pytest.fixture
def history(database: Any, tmp_path: Path) -> dict[str, Any]:
    """Seven done calls of two agents on two days, one queued call, one reviewed call."""
    with database.session() as s:
        record = rulesets.ensure_default(s, Settings().rules_dir)
        rule_set_id = record.id
        folder = rulesets.materialize(record, tmp_path / "rulesets")
    analyzer = Analyzer(Settings(), folder)
    plan = [
        ("c1", "8001", DAY1, GOOD), ("c2", "8001", DAY1, NO_CLOSING), ("c3", "8001", DAY1, TABOO),
        ("c4", "8002", DAY1, RED), ("c5", "8002", DAY2, NO_CLOSING), ("c6", "8002", DAY2, GOOD),
        ("c7", "8001", DAY2, NO_CLOSING),
    ]  # fmt: skip
    for n, (call_id, agent, day, transcript) in enumerate(plan):
        started = datetime(day.year, day.month, day.day, 10, tzinfo=TZ)
        new = store.NewCall(audio_sha256=f"{n:064d}", audio_bytes=10, audio_name=f"{call_id}.wav", source="import",
                            agent_id=agent, call_id=call_id, started_at=started, team_id="A组")  # fmt: skip
        with database.session() as s:
            store.register_calls(s, [new], TZ)
            call = store.claim(s, call_id, lease_s=600)
            assert call is not None
            store.save_transcript(s, call_id, transcript)
            store.save_analysis(s, call, analyzer.analyze_transcript(transcript, agent), rule_set_id, True)
            store.finish(s, call)
    started = datetime(2024, 3, 13, 11, tzinfo=TZ)
    queued = store.NewCall(audio_sha256="f" * 64, audio_bytes=10, audio_name="q.wav", source="import",
                           agent_id="8001", call_id="queued", started_at=started)  # fmt: skip
    with database.session() as s:
        store.register_calls(s, [queued], TZ)
        # A reviewer rejects c7's closing finding (false alarm: reviewed score 97) and confirms c2's.
        for call_id, verdict in (("c7", "rejected"), ("c2", "confirmed")):
            call = s.get(Call, call_id)
            analysis = s.get(Analysis, call.analysis_id)
            index = next(i for i, h in enumerate(analysis.hits) if h["rule_id"] == "closing")
            verdicts.set_verdict(s, "user:li", "reviewer", call, index, verdict, None)
        scores = {c.id: (c.score, c.alert) for c in s.scalars(select(Call).where(Call.status == "done"))}
    return {"rule_set_id": rule_set_id, "scores": scores}


def _snapshot(database: Any) -> dict[str, list[tuple[Any, ...]]]:
    with database.session() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)).all()), key=repr) for t in Base.metadata.sorted_tables}


def test_the_history_scores_as_documented(history) -> None:
    red_score = history["scores"]["c4"][0]
    assert history["scores"] == {
        "c1": (97, "none"), "c2": (92, "none"), "c3": (87, "yellow"), "c4": (red_score, "red"),
        "c5": (92, "none"), "c6": (97, "none"), "c7": (97, "none"),  # c7: reviewed (closing rejected)
    }  # fmt: skip


def test_a_changed_pack_moves_hits_scores_and_alerts_exactly(database, history) -> None:
    red = history["scores"]["c4"][0]
    before = _snapshot(database)
    with database.session() as s:
        candidate = backtest.candidate_from_files(s, changed_pack())
        assert candidate.rule_set_id is None  # not stored
        result = backtest.backtest(s, candidate)
    assert _snapshot(database) == before  # nothing written

    assert (result.calls, result.skipped, result.candidate) == (7, 0, "property-default")
    rules = {r.rule_id: r for r in result.rules}
    assert [r.rule_id for r in result.rules][-1] == "closing" and not rules["closing"].in_candidate
    closing, promise = rules["closing"], rules["promise"]
    assert (closing.hits_before, closing.hits_after, closing.hit_rate_before, closing.hit_rate_after) == (
        3, 0, round(3 / 7, 4), 0.0)  # fmt: skip
    assert (closing.confirmed, closing.rejected, closing.precision_estimate) == (1, 1, 0.5)
    assert (promise.name, promise.in_candidate, promise.hits_before, promise.hits_after) == ("承诺时限", True, 0, 6)
    assert promise.precision_estimate is None and promise.hit_rate_after == round(6 / 7, 4)
    # Unchanged rules fire where they fired: the same counts before and after.
    for rule_id in ("speech_rate", "prohibited", "escalation", "greeting"):
        assert rules[rule_id].hits_before == rules[rule_id].hits_after, rule_id
    assert (rules["speech_rate"].hits_before, rules["prohibited"].hits_before, rules["escalation"].hits_before) == (
        7, 1, 1)  # fmt: skip

    changed = {c.call_id: (c.score_before, c.score_after, c.alert_before, c.alert_after) for c in result.calls_changed}
    assert changed == {
        "c1": (97, 93, "none", "blue"), "c2": (92, 93, "none", "blue"), "c4": (red, red - 4, "red", "red"),
        "c5": (92, 93, "none", "blue"), "c6": (97, 93, "none", "blue"),
        "c7": (97, 93, "none", "blue"),  # the reviewed score counts today; the candidate's machine score after
    }  # fmt: skip
    assert result.calls_changed_total == 6
    assert [c.call_id for c in result.calls_changed] == ["c1", "c4", "c6", "c7", "c2", "c5"]  # largest change first
    agents = {a.agent_id: (a.calls, a.score_before, a.score_after) for a in result.agents}
    assert agents == {
        "8001": (4, round((97 + 92 + 87 + 97) / 4, 2), round((93 + 93 + 87 + 93) / 4, 2)),
        "8002": (3, round((red + 92 + 97) / 3, 2), round((red - 4 + 93 + 93) / 3, 2)),
    }
    data = backtest.to_dict(result)
    assert {r["rule_id"] for r in data["rules"]} >= {"closing", "promise"}
    assert data["calls_changed"][0] == {"call_id": "c1", "agent_id": "8001", "day": "2024-03-13", "score_before": 97,
                                        "score_after": 93, "alert_before": "none", "alert_after": "blue"}  # fmt: skip


def test_worker_processes_give_the_same_figures(database, history) -> None:
    with database.session() as s:
        candidate = backtest.candidate_from_files(s, changed_pack())
        alone = backtest.backtest(s, candidate)
        shared = backtest.backtest(s, candidate, workers=2, parallel_from=0)
    assert (shared.rules, shared.agents, shared.calls_changed) == (alone.rules, alone.agents, alone.calls_changed)
    assert shared.calls == 7


def test_the_date_range_and_the_limit(database, history) -> None:
    with database.session() as s:
        candidate = backtest.candidate_from_files(s, changed_pack())
        result = backtest.backtest(s, candidate, date_from=DAY2, date_to=DAY2, limit_calls_changed=2)
        assert result.calls == 3 and [a.agent_id for a in result.agents] == ["8001", "8002"]
        closing = next(r for r in result.rules if r.rule_id == "closing")
        # c5, c7 missed the closing; only c7's verdict is on a call of the range.
        assert (closing.hits_before, closing.confirmed, closing.rejected, closing.precision_estimate) == (2, 0, 1, 0.0)
        assert result.calls_changed_total == 3
        assert [c.call_id for c in result.calls_changed] == ["c6", "c7"]  # 4 points each; c5 moves 1
        assert backtest.backtest(s, candidate, date_to=date(2024, 3, 1)).calls == 0
        assert backtest.backtest(s, candidate, date_from=DAY1, date_to=DAY1).calls == 4
        with pytest.raises(errors.InvalidReviewInput):
            backtest.backtest(s, candidate, date_from=DAY2, date_to=DAY1)


def test_the_active_rule_set_changes_nothing(database, history) -> None:
    with database.session() as s:
        candidate = backtest.stored_candidate(s, history["rule_set_id"])
        assert candidate is not None
        result = backtest.backtest(s, candidate)
        # The same bundle given as files is recognized as the stored one.
        assert backtest.candidate_from_files(s, rulesets.read_bundle(Settings().rules_dir)).rule_set_id == (
            history["rule_set_id"])  # fmt: skip
        assert backtest.stored_candidate(s, 999) is None
    assert result.calls == 7 and result.calls_changed == [] and result.calls_changed_total == 0
    assert all(r.hits_before == r.hits_after for r in result.rules)
    assert all(a.score_before == a.score_after for a in result.agents)  # c7's reviewed score is kept


def test_an_invalid_pack_is_refused_whole_with_file_line_and_rule(database, history) -> None:
    files = changed_pack()
    files["property-default.yaml"] = files["property-default.yaml"].replace("    points: 4\n", "    points: -4\n")
    with database.session() as s, pytest.raises(RuleFileError) as err:
        backtest.candidate_from_files(s, files)
    assert err.value.path == "property-default.yaml" and err.value.line and err.value.rule_id == "promise"
