"""What follows a call's new current analysis, for the call job and rescoring alike: in the transaction
that stores the analysis, the call is sampled for review (复核), its alert (预警) raised, its topics stored
(``inspector.store.topics``) and its customer phrases (``inspector.reports.emerging``), its repeat contacts
linked, a cluster of callers on its topic alerted (群体性投诉预警) and a complaint case (投诉工单) opened for
a red alert (``inspector.people.cases``); once that transaction committed, the alerts' webhook deliveries are
queued (``inspector.service.webhooks``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rq import get_current_job
from sqlalchemy.orm import Session

from inspector.people import alerts, cases, clusters, repeats, review_queue, satisfaction
from inspector.reports import emerging
from inspector.service import webhooks
from inspector.service.context import WorkerContext
from inspector.service.queue import connect_redis, make_queue
from inspector.store.db import utcnow
from inspector.store.phrases import save_phrases
from inspector.store.schema import AlertEvent, Analysis, Call
from inspector.store.topics import refresh_call_topics
from inspector.vocab import DeliveryStatus

log = logging.getLogger(__name__)


def after_analysis(session: Session, ctx: WorkerContext, call: Call, analysis: Analysis) -> list[int]:
    """In the transaction that made ``analysis`` the call's current one: sample it for review (复核) and
    raise its alert. Returns the ids of alerts to deliver to the webhook once the transaction commits."""
    review_queue.on_analysis(session, ctx.settings.review, call, analysis)
    raised: list[AlertEvent | None] = [alerts.raise_alert(session, ctx.settings.alerts, call, analysis)]
    refresh_call_topics(session, call, list(analysis.topics or ()))
    save_phrases(session, call.id, emerging.phrases_of_call(session, call.id), emerging.PHRASES_VERSION)
    satisfaction.refresh_survey(session, call, analysis)
    raised.append(repeats.on_analysis(session, ctx.settings, call, analysis))
    raised.extend(clusters.on_analysis(session, ctx.settings, call, analysis))
    cases.on_alerts(session, ctx.settings.cases, call, [a for a in raised if a is not None], utcnow())
    return [a.id for a in raised if a is not None and a.delivery == DeliveryStatus.PENDING.value]


def enqueue_deliveries(ctx: WorkerContext, alert_ids: Sequence[int]) -> None:
    """Queue the webhook deliveries of committed alerts. A Redis failure is logged, not raised: the call
    is done, and an alert left ``pending`` can be delivered again (POST /alerts/{id}/redeliver)."""
    if not alert_ids:
        return
    job = get_current_job()
    connection = job.connection if job is not None else connect_redis(ctx.settings.redis_url)
    try:
        queue = make_queue(ctx.settings, connection)
        for alert_id in alert_ids:
            webhooks.enqueue_delivery(queue, ctx.settings.alerts, alert_id)
    except Exception:
        log.exception("alerts %s: could not queue the webhook deliveries", list(alert_ids))
    finally:
        if job is None:
            connection.close()
