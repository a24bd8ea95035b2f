"""Webhook delivery of alerts (预警推送): an RQ job per alert.

``deliver_alert`` (queued by ``enqueue_delivery``) POSTs the alert as JSON::

    {"alert_id", "kind", "level", "level_name", "reasons", "call_id", "call_ids", "project", "topic",
     "agent_id", "score", "started_at", "created_at", "link": "/api/v1/calls/<call id>"}

(``kind``: ``call``, or ``cluster`` / ``repeat`` for an alert of several calls, whose ``call_ids`` lists them
as they were when it was raised; calls added later do not send it again)

(times in ISO 8601 UTC with ``Z``) with ``X-Inspector-Signature: sha256=<hex HMAC-SHA256 of the body>``
when ``secret`` is set. Every attempt is kept in ``alert_deliveries`` (attempt number, HTTP status,
error, duration). A 2xx answer marks the alert ``delivered``; anything else (another status, a
connection error, a timeout) raises, so RQ retries the job after ``backoff_s`` up to ``retries`` times;
when none is left the failure callback ``delivery_failed`` marks it ``failed``. Attempt numbers go on
from the last one when an admin redelivers (``inspector.people.alerts.redeliver``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from typing import Any

import httpx
import redis
from rq import Callback, Queue, Retry
from rq.job import Job
from sqlalchemy import func, select

from inspector.errors import one_line
from inspector.people.alerts import alert_call_ids
from inspector.privacy.masking import mask_text
from inspector.qa.scoring import ALERT_NAMES_ZH
from inspector.service.context import current_context
from inspector.settings import AlertSettings
from inspector.store.db import utcnow
from inspector.store.schema import AlertDelivery, AlertEvent, Call
from inspector.vocab import AlertKind, DeliveryStatus

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Inspector-Signature"
CALL_LINK = "/api/v1/calls/{call_id}"
_ERROR_CHARS = 500  # of an error kept per attempt
_BODY_CHARS = 200  # of a refusing server's answer quoted in the error


class DeliveryFailed(Exception):
    """One delivery attempt failed (raised so that RQ retries the job)."""


def iso_utc(value: Any) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with ``Z``."""
    return value.isoformat() + "Z" if value is not None else None


def payload(alert: AlertEvent, call: Call | None, call_ids: list[str] | None = None) -> dict[str, Any]:
    """The JSON body posted to the webhook; ``call_ids``: the calls of a cluster or repeat alert."""
    return {
        "alert_id": alert.id,
        "kind": alert.kind or AlertKind.CALL.value,
        "level": alert.level,
        "level_name": ALERT_NAMES_ZH.get(alert.level, alert.level),
        "reasons": [mask_text(r) for r in alert.reasons or []],  # personal data leaves the system masked only
        "call_id": alert.call_id,
        "call_ids": call_ids or [alert.call_id],
        "project": alert.project,
        "topic": alert.topic,
        "agent_id": alert.agent_id,
        "score": call.score if call is not None else None,
        "started_at": iso_utc(call.started_at) if call is not None else None,
        "created_at": iso_utc(alert.created_at),
        "link": CALL_LINK.format(call_id=alert.call_id),
    }


def signature(secret: str, body: bytes) -> str:
    """The value of ``X-Inspector-Signature``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def retry_policy(settings: AlertSettings) -> Retry | None:
    if settings.retries <= 0:
        return None
    return Retry(max=settings.retries, interval=list(settings.backoff_s) or [0])


def enqueue_delivery(queue: Queue, settings: AlertSettings, alert_id: int) -> Job:
    """Queue the webhook delivery of an alert (retried per ``settings``)."""
    return queue.enqueue(
        deliver_alert,
        alert_id,
        job_timeout=math.ceil(settings.timeout_s) + 30,
        retry=retry_policy(settings),
        on_failure=Callback(delivery_failed),
        description=f"alert {alert_id} webhook",
    )


def post_json(settings: AlertSettings, url: str, body: bytes) -> tuple[int | None, str | None]:
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
            alert.delivery = DeliveryStatus.NONE.value
            return DeliveryStatus.NONE.value
        body_json = payload(alert, session.get(Call, alert.call_id), alert_call_ids(session, alert.id))
        body = json.dumps(body_json, ensure_ascii=False).encode("utf-8")
        attempt = (
            session.scalar(select(func.max(AlertDelivery.attempt)).where(AlertDelivery.alert_id == alert_id)) or 0
        ) + 1

    started = time.perf_counter()
    status_code, error = post_json(settings, url, body)
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
                alert.delivery = DeliveryStatus.DELIVERED.value
    if error is not None:
        log.warning("alert %s: delivery attempt %d failed: %s", alert_id, attempt, error)
        raise DeliveryFailed(error)
    log.info("alert %s delivered (attempt %d, %.0f ms)", alert_id, attempt, duration_ms)
    return DeliveryStatus.DELIVERED.value


def delivery_failed(job: Job, connection: redis.Redis, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback of ``deliver_alert``: once RQ has no retry left, the alert's delivery failed."""
    if job.should_retry:
        return
    alert_id = int(job.args[0])
    with current_context().db.session() as session:
        alert = session.get(AlertEvent, alert_id)
        if alert is not None and alert.delivery == DeliveryStatus.PENDING.value:
            alert.delivery = DeliveryStatus.FAILED.value
    log.warning("alert %s: delivery failed, no retry left", alert_id)
