"""Webhook notices of complaint-case escalations (超时升级通知): an RQ job per notice, to the alert webhook.

When a case's deadline has passed, the worker's maintenance raises it up ``cases.ladder``
(``inspector.people.case_sla.escalate_overdue``); with ``alerts.webhook_url`` set, each new step becomes a
pending ``case_notices`` row, queued once the transaction commits (``enqueue_case_notice``).
``deliver_case_notice`` POSTs::

    {"event": "case.escalated", "case_id", "level", "level_name", "status", "status_name", "title",
     "step", "role", "deadline", "due", "project", "topic", "agent_id", "call_ids", "link": "/api/v1/cases/<id>",
     "node": {"id", "level", "name"} | null, "recipients": [{"username", "name"}]}

signed like the alerts (``X-Inspector-Signature``), with the alerts' timeout and retries. When the ladder step
has a ``level``, ``node`` is the org node at that level above the case's agent's team (or its project) and
``recipients`` the users who manage it (``inspector.people.managers``), looked up when the notice is sent; the
receiving system (a WeCom / DingTalk bot, a ticketing system) addresses them, or routes by ``role`` and
``project`` when there are none. A 2xx marks the notice ``delivered``; otherwise RQ retries, and when no retry
is left the notice is ``failed``."""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

import redis
from rq import Callback, Queue
from rq.job import Job
from sqlalchemy.orm import Session

from inspector.people.case_sla import DEADLINE_LABELS, Deadline
from inspector.people.cases import LABELS, case_call_ids
from inspector.people.managers import Manager, managers_of, node_at
from inspector.privacy.masking import mask_text
from inspector.qa.scoring import ALERT_NAMES_ZH
from inspector.service.context import current_context
from inspector.service.webhooks import DeliveryFailed, iso_utc, post_json, retry_policy
from inspector.settings import AlertSettings, CaseSettings
from inspector.store.db import utcnow
from inspector.store.org import Node, load_tree
from inspector.store.schema import Agent, Case, CaseNotice
from inspector.vocab import CaseStatus, DeliveryStatus, OrgLevel

log = logging.getLogger(__name__)

EVENT = "case.escalated"
CASE_LINK = "/api/v1/cases/{case_id}"


def addressees(
    session: Session, settings: CaseSettings, case: Case, notice: CaseNotice
) -> tuple[Node | None, list[Manager]]:
    """The org node the notice's ladder step goes to, and its managers (none without a level or a node)."""
    ladder = settings.ladder
    level = ladder[notice.step - 1].level if 0 < notice.step <= len(ladder) else None
    if level is None:
        return None, []
    agent = session.get(Agent, case.agent_id)
    node = node_at(load_tree(session), OrgLevel(level), agent.team_id if agent else None, case.project)
    return node, ([] if node is None else managers_of(session, node))


def notice_payload(
    case: Case,
    notice: CaseNotice,
    call_ids: list[str],
    node: Node | None = None,
    recipients: list[Manager] | None = None,
) -> dict[str, Any]:
    """The JSON body of one escalation notice (times in UTC with ``Z``; the title masked)."""
    deadline = Deadline(notice.deadline)
    return {
        "event": EVENT,
        "case_id": case.id,
        "level": case.level,
        "level_name": ALERT_NAMES_ZH.get(case.level, case.level),
        "status": case.status,
        "status_name": LABELS[CaseStatus(case.status)],
        "title": mask_text(case.title),
        "step": notice.step,
        "role": notice.role,
        "deadline": deadline.value,
        "deadline_name": DEADLINE_LABELS[deadline],
        "due": iso_utc(case.respond_due if deadline == Deadline.RESPOND else case.close_due),
        "project": case.project,
        "topic": case.topic,
        "agent_id": case.agent_id,
        "call_ids": call_ids,
        "link": CASE_LINK.format(case_id=case.id),
        "node": None if node is None else {"id": node.id, "level": node.level.value, "name": node.name},
        "recipients": [{"username": m.username, "name": m.name} for m in recipients or []],
    }


def enqueue_case_notice(queue: Queue, settings: AlertSettings, notice_id: int) -> Job:
    return queue.enqueue(
        deliver_case_notice,
        notice_id,
        job_timeout=math.ceil(settings.timeout_s) + 30,
        retry=retry_policy(settings),
        on_failure=Callback(case_notice_failed),
        description=f"case notice {notice_id} webhook",
    )


def deliver_case_notice(notice_id: int) -> str:
    """The RQ job: POST the notice once and count the attempt; raise when it failed (RQ retries)."""
    ctx = current_context()
    settings = ctx.settings.alerts
    url = settings.webhook_url
    with ctx.db.session() as session:
        notice = session.get(CaseNotice, notice_id)
        if notice is None:
            return "missing"
        if url is None:  # the webhook was switched off since
            notice.status = DeliveryStatus.NONE.value
            return DeliveryStatus.NONE.value
        case = session.get(Case, notice.case_id)
        assert case is not None  # the notice's foreign key cascades
        node, recipients = addressees(session, ctx.settings.cases, case, notice)
        payload = notice_payload(case, notice, case_call_ids(session, case.id), node, recipients)
        body = json.dumps(payload, ensure_ascii=False)
    started = time.perf_counter()
    status_code, error = post_json(settings, url, body.encode("utf-8"))
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    with ctx.db.session() as session:
        notice = session.get(CaseNotice, notice_id)
        if notice is not None:
            notice.attempts += 1
            notice.error = error
            if error is None:
                notice.status = DeliveryStatus.DELIVERED.value
                notice.delivered_at = utcnow()
    if error is not None:
        log.warning("case notice %s: attempt failed (%s, %.0f ms): %s", notice_id, status_code, duration_ms, error)
        raise DeliveryFailed(error)
    log.info("case notice %s delivered (%.0f ms)", notice_id, duration_ms)
    return DeliveryStatus.DELIVERED.value


def case_notice_failed(job: Job, connection: redis.Redis, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback: once no retry is left, the notice failed."""
    if job.should_retry:
        return
    notice_id = int(job.args[0])
    with current_context().db.session() as session:
        notice = session.get(CaseNotice, notice_id)
        if notice is not None and notice.status == DeliveryStatus.PENDING.value:
            notice.status = DeliveryStatus.FAILED.value
    log.warning("case notice %s: delivery failed, no retry left", notice_id)
