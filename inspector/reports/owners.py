"""Owner profiles (业主画像): per caller or unit, how often they called about what, how many of those calls
were complaints and how many repeated an earlier call — the most frequent callers of a project, for the
service team.

An owner is ``call_topics.contact``: the caller's number, else the unit of the project (calls with neither
are no one's and are left out). Counted over calls with at least one topic (what the owner called about),
in a window of local days. A complaint is a call whose current analysis found escalation words (the
``escalation`` check: 投诉, 12345, 曝光 …); a repeat is a call linked to an earlier one
(``calls.repeat_of``, ``inspector.people.repeats``). The profile holds personal data (number, unit): the API
masks it for everyone without the ``pii`` permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from inspector.store.schema import Analysis, Call, CallTopic

EXAMPLE_CALLS = 10


@dataclass
class OwnerProfile:
    contact: str  # the number, or unit:<project>/<unit>
    project: str | None
    caller: str | None
    unit: str | None
    calls: int
    complaints: int = 0
    repeats: int = 0
    topics: dict[str, int] = field(default_factory=dict)  # topic → calls, most first
    first_at: datetime | None = None
    last_at: datetime | None = None
    call_ids: list[str] = field(default_factory=list)  # newest first, up to EXAMPLE_CALLS


def owner_profiles(
    session: Session,
    start: date,
    end: date,
    project: str | None = None,
    limit: int = 20,
    visible: ColumnElement[bool] | None = None,
) -> list[OwnerProfile]:
    """The ``limit`` owners with the most calls in [start, end] (in ``project`` when given), most first.
    ``visible``: a condition on ``CallTopic`` columns (the API's per-principal filter)."""
    where = [CallTopic.day >= start, CallTopic.day <= end, ~CallTopic.contact.startswith("call:")]
    if project is not None:
        where.append(CallTopic.project == project)
    if visible is not None:
        where.append(visible)
    calls = func.count(func.distinct(CallTopic.call_id))
    top = session.execute(
        select(CallTopic.contact, CallTopic.project, calls)
        .where(*where)
        .group_by(CallTopic.contact, CallTopic.project)
        .order_by(calls.desc(), CallTopic.contact)
        .limit(limit)
    ).all()  # fmt: skip
    if not top:
        return []
    profiles = {(contact, proj): OwnerProfile(contact, proj, None, None, int(n)) for contact, proj, n in top}
    rows = session.execute(
        select(CallTopic.contact, CallTopic.project, CallTopic.call_id, CallTopic.topic, CallTopic.at,
               CallTopic.caller, CallTopic.unit, Call.repeat_of, Analysis.checks)
        .join(Call, Call.id == CallTopic.call_id)
        .join(Analysis, Analysis.id == Call.analysis_id, isouter=True)
        .where(*where, CallTopic.contact.in_({c for c, _ in profiles}))
        .order_by(CallTopic.at.desc(), CallTopic.call_id)
    )  # fmt: skip
    seen: set[str] = set()
    for contact, proj, call_id, topic, at, caller, unit, repeat_of, checks in rows:
        profile = profiles.get((contact, proj))
        if profile is None:
            continue
        profile.topics[topic] = profile.topics.get(topic, 0) + 1
        profile.caller = profile.caller or caller
        profile.unit = profile.unit or unit
        if call_id in seen:
            continue
        seen.add(call_id)
        profile.complaints += int(bool((checks or {}).get("escalation")))
        profile.repeats += int(repeat_of is not None)
        profile.last_at = profile.last_at or at
        profile.first_at = at
        if len(profile.call_ids) < EXAMPLE_CALLS:
            profile.call_ids.append(call_id)
    for profile in profiles.values():
        profile.topics = dict(sorted(profile.topics.items(), key=lambda kv: (-kv[1], kv[0])))
    return list(profiles.values())
