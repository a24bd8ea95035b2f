"""Cluster alerts (群体性投诉预警) raised by the real worker: the third distinct caller of one project reporting
the same topic within the window raises one red alert listing the three calls, in the worker cycle that scores
it; later calls join that alert; another project, or the same callers again, raise nothing new. Each scored call
also has its customer phrases stored (emerging phrases)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from service_env import Env, NoAsr, get_call, reference, register, set_call, work
from sqlalchemy import select

from inspector.people import cases
from inspector.people.alerts import alert_call_ids
from inspector.reports import emerging
from inspector.service import call_job
from inspector.store import calls as store
from inspector.store.schema import AlertEvent, CallPhrases, CallTopic

T0 = datetime(2024, 3, 15, 1, 30)  # naive UTC (09:30 local)
LEAK = "漏水/维修"


def _call(env: Env, tmp_path: Path, samples_dir: Path, call_id: str, hours: float, caller: str, project: str) -> str:
    path = tmp_path / f"{call_id}.wav"
    path.write_bytes(call_id.encode() * 64)  # a distinct recording; the stored transcript is what is scored
    register(env, path, call_id)
    set_call(env, call_id, project=project, caller=caller, location_source="metadata", location_confidence=1.0,
             started_at=T0 + timedelta(hours=hours))  # fmt: skip
    with env.db.session() as session:
        store.save_transcript(session, call_id, reference(samples_dir, "call01_leak_stereo"))
    return call_id


def _process(env: Env, *call_ids: str) -> None:
    call_job.enqueue_calls(env.db, env.queue, env.settings, list(call_ids))
    work(env, NoAsr())
    for call_id in call_ids:
        assert get_call(env, call_id).status == "done"


def _clusters(env: Env) -> list[tuple[int, str, str | None, str | None, list[str], list[str]]]:
    with env.db.session() as session:
        found = session.scalars(select(AlertEvent).where(AlertEvent.kind == "cluster").order_by(AlertEvent.id))
        return [(a.id, a.level, a.project, a.topic, list(a.reasons), alert_call_ids(session, a.id)) for a in found]


def test_the_third_caller_raises_one_cluster_alert_and_later_calls_join_it(
    env: Env, samples_dir: Path, tmp_path: Path
) -> None:
    a = _call(env, tmp_path, samples_dir, "c-a", 0, "13900000001", "yangguang")
    b = _call(env, tmp_path, samples_dir, "c-b", 3, "13900000002", "yangguang")
    again = _call(env, tmp_path, samples_dir, "c-a2", 4, "13900000001", "yangguang")  # the first caller again
    elsewhere = _call(env, tmp_path, samples_dir, "c-x", 5, "13900000009", "lanting")  # another project
    _process(env, a, b, again, elsewhere)
    with env.db.session() as session:
        topics = set(session.scalars(select(CallTopic.topic).where(CallTopic.call_id == a)))
        stored = session.get(CallPhrases, a)  # the customer's phrases, cut as the call was scored
        assert stored is not None and stored.version == emerging.PHRASES_VERSION
        assert set(stored.phrases.split()) == emerging.phrases_of_call(session, a) and stored.phrases
    assert LEAK in topics
    assert _clusters(env) == []  # two distinct callers in yangguang, one in lanting

    c = _call(env, tmp_path, samples_dir, "c-c", 20, "13900000003", "yangguang")
    _process(env, c)  # one worker cycle
    [(alert_id, level, project, topic, reasons, members)] = [x for x in _clusters(env) if x[3] == LEAK]
    assert (level, project, topic) == ("red", "yangguang", LEAK)
    assert sorted(members) == sorted([a, b, again, c])
    assert "3 位来电人" in reasons[0] and LEAK in reasons[0]
    with env.db.session() as session:
        raised = session.get(AlertEvent, alert_id)
        assert raised is not None and raised.call_id == c and raised.status == "open"

    d = _call(env, tmp_path, samples_dir, "c-d", 30, "13900000004", "yangguang")  # within 24 h of the alert's last
    _process(env, d)
    [(same_id, _, _, _, reasons, members)] = [x for x in _clusters(env) if x[3] == LEAK]
    assert same_id == alert_id and members[-1] == d and len(members) == 5
    assert "4 位来电人" in reasons[0]

    # The red cluster alert opened a complaint case (投诉工单) in the same job; the later call joined it.
    with env.db.session() as session:
        case = cases.case_of_alert(session, alert_id)
        assert case is not None and (case.status, case.level, case.source) == ("accepted", "red", "alert")
        assert case.cluster_alert_id == alert_id and case.topic == LEAK and case.project == "yangguang"
        assert sorted(cases.case_call_ids(session, case.id)) == sorted(members)

    # Running the job again for a done call (a stray job, or rescoring) adds nothing.
    env.queue.enqueue(call_job.process_call, d)
    work(env, NoAsr())
    assert [x[5] for x in _clusters(env) if x[3] == LEAK] == [members]
