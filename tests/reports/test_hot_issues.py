"""Hot issues (热点问题) on real databases: counts and distinct callers per project and topic, the baseline,
the Poisson spike flag, the visibility filter, examples."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import poisson

from inspector.reports.hot_issues import MIN_EXPECTED, hot_issues, spike_test
from inspector.settings import InsightSettings
from inspector.store.schema import Agent, Call, CallTopic
from inspector.store.topics import refresh_call_topics

START, END = date(2024, 3, 25), date(2024, 3, 31)  # a week; the baseline is the 28 days before
SETTINGS = InsightSettings()


def _add(session, n: int, call_id: str, project: str | None, topic: str, day: date, contact: str, agent: str = "8001"):
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=2, minutes=n)
    session.add(Call(id=call_id, agent_id=agent, started_at=at, day=day, audio_sha256=call_id.ljust(64, "0"),
                     audio_bytes=1, audio_name=f"{call_id}.wav", source="import", status="done", attempts=1,
                     created_at=at, updated_at=at, project=project,
                     caller=None if contact.startswith("call:") else contact))  # fmt: skip
    session.flush()
    refresh_call_topics(session, session.get(Call, call_id), [topic])


@pytest.fixture
def db(database):
    with database.session() as session:
        now = datetime(2024, 1, 1)
        session.add_all([Agent(id="8001", name="甲", created_at=now), Agent(id="9001", name="乙", created_at=now)])
        session.flush()
        n = 0
        # yangguang elevator: about one call a week in the baseline (4 in 28 days), then 6 callers in the week.
        for i in range(4):
            n += 1
            _add(session, n, f"b{n}", "yangguang", "电梯", START - timedelta(days=3 + 7 * i), f"1390000{n:04d}")
        for i in range(7):  # the 7th call is the first caller again
            n += 1
            _add(session, n, f"w{n}", "yangguang", "电梯", START + timedelta(days=i % 5), f"1391111{i % 6:04d}")
        # yangguang leaks: steady, 2 a week in the baseline and 2 in the week.
        for i in range(8):
            n += 1
            _add(session, n, f"b{n}", "yangguang", "漏水/维修", START - timedelta(days=1 + 3 * i), f"1392222{i:04d}")
        for i in range(2):
            n += 1
            _add(session, n, f"w{n}", "yangguang", "漏水/维修", START + timedelta(days=i), f"1393333{i:04d}")
        # lanting parking: new this week, one call (not a spike); a call without a project (9001).
        n += 1
        _add(session, n, f"w{n}", "lanting", "停车", START, "13944440000", agent="9001")
        n += 1
        _add(session, n, f"w{n}", None, "噪音", END, "call:x", agent="9001")
    return database


def test_a_wave_is_a_spike_and_a_steady_topic_is_not(db) -> None:
    with db.session() as session:
        found = hot_issues(session, SETTINGS, START, END)
    assert (found.baseline_from, found.baseline_to) == (date(2024, 2, 26), date(2024, 3, 24))
    cells = {(c.project, c.topic): c for c in found.items}
    wave = cells[("yangguang", "电梯")]
    assert (wave.calls, wave.callers, wave.baseline_calls) == (7, 6, 4)
    assert wave.expected == pytest.approx(4 / 28 * 7) and wave.change == pytest.approx(7 / 1.0 - 1)
    assert wave.p_value == pytest.approx(float(poisson.sf(6, 1.0))) and wave.spike
    assert sum(wave.daily.values()) == 7 and min(wave.daily) >= START
    assert len(wave.example_call_ids) == 5 and wave.example_call_ids[0] == "w9"  # newest: day 4
    steady = cells[("yangguang", "漏水/维修")]
    assert (steady.calls, steady.baseline_calls, steady.spike) == (2, 8, False)
    new = cells[("lanting", "停车")]
    assert new.change is None and new.expected == 0 and not new.spike  # one call: below spike_min_calls
    assert new.p_value == pytest.approx(float(poisson.sf(0, MIN_EXPECTED)))
    assert cells[(None, "噪音")].calls == 1
    assert found.items[0] is wave  # spikes first


def test_the_project_and_visibility_filters(db) -> None:
    with db.session() as session:
        only = hot_issues(session, SETTINGS, START, END, project="lanting")
        assert [(c.project, c.topic) for c in only.items] == [("lanting", "停车")]
        team = hot_issues(session, SETTINGS, START, END, visible=CallTopic.agent_id == "9001")
        assert {(c.project, c.topic) for c in team.items} == {("lanting", "停车"), (None, "噪音")}
        strict = hot_issues(session, SETTINGS.model_copy(update={"spike_p": 1e-9}), START, END)
        assert not any(c.spike for c in strict.items)


@given(st.integers(0, 60), st.floats(0, 30))
def test_the_spike_test_is_the_poisson_tail(calls: int, expected: float) -> None:
    p_value, spike = spike_test(calls, expected, SETTINGS)
    lam = max(expected, MIN_EXPECTED)
    assert p_value == pytest.approx(float(poisson.sf(calls - 1, lam)) if calls else 1.0)
    assert spike == (calls >= SETTINGS.spike_min_calls and p_value < SETTINGS.spike_p)
    if spike:  # more calls at the same baseline is at least as surprising
        assert spike_test(calls + 1, expected, SETTINGS)[1]


def test_one_project_counts_as_every_project_does(db) -> None:
    """One project's figures are those of every project's, a caller on several days of the window counted once;
    under a visibility filter callers are counted from the (topic, contact) pairs instead, with the same
    result when nothing is hidden."""
    with db.session() as session:
        _add(session, 100, "x1", "lanting", "停车", START + timedelta(days=2), "13944440000", agent="9001")
        _add(session, 101, "x2", "lanting", "停车", START + timedelta(days=3), "13955550000", agent="9001")
    with db.session() as session:
        every = {(c.project, c.topic): c for c in hot_issues(session, SETTINGS, START, END).items}
        for project in ("yangguang", "lanting"):
            one = hot_issues(session, SETTINGS, START, END, project=project)
            assert one.items == [c for c in every.values() if c.project == project]
        everyone = hot_issues(session, SETTINGS, START, END, visible=CallTopic.agent_id.in_(["8001", "9001"]))
        assert {(c.project, c.topic): c for c in everyone.items} == every
    parking = every[("lanting", "停车")]
    assert (parking.calls, parking.callers) == (3, 2)
    assert parking.daily == {START: 1, START + timedelta(days=2): 1, START + timedelta(days=3): 1}


def test_examples_at_the_edges_of_local_days(db) -> None:
    """Examples are read on ``at`` as well as ``day``: a call of the window's first local day that started the
    UTC day before (08:00 local, UTC+8) is an example, one of the day after the window is not."""
    with db.session() as session:
        for i, (day, at) in enumerate([(START, datetime.combine(START, datetime.min.time()) - timedelta(hours=8)),
                                       (END + timedelta(days=1), datetime.combine(END, datetime.min.time())
                                        + timedelta(hours=20))]):  # fmt: skip
            session.add(Call(id=f"e{i}", agent_id="8001", started_at=at, day=day, audio_sha256=f"e{i}".ljust(64, "0"),
                             audio_bytes=1, audio_name=f"e{i}.wav", source="import", status="done", attempts=1,
                             created_at=at, updated_at=at, project="edge", caller=f"1396666000{i}"))  # fmt: skip
            session.flush()
            refresh_call_topics(session, session.get(Call, f"e{i}"), ["安保"])
    with db.session() as session:
        found = hot_issues(session, SETTINGS, START, END, project="edge")
    assert [(c.calls, c.example_call_ids) for c in found.items] == [(1, ["e0"])]
