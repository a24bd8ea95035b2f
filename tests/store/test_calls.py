from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from inspector.qa.analysis import Analyzer
from inspector.settings import Settings
from inspector.speech.transcript import Diarization, Transcript, Utterance
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.schema import AgentDay, Analysis, Call, UtteranceRecord
from inspector.vocab import CallStatus

TZ = ZoneInfo("Asia/Shanghai")


def _new(sha: str, agent: str = "8001", **kw) -> store.NewCall:
    return store.NewCall(audio_sha256=sha, audio_bytes=10, audio_name=f"{sha}.wav", source="import", agent_id=agent,
                         **kw)


def _transcript() -> Transcript:
    utts = [
        Utterance(0.0, 3.0, "S0", "agent", "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"),
        Utterance(3.5, 6.0, "S1", "customer", "我家厨房漏水了，你们怎么还不来修，我要投诉！"),
        Utterance(6.5, 9.0, "S0", "agent", "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"),
        Utterance(9.5, 11.0, "S0", "agent", "感谢您的来电，再见。"),
    ]
    return Transcript("x.wav", 11.0, 1, 8000, utts, Diarization("channels", 1.0, "S0", ["S0", "S1"]))


def test_register_is_idempotent_by_audio_hash(database) -> None:
    started = datetime(2024, 3, 15, 23, 30, tzinfo=TZ)  # local evening: the local day is the 15th
    with database.session() as s:
        first = store.register_calls(s, [_new("a" * 64, call_id="c1", started_at=started), _new("b" * 64)], TZ)
    assert [r.created for r in first] == [True, True]
    with database.session() as s:
        again = store.register_calls(s, [_new("a" * 64, call_id="other"), _new("a" * 64), _new("c" * 64, call_id="c1")],
                                     TZ)
        assert [r.call_id for r in again[:2]] == ["c1", "c1"]
        assert [r.created for r in again] == [False, False, False]
        assert again[2].error and "c1" in again[2].error  # a call id already used by another recording
        assert s.scalar(select(func.count()).select_from(Call)) == 2
        call = store.get_call(s, "c1")
        assert call is not None and call.status == CallStatus.QUEUED
        assert call.day == date(2024, 3, 15)
        assert call.started_at == started.astimezone(UTC).replace(tzinfo=None)


def test_claim_lease_and_result_are_exactly_once(database, tmp_path) -> None:
    settings = Settings()
    with database.session() as s:
        store.register_calls(s, [_new("d" * 64, call_id="c2", started_at=datetime(2024, 3, 15, 9, tzinfo=TZ))], TZ)
        record = rulesets.ensure_default(s, settings.rules_dir)
        rule_set_id = record.id
    with database.session() as s:
        assert store.claim(s, "c2", lease_s=600) is not None
    with database.session() as s:
        assert store.claim(s, "c2", lease_s=600) is None  # held by a live lease
    with database.session() as s:
        assert store.claim(s, "c2", lease_s=-1) is None
    with database.session() as s:  # the lease ran out (worker died): claimable again
        s.execute(Call.__table__.update().values(lease_until=datetime(2000, 1, 1)))
    analyzer = Analyzer(settings, rulesets.materialize(record, tmp_path / "rulesets"))
    for _ in range(2):  # a rerun replaces, never duplicates
        with database.session() as s:
            call = store.claim(s, "c2", lease_s=600)
            assert call is not None
            transcript = _transcript()
            store.save_transcript(s, call.id, transcript)
            store.save_analysis(s, call, analyzer.analyze_transcript(transcript, call.agent_id), rule_set_id, True)
            store.finish(s, call)
        with database.session() as s:
            s.execute(Call.__table__.update().values(status="queued"))
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Analysis)) == 1
        assert s.scalar(select(func.count()).select_from(UtteranceRecord)) == 4
        day = s.scalars(select(AgentDay)).one()
        call = store.get_call(s, "c2")
        assert call is not None and call.attempts == 3
        assert day.calls == 1 and day.score_sum == call.score
        assert day.checks["empathy"] == 1 and day.checks["greeting"] == 1
        assert store.load_transcript(s, "c2") is not None


def test_failed_calls_keep_their_error_and_can_be_requeued(database) -> None:
    with database.session() as s:
        store.register_calls(s, [_new("e" * 64, call_id="c3")], TZ)
        store.mark_failed(s, "c3", "录音已损坏")
    with database.session() as s:
        call = store.get_call(s, "c3")
        assert call is not None and call.status == "failed" and call.error == "录音已损坏"
        assert store.requeue(s, ["c3"]) == ["c3"]
    with database.session() as s:
        assert store.get_call(s, "c3").status == "queued"
