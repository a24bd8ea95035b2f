"""Alerts (红黄蓝预警): the alert queue and webhook delivery.

**Raising.** When a call's current analysis is stored with an alert (blue, yellow or red), the job
calls ``raise_alert``: one ``AlertEvent`` per analysis (status ``open``). Rescoring makes new analyses;
a call that already has an alert of the same level keeps that one (the same incident, not a new one),
so activating a rule set does not raise every historical alert again. ``delivery`` is ``pending`` when
``settings.alerts.webhook_url`` is set and the level reaches ``min_level``, else ``none``.

**Delivery.** ``deliver_alert`` is an RQ job (``enqueue_delivery``) that POSTs the alert as JSON::

    {"alert_id", "level", "level_name", "reasons", "call_id", "agent_id", "score", "started_at",
     "created_at", "link": "/api/v1/calls/<call id>"}

(times in ISO 8601 UTC with ``Z``) with ``X-Inspector-Signature: sha256=<hex HMAC-SHA256 of the body>``
when ``secret`` is set. Every attempt is kept in ``alert_deliveries`` (attempt number, HTTP status,
error, duration). A 2xx answer marks the alert ``delivered``; anything else (another status, a
connection error, a timeout) raises, so RQ retries the job after ``backoff_s`` up to ``retries`` times;
when none is left the failure callback ``delivery_failed`` marks it ``failed``. ``redeliver`` (admin)
sets it ``pending`` again for a new job; attempt numbers go on from the last one.

**Handling.** ``list_alerts`` (the queue, newest first) and ``acknowledge`` (open → acknowledged,
audit-logged with the note).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from rq import Callback, Queue, Retry
from rq.job import Job
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from inspector.errors import InspectorError, one_line
from inspector.jobs import current_context
from inspector.scoring import ALERT_LEVELS, ALERT_NAMES_ZH
from inspector.settings import AlertSettings
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import AlertDelivery, AlertEvent, Analysis, Call

log = logging.getLogger(__name__)

LEVELS = ("blue", "yellow", "red")  # lowest to highest
STATUSES = ("open", "acknowledged", "closed")
DELIVERY_STATES = ("none", "pending", "delivered", "failed")
SIGNATURE_HEADER = "X-Inspector-Signature"
CALL_LINK = "/api/v1/calls/{call_id}"
_ERROR_CHARS = 500  # of an error kept per attempt
_BODY_CHARS = 200  # of a refusing server's answer quoted in the error


class AlertNotFound(InspectorError):
    code = "alert_not_found"


class AlertStateError(InspectorError):
    """An alert that is not in a state the request needs (already handled, no webhook configured)."""

    code = "alert_state_conflict"


class DeliveryFailed(Exception):
    """One delivery attempt failed (raised so that RQ retries the job)."""


def _rank(level: str) -> int:
    return ALERT_LEVELS.index(level) if level in ALERT_LEVELS else 0


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


# --- raising -------------------------------------------------------------------------------------


def raise_alert(session: Session, settings: AlertSettings, call: Call, analysis: Analysis) -> AlertEvent | None:
    """The new alert of a call's current analysis, or None when it raises none or nothing new
    (an alert for this analysis, or one of the same level for this call, exists already)."""
    level = analysis.alert
    if level not in LEVELS:
        return None
    existing = session.scalar(
        select(AlertEvent.id).where(
            (AlertEvent.analysis_id == analysis.id) | ((AlertEvent.call_id == call.id) & (AlertEvent.level == level))
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
        status="open",
        created_at=utcnow(),
        delivery="pending" if deliver else "none",
    )
    session.add(alert)
    session.flush()
    return alert


# --- delivery ------------------------------------------------------------------------------------


def payload(alert: AlertEvent, call: Call | None) -> dict[str, Any]:
    """The JSON body posted to the webhook."""
    return {
        "alert_id": alert.id,
        "level": alert.level,
        "level_name": ALERT_NAMES_ZH.get(alert.level, alert.level),
        "reasons": list(alert.reasons or []),
        "call_id": alert.call_id,
        "agent_id": alert.agent_id,
        "score": call.score if call is not None else None,
        "started_at": _iso(call.started_at) if call is not None else None,
        "created_at": _iso(alert.created_at),
        "link": CALL_LINK.format(call_id=alert.call_id),
    }


def signature(secret: str, body: bytes) -> str:
    """The value of ``X-Inspector-Signature``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _retry(settings: AlertSettings) -> Retry | None:
    if settings.retries <= 0:
        return None
    return Retry(max=settings.retries, interval=list(settings.backoff_s) or [0])


def enqueue_delivery(queue: Queue, settings: AlertSettings, alert_id: int) -> Job:
    """Queue the webhook delivery of an alert (retried per ``settings``)."""
    return queue.enqueue(
        deliver_alert,
        alert_id,
        job_timeout=math.ceil(settings.timeout_s) + 30,
        retry=_retry(settings),
        on_failure=Callback(delivery_failed),
        description=f"alert {alert_id} webhook",
    )



def _post(settings: AlertSettings, url: str, body: bytes) -> tuple[int | None, str | None]:
    """(HTTP status, error) of one POST; the error is None on a 2xx answer."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "inspector-alerts"}
    if settings.secret:
        headers[SIGNATURE_HEADER] = signature(settings.secret, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=settings.timeout_s)
    except httpx.TimeoutException as err:
        return None, one_line(f"请求超时（{settings.timeout_s} 秒）：{type(err).__name__}", _ERROR_CHARS)
    except httpx.HTTPError as err:
        return None, one_line(f"{type(err).__name__}: {err}", _ERROR_CHARS)
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, one_line(f"HTTP {response.status_code}: {response.text[:_BODY_CHARS]}", _ERROR_CHARS)


def deliver_alert(alert_id: int) -> str:
    """The RQ job: POST the alert to the webhook once, record the attempt; raise when it failed."""
    ctx = current_context()
    settings = ctx.settings.alerts
    url = settings.webhook_url
    with ctx.db.session() as session:
        alert = session.get(AlertEvent, alert_id)
        if alert is None:
            return "missing"
        if url is None:  # the webhook was switched off since: nothing to deliver to
            alert.delivery = "none"
            return "none"
        body = json.dumps(payload(alert, session.get(Call, alert.call_id)), ensure_ascii=False).encode("utf-8")
        attempt = (
            session.scalar(select(func.max(AlertDelivery.attempt)).where(AlertDelivery.alert_id == alert_id)) or 0
        ) + 1

    started = time.perf_counter()
    status_code, error = _post(settings, url, body)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)

    with ctx.db.session() as session:
        session.add(
            AlertDelivery(
                alert_id=alert_id,
                attempt=attempt,
                at=utcnow(),
                url=url[:1000],
                status_code=status_code,
                ok=error is None,
                error=error,
                duration_ms=duration_ms,
            )
        )
        if error is None:
            alert = session.get(AlertEvent, alert_id)
            if alert is not None:
                alert.delivery = "delivered"
    if error is not None:
        log.warning("alert %s: delivery attempt %d failed: %s", alert_id, attempt, error)
        raise DeliveryFailed(error)
    log.info("alert %s delivered (attempt %d, %.0f ms)", alert_id, attempt, duration_ms)
    return "delivered"


def delivery_failed(job: Job, connection: redis.Redis, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback of ``deliver_alert``: once RQ has no retry left, the alert's delivery failed."""
    if job.should_retry:
        return
    alert_id = int(job.args[0])
    with current_context().db.session() as session:
        alert = session.get(AlertEvent, alert_id)
        if alert is not None and alert.delivery == "pending":
            alert.delivery = "failed"
    log.warning("alert %s: delivery failed, no retry left", alert_id)


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
    if alert.status != "open":
        raise AlertStateError(f"预警 {alert_id} 已由 {alert.handled_by} 处理")
    before = _snapshot(alert)
    alert.status = "acknowledged"
    alert.handled_by = actor
    alert.handled_at = utcnow()
    alert.note = note
    session.flush()
    audit.record(session, actor=actor, role=role, action="alert.acknowledge", entity="alert", entity_id=alert.id,
                 before=before, after=_snapshot(alert), reason=note)  # fmt: skip
    return alert


def redeliver(session: Session, settings: AlertSettings, actor: str, role: str, alert_id: int) -> AlertEvent:
    """Mark an alert's delivery pending again (audit-logged); the caller enqueues ``deliver_alert`` after
    committing."""
    alert = get_alert(session, alert_id)
    if settings.webhook_url is None:
        raise AlertStateError("未配置预警推送地址（alerts.webhook_url），无法重新推送")
    before = _snapshot(alert)
    alert.delivery = "pending"
    session.flush()
    audit.record(session, actor=actor, role=role, action="alert.redeliver", entity="alert", entity_id=alert.id,
                 before=before, after=_snapshot(alert))  # fmt: skip
    return alert


def deliveries(session: Session, alert_id: int) -> list[AlertDelivery]:
    """Every delivery attempt of an alert, in order."""
    get_alert(session, alert_id)
    query = select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)
    return list(session.scalars(query.order_by(AlertDelivery.attempt, AlertDelivery.id)))
