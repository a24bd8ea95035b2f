"""Repeat contacts (重复来电) linked by the real worker: the same owner (number, or unit of the project) calling
again about the same topic within the window, in order and out of order; chains, the agent's repeated count
(重复来电率), the yellow alert at three calls or on escalation words, and a rerun that changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from service_env import Env, NoAsr, get_call, reference, register, set_call, work
from sqlalchemy import select

from inspector.people.alerts import alert_call_ids
from inspector.people.repeats import call_chain, repeat_chains
from inspector.service import call_job
from inspector.store import calls as store
from inspector.store.schema import AgentDay, AlertEvent

T0 = datetime(2024, 3, 1, 1, 0)  # naive UTC, 09:00 local
LEAK, PARKING, ANGRY_LEAK = "call01_leak_stereo", "call03_parking_fast_stereo", "call02_angry_stereo"


def _call(env: Env, tmp: Path, samples: Path, call_id: str, day: float, transcript: str, *, caller: str | None,
          unit: str | None = None, agent: str = "8001") -> str:  # fmt: skip
    path = tmp / f"{call_id}.wav"
    path.write_bytes(call_id.encode() * 64)
    register(env, path, call_id, agent_id=agent)
    at = T0 + timedelta(days=day)
    set_call(env, call_id, caller=caller, project="yangguang", unit=unit, location_source="metadata",
             location_confidence=1.0, started_at=at, day=at.date())  # fmt: skip
    with env.db.session() as session:
        store.save_transcript(session, call_id, reference(samples, transcript))
    return call_id


def _process(env: Env, *call_ids: str) -> None:
    call_job.enqueue_calls(env.db, env.queue, env.settings, list(call_ids))
    work(env, NoAsr())
    assert all(get_call(env, c).status == "done" for c in call_ids)


def _link(env: Env, call_id: str) -> tuple[str | None, str | None, bool]:
    call = get_call(env, call_id)
    return call.repeat_of, call.chain_id, call.repeated


def _repeat_alerts(env: Env) -> list[tuple[str, str | None, list[str], list[str]]]:
    with env.db.session() as session:
        found = session.scalars(select(AlertEvent).where(AlertEvent.kind == "repeat").order_by(AlertEvent.id))
        return [(a.level, a.subject, alert_call_ids(session, a.id), list(a.reasons)) for a in found]


def _repeated(env: Env, agent: str, day: date) -> int:
    with env.db.session() as session:
        row = session.get(AgentDay, (agent, day))
        return -1 if row is None else row.repeated


def test_repeat_contacts_are_chained_in_and_out_of_order(env: Env, samples_dir: Path, tmp_path: Path) -> None:
    s, t = samples_dir, tmp_path
    a = _call(env, t, s, "r-a", 0, LEAK, caller="13900000001")
    b = _call(env, t, s, "r-b", 1, PARKING, caller="13900000001")  # the same owner, another topic
    c = _call(env, t, s, "r-c", 3, LEAK, caller="13900000001", agent="8002")
    late = _call(env, t, s, "r-late", 20, LEAK, caller="13900000001")  # 17 days after c: a new problem
    other = _call(env, t, s, "r-other", 2, LEAK, caller="13900000009")  # another owner
    _process(env, a, b, c, late, other)

    assert _link(env, a) == (None, a, True)
    assert _link(env, c) == (a, a, False)
    assert _link(env, b) == (None, None, False) and _link(env, late) == (None, None, False)
    assert _link(env, other) == (None, None, False)
    assert _repeated(env, "8001", date(2024, 3, 1)) == 1 and _repeated(env, "8002", date(2024, 3, 4)) == 0
    assert _repeat_alerts(env) == []  # two calls, no escalation words

    # A call between a and c arrives last (a batch import): c now repeats it, and the chain has 3 calls.
    middle = _call(env, t, s, "r-mid", 2, LEAK, caller="13900000001", agent="8002")
    _process(env, middle)
    assert _link(env, middle) == (a, a, True) and _link(env, c) == (middle, a, False)
    assert _repeated(env, "8002", date(2024, 3, 3)) == 1
    [(level, subject, members, reasons)] = _repeat_alerts(env)
    assert (level, subject, members) == ("yellow", a, [a, middle, c])
    assert "第 3 次来电" in reasons[0] and "漏水/维修" in reasons[0]

    with env.db.session() as session:
        chain = call_chain(session, c)
        assert chain is not None and [x.call_id for x in chain.calls] == [a, middle, c]
        assert chain.topics == ["漏水/维修"] and chain.escalation == [] and chain.resolved is True
        page = repeat_chains(session, date(2024, 3, 1), date(2024, 3, 31), project="yangguang")
        assert page.total == 1 and page.items[0].chain_id == a
        assert repeat_chains(session, date(2024, 3, 1), date(2024, 3, 31), agent_id="8002").total == 1
        assert repeat_chains(session, date(2024, 3, 10), date(2024, 3, 31)).total == 0

    # A stray rerun of a done call changes nothing.
    env.queue.enqueue(call_job.process_call, middle)
    work(env, NoAsr())
    assert _link(env, c) == (middle, a, False) and len(_repeat_alerts(env)) == 1


def test_escalation_words_or_the_same_unit(env: Env, samples_dir: Path, tmp_path: Path) -> None:
    s, t = samples_dir, tmp_path
    first = _call(env, t, s, "e-1", 0, LEAK, caller="13900000002")
    angry = _call(env, t, s, "e-2", 1, ANGRY_LEAK, caller="13900000002")  # 我要投诉
    by_unit_1 = _call(env, t, s, "u-1", 0, LEAK, caller=None, unit="3号楼1单元601")
    by_unit_2 = _call(env, t, s, "u-2", 2, LEAK, caller="13700000000", unit="3号楼1单元601")
    _process(env, first, angry, by_unit_1, by_unit_2)
    assert _link(env, angry) == (first, first, False)
    assert _link(env, by_unit_2) == (by_unit_1, by_unit_1, False)  # another number, the same household
    [(level, subject, members, reasons)] = _repeat_alerts(env)
    assert (level, subject, members) == ("yellow", first, [first, angry]) and "投诉升级" in reasons[0]
    with env.db.session() as session:
        chain = call_chain(session, angry)
        assert chain is not None and chain.escalation and chain.resolved is False
