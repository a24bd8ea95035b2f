"""Call topics: one ``call_topics`` row per topic (话题) of a call's current analysis, with the call's project,
day, time, agent, caller and unit copied in, so hot issues, cluster alerts and repeat contacts count topics over
millions of calls from one narrow indexed table instead of every analysis' JSON.

``refresh_call_topics`` replaces a call's rows as a whole; it runs whenever a call gets a new current analysis
(``inspector.service.follow_up.after_analysis``, for the call job and rescoring alike), after the call's
location is known, so the rows always equal the current analysis (rerunning it changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
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
    """Replace the topic rows of ``call`` with ``topics`` (its current analysis' topic names); returns them."""
    session.execute(delete(CallTopic).where(CallTopic.call_id == call.id))
    rows = [
        CallTopic(
            call_id=call.id,
            topic=topic[:TOPIC_CHARS],
            project=call.project,
            day=call.day,
            at=call.started_at or call.created_at,
            agent_id=call.agent_id,
            caller=call.caller,
            unit=call.unit,
            contact=contact_of(call),
        )
        for topic in dict.fromkeys(t for t in topics if t)
    ]
    session.add_all(rows)
    session.flush()
    return rows
