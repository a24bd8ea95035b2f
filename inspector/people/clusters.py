"""Cluster alerts (群体性投诉预警): several distinct callers of one project reporting the same topic at once.

When a call gets a current analysis (``inspector.service.follow_up``), for each of its topics, in its project:

1. **A later call of a cluster already alerted** — an alert of kind ``cluster`` on that project and topic is not
   closed and one of its calls is within ``settings.insights.cluster_window_h`` of this call — is added to that
   alert (``alert_calls``), which is not raised again.
2. Otherwise the calls of the project and topic within one window of this call (``call_topics``, by the calls'
   start times) are searched for a span of ``cluster_window_h`` hours that contains this call and at least
   ``cluster_callers`` distinct callers (``call_topics.contact``: an unknown caller counts as one more). If
   there is one, a red alert of kind ``cluster`` is raised listing all calls of that span.

Calls are counted by their start time, not by when they were scored, so a batch import that arrives out of
order finds the same clusters. Calls without a project are never clustered (no place to point at). Running it
again for the same call changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspector.people.alerts import GroupAlert, alert_call_ids, group_alert
from inspector.settings import Settings
from inspector.store.schema import AlertCall, AlertEvent, Analysis, Call, CallTopic
from inspector.vocab import AlertKind, AlertLevel, AlertStatus


def _subject(project: str, topic: str, first_call_id: str) -> str:
    return f"{project}|{topic}|{first_call_id}"[:128]


def cluster_span(
    rows: Sequence[tuple[str, datetime, str]], call_id: str, window: timedelta, callers: int
) -> list[str] | None:
    """The calls of the span of at most ``window`` containing ``call_id`` with the most distinct contacts, if it
    has at least ``callers`` of them; ``rows``: (call id, start, contact). Pure (unit-tested)."""
    ordered = sorted(rows, key=lambda r: (r[1], r[0]))
    at = next((r[1] for r in ordered if r[0] == call_id), None)
    if at is None:
        return None
    best: list[tuple[str, datetime, str]] = []
    for first in ordered:  # every span starting at a call, up to ``window`` after it, that contains ``call_id``
        if first[1] > at or first[1] < at - window:
            continue
        span = [r for r in ordered if first[1] <= r[1] <= first[1] + window]
        if len({r[2] for r in span}) > len({r[2] for r in best}):
            best = span
    if len({r[2] for r in best}) < callers:
        return None
    return [r[0] for r in best]


def _open_cluster(session: Session, project: str, topic: str, at: datetime, window: timedelta) -> AlertEvent | None:
    """The not-closed cluster alert of this project and topic with a call within ``window`` of ``at``."""
    near = (
        select(AlertCall.alert_id)
        .join(CallTopic, (CallTopic.call_id == AlertCall.call_id) & (CallTopic.topic == topic))
        .where(CallTopic.at >= at - window, CallTopic.at <= at + window)
    )
    return session.scalar(
        select(AlertEvent)
        .where(
            AlertEvent.kind == AlertKind.CLUSTER,
            AlertEvent.project == project,
            AlertEvent.topic == topic,
            AlertEvent.status != AlertStatus.CLOSED,
            AlertEvent.id.in_(near),
        )
        .order_by(AlertEvent.id.desc())
        .limit(1)
    )


def _reason(project: str, topic: str, hours: float, callers: int) -> str:
    return f"项目 {project} {hours:g} 小时内 {callers} 位来电人反映「{topic}」（群体性投诉预警）"


def on_analysis(session: Session, settings: Settings, call: Call, analysis: Analysis) -> list[AlertEvent]:
    """Raise or extend the cluster alerts of ``call``'s topics (its rows in ``call_topics`` already stored);
    returns the alerts raised now (to be delivered)."""
    if not call.project:
        return []
    window = timedelta(hours=settings.insights.cluster_window_h)
    at = call.started_at or call.created_at
    raised: list[AlertEvent] = []
    for topic in dict.fromkeys(analysis.topics or ()):
        topic = topic[:64]
        alert = _open_cluster(session, call.project, topic, at, window)
        if alert is not None:
            subject, call_ids = alert.subject or "", [call.id]
        else:
            rows = session.execute(
                select(CallTopic.call_id, CallTopic.at, CallTopic.contact).where(
                    CallTopic.project == call.project,
                    CallTopic.topic == topic,
                    CallTopic.at >= at - window,
                    CallTopic.at <= at + window,
                )
            )
            span = cluster_span(list(rows), call.id, window, settings.insights.cluster_callers)
            if span is None:
                continue
            subject, call_ids = _subject(call.project, topic, span[0]), span
        members = [*alert_call_ids(session, alert.id), call.id] if alert is not None else call_ids
        known = session.scalar(
            select(func.count(func.distinct(CallTopic.contact))).where(
                CallTopic.topic == topic, CallTopic.call_id.in_(members)
            )
        )
        group = GroupAlert(
            kind=AlertKind.CLUSTER,
            subject=subject,
            level=AlertLevel.RED,
            reasons=[_reason(call.project, topic, settings.insights.cluster_window_h, int(known or 0))],
            call_ids=call_ids,
            project=call.project,
            topic=topic,
        )
        new = group_alert(session, settings.alerts, call, analysis, group)
        if new is not None:
            raised.append(new)
    return raised
