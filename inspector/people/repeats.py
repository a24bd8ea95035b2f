"""Repeat contacts (重复来电): an owner calling again about the same thing, linked into chains.

**The rule.** A call *repeats* the latest earlier call (by start time; ``call_topics.at``) that shares a topic
with it and came from the same number, or from the same unit of the same project, within
``settings.insights.repeat_days`` days before it. ``calls.repeat_of`` names that call; ``calls.chain_id``
names the chain's first call (set on the first call too once it has a repeat); ``calls.repeated`` marks a call
some later call repeats. An agent's 重复来电率 is the share of its calls with ``repeated`` (``agent_days.repeated``):
calls whose problem came back — the first-contact-resolution measure no rule sees inside one call.

**When.** ``on_analysis`` runs whenever a call gets a current analysis (``inspector.service.follow_up``, after
its ``call_topics`` rows are stored). Calls may be scored out of order (a batch import), so it links the call
to its predecessor *and* relinks the later calls of the same owner and topics within the window, whose nearest
predecessor may now be this call; chain ids are then carried down each chain. Running it again changes
nothing.

**Alerts.** A chain of ``insights.repeat_alert_calls`` (default 3) calls, or one in which a call has escalation
words (a hit of the ``escalation`` check category: 投诉, 12345, 曝光 …), raises one yellow alert of kind
``repeat`` about the chain; later calls of the chain join it (``inspector.people.alerts.group_alert``).

**Resolved.** A chain counts as resolved when its last call has no escalation words and is older than the
window (no repeat can still come), or, inside the window, until a repeat comes; ``RepeatChain.resolved`` is
False while its last call had escalation words or the window is still open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, union_all
from sqlalchemy.orm import Session

from inspector.people.alerts import GroupAlert, group_alert, open_group_alert
from inspector.settings import Settings
from inspector.store.calls import refresh_agent_days
from inspector.store.db import utcnow
from inspector.store.schema import AlertEvent, Analysis, Call, CallTopic
from inspector.vocab import AlertKind, AlertLevel

ESCALATION = "escalation"  # the check category whose hits are escalation words
CHAIN_CALLS = 50  # calls of one chain returned at most (its latest)
ALERT_CALLS = 200  # calls listed in a new repeat alert at most (the latest)
CHAIN_DAYS = 90  # a call's chain as shown with the call: its calls within this many days of it
DAY_MARGIN = 2  # days: local days of calls in start-time order never step back more than this (UTC offsets)


def _at(call: Call) -> datetime:
    return call.started_at or call.created_at


def _same_owner(caller: str | None, project: str | None, unit: str | None) -> ColumnElement[bool]:
    """Rows of ``call_topics`` from the same number, or the same unit of the same project."""
    keys = []
    if caller:
        keys.append(CallTopic.caller == caller)
    if unit:
        keys.append(and_(CallTopic.project == project, CallTopic.unit == unit))
    return or_(*keys) if keys else false()


def _topics(session: Session, call_id: str) -> list[str]:
    return list(session.scalars(select(CallTopic.topic).where(CallTopic.call_id == call_id)))


def predecessor(session: Session, call: Call, days: int) -> str | None:
    """The call ``call`` repeats under the rule above, or None."""
    topics = _topics(session, call.id)
    if not topics:
        return None
    at = _at(call)
    earlier = or_(CallTopic.at < at, and_(CallTopic.at == at, CallTopic.call_id < call.id))
    return session.scalar(
        select(CallTopic.call_id)
        .where(
            CallTopic.topic.in_(topics),
            CallTopic.call_id != call.id,
            CallTopic.at >= at - timedelta(days=days),
            earlier,
            _same_owner(call.caller, call.project, call.unit),
        )
        .order_by(CallTopic.at.desc(), CallTopic.call_id.desc())
        .limit(1)
    )


def _successors(session: Session, call: Call, days: int) -> list[Call]:
    """Later calls of the same owner sharing a topic with ``call`` within the window (candidates to relink)."""
    topics = _topics(session, call.id)
    if not topics:
        return []
    at = _at(call)
    later = or_(CallTopic.at > at, and_(CallTopic.at == at, CallTopic.call_id > call.id))
    ids = session.scalars(
        select(CallTopic.call_id)
        .where(
            CallTopic.topic.in_(topics),
            CallTopic.call_id != call.id,
            CallTopic.at <= at + timedelta(days=days),
            later,
            _same_owner(call.caller, call.project, call.unit),
        )
        .distinct()
    )
    return list(session.scalars(select(Call).where(Call.id.in_(list(ids)))))


def _has_repeat(session: Session, call_id: str) -> bool:
    return session.scalar(select(Call.id).where(Call.repeat_of == call_id).limit(1)) is not None


def _set_chain(session: Session, call: Call) -> None:
    """Carry ``call``'s chain id down to the calls that repeat it, and theirs (chains are short)."""
    todo = [call]
    while todo:
        head = todo.pop()
        for child in session.scalars(select(Call).where(Call.repeat_of == head.id)):
            if child.chain_id != head.chain_id:
                child.chain_id = head.chain_id
                todo.append(child)


def _link(session: Session, call: Call, days: int) -> set[tuple[str, date | None]]:
    """Link ``call`` to its predecessor (or unlink it); returns the (agent, day) rollups to refresh."""
    touched: set[tuple[str, date | None]] = set()
    previous_id = predecessor(session, call, days)
    old_id = call.repeat_of
    call.repeat_of = previous_id
    if previous_id is not None:
        previous = session.get(Call, previous_id)
        assert previous is not None
        previous.chain_id = previous.chain_id or previous.id
        if not previous.repeated:
            previous.repeated = True
            touched.add((previous.agent_id, previous.day))
        call.chain_id = previous.chain_id
    else:
        call.chain_id = call.id if _has_repeat(session, call.id) else None
    session.flush()
    if old_id is not None and old_id != previous_id:
        old = session.get(Call, old_id)
        if old is not None and old.repeated and not _has_repeat(session, old_id):
            old.repeated = False
            if old.repeat_of is None:
                old.chain_id = None
            touched.add((old.agent_id, old.day))
    _set_chain(session, call)
    return touched


def on_analysis(session: Session, settings: Settings, call: Call, analysis: Analysis) -> AlertEvent | None:
    """Link ``call`` (its ``call_topics`` rows already stored) and relink later calls of the same owner; raise
    or extend the chain's yellow alert. Returns the alert when it is new (to be delivered)."""
    days = settings.insights.repeat_days
    touched = _link(session, call, days)
    for later in sorted(_successors(session, call, days), key=lambda c: (_at(c), c.id)):
        touched |= _link(session, later, days)
    session.flush()
    touched.discard((call.agent_id, None))
    if touched:
        refresh_agent_days(session, touched)
    if call.chain_id is None:
        return None
    return _chain_alert(session, settings, call, analysis)


def _chain_alert(session: Session, settings: Settings, call: Call, analysis: Analysis) -> AlertEvent | None:
    """Raise the chain's yellow alert, or add ``call`` to it (only the chain's count is read once it exists)."""
    chain_id = call.chain_id
    assert chain_id is not None
    count = session.scalar(select(func.count()).select_from(Call).where(Call.chain_id == chain_id)) or 0
    existing = open_group_alert(session, AlertKind.REPEAT, chain_id)
    if existing is not None:
        ids = [call.id]
        escalated = "投诉升级" in "".join(existing.reasons or []) or bool((analysis.checks or {}).get(ESCALATION))
    else:
        members = session.execute(
            select(Call.id, Analysis.checks)
            .join(Analysis, Analysis.id == Call.analysis_id, isouter=True)
            .where(Call.chain_id == chain_id)
            .order_by(func.coalesce(Call.started_at, Call.created_at).desc())
            .limit(ALERT_CALLS)
        ).all()
        escalated = any((checks or {}).get(ESCALATION) for _, checks in members)
        if count < settings.insights.repeat_alert_calls and not escalated:
            return None
        ids = _ordered(session, [m[0] for m in members])
    topic = _shared_topic(session, ids)
    why = f"同一业主第 {count} 次来电" + (f"反映「{topic}」" if topic else "")
    why += f"（相邻两次间隔不超过 {settings.insights.repeat_days} 天）"
    if escalated:
        why += "，且出现投诉升级用语"
    topic = topic or (existing.topic if existing is not None else None)
    group = GroupAlert(kind=AlertKind.REPEAT, subject=chain_id, level=AlertLevel.YELLOW, reasons=[why],
                       call_ids=ids, project=call.project, topic=topic)  # fmt: skip
    return group_alert(session, settings.alerts, call, analysis, group)


def _ordered(session: Session, ids: list[str]) -> list[str]:
    rows = session.execute(select(Call.id, Call.started_at, Call.created_at).where(Call.id.in_(ids)))
    return [r[0] for r in sorted(rows, key=lambda r: (r[1] or r[2], r[0]))]


def _shared_topic(session: Session, ids: list[str]) -> str | None:
    counts = session.execute(
        select(CallTopic.topic, func.count()).where(CallTopic.call_id.in_(ids)).group_by(CallTopic.topic)
    ).all()  # fmt: skip
    return max(counts, key=lambda kv: (kv[1], kv[0]))[0] if counts else None


# --- reading chains ------------------------------------------------------------------------------


@dataclass
class ChainCall:
    call_id: str
    started_at: datetime | None
    agent_id: str
    topics: list[str]
    escalation: list[str]  # the words (hit texts) of escalation findings
    alert: str | None
    repeat_of: str | None


@dataclass
class RepeatChain:
    chain_id: str
    project: str | None
    caller: str | None
    unit: str | None
    calls: list[ChainCall]
    topics: list[str] = field(default_factory=list)
    escalation: list[str] = field(default_factory=list)
    resolved: bool = False  # see the module docstring


@dataclass(frozen=True)
class ChainPage:
    items: list[RepeatChain]
    total: int


def repeat_chains(
    session: Session,
    start: date,
    end: date,
    project: str | None = None,
    agent_id: str | None = None,
    visible: ColumnElement[bool] | None = None,
    offset: int = 0,
    limit: int = 50,
    now: datetime | None = None,
    days: int = 7,
) -> ChainPage:
    """Chains with a call on a local day in [start, end] (of ``project`` / with a call of ``agent_id``), the
    newest first; ``visible``: a condition on ``Call.agent_id`` (a chain is listed when one of its calls in
    the window is visible, and only visible calls are shown). The page's chains come from the window's calls grouped
    by chain (counted, then paged), the ids of their latest calls in the window from ``_latest_in_window``, the
    calls themselves by id (``_load_chains``)."""
    where = [Call.day >= start, Call.day <= end, Call.chain_id.is_not(None)]
    if project is not None:
        where.append(Call.project == project)
    if agent_id is not None:
        where.append(Call.agent_id == agent_id)
    if visible is not None:
        where.append(visible)
    last = func.max(Call.day)
    chains = select(Call.chain_id, last.label("last")).where(*where).group_by(Call.chain_id).subquery()
    total = session.scalar(select(func.count()).select_from(chains)) or 0
    ids = list(session.scalars(
        select(chains.c.chain_id).order_by(chains.c.last.desc(), chains.c.chain_id.desc()).offset(offset).limit(limit)
    ))  # fmt: skip
    latest = [Call.id.in_(_latest_in_window(session, ids, start, end, visible))]
    return ChainPage(_load_chains(session, ids, visible, now or utcnow(), days, latest), int(total))


def _latest_in_window(
    session: Session, chain_ids: list[str], start: date, end: date, visible: ColumnElement[bool] | None
) -> list[str]:
    """The ids of the chains' (visible) calls in [start, end] on the days that can hold the latest CHAIN_CALLS
    of each chain: a chain of a number that calls every day has thousands of calls, and reading them all (on
    ``ix_calls_chain_id``) to keep 50 is what made listing chains slow.

    Both queries read ``ix_calls_day_chain`` (day, chain_id, …) with ``day IN (...)`` and ``chain_id IN (...)``,
    both equalities. The first counts each chain's calls per day. A chain keeps the days from the one where,
    counting back from the newest, CHAIN_CALLS calls are reached, less ``DAY_MARGIN`` days (else the whole
    window): a call's local ``day`` follows its start time but for the UTC offset (offsets differ by at most
    26 hours), so a call on an earlier day started before all those CHAIN_CALLS calls and is not among the
    latest. The second reads the ids of the calls on the kept days, one ``UNION ALL`` branch per first day."""
    if not chain_ids:
        return []
    seen = [Call.chain_id.in_(chain_ids)] if visible is None else [Call.chain_id.in_(chain_ids), visible]
    per_day: dict[str, dict[date, int]] = {}
    for chain_id, day, n in session.execute(
        select(Call.chain_id, Call.day, func.count())
        .where(Call.day.in_(_days(start, end)), *seen)
        .group_by(Call.day, Call.chain_id)
    ):
        per_day.setdefault(chain_id, {})[day] = int(n)
    chains_from: dict[date, list[str]] = {}  # first kept day -> chains
    for chain_id, counts in per_day.items():
        first, calls = start, 0
        for day in sorted(counts, reverse=True):
            calls += counts[day]
            if calls >= CHAIN_CALLS:
                first = max(start, day - timedelta(days=DAY_MARGIN))
                break
        chains_from.setdefault(first, []).append(chain_id)
    if not chains_from:
        return []
    branches = [
        select(Call.id).where(Call.day.in_(_days(first, end)), Call.chain_id.in_(chains), *seen[1:])
        for first, chains in sorted(chains_from.items())
    ]
    return list(session.scalars(union_all(*branches)))


def _days(first: date, last: date) -> list[date]:
    """Every day of [first, last] (for ``day IN (...)``)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def call_chain(
    session: Session, call_id: str, visible: ColumnElement[bool] | None = None, now: datetime | None = None,
    days: int = 7,
) -> RepeatChain | None:  # fmt: skip
    """The chain of one call (only the calls ``visible`` allows), or None when it is in none."""
    found_call = session.execute(
        select(Call.chain_id, func.coalesce(Call.started_at, Call.created_at)).where(Call.id == call_id)
    ).first()
    if found_call is None or found_call[0] is None:
        return None
    chain_id, at = found_call
    when = func.coalesce(Call.started_at, Call.created_at)
    near = [Call.chain_id == chain_id, when >= at - timedelta(days=CHAIN_DAYS), when <= at + timedelta(days=CHAIN_DAYS)]
    found = _load_chains(session, [chain_id], visible, now or utcnow(), days, near)
    return found[0] if found else None


def _escalation_words(hits: Iterable[Any]) -> list[str]:
    return [str(h.get("text") or "") for h in hits or () if h.get("category") == ESCALATION and h.get("text")]


def _load_chains(
    session: Session, chain_ids: list[str], visible: ColumnElement[bool] | None, now: datetime, days: int,
    calls: list[ColumnElement[bool]],
) -> list[RepeatChain]:
    """The chains' calls that ``calls`` (of those chains, near the window) and ``visible`` let through, the
    latest CHAIN_CALLS of each (a number that calls every day forms a chain without end: only its calls near the
    window are read), in the order of ``chain_ids``."""
    if not chain_ids:
        return []
    query = (
        select(Call.id, Call.chain_id, Call.started_at, Call.created_at, Call.agent_id, Call.alert, Call.repeat_of,
               Call.project, Call.caller, Call.unit, Analysis.checks)
        .join(Analysis, Analysis.id == Call.analysis_id, isouter=True)
        .where(*calls)
    )  # fmt: skip
    if visible is not None:
        query = query.where(visible)
    rows = sorted(session.execute(query).all(), key=lambda r: (r.started_at or r.created_at, r.id))
    kept: dict[str, list[Any]] = {}
    for row in rows:  # the last CHAIN_CALLS calls of each chain
        kept.setdefault(row.chain_id, []).append(row)
    kept = {chain: calls[-CHAIN_CALLS:] for chain, calls in kept.items()}
    ids = [r.id for calls in kept.values() for r in calls]
    topics: dict[str, list[str]] = {}
    for call_id, topic in session.execute(select(CallTopic.call_id, CallTopic.topic).where(CallTopic.call_id.in_(ids))):
        topics.setdefault(call_id, []).append(topic)
    escalated = [r.id for calls in kept.values() for r in calls if (r.checks or {}).get(ESCALATION)]
    words = {
        call_id: _escalation_words(hits)
        for call_id, hits in session.execute(
            select(Call.id, Analysis.hits).join(Analysis, Analysis.id == Call.analysis_id).where(Call.id.in_(escalated))
        )
    } if escalated else {}  # fmt: skip
    chains: list[RepeatChain] = []
    for chain_id in chain_ids:
        calls = kept.get(chain_id)
        if not calls:
            continue
        first = calls[0]
        chain = RepeatChain(chain_id, first.project, first.caller, first.unit, [])
        for r in calls:
            said = words.get(r.id, [])
            chain.calls.append(ChainCall(r.id, r.started_at, r.agent_id, sorted(topics.get(r.id, [])), said, r.alert,
                                         r.repeat_of))  # fmt: skip
            chain.caller = chain.caller or r.caller
            chain.unit = chain.unit or r.unit
            chain.escalation.extend(w for w in said if w not in chain.escalation)
        chain.topics = sorted({t for c in chain.calls for t in c.topics})
        last = chain.calls[-1]
        window_over = last.started_at is None or last.started_at + timedelta(days=days) <= now
        chain.resolved = window_over and not last.escalation
        chains.append(chain)
    return chains
