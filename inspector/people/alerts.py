"""Alerts (红黄蓝预警): raising them and the alert queue people work.

**Raising.** When a call's current analysis is stored with an alert (blue, yellow or red), the job
calls ``raise_alert``: one ``AlertEvent`` per analysis (status ``open``). Rescoring makes new analyses;
a call that already has an alert of the same level keeps that one (the same incident, not a new one),
so activating a rule set does not raise every historical alert again. ``delivery`` is ``pending`` when
``settings.alerts.webhook_url`` is set and the level reaches ``min_level``, else ``none``; the webhook
itself is ``inspector.service.webhooks``.

**Alerts of several calls.** A cluster of callers (``inspector.people.clusters``) or a chain of repeat
contacts (``inspector.people.repeats``) raises one alert of its ``kind`` with a ``subject`` (what it is
about); ``group_alert`` raises it, or adds the new call to the open one of the same subject
(``alert_calls`` lists every call; the webhook is not sent again).

**Handling.** ``list_alerts`` (the queue, newest first), ``acknowledge`` (open → acknowledged,
audit-logged with the note) and ``redeliver`` (admin: delivery ``pending`` again; the caller queues
the webhook job after committing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from inspector.errors import ErrorKind, InspectorError
from inspector.people import workitem
from inspector.settings import AlertSettings
from inspector.store.db import utcnow
from inspector.store.schema import AlertCall, AlertDelivery, AlertEvent, Analysis, Call
from inspector.vocab import AlertKind, AlertLevel, AlertStatus, DeliveryStatus, values

log = logging.getLogger(__name__)

_RANKED = values(AlertLevel)  # lowest ("none") to highest
_RAISED = tuple(level for level in _RANKED if level != AlertLevel.NONE)  # blue, yellow, red


class AlertNotFound(InspectorError):
    code = "alert_not_found"
    kind = ErrorKind.NOT_FOUND


class AlertStateError(InspectorError):
    """An alert that is not in a state the request needs (already handled, no webhook configured)."""

    code = "alert_state_conflict"
    kind = ErrorKind.CONFLICT


def _rank(level: str) -> int:
    return _RANKED.index(level) if level in _RANKED else 0


# --- raising -------------------------------------------------------------------------------------


def raise_alert(session: Session, settings: AlertSettings, call: Call, analysis: Analysis) -> AlertEvent | None:
    """The new alert of a call's current analysis, or None when it raises none or nothing new
    (an alert for this analysis, or one of the same level for this call, exists already)."""
    level = analysis.alert
    if level not in _RAISED:
        return None
    existing = session.scalar(
        select(AlertEvent.id).where(
            AlertEvent.kind == AlertKind.CALL,
            (AlertEvent.analysis_id == analysis.id) | ((AlertEvent.call_id == call.id) & (AlertEvent.level == level)),
        )
    )
    if existing is not None:
        return None
    deliver = settings.webhook_url is not None and _rank(level) >= _rank(settings.min_level)
    alert = AlertEvent(
        call_id=call.id,
        analysis_id=analysis.id,
        agent_id=call.agent_id,
        level=level,
        reasons=list((analysis.score or {}).get("alert_reasons") or []),
        subject=call.id,
        status=AlertStatus.OPEN,
        created_at=utcnow(),
        delivery=DeliveryStatus.PENDING if deliver else DeliveryStatus.NONE,
    )
    session.add(alert)
    session.flush()
    return alert


@dataclass(frozen=True)
class GroupAlert:
    """What a cluster or repeat alert is about (see ``group_alert``)."""

    kind: AlertKind
    subject: str  # one open alert per (kind, subject)
    level: AlertLevel
    reasons: list[str]
    call_ids: list[str]  # every call in it so far, the raising call included
    project: str | None = None
    topic: str | None = None


def open_group_alert(session: Session, kind: AlertKind, subject: str) -> AlertEvent | None:
    """The open (or acknowledged, not closed) alert of ``kind`` about ``subject``, if any."""
    return session.scalar(
        select(AlertEvent)
        .where(AlertEvent.kind == kind, AlertEvent.subject == subject, AlertEvent.status != AlertStatus.CLOSED)
        .order_by(AlertEvent.id.desc())
        .limit(1)
    )


def alert_call_ids(session: Session, alert_id: int) -> list[str]:
    """The calls of a cluster or repeat alert, in the order they were added (those added at once by start)."""
    return alerts_call_ids(session, [alert_id]).get(alert_id, [])


def alerts_call_ids(session: Session, alert_ids: list[int]) -> dict[int, list[str]]:
    """``alert_call_ids`` of several alerts at once (alerts of one call have none)."""
    if not alert_ids:
        return {}
    query = (
        select(AlertCall.alert_id, AlertCall.call_id)
        .join(Call, Call.id == AlertCall.call_id)
        .where(AlertCall.alert_id.in_(alert_ids))
        .order_by(AlertCall.added_at, func.coalesce(Call.started_at, Call.created_at), AlertCall.call_id)
    )
    found: dict[int, list[str]] = {}
    for alert_id, call_id in session.execute(query):
        found.setdefault(alert_id, []).append(call_id)
    return found


def group_alert(
    session: Session, settings: AlertSettings, call: Call, analysis: Analysis, group: GroupAlert
) -> AlertEvent | None:
    """Raise the alert of ``group`` (raised by ``call``'s current analysis), or add its calls to the open alert
    of the same kind and subject. Returns the alert only when it is new (to be delivered), else None."""
    now = utcnow()
    alert = open_group_alert(session, group.kind, group.subject)
    created = alert is None
    if alert is None:
        deliver = settings.webhook_url is not None and _rank(group.level) >= _rank(settings.min_level)
        alert = AlertEvent(
            kind=group.kind,
            call_id=call.id,
            analysis_id=analysis.id,
            agent_id=call.agent_id,
            level=group.level,
            reasons=list(group.reasons),
            project=group.project,
            topic=group.topic,
            subject=group.subject,
            status=AlertStatus.OPEN,
            created_at=now,
            updated_at=now,
            delivery=DeliveryStatus.PENDING if deliver else DeliveryStatus.NONE,
        )
        session.add(alert)
        session.flush()
    known = set(alert_call_ids(session, alert.id))
    added = [c for c in dict.fromkeys(group.call_ids) if c not in known]
    if added and not created:
        alert.updated_at = now
        alert.reasons = list(group.reasons)
        if _rank(group.level) > _rank(alert.level):
            alert.level = group.level
    session.add_all(AlertCall(alert_id=alert.id, call_id=c, added_at=now) for c in added)
    session.flush()
    return alert if created else None


# --- the queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertPage:
    items: list[AlertEvent]
    total: int


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    level: str | None = None,
    agent_id: str | None = None,
    kind: str | None = None,
    visible: ColumnElement[bool] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AlertPage:
    """Alerts matching the filters, newest first, and how many match in all. ``visible``: a condition on
    ``AlertEvent.agent_id`` (the API's per-principal filter)."""
    query = select(AlertEvent)
    if visible is not None:
        query = query.where(visible)
    if status is not None:
        query = query.where(AlertEvent.status == status)
    if level is not None:
        query = query.where(AlertEvent.level == level)
    if agent_id is not None:
        query = query.where(AlertEvent.agent_id == agent_id)
    if kind is not None:
        query = query.where(AlertEvent.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AlertEvent.created_at.desc(), AlertEvent.id.desc()).offset(offset).limit(limit)
    )
    return AlertPage(list(rows), int(total))


def get_alert(session: Session, alert_id: int) -> AlertEvent:
    alert = session.get(AlertEvent, alert_id)
    if alert is None:
        raise AlertNotFound(f"预警 {alert_id} 不存在")
    return alert


def _snapshot(alert: AlertEvent) -> dict[str, Any]:
    return {"status": alert.status, "handled_by": alert.handled_by, "note": alert.note, "delivery": alert.delivery}


def acknowledge(session: Session, actor: str, role: str, alert_id: int, note: str | None = None) -> AlertEvent:
    """Take an open alert in hand (open → acknowledged), audit-logged with the note."""
    alert = get_alert(session, alert_id)
    if alert.status != AlertStatus.OPEN:
        raise AlertStateError(f"预警 {alert_id} 已由 {alert.handled_by} 处理")
    changes = {"status": AlertStatus.ACKNOWLEDGED, "handled_by": actor, "handled_at": utcnow(), "note": note}
    return workitem.transition(session, alert, changes, actor=actor, role=role, action="alert.acknowledge",
                               entity="alert", snapshot=_snapshot, reason=note)  # fmt: skip


def redeliver(session: Session, settings: AlertSettings, actor: str, role: str, alert_id: int) -> AlertEvent:
    """Mark an alert's delivery pending again (audit-logged); the caller enqueues ``deliver_alert`` after
    committing."""
    alert = get_alert(session, alert_id)
    if settings.webhook_url is None:
        raise AlertStateError("未配置预警推送地址（alerts.webhook_url），无法重新推送")
    return workitem.transition(session, alert, {"delivery": DeliveryStatus.PENDING}, actor=actor, role=role,
                               action="alert.redeliver", entity="alert", snapshot=_snapshot)  # fmt: skip


def deliveries(session: Session, alert_id: int) -> list[AlertDelivery]:
    """Every delivery attempt of an alert, in order."""
    get_alert(session, alert_id)
    query = select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)
    return list(session.scalars(query.order_by(AlertDelivery.attempt, AlertDelivery.id)))
