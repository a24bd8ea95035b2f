"""Listing repeat-contact chains (``repeat_chains``) when a chain has more calls in the window than are shown:
the latest CHAIN_CALLS of each, by start time, as if every call of the window had been read; with the agent
and visibility filters, ties of start time, and a local day that steps back (a changed UTC offset)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from inspector.people.repeats import CHAIN_CALLS, repeat_chains
from inspector.store.schema import Agent, Call

START, END = date(2024, 3, 1), date(2024, 3, 30)
NOW = datetime(2024, 6, 1)


def _add(session, call_id: str, chain: str, at: datetime, day: date, agent: str = "8001") -> None:
    session.add(Call(id=call_id, agent_id=agent, started_at=at, day=day, audio_sha256=call_id.ljust(64, "0"),
                     audio_bytes=1, audio_name=f"{call_id}.wav", source="import", status="done", attempts=1,
                     created_at=at, updated_at=at, project="yangguang", caller="13900000000", chain_id=chain,
                     repeat_of=None if call_id == chain else chain))  # fmt: skip


@pytest.fixture
def db(database):
    with database.session() as session:
        now = datetime(2024, 1, 1)
        session.add_all([Agent(id="8001", name="甲", created_at=now), Agent(id="9001", name="乙", created_at=now)])
        session.flush()
        # A number that calls every day: chain "long", 3 calls a day from two weeks before the window to its end,
        # every third by 9001; two calls of each day share a start time (ties broken by id).
        first = START - timedelta(days=14)
        for d in range((END - first).days + 1):
            day = first + timedelta(days=d)
            base = datetime.combine(day, datetime.min.time()) + timedelta(hours=1)
            for k, at in enumerate([base, base, base + timedelta(hours=5)]):
                call_id = "long" if d == 0 and k == 0 else f"l{d:02d}{'ba'[k % 2] if k < 2 else 'c'}"
                _add(session, call_id, "long", at, day, agent="9001" if (3 * d + k) % 3 == 0 else "8001")
        # A short chain inside the window, and one whose last call's local day is a day behind its start time
        # (stored under an older UTC offset): it is the latest call although its day is before the others'.
        _add(session, "short", "short", datetime(2024, 3, 3, 2), date(2024, 3, 3))
        _add(session, "s2", "short", datetime(2024, 3, 5, 2), date(2024, 3, 5), agent="9001")
        for i in range(CHAIN_CALLS + 5):
            _add(session, "step" if i == 0 else f"t{i:02d}", "step", datetime(2024, 3, 29, 1) + timedelta(minutes=i),
                 date(2024, 3, 29))  # fmt: skip
        _add(session, "t-late", "step", datetime(2024, 3, 29, 23, 59), date(2024, 3, 28))
    return database


def _expected(session, chain: str, agents: set[str] | None = None) -> list[str]:
    """Every call of the chain in the window read and sorted: the latest CHAIN_CALLS."""
    calls = [c for c in session.query(Call).filter(Call.chain_id == chain) if START <= c.day <= END]
    calls = [c for c in calls if agents is None or c.agent_id in agents]
    return [c.id for c in sorted(calls, key=lambda c: (c.started_at, c.id))][-CHAIN_CALLS:]


def test_the_latest_calls_of_each_chain(db) -> None:
    with db.session() as session:
        page = repeat_chains(session, START, END, now=NOW)
        chains = {c.chain_id: [call.call_id for call in c.calls] for c in page.items}
        assert page.total == 3 and set(chains) == {"long", "short", "step"}
        for chain, ids in chains.items():
            assert ids == _expected(session, chain)
        assert len(chains["long"]) == CHAIN_CALLS and chains["short"] == ["short", "s2"]
        assert chains["step"][-1] == "t-late"  # its day is behind the others', its start time is the latest


def test_the_agent_and_visibility_filters(db) -> None:
    with db.session() as session:
        mine = repeat_chains(session, START, END, agent_id="9001", now=NOW)
        assert {c.chain_id for c in mine.items} == {"long", "short"}
        for chain in mine.items:  # an agent's chains show all their calls (only visible ones are hidden)
            assert [c.call_id for c in chain.calls] == _expected(session, chain.chain_id)
        seen = repeat_chains(session, START, END, visible=Call.agent_id == "9001", now=NOW)
        for chain in seen.items:
            assert [c.call_id for c in chain.calls] == _expected(session, chain.chain_id, {"9001"})
        short = repeat_chains(session, END - timedelta(days=1), END, now=NOW)
        assert [(c.chain_id, len(c.calls)) for c in short.items] == [("long", 6), ("step", CHAIN_CALLS)]
