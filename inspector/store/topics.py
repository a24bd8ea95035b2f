"""Call topics: one ``call_topics`` row per topic (话题) of a call's current analysis, with the call's project,
day, time, agent, caller and unit copied in, so hot issues, cluster alerts and repeat contacts count topics over
millions of calls from one narrow indexed table instead of every analysis' JSON.

``refresh_call_topics`` replaces a call's rows as a whole; it runs whenever a call gets a new current analysis
(``inspector.service.follow_up.after_analysis``, for the call job and rescoring alike), after the call's
location is known, so the rows always equal the current analysis (rerunning it changes nothing).

**Contact chains.** The rows of one (project, topic, contact) form a chain in (day, at, call_id) order, and each
row keeps the day of the row before it (``prev_day``, None for the first). A window's distinct callers of a
project and topic are then its rows whose ``prev_day`` is None or before the window — exactly one row per
contact, the contact's first in the window — which hot issues count in the same index scan as the calls,
instead of sorting the window's contacts. ``refresh_call_topics`` keeps the chains whole when calls arrive
out of order or a rescore changes a call's topics, day or caller: a removed row hands its ``prev_day`` to the
row after it, a new row takes the day of the row before it and gives its own day to the row after it. On
PostgreSQL the chains a call touches are locked (transaction advisory locks, in a fixed order) so two workers
scoring calls of one caller at once (an owner who calls straight back) cannot both link to the same predecessor.
Two rescores of one owner's calls may still deadlock on a lock and a call row; PostgreSQL then aborts one, and
its job is retried like any transient error (``inspector.service.call_job``). Rows without a day are in no
chain. Migration 0016 computed the chains of stored rows with the same order (``LAG(day) OVER …``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from inspector.store.schema import Call, CallTopic

TOPIC_CHARS = 64

def contact_of(call: Call) -> str:
    """Who called, for counting distinct callers: the number, else the unit, else the call itself."""
    if call.caller:
        return call.caller
    if call.unit:
        return f"unit:{call.project or ''}/{call.unit}"
    return f"call:{call.id}"


def refresh_call_topics(session: Session, call: Call, topics: Sequence[str]) -> list[CallTopic]:
    """Replace the topic rows of ``call`` with ``topics`` (its current analysis' topic names), keeping every
    contact chain whole (see above); returns the call's rows."""
    at = call.started_at or call.created_at
    contact = contact_of(call)
    wanted = list(dict.fromkeys(t[:TOPIC_CHARS] for t in topics if t))
    _lock(session, call, {(call.project, t, contact) for t in wanted})
    # Read under the locks: another worker may have just linked a call before one of these rows.
    old = {row.topic: row for row in session.scalars(
        select(CallTopic).where(CallTopic.call_id == call.id).execution_options(populate_existing=True)
    )}  # fmt: skip
    same = (call.project, call.day, at, contact)
    kept = {t for t, row in old.items() if t in wanted and (row.project, row.day, row.at, row.contact) == same}
    removed = [row for t, row in old.items() if t not in kept]
    for row in removed:  # the row after it takes its place in the chain
        if row.day is not None:
            _link_next(session, row.project, row.topic, row.contact, (row.day, row.at, row.call_id), row.prev_day)
        session.delete(row)
    session.flush()
    rows = []
    for topic in wanted:
        if topic in kept:
            row = old[topic]
            row.agent_id, row.caller, row.unit = call.agent_id, call.caller, call.unit
        else:
            prev_day = None
            if call.day is not None:  # between the row before it and the row after it
                place = (call.day, at, call.id)
                prev_day = _prev_day(session, call.project, topic, contact, place)
                _link_next(session, call.project, topic, contact, place, call.day)
            row = CallTopic(call_id=call.id, topic=topic, project=call.project, day=call.day, at=at,
                            agent_id=call.agent_id, caller=call.caller, unit=call.unit, contact=contact,
                            prev_day=prev_day)  # fmt: skip
            session.add(row)
        rows.append(row)
    session.flush()
    return rows


_Place = tuple[date, datetime, str]  # (day, at, call_id): a row's place in its chain
_ORDER = (CallTopic.day, CallTopic.at, CallTopic.call_id)


def _chain(project: str | None, topic: str, contact: str) -> list[ColumnElement[bool]]:
    """The rows of one (project, topic, contact) chain (read on ``ix_call_topics_contact``)."""
    same_project = CallTopic.project.is_(None) if project is None else CallTopic.project == project
    return [CallTopic.contact == contact, CallTopic.topic == topic, same_project]


def _prev_day(session: Session, project: str | None, topic: str, contact: str, place: _Place) -> date | None:
    """The day of the chain's last row before ``place``."""
    return session.scalar(
        select(CallTopic.day)
        .where(*_chain(project, topic, contact), tuple_(*_ORDER) < tuple_(*place))
        .order_by(*(column.desc() for column in _ORDER))
        .limit(1)
    )


def _link_next(
    session: Session, project: str | None, topic: str, contact: str, place: _Place, prev_day: date | None
) -> None:
    """Set ``prev_day`` on the chain's first row after ``place``."""
    following = session.scalar(
        select(CallTopic.call_id).where(*_chain(project, topic, contact), tuple_(*_ORDER) > tuple_(*place))
        .order_by(*_ORDER).limit(1)
    )  # fmt: skip
    if following is not None:
        session.execute(
            update(CallTopic).where(CallTopic.call_id == following, CallTopic.topic == topic).values(prev_day=prev_day)
        )


def _key(project: str | None, topic: str, contact: str) -> int:
    """A chain's advisory-lock key: a signed 64-bit hash of (project, topic, contact)."""
    digest = hashlib.blake2b("\x1f".join((project or "", topic, contact)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock(session: Session, call: Call, new: set[tuple[str | None, str, str]]) -> None:
    """PostgreSQL: hold the advisory locks of the chains the call's rows are in and of those it joins
    (``new``: project, topic, contact) until the transaction ends, taken in one order (no deadlock between two
    calls touching the same chains). SQLite has one writer at a time and needs none."""
    if session.get_bind().dialect.name != "postgresql":
        return
    chains = new | {(project, topic, contact) for project, topic, contact in session.execute(
        select(CallTopic.project, CallTopic.topic, CallTopic.contact).where(CallTopic.call_id == call.id)
    )}  # fmt: skip
    for key in sorted(_key(*chain) for chain in chains):
        session.execute(select(func.pg_advisory_xact_lock(key)))


PREVIOUS = """
SELECT call_id, topic, LAG(day) OVER (PARTITION BY project, topic, contact ORDER BY day, at, call_id) AS prev
FROM call_topics WHERE day IS NOT NULL
"""


def relink_all(connection: Connection) -> None:
    """Recompute every chain's ``prev_day`` from scratch (the statement of migration 0016): for a bulk load that
    wrote ``call_topics`` rows directly, or a repair."""
    connection.execute(text(f"CREATE TEMPORARY TABLE call_topic_prev AS {PREVIOUS}"))
    connection.execute(text("CREATE UNIQUE INDEX ix_call_topic_prev ON call_topic_prev (call_id, topic)"))
    connection.execute(text(
        "UPDATE call_topics SET prev_day = p.prev FROM call_topic_prev p "
        "WHERE p.call_id = call_topics.call_id AND p.topic = call_topics.topic"
    ))  # fmt: skip
    connection.execute(text("DROP TABLE call_topic_prev"))
