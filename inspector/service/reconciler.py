"""The reconciler: the database is the source of truth, and ``reconcile`` repairs Redis from it.

Redis keeps nothing on disk. A queued call whose job Redis no longer has (or has failed/finished) is
enqueued again; a processing call whose lease ran out and whose job Redis no longer runs is queued
again, or failed once it used its attempts. A call held by a live lease is never touched: only the
lease tells that its worker is gone (after a Redis restart no Redis state can be trusted to say so).
Every worker runs the reconciler at start and every ``settings.queue.reconcile_interval_s`` (one worker
at a time, by a Redis lock: ``inspector.service.worker``); ``inspector reconcile`` runs it once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import redis
from rq import Queue
from rq.job import Job
from sqlalchemy import select

from inspector.service.call_job import enqueue_queued
from inspector.service.queue import BATCH
from inspector.settings import Settings
from inspector.store import calls as store
from inspector.store.db import Database, utcnow
from inspector.store.schema import Call
from inspector.vocab import CallStatus

log = logging.getLogger(__name__)

# Job states in which Redis still owns the work: it will run the job, retry it, or is running it
# (a job whose worker died stays "started" until RQ's registry cleanup retries or fails it).
LIVE_JOB_STATES = frozenset({"queued", "scheduled", "deferred", "started"})

Row = tuple[str, str | None, datetime | None, int]  # a call's id, job id, lease end, attempts


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)  # enqueued again
    failed: list[str] = field(default_factory=list)  # out of attempts


def reconcile(db: Database, queue: Queue, settings: Settings) -> ReconcileReport:
    """Make Redis agree with the database (see the module docstring): re-enqueue queued calls Redis lost,
    and queue again (or fail, once out of attempts) processing calls whose worker is gone."""
    report = ReconcileReport()
    for batch in _calls_in(db, CallStatus.QUEUED):
        states = _job_states(queue.connection, [job_id for _, job_id, _, _ in batch])
        lost = [
            call_id for (call_id, _, _, _), state in zip(batch, states, strict=True) if state not in LIVE_JOB_STATES
        ]
        report.requeued += enqueue_queued(db, queue, settings, lost)
    for batch in _calls_in(db, CallStatus.PROCESSING):
        _hand_on(db, queue, settings, batch, report)
    if report.requeued or report.failed:
        log.info("reconcile: %d calls enqueued again, %d failed", len(report.requeued), len(report.failed))
    return report


def _hand_on(db: Database, queue: Queue, settings: Settings, batch: list[Row], report: ReconcileReport) -> None:
    """Processing calls whose lease ran out and whose job Redis no longer runs: queued again, or failed
    once out of attempts (added to ``report``)."""
    now = utcnow()
    expired = [row for row in batch if row[2] is None or row[2] < now]
    if not expired:
        return
    states = _job_states(queue.connection, [job_id for _, job_id, _, _ in expired])
    gone = [row for row, state in zip(expired, states, strict=True) if state not in LIVE_JOB_STATES]
    max_attempts = settings.queue.retries + 1
    requeue = [call_id for call_id, _, _, attempts in gone if attempts < max_attempts]
    with db.session() as session:
        for call_id, _, _, attempts in gone:
            if attempts >= max_attempts:
                store.mark_failed(session, call_id, f"处理超时或工作进程中断，已重试 {attempts - 1} 次")
                report.failed.append(call_id)
        requeued = store.requeue(session, requeue)
    report.requeued += enqueue_queued(db, queue, settings, requeued)


def _job_states(connection: redis.Redis, job_ids: Sequence[str | None]) -> list[str | None]:
    """Each job's status in Redis (None: no job, or one Redis does not know)."""
    known = [job_id for job_id in job_ids if job_id]
    with connection.pipeline(transaction=False) as pipe:
        for job_id in known:
            pipe.hget(Job.key_for(job_id), "status")
        found = dict(zip(known, pipe.execute(), strict=True))
    states: list[str | None] = []
    for job_id in job_ids:
        state = found.get(job_id) if job_id else None
        states.append(state.decode() if isinstance(state, bytes) else state)
    return states


def _calls_in(db: Database, status: CallStatus) -> Iterator[list[Row]]:
    """Batches of (id, job id, lease end, attempts) of the calls in ``status``, by id (keyset paging)."""
    after = ""
    while True:
        with db.session() as session:
            rows = session.execute(
                select(Call.id, Call.job_id, Call.lease_until, Call.attempts)
                .where(Call.status == status.value, Call.id > after)
                .order_by(Call.id)
                .limit(BATCH)
            ).all()
        if not rows:
            return
        yield [tuple(row) for row in rows]  # type: ignore[misc]
        after = rows[-1][0]
