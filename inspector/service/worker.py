"""The worker process: ``inspector worker`` (``run_worker``) works the queue with ``InspectorWorker``.

Workers are ``SimpleWorker``s: jobs run in the worker process, so the speech models load once per
process (``WorkerContext``). RQ's death penalty (SIGALRM) still enforces the job timeout. The one
process a worker forks, RQ's scheduler (it moves due retries back to the queue), exits when its worker
dies, even by SIGKILL (``exit_with_parent``). Every worker runs the reconciler
(``inspector.service.reconciler``) at start and every ``settings.queue.reconcile_interval_s``, one
worker at a time by a Redis lock, then the retention purge (``inspector.privacy.retention``) when a
retention period is set, at most hourly over all workers by a lock of its own.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess

from rq import Queue, SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import StopRequested
from rq.scheduler import ForkProcess, RQScheduler
from rq.scheduler import run as run_scheduler

from inspector.people.case_sla import escalate_overdue
from inspector.privacy.retention import purge_in_maintenance
from inspector.service.case_notices import enqueue_case_notice
from inspector.service.context import WorkerContext, use_context
from inspector.service.queue import connect_redis, make_queue
from inspector.service.reconciler import reconcile
from inspector.settings import Settings
from inspector.store import rulesets
from inspector.store.db import utcnow

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> None:
    """In a forked child: get ``sig`` when the parent dies (even by SIGKILL), so no orphan outlives it.

    Linux: ``prctl(PR_SET_PDEATHSIG)``. Elsewhere: a daemon thread polls the parent pid every second.
    Either way, a parent already gone by now means exiting at once.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    else:

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os.kill(os.getpid(), sig)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os.kill(os.getpid(), sig)


def _run_scheduler(scheduler: RQScheduler, parent_pid: int) -> None:
    exit_with_parent(parent_pid)  # SIGTERM: the scheduler stops cleanly and releases its lock
    run_scheduler(scheduler)


class InspectorScheduler(RQScheduler):
    """RQ's scheduler process (it moves due retries back to the queue), bound to its worker's life:
    it exits when the worker dies, however the worker died."""

    def start(self) -> BaseProcess:
        self._status = self.Status.STARTED
        self._connection = None  # a Redis connection cannot cross the fork; the child opens its own
        process = ForkProcess(target=_run_scheduler, args=(self, os.getpid()), name="Scheduler")
        process.start()
        self._process = process
        return process


class InspectorWorker(SimpleWorker):
    """A ``SimpleWorker`` (no fork per job: the models stay loaded) that also runs the reconciler.

    RQ's maintenance (registry cleanup: abandoned jobs retried or failed) runs every
    ``reconcile_interval_s`` instead of every 10 minutes, followed by ``reconcile`` under a Redis lock so
    that one worker reconciles per interval. An idle worker wakes up at that interval to do it.
    """

    def __init__(self, queue: Queue, context: WorkerContext, name: str | None = None) -> None:
        self.context = context
        self.reconcile_interval_s = context.settings.queue.reconcile_interval_s
        self.reconcile_queue = queue
        super().__init__(
            [queue], name=name, connection=queue.connection, maintenance_interval=self.reconcile_interval_s
        )
        self.log_result_lifespan = False

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        """``Worker._start_scheduler`` with ``InspectorScheduler`` instead of ``RQScheduler``."""
        self.scheduler = InspectorScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    @property
    def dequeue_timeout(self) -> int:
        return max(1, min(self.worker_ttl - 15, self.reconcile_interval_s))

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        lock = f"inspector:reconcile:{self.reconcile_queue.name}"
        if self.connection.set(lock, self.name, nx=True, ex=max(1, self.reconcile_interval_s - 1)):
            try:
                reconcile(self.context.db, self.reconcile_queue, self.context.settings)
            except StopRequested:  # SIGTERM while reconciling: RQ's warm shutdown, not a failure to swallow
                raise
            except Exception:  # a database outage must not stop the worker; the next interval tries again
                log.exception("reconcile failed")
        ctx, purge_lock = self.context, f"inspector:purge:{self.reconcile_queue.name}"
        try:  # the retention purge, when a period is set: at most hourly over all workers (its own lock)
            purge_in_maintenance(ctx.db, ctx.audio, ctx.settings, self.connection, purge_lock, self.name)
        except StopRequested:
            raise
        except Exception:
            log.exception("retention purge failed")
        escalate_lock = f"inspector:cases:{self.reconcile_queue.name}"
        try:  # overdue complaint cases up the escalation ladder: one worker per interval (its own lock)
            if self.connection.set(escalate_lock, self.name, nx=True, ex=ctx.settings.cases.escalate_interval_s):
                notify = ctx.settings.alerts.webhook_url is not None
                with ctx.db.session() as session:
                    steps = escalate_overdue(session, ctx.settings.cases, utcnow(), notify=notify)
                for step in steps:  # committed: queue the notices (one left pending if Redis fails here)
                    log.info("case %s: escalated to %s (%s)", step.case_id, step.role, step.deadline)
                    if step.notice_id is not None:
                        enqueue_case_notice(self.reconcile_queue, ctx.settings.alerts, step.notice_id)
        except StopRequested:
            raise
        except Exception:
            log.exception("case escalation failed")


def run_worker(
    settings: Settings, *, burst: bool = False, name: str | None = None, context: WorkerContext | None = None
) -> None:
    """``inspector worker``: prepare the database and the models, then work the queue.

    ``context`` defaults to one built from ``settings`` (tests pass their own). With ``burst`` the worker
    stops once the queue is empty (scheduled retries that are not due yet are left for later).
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("inspector.service").setLevel(logging.INFO)  # the jobs' own lines, whatever the root's level
    own_context = context is None
    ctx = context if context is not None else WorkerContext.from_settings(settings)
    try:
        ctx.db.upgrade()
        with ctx.db.session() as session:
            rulesets.ensure_default(session, settings.rules_dir)
        ctx.speech()  # load the models before the first job, not inside its timeout
        connection = connect_redis(settings.redis_url)
        worker = InspectorWorker(make_queue(settings, connection), ctx, name=name)
        in_main_thread = threading.current_thread() is threading.main_thread()
        handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) if in_main_thread else None
        try:
            with use_context(ctx):
                worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        finally:
            if handlers is not None:  # SimpleWorker installs its own; give the caller's back
                signal.signal(signal.SIGINT, handlers[0])
                signal.signal(signal.SIGTERM, handlers[1])
            connection.close()
    finally:
        if own_context:
            ctx.close()
