"""Contact chains of ``call_topics`` (``inspector.store.topics``) on real databases: whatever order calls are
scored and rescored in, every row's ``prev_day`` is the day of the row before it in its (project, topic,
contact) chain, and a window's first-contact rows are its distinct callers."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from inspector.store.schema import Agent, Call, CallTopic
from inspector.store.topics import refresh_call_topics, relink_all

DAY0 = date(2024, 5, 1)
CALLS = 6
# One scoring of a call: which call, its topics, day, time of day, caller (None: unknown) and project.
SCORING = st.tuples(
    st.integers(0, CALLS - 1),
    st.lists(st.sampled_from(["电梯", "漏水/维修", "停车"]), max_size=2),
    st.integers(0, 4),
    st.integers(0, 2),
    st.sampled_from(["13900000001", "13900000002", None]),
    st.sampled_from(["yangguang", None]),
)


def _call(session, i: int) -> Call:
    call = session.get(Call, f"c{i}")
    if call is None:
        at = datetime.combine(DAY0, datetime.min.time())
        call = Call(id=f"c{i}", agent_id="8001", day=DAY0, started_at=at, audio_sha256=f"c{i}".ljust(64, "0"),
                    audio_bytes=1, audio_name=f"c{i}.wav", source="import", status="done", attempts=1,
                    created_at=at, updated_at=at)  # fmt: skip
        session.add(call)
        session.flush()
    return call


def _expected_prev(rows: list[CallTopic]) -> dict[tuple[str, str], date | None]:
    """prev_day recomputed from scratch: LAG(day) over each chain in (day, at, call_id) order."""
    last: dict[tuple[str | None, str, str], date] = {}
    expected = {}
    for row in sorted((r for r in rows if r.day is not None), key=lambda r: (r.day, r.at, r.call_id)):
        key = (row.project, row.topic, row.contact)
        expected[(row.call_id, row.topic)] = last.get(key)
        last[key] = row.day
    return expected


@pytest.fixture
def chains(database):
    with database.session() as session:
        session.add(Agent(id="8001", name="甲", created_at=datetime(2024, 1, 1)))
    return database


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SCORING, min_size=1, max_size=14))
def test_chains_stay_whole_in_any_scoring_order(chains, scorings) -> None:
    with chains.session() as session:
        session.execute(delete(CallTopic))
        session.execute(delete(Call))
    for i, topics, day, hour, caller, project in scorings:
        with chains.session() as session:
            call = _call(session, i)
            call.day = DAY0 + timedelta(days=day)
            call.started_at = datetime.combine(call.day, datetime.min.time()) + timedelta(hours=hour)
            call.caller, call.project = caller, project
            refresh_call_topics(session, call, topics)
    with chains.session() as session:
        rows = list(session.scalars(select(CallTopic)))
        assert {(r.call_id, r.topic): r.prev_day for r in rows} == _expected_prev(rows)
    with chains.engine.begin() as connection:  # the bulk recomputation agrees
        relink_all(connection)
    with chains.session() as session:
        assert {(r.call_id, r.topic): r.prev_day for r in session.scalars(select(CallTopic))} == _expected_prev(rows)
        for start in range(5):  # every window's first-contact rows are its distinct contacts
            for end in range(start, 5):
                first, last = DAY0 + timedelta(days=start), DAY0 + timedelta(days=end)
                inside = [r for r in rows if first <= r.day <= last]
                firsts = [r for r in inside if r.prev_day is None or r.prev_day < first]
                cells = {(r.project, r.topic, r.contact) for r in inside}
                assert sorted((r.project or "", r.topic, r.contact) for r in firsts) == sorted(
                    (p or "", t, c) for p, t, c in cells)


def test_a_rescore_that_keeps_the_topics_keeps_the_rows(chains) -> None:
    with chains.session() as session:
        for i in range(3):
            call = _call(session, i)
            call.caller, call.day = "13900000001", DAY0 + timedelta(days=i)
            call.started_at = datetime.combine(call.day, datetime.min.time())
            refresh_call_topics(session, call, ["电梯"])
    with chains.session() as session:
        call = _call(session, 1)
        call.agent_id = "8001"
        rows = refresh_call_topics(session, call, ["电梯", "电梯"])
        assert [(r.topic, r.prev_day) for r in rows] == [("电梯", DAY0)]
        refresh_call_topics(session, call, [])  # the middle call leaves: the last links to the first
    with chains.session() as session:
        assert session.get(CallTopic, ("c2", "电梯")).prev_day == DAY0


def test_two_workers_scoring_one_callers_calls_at_once_link_them(postgres_url) -> None:
    """PostgreSQL: while one transaction has stored the first call of a caller (not yet committed), a second
    one storing the caller's next call waits on the chain's lock, then links to it; without the lock it would
    not see the first call, and the caller would count twice."""
    from inspector.store.db import Database

    db = Database(postgres_url)
    db.upgrade()
    try:
        with db.session() as session:
            session.add(Agent(id="8001", name="甲", created_at=datetime(2024, 1, 1)))
            for i in range(2):
                _call(session, i).caller = "13900000001"
        linked: list[date | None] = []

        def second() -> None:
            with db.session() as session:
                call = _call(session, 1)
                call.day = DAY0 + timedelta(days=1)
                call.started_at = datetime.combine(call.day, datetime.min.time())
                linked.extend(r.prev_day for r in refresh_call_topics(session, call, ["电梯"]))

        with db.session() as session:
            refresh_call_topics(session, _call(session, 0), ["电梯"])
            worker = threading.Thread(target=second)
            worker.start()
            worker.join(timeout=1.0)
            assert worker.is_alive() and not linked  # waiting for this transaction's chain lock
        worker.join(timeout=30)
        assert linked == [DAY0]
    finally:
        db.dispose()
