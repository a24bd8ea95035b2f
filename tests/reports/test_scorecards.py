"""Scorecards, leaderboards and summaries read from the ``agent_days`` rollup, on SQLite and PostgreSQL.

The calls are registered and rolled up through the production path (``register_calls``,
``refresh_agent_days``); their analyses are written by hand so every figure can be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Set
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from inspector.qa.analysis import Analyzer
from inspector.qa.rules.engine import CHECK_CATEGORIES
from inspector.reports.agent_summary import AGENT_SUMMARY_COLUMNS, agents_summary
from inspector.reports.call_report import RATE_COLUMNS_ZH
from inspector.reports.leaderboards import leaderboard
from inspector.reports.rollup import percentile_rank, period_of
from inspector.reports.scorecards import scorecard
from inspector.settings import Settings
from inspector.speech.transcript import Diarization, Transcript, Utterance
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.db import utcnow
from inspector.store.schema import Analysis, Call, RuleSetRecord

TZ = ZoneInfo("Asia/Shanghai")
MARCH = (date(2024, 3, 10), date(2024, 3, 18))  # Sunday .. Monday, two week boundaries inside


def _call(
    n: int,
    agent: str,
    day: date,
    total: float,
    *,
    alert: str = "none",
    fatal: bool = False,
    dims: dict[str, float] | None = None,
    checks: Set[str] = frozenset(),
    missed: Sequence[str] = (),
) -> dict[str, Any]:
    return {"n": n, "agent": agent, "day": day, "total": total, "alert": alert, "fatal": fatal, "dims": dims or {},
            "checks": checks, "missed": list(missed)}  # fmt: skip


# Agent a1 (team T1): the one whose scorecard is checked field by field.
A1 = [
    _call(1, "a1", date(2024, 3, 10), 80, alert="yellow", dims={"service": 20, "emotion": 20},
          checks={"greeting", "closing", "prohibited"}, missed=["self_id"]),
    _call(2, "a1", date(2024, 3, 11), 90, dims={"service": 25, "emotion": 20},
          checks={"greeting", "self_id", "empathy"}, missed=["closing"]),
    _call(3, "a1", date(2024, 3, 11), 70, alert="red", dims={"service": 25, "emotion": 10},
          checks={"greeting", "self_id", "escalation", "customer_emotion"}, missed=["closing", "empathy"]),
    _call(4, "a1", date(2024, 3, 17), 100, alert="blue", dims={"service": 30, "emotion": 20},
          checks={"greeting", "self_id", "closing", "interruption"}),
    _call(5, "a1", date(2024, 3, 18), 0, alert="red", fatal=True, dims={"service": 15, "emotion": 5},
          checks={"prohibited"}, missed=["prohibited", "closing", "greeting"]),
    _call(6, "a1", date(2024, 4, 1), 85, dims={"service": 30, "emotion": 20}, checks={"greeting"},
          missed=["self_id"]),
]  # fmt: skip
OTHERS = [
    _call(10, "b0", date(2024, 3, 12), 68),  # ties a1 (68.0): half counts
    _call(11, "b1", date(2024, 3, 13), 68),
    _call(12, "c1", date(2024, 3, 14), 90),
    _call(13, "d1", date(2024, 3, 15), 40),
    _call(14, "d1", date(2024, 3, 16), 60),
    _call(15, "g1", date(2024, 5, 1), 10),  # T1, but no call in March: not a peer there
    _call(16, "e1", date(2024, 3, 12), 20),  # another team
    _call(17, "f1", date(2024, 3, 12), 75),  # no team
]
TEAMS = {"a1": "T1", "b0": "T1", "b1": "T1", "c1": "T1", "d1": "T1", "g1": "T1", "e1": "T2", "f1": None}


def _store(database, calls: list[dict[str, Any]]) -> None:
    with database.session() as s:
        record = RuleSetRecord(name="t", version="1", sha256="0" * 64, files={}, rule_count=0, active=True,
                               created_at=utcnow(), activated_at=None)  # fmt: skip
        s.add(record)
        s.flush()
        new = [
            store.NewCall(
                audio_sha256=f"{c['n']:064x}",
                audio_bytes=1,
                audio_name=f"{c['n']}.wav",
                source="import",
                agent_id=c["agent"],
                call_id=f"call{c['n']}",
                started_at=datetime.combine(c["day"], time(10), TZ),
                team_id=TEAMS[c["agent"]],
                agent_name=f"坐席{c['agent']}",
            )
            for c in calls
        ]
        store.register_calls(s, new, TZ)
        store.ensure_agents(s, {"h1": ("无通话", "T1")})
        for c in calls:
            hits = [{"rule_id": r, "category": r, "points": -5} for r in c["missed"]]
            hits += [{"rule_id": r, "category": r, "points": 0} for r in ("customer_interrupts", "topic_leak")]
            if c["missed"]:  # a rule deducting twice on one call still counts once
                hits.append({"rule_id": c["missed"][0], "category": "x", "points": -1})
            analysis = Analysis(
                call_id=f"call{c['n']}", rule_set_id=record.id, created_at=utcnow(), total=c["total"],
                alert=c["alert"], fatal=c["fatal"],
                score={"total": c["total"], "dimensions": {d: {"name": d, "weight": 30, "score": v}
                                                          for d, v in c["dims"].items()}},
                checks={k: k in c["checks"] for k in CHECK_CATEGORIES}, hits=hits, emotion={}, topics=[], metrics={},
            )  # fmt: skip
            s.add(analysis)
            s.flush()
            call = s.get(Call, f"call{c['n']}")
            assert call is not None
            call.analysis_id = analysis.id
            call.score = c["total"]
        s.flush()
        store.refresh_agent_days(s, {(c["agent"], c["day"]) for c in calls})


@pytest.fixture
def stored(database):
    _store(database, A1 + OTHERS)
    return database


def test_scorecard_every_field(stored) -> None:
    with stored.session() as s:
        card = scorecard(s, "a1", *MARCH, rule_names={"closing": "规范结束语"}, most_missed=3)
    assert card is not None
    assert (card.agent_id, card.agent_name, card.team_id) == ("a1", "坐席a1", "T1")
    assert card.calls == 5
    assert card.average_score == 68.0  # (80 + 90 + 70 + 100 + 0) / 5
    assert card.dimensions == {"service": 23.0, "emotion": 15.0}  # 115 / 5, 75 / 5
    assert card.checks == {
        "greeting": 0.8, "self_id": 0.6, "empathy": 0.2, "apology": 0.0, "closing": 0.4, "prohibited": 0.4,
        "customer_emotion": 0.2, "silence": 0.0, "interruption": 0.2, "speech_rate": 0.0, "escalation": 0.2,
    }  # fmt: skip
    assert card.alerts == {"red": 2, "yellow": 1, "blue": 1}
    assert card.fatal == 1
    # 03-10 is a Sunday (week of 03-04); 03-11..03-17 one week; 03-18 the next Monday.
    assert [(p.period, p.calls, p.average_score) for p in card.trend] == [
        ("2024-03-04", 1, 80.0), ("2024-03-11", 3, 86.7), ("2024-03-18", 1, 0.0),
    ]  # fmt: skip
    # closing 3 calls; then the 1-call ties by rule id: empathy, greeting (prohibited, self_id cut by most_missed=3)
    assert [(m.rule_id, m.name, m.calls, m.rate) for m in card.most_missed] == [
        ("closing", "规范结束语", 3, 0.6), ("empathy", "empathy", 1, 0.2), ("greeting", "greeting", 1, 0.2),
    ]  # fmt: skip
    # Peers in T1 with March calls: b0 68 (=), b1 68 (=), c1 90 (>), d1 50 (<); g1 and h1 have none.
    assert card.team_percentile == 50.0  # (1 + 2 / 2) / 4

    data = card.to_dict()
    assert list(data) == ["agent_id", "agent_name", "team_id", "from", "to", "calls", "average_score", "dimensions",
                          "checks", "alerts", "fatal", "trend", "most_missed", "team_percentile",
                          "uncertain_calls", "uncertain_share", "repeated_calls", "repeat_rate",
                          "satisfaction"]  # fmt: skip
    assert data["satisfaction"]["responses"] == 0 and data["satisfaction"]["csat"] is None
    assert data["from"] == "2024-03-10" and data["to"] == "2024-03-18"
    assert data["trend"][0] == {"period": "2024-03-04", "calls": 1, "average_score": 80.0}
    assert data["most_missed"][0] == {"rule_id": "closing", "name": "规范结束语", "calls": 3, "rate": 0.6}


def test_scorecard_ranges_and_trends(stored) -> None:
    with stored.session() as s:
        inner = scorecard(s, "a1", date(2024, 3, 11), date(2024, 3, 17), trend="day")
        whole = scorecard(s, "a1", None, None, trend="month", most_missed=10)
        opened = scorecard(s, "a1", date(2024, 3, 18), None)
        empty = scorecard(s, "a1", date(2025, 1, 1), date(2025, 1, 31))
        assert scorecard(s, "nobody", None, None) is None
        with pytest.raises(ValueError):
            scorecard(s, "a1", None, None, trend="year")
    assert inner is not None and whole is not None and opened is not None and empty is not None
    # Both bounds inclusive: 03-11 (two calls) and 03-17 are in, 03-10 and 03-18 are out.
    assert inner.calls == 3 and inner.average_score == 86.7
    assert [(p.period, p.calls, p.average_score) for p in inner.trend] == [
        ("2024-03-11", 2, 80.0),
        ("2024-03-17", 1, 100.0),
    ]
    assert whole.calls == 6 and whole.date_from is None and whole.to_dict()["to"] is None
    assert [(p.period, p.calls, p.average_score) for p in whole.trend] == [("2024-03", 5, 68.0), ("2024-04", 1, 85.0)]
    assert [(m.rule_id, m.calls) for m in whole.most_missed] == [
        ("closing", 3), ("self_id", 2), ("empathy", 1), ("greeting", 1), ("prohibited", 1),
    ]  # fmt: skip
    assert whole.most_missed[1].rate == 0.333
    assert opened.calls == 2 and opened.average_score == 42.5  # 03-18 (0) and 04-01 (85)
    # No call in the range: zero calls, no average, no percentile, every check at 0.
    assert empty.calls == 0 and empty.average_score is None and empty.team_percentile is None
    assert empty.dimensions == {} and empty.trend == [] and empty.most_missed == []
    assert empty.checks == dict.fromkeys(CHECK_CATEGORIES, 0.0)
    assert empty.alerts == {"red": 0, "yellow": 0, "blue": 0} and empty.fatal == 0


def test_team_percentile_edges(stored) -> None:
    with stored.session() as s:
        c1 = scorecard(s, "c1", *MARCH)
        d1 = scorecard(s, "d1", *MARCH)
        e1 = scorecard(s, "e1", *MARCH)
        f1 = scorecard(s, "f1", *MARCH)
        h1 = scorecard(s, "h1", *MARCH)
    assert c1 is not None and c1.team_percentile == 100.0  # above all four others (a1, b0, b1, d1)
    assert d1 is not None and d1.average_score == 50.0 and d1.team_percentile == 0.0
    assert e1 is not None and e1.team_percentile is None  # alone in T2: nobody to compare with
    assert f1 is not None and f1.calls == 1 and f1.team_id is None and f1.team_percentile is None
    assert h1 is not None and h1.calls == 0 and h1.team_percentile is None


def test_percentile_rank_and_periods() -> None:
    assert percentile_rank(70, [60, 70, 70, 80]) == 50.0  # (1 + 2 / 2) / 4
    assert percentile_rank(70, [80, 90, 100]) == 0.0
    assert percentile_rank(70, [70]) == 50.0
    assert percentile_rank(70, []) is None
    assert period_of(date(2024, 3, 17), "week") == "2024-03-11"  # Sunday → that week's Monday
    assert period_of(date(2024, 3, 18), "week") == "2024-03-18"
    assert period_of(date(2024, 1, 1), "week") == "2024-01-01"
    assert period_of(date(2023, 1, 1), "week") == "2022-12-26"  # across a year boundary
    assert period_of(date(2024, 3, 17), "month") == "2024-03"
    assert period_of(date(2024, 3, 17), "day") == "2024-03-17"


def test_leaderboard_order_and_min_calls(stored) -> None:
    with stored.session() as s:
        board = leaderboard(s, "T1", *MARCH)
        busy = leaderboard(s, "T1", *MARCH, min_calls=2)
        other = leaderboard(s, "T2", None, None)
        none = leaderboard(s, "T9", None, None)
    # c1 90; a1, b0, b1 all 68.0: a1 has more calls, b0 before b1 by id; d1 50.
    assert [(e.rank, e.agent_id, e.calls, e.average_score) for e in board] == [
        (1, "c1", 1, 90.0), (2, "a1", 5, 68.0), (3, "b0", 1, 68.0), (4, "b1", 1, 68.0), (5, "d1", 2, 50.0),
    ]  # fmt: skip
    a1 = board[1]
    assert (a1.agent_name, a1.red, a1.fatal) == ("坐席a1", 2, 1)
    assert a1.checks["greeting"] == 0.8 and a1.checks["apology"] == 0.0 and set(a1.checks) == set(CHECK_CATEGORIES)
    assert a1.to_dict()["rank"] == 2
    assert [(e.rank, e.agent_id) for e in busy] == [(1, "a1"), (2, "d1")]
    assert [e.agent_id for e in other] == ["e1"]
    assert none == []


def test_agents_summary_columns_and_rows(stored) -> None:
    with stored.session() as s:
        team = agents_summary(s, *MARCH, team_id="T1")
        chosen = agents_summary(s, *MARCH, agent_ids=["a1", "h1", "nobody"])
        everyone = agents_summary(s, None, None)
    assert list(team.columns) == list(AGENT_SUMMARY_COLUMNS)
    assert {"坐席", "通话数", "平均分", "红色预警数", *RATE_COLUMNS_ZH.values()} <= set(team.columns)
    assert list(team["坐席"]) == ["a1", "b0", "b1", "c1", "d1"]
    row = team.iloc[0].to_dict()
    assert row["姓名"] == "坐席a1" and row["班组"] == "T1"
    counts = ("通话数", "平均分", "红色预警数", "黄色预警数", "蓝色预警数", "一票否决数")
    assert [row[c] for c in counts] == [5, 68.0, 2, 1, 1, 1]
    assert row["开场问候率"] == 0.8 and row["自报工号率"] == 0.6 and row["致歉率"] == 0.0
    assert list(chosen["坐席"]) == ["a1", "h1"]  # h1 asked for: a row with 0 calls; unknown ids left out
    h1 = chosen.iloc[1].to_dict()
    assert h1["通话数"] == 0 and math.isnan(h1["平均分"]) and h1["开场问候率"] == 0.0
    assert list(everyone["坐席"]) == ["a1", "b0", "b1", "c1", "d1", "e1", "f1", "g1"]
    assert everyone.set_index("坐席").loc["a1", "通话数"] == 6


def test_scorecard_of_calls_scored_by_the_analyzer(database, tmp_path) -> None:
    """Through the production path end to end: register, analyze, save_analysis (which refreshes the rollup)."""
    utts = [
        Utterance(0.0, 3.0, "S0", "agent", "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"),
        Utterance(3.5, 6.0, "S1", "customer", "我家厨房漏水了，你们怎么还不来修，我要投诉！"),
        Utterance(6.5, 9.0, "S0", "agent", "这个不归我们管，你自己去找开发商。"),
    ]
    transcript = Transcript("x.wav", 9.0, 1, 8000, utts, Diarization("channels", 1.0, "S0", ["S0", "S1"]))
    settings = Settings()
    with database.session() as s:
        store.register_calls(s, [store.NewCall(audio_sha256="f" * 64, audio_bytes=1, audio_name="x.wav",
                                               source="import", agent_id="8001", call_id="real", team_id="T1",
                                               started_at=datetime(2024, 3, 15, 9, tzinfo=TZ))], TZ)  # fmt: skip
        record = rulesets.ensure_default(s, settings.rules_dir)
        rule_set_id = record.id
    analyzer = Analyzer(settings, rulesets.materialize(record, tmp_path / "rulesets"))
    analysis = analyzer.analyze_transcript(transcript, "8001")
    with database.session() as s:
        call = s.scalars(select(Call).where(Call.id == "real")).one()
        store.save_analysis(s, call, analysis, rule_set_id, current=True)
    names = {r.rule.id: r.rule.name for r in analyzer.compiled.rules}
    with database.session() as s:
        card = scorecard(s, "8001", date(2024, 3, 15), date(2024, 3, 15), rule_names=names, most_missed=20)
    assert card is not None and card.calls == 1
    assert card.average_score == analysis.score.total
    assert card.dimensions == {d.id: round(d.score, 1) for d in analysis.score.dimensions.values()}
    assert card.checks == {k: float(v) for k, v in analysis.checks.items()}
    assert card.alerts[analysis.score.alert] == 1  # red: 我要投诉
    deducted = {f.rule_id for f in analysis.hits if f.points < 0}
    assert "prohibited" in deducted
    assert {m.rule_id for m in card.most_missed} == deducted
    assert {m.name for m in card.most_missed} == {names[r] for r in deducted}
