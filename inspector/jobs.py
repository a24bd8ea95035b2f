"""Background work on RQ (Redis): one job per call, rescoring jobs, and the reconciler.

``process_call`` (one job per call): claim the call in the database (a lease as long as the job
timeout), transcribe its recording (or reuse the transcript a dead worker already stored), analyze it
with the active rule set, store the result. Every write is fenced by the claim: the call must still be
``processing`` with the attempt number this job claimed, so a job that lost its call to another (the
lease ran out and the reconciler handed the call on) writes nothing. Results are upserts, so a rerun
never duplicates rows.

Failures:

* a recording that cannot be used (``AudioError`` and other ``InspectorError``s about the call) fails
  the call at once with the one-line Chinese reason; the job itself succeeds, nothing is retried;
* anything else (database or Redis hiccup, timeout, crash) is transient: the error is written on the
  call, the lease released, and the exception re-raised so RQ retries the job after
  ``settings.queue.backoff_s``. When RQ has no retry left, the failure callback ``call_job_failed``
  fails the call with the error. Calls already tried count against the retries of a new job, so a
  call is attempted at most ``retries + 1`` times however it got back to the queue.

Redis keeps nothing on disk, so the database is the source of truth and ``reconcile`` repairs Redis
from it: a queued call whose job Redis no longer has (or has failed/finished) is enqueued again; a
processing call whose lease ran out and whose job Redis no longer runs is queued again, or failed once
it used its attempts. A call held by a live lease is never touched: only the lease tells that its
worker is gone (after a Redis restart no Redis state can be trusted to say so). Every worker runs the
reconciler at start and every ``settings.queue.reconcile_interval_s`` (one worker at a time, by a
Redis lock); ``inspector reconcile`` runs it once.

Workers are ``SimpleWorker``s: jobs run in the worker process, so the speech models load once per
process (``WorkerContext``). RQ's death penalty (SIGALRM) still enforces the job timeout. The one
process a worker forks, RQ's scheduler (it moves due retries back to the queue), exits when its worker
dies, even by SIGKILL (``exit_with_parent``).

Rescoring with a rule set (activation, ``POST /rulesets/{id}/rescore``) is coalesced: one
``rescore_ruleset`` job per rule set waits in the queue at most, and a request while it waits joins it.
When it starts it lists the done calls and queues ``rescore_calls`` batches that any worker runs.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

import redis
from rq import Callback, Queue, Retry, SimpleWorker, get_current_job
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.scheduler import ForkProcess, RQScheduler
from rq.scheduler import run as run_scheduler
from rq.timeouts import JobTimeoutException
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from inspector.analysis import Analyzer
from inspector.errors import AudioError, InspectorError, ModelError, one_line
from inspector.settings import Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.blobs import AudioStore, LocalAudioStore
from inspector.store.db import Database, DatabaseError, chunks, utcnow
from inspector.store.schema import Analysis, Call, CallStatus, RuleSetRecord
from inspector.transcript import Transcript

log = logging.getLogger(__name__)

# Job timeout when the duration is unknown: assume the densest common recording, 8 kHz 16-bit mono.
WORST_CASE_BYTES_PER_S = 16000
# Calls read / written / enqueued per database statement or Redis pipeline.
BATCH = 1000
ERROR_CHARS = 1000  # of an error message kept on a call
# Job states in which Redis still owns the work: it will run the job, retry it, or is running it
# (a job whose worker died stays "started" until RQ's registry cleanup retries or fails it).
LIVE_JOB_STATES = frozenset({"queued", "scheduled", "deferred", "started"})


class RuleSetNotFound(InspectorError):
    code = "rule_set_not_found"


class RecordingMissing(InspectorError):
    """The audio store does not have a call's recording (e.g. a shared folder not mounted): retried."""

    code = "recording_missing"


# Errors about the worker's environment, not about the call: retried like any other.
TRANSIENT_INSPECTOR_ERRORS: tuple[type[InspectorError], ...] = (DatabaseError, ModelError, RecordingMissing)


class Transcriber(Protocol):
    """What a job needs of ``inspector.pipeline.SpeechPipeline``."""

    def transcribe(self, path: str | Path) -> Transcript: ...


# --- worker process context ----------------------------------------------------------------------


@dataclass
class WorkerContext:
    """What jobs use in a worker process: settings, database, audio store, speech models, analyzers.

    Jobs receive only ids; they find everything else here. The speech pipeline is created on first use
    (or given, e.g. by tests) and kept for the life of the process, as is one ``Analyzer`` per rule set.
    """

    settings: Settings
    db: Database
    audio: AudioStore
    pipeline: Transcriber | None = None
    _analyzers: dict[int, Analyzer] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerContext:
        return cls(settings, Database(settings.database), LocalAudioStore(settings.audio_store_dir))

    def speech(self) -> Transcriber:
        """The speech pipeline, loaded once per process."""
        if self.pipeline is None:
            from inspector.pipeline import SpeechPipeline

            self.pipeline = SpeechPipeline(self.settings)
        return self.pipeline

    def analyzer(self, record: RuleSetRecord) -> Analyzer:
        """The compiled rule set of ``record`` (materialized under ``data_dir/rulesets``), loaded once."""
        analyzer = self._analyzers.get(record.id)
        if analyzer is None:
            folder = rulesets.materialize(record, self.settings.data_dir / "rulesets")
            analyzer = Analyzer(self.settings, folder)
            self._analyzers[record.id] = analyzer
        return analyzer

    def close(self) -> None:
        self.db.dispose()


_context: WorkerContext | None = None
_context_lock = threading.Lock()


@contextmanager
def use_context(context: WorkerContext) -> Iterator[WorkerContext]:
    """Make ``context`` the one jobs of this process use (the previous one is restored afterwards)."""
    global _context
    previous = _context
    _context = context
    try:
        yield context
    finally:
        _context = previous


def current_context() -> WorkerContext:
    """The process's context; a job run by a plain ``rq worker`` builds one from ``Settings()``."""
    global _context
    with _context_lock:
        if _context is None:
            _context = WorkerContext.from_settings(Settings())
        return _context


# --- Redis, queue, timeouts ----------------------------------------------------------------------


def connect_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def make_queue(settings: Settings, connection: redis.Redis) -> Queue:
    return Queue(settings.queue.name, connection=connection, default_timeout=settings.queue.timeout_base_s)


def job_timeout(settings: Settings, duration_s: float | None, audio_bytes: int) -> int:
    """Seconds one call may take: ``timeout_base_s + timeout_per_audio_s`` x recording seconds.

    Without a known duration, the duration is estimated from the size as if the file were 8 kHz 16-bit
    mono PCM (larger than any common recording per byte, so the timeout is generous). It is capped at
    the longest recording accepted.
    """
    if duration_s is None or duration_s <= 0:
        duration_s = audio_bytes / WORST_CASE_BYTES_PER_S
    duration_s = min(duration_s, settings.audio.max_duration_s)
    q = settings.queue
    return math.ceil(q.timeout_base_s + q.timeout_per_audio_s * duration_s)


def _retry(settings: Settings, attempts: int) -> Retry | None:
    """RQ retries left to a call that has already been attempted ``attempts`` times."""
    left = settings.queue.retries - attempts
    if left <= 0:
        return None
    return Retry(max=left, interval=list(settings.queue.backoff_s) or [0])



# --- enqueueing ----------------------------------------------------------------------------------


def enqueue_calls(db: Database, queue: Queue, settings: Settings, call_ids: Sequence[str]) -> int:
    """Enqueue ``process_call`` for each of ``call_ids`` that is queued in the database; returns how many."""
    return len(_enqueue_queued(db, queue, settings, call_ids))


def _enqueue_queued(db: Database, queue: Queue, settings: Settings, call_ids: Sequence[str]) -> list[str]:
    """Job ids are written to the calls first (one commit), then the jobs pushed in Redis pipelines."""
    ids = list(dict.fromkeys(call_ids))
    jobs: list[tuple[str, str, int, int]] = []  # call id, job id, timeout, attempts
    with db.session() as session:
        for chunk in chunks(ids, BATCH):
            rows = session.execute(
                select(Call.id, Call.duration_s, Call.audio_bytes, Call.attempts).where(
                    Call.id.in_(chunk), Call.status == CallStatus.QUEUED.value
                )
            ).all()
            for call_id, duration_s, audio_bytes, attempts in rows:
                jobs.append((call_id, uuid.uuid4().hex, job_timeout(settings, duration_s, audio_bytes), attempts))
        if jobs:
            # ORM bulk UPDATE by primary key: one executemany instead of one statement per call.
            session.execute(update(Call), [{"id": call_id, "job_id": job_id} for call_id, job_id, _, _ in jobs])
    on_failure = Callback(call_job_failed)
    for chunk in chunks(jobs, BATCH):
        datas = [
            Queue.prepare_data(
                process_call,
                args=(call_id,),
                timeout=timeout,
                job_id=job_id,
                description=f"call {call_id}",
                retry=_retry(settings, attempts),
                on_failure=on_failure,
            )
            for call_id, job_id, timeout, attempts in chunk
        ]
        with queue.connection.pipeline() as pipe:
            queue.enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    return [call_id for call_id, _, _, _ in jobs]


def retry_calls(db: Database, queue: Queue, settings: Settings, call_ids: Sequence[str] | None = None) -> list[str]:
    """Failed calls (all of them when ``call_ids`` is None) back to the queue with fresh attempts.

    They keep their error until a worker claims them. Returns the ids queued again.
    """
    with db.session() as session:
        query = select(Call.id).where(Call.status == CallStatus.FAILED.value)
        if call_ids is None:
            failed = list(session.scalars(query.order_by(Call.id)))
        else:
            failed = []
            for chunk in chunks(list(dict.fromkeys(call_ids)), BATCH):
                failed += session.scalars(query.where(Call.id.in_(chunk)))
        requeued = store.requeue(session, failed, reset_attempts=True)
    _enqueue_queued(db, queue, settings, requeued)
    return requeued


# A rescore waiting in the queue, per queue and rule set: the id of its ``rescore_ruleset`` job. It is
# dropped when that job starts; until then, later requests join it. The expiry only guards against a
# job that vanished without starting (Redis keeps the key otherwise as long as the job waits).
RESCORE_PENDING_KEY = "inspector:rescore-pending:{queue}:{rule_set_id}"
RESCORE_PENDING_TTL_S = 24 * 3600
PENDING_JOB_STATES = frozenset({b"queued", b"scheduled", b"deferred"})
_DROP_IF_OURS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def _done_calls(db: Database, call_ids: Sequence[str] | None) -> list[str]:
    done: list[str] = []
    with db.session() as session:
        query = select(Call.id).where(Call.status == CallStatus.DONE.value)
        if call_ids is None:
            done = list(session.scalars(query.order_by(Call.id)))
        else:
            for chunk in chunks(list(dict.fromkeys(call_ids)), BATCH):
                done += session.scalars(query.where(Call.id.in_(chunk)))
    return done


def _enqueue_batches(queue: Queue, settings: Settings, rule_set_id: int, call_ids: Sequence[str]) -> None:
    """``rescore_calls`` jobs of ``settings.queue.rescore_batch`` calls each."""
    retry = _retry(settings, 0)
    batches = [list(batch) for batch in chunks(list(call_ids), settings.queue.rescore_batch)]
    for group in chunks(batches, BATCH):
        datas = [
            Queue.prepare_data(
                rescore_calls,
                args=(batch, rule_set_id),
                timeout=settings.queue.timeout_base_s,
                description=f"rescore {len(batch)} calls with rule set {rule_set_id}",
                retry=retry,
            )
            for batch in group
        ]
        with queue.connection.pipeline() as pipe:
            queue.enqueue_many(datas, pipeline=pipe)
            pipe.execute()


def _rescore_pending_key(queue_name: str, rule_set_id: int) -> str:
    return RESCORE_PENDING_KEY.format(queue=queue_name, rule_set_id=rule_set_id)


def _enqueue_rescore_once(queue: Queue, settings: Settings, rule_set_id: int) -> str:
    """The id of the rule set's pending ``rescore_ruleset`` job: the one already waiting, or a new one.

    Check and enqueue are one Redis transaction (WATCH on the pending key), so concurrent requests
    (several API processes included) create one job.
    """
    key = _rescore_pending_key(queue.name, rule_set_id)
    with queue.connection.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                pending = pipe.get(key)
                if pending is not None and pipe.hget(Job.key_for(pending.decode()), "status") in PENDING_JOB_STATES:
                    pipe.unwatch()
                    return pending.decode()
                job_id = f"rescore-{rule_set_id}-{uuid.uuid4().hex}"
                data = Queue.prepare_data(
                    rescore_ruleset,
                    args=(rule_set_id,),
                    timeout=settings.queue.timeout_base_s,
                    job_id=job_id,
                    description=f"rescore the done calls with rule set {rule_set_id}",
                    retry=_retry(settings, 0),
                )
                pipe.multi()
                pipe.set(key, job_id, ex=RESCORE_PENDING_TTL_S)
                queue.enqueue_many([data], pipeline=pipe)
                pipe.execute()
                return job_id
            except redis.WatchError:  # another request got there first: look again
                continue


def enqueue_rescore(
    db: Database, queue: Queue, settings: Settings, rule_set_id: int, call_ids: Sequence[str] | None = None
) -> int:
    """Rescore done calls (all of them when ``call_ids`` is None) with a rule set; returns the number of
    calls scheduled.

    All done calls: one ``rescore_ruleset`` job per rule set waits in the queue at most; a request while
    one waits joins it (it lists the calls when it starts, so it covers this request too). Given calls:
    ``rescore_calls`` jobs of ``settings.queue.rescore_batch`` calls at once.
    """
    done = _done_calls(db, call_ids)
    if call_ids is None:
        _enqueue_rescore_once(queue, settings, rule_set_id)
    else:
        _enqueue_batches(queue, settings, rule_set_id, done)
    return len(done)


def activate_and_rescore(db: Database, queue: Queue, settings: Settings, rule_set_id: int) -> int:
    """Make a rule set the active one and rescore every done call with it (stored transcripts, no ASR)."""
    with db.session() as session:
        if rulesets.activate(session, rule_set_id) is None:
            raise RuleSetNotFound(f"规则集 {rule_set_id} 不存在")
    # Calls are listed after the activation committed: a call finishing from now on is analyzed with
    # the new rule set by process_call itself.
    return enqueue_rescore(db, queue, settings, rule_set_id)


# --- the call job --------------------------------------------------------------------------------


def process_call(call_id: str) -> str:
    """The RQ job of one call: transcribe → analyze → store. Returns the call's status afterwards."""
    started = time.perf_counter()
    status = "error"
    try:
        status = _process_call(current_context(), call_id)
        return status
    finally:
        log.info("call %s: %s in %.1f s", call_id, status, time.perf_counter() - started)


def _process_call(ctx: WorkerContext, call_id: str) -> str:
    settings = ctx.settings
    job = get_current_job()
    with ctx.db.session() as session:
        call = store.get_call(session, call_id)
        if call is None:
            return "missing"
        if job is not None and job.timeout is not None and job.timeout > 0:
            lease_s = int(job.timeout)
        else:
            lease_s = job_timeout(settings, call.duration_s, call.audio_bytes)
        claimed = store.claim(session, call_id, lease_s)
        if claimed is None:  # done, failed, or held by a live lease: not ours to process
            return _status(session, call_id)
        attempt, agent_id = claimed.attempts, claimed.agent_id
        audio_sha256, audio_name = claimed.audio_sha256, claimed.audio_name

    try:
        with ctx.db.session() as session:
            transcript = store.load_transcript(session, call_id)  # stored by a worker that died after ASR
        if transcript is None:
            try:
                path = ctx.audio.local_path(audio_sha256)
            except FileNotFoundError:
                raise RecordingMissing(f"录音库中找不到录音 {audio_name}（{audio_sha256}）") from None
            transcript = ctx.speech().transcribe(path)
            with ctx.db.session() as session:
                if not _hold(session, call_id, attempt):
                    return _status(session, call_id)
                store.save_transcript(session, call_id, transcript)

        with ctx.db.session() as session:
            record = rulesets.ensure_default(session, settings.rules_dir)
        analysis = ctx.analyzer(record).analyze_transcript(transcript, agent_id)

        with ctx.db.session() as session:
            if not _hold(session, call_id, attempt):
                return _status(session, call_id)
            active = rulesets.ensure_default(session, settings.rules_dir)
            if active.id != record.id:  # a rule set was activated meanwhile
                record = active
                analysis = ctx.analyzer(record).analyze_transcript(transcript, agent_id)
            call = store.get_call(session, call_id)
            assert call is not None
            stored = store.save_analysis(session, call, analysis, record.id, current=True)
            if call.duration_s is None:
                call.duration_s = transcript.duration_s
            store.finish(session, call)
            deliveries = _after_analysis(session, ctx, call, stored)
        _enqueue_deliveries(ctx, deliveries)
        return CallStatus.DONE.value

    except Exception as err:
        if _is_permanent(err):
            message = _permanent_message(err, audio_name)
            with ctx.db.session() as session:
                if not _hold(session, call_id, attempt):
                    return _status(session, call_id)
                store.mark_failed(session, call_id, message)
            log.warning("call %s failed: %s", call_id, message)
            return CallStatus.FAILED.value
        with ctx.db.session() as session:
            _release(session, call_id, attempt, _error_text(err, lease_s))
        raise


def _hold(session: Session, call_id: str, attempt: int) -> bool:
    """Whether this job still holds the call (the fence of every write); locks the call's row until commit."""
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == CallStatus.PROCESSING.value, Call.attempts == attempt)
        .values(updated_at=utcnow())
    )
    return result.rowcount == 1


def _release(session: Session, call_id: str, attempt: int, error: str) -> None:
    """After a transient error: keep the error on the call and free it for RQ's retry (or the reconciler)."""
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == CallStatus.PROCESSING.value, Call.attempts == attempt)
        .values(error=error[:4000], lease_until=None, updated_at=utcnow())
    )


def _status(session: Session, call_id: str) -> str:
    status = session.scalar(select(Call.status).where(Call.id == call_id))
    return status if status is not None else "missing"


def _is_permanent(err: BaseException) -> bool:
    return isinstance(err, InspectorError) and not isinstance(err, TRANSIENT_INSPECTOR_ERRORS)



def _permanent_message(err: BaseException, audio_name: str) -> str:
    if isinstance(err, AudioError):  # name the file as it arrived, not its path in the audio store
        return one_line(f"{audio_name}: {err.reason}", ERROR_CHARS)
    return one_line(str(err), ERROR_CHARS)


def _error_text(err: BaseException | None, timeout_s: int | None = None) -> str:
    if isinstance(err, JobTimeoutException):
        return f"处理超时（超过 {timeout_s} 秒）" if timeout_s else "处理超时"
    if isinstance(err, InspectorError):
        return one_line(str(err), ERROR_CHARS)
    if err is None:
        return "未知错误"
    return one_line(f"{type(err).__name__}: {err}", ERROR_CHARS)


def call_job_failed(job: Job, connection: redis.Redis, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback of ``process_call`` jobs: once RQ has no retry left, the call is failed.

    RQ calls it on every failure, before deciding to retry (also for a job whose worker died, from
    another worker's registry cleanup). Only a call still processing under this job, and not held by
    a live lease, is failed.
    """
    if job.should_retry:
        return
    call_id = str(job.args[0])
    ctx = current_context()
    with ctx.db.session() as session:
        call = store.get_call(session, call_id)
        if call is None:
            return
        retried = max(0, call.attempts - 1)
    timeout_s = int(job.timeout) if job.timeout and job.timeout > 0 else None
    if isinstance(exc_value, AbandonedJobError):
        message = f"处理超时或工作进程中断，已重试 {retried} 次"
    else:
        error = _error_text(exc_value, timeout_s)
        message = f"处理失败，已重试 {retried} 次：{error}" if retried else f"处理失败：{error}"
    now = utcnow()
    with ctx.db.session() as session:
        session.execute(
            update(Call)
            .where(
                Call.id == call_id,
                Call.status == CallStatus.PROCESSING.value,
                or_(Call.job_id == job.id, Call.job_id.is_(None)),
                or_(Call.lease_until.is_(None), Call.lease_until <= now),
            )
            .values(
                status=CallStatus.FAILED.value, error=message[:4000], lease_until=None, updated_at=now, finished_at=now
            )
        )
    log.warning("call %s failed: %s", call_id, message)


# --- after a call's current analysis is stored ----------------------------------------------------


def _after_analysis(session: Session, ctx: WorkerContext, call: Call, analysis: Analysis) -> list[int]:
    """In the transaction that made ``analysis`` the call's current one: sample it for review (复核) and
    raise its alert. Returns the ids of alerts to deliver to the webhook once the transaction commits."""
    from inspector import alerts, review  # imported here: inspector.alerts uses this module's context

    review.on_analysis(session, ctx.settings.review, call, analysis)
    alert = alerts.raise_alert(session, ctx.settings.alerts, call, analysis)
    return [alert.id] if alert is not None and alert.delivery == "pending" else []


def _enqueue_deliveries(ctx: WorkerContext, alert_ids: Sequence[int]) -> None:
    """Queue the webhook deliveries of committed alerts. A Redis failure is logged, not raised: the call
    is done, and an alert left ``pending`` can be delivered again (POST /alerts/{id}/redeliver)."""
    if not alert_ids:
        return
    from inspector import alerts

    job = get_current_job()
    connection = job.connection if job is not None else connect_redis(ctx.settings.redis_url)
    try:
        queue = make_queue(ctx.settings, connection)
        for alert_id in alert_ids:
            alerts.enqueue_delivery(queue, ctx.settings.alerts, alert_id)
    except Exception:
        log.exception("alerts %s: could not queue the webhook deliveries", list(alert_ids))
    finally:
        if job is None:
            connection.close()


# --- the rescoring job ---------------------------------------------------------------------------


def rescore_ruleset(rule_set_id: int) -> int:
    """The RQ job of a rule set's rescore: lists the done calls now and queues their ``rescore_calls``
    batches (run by any worker). Starting frees the pending slot, so a request from now on is a new
    rescore. Returns the number of calls scheduled."""
    ctx = current_context()
    job = get_current_job()
    if job is None:
        raise RuntimeError("rescore_ruleset runs as an RQ job (enqueue_rescore queues it)")
    job.connection.eval(_DROP_IF_OURS, 1, _rescore_pending_key(job.origin, rule_set_id), job.id)
    with ctx.db.session() as session:
        if session.get(RuleSetRecord, rule_set_id) is None:
            log.warning("rescore: rule set %s does not exist", rule_set_id)
            return 0
    done = _done_calls(ctx.db, None)
    queue = Queue(job.origin, connection=job.connection, default_timeout=ctx.settings.queue.timeout_base_s)
    _enqueue_batches(queue, ctx.settings, rule_set_id, done)
    log.info("rescore: %d calls with rule set %s in %d batches", len(done), rule_set_id,
             math.ceil(len(done) / ctx.settings.queue.rescore_batch))  # fmt: skip
    return len(done)


def rescore_calls(call_ids: list[str], rule_set_id: int) -> int:
    """The RQ job of a rescoring batch: analyze the stored transcripts with a rule set (no ASR).

    The analysis becomes the calls' current one while the rule set is the active one. Calls that are
    not done or have no transcript are skipped. Returns the number of calls rescored.
    """
    started = time.perf_counter()
    ctx = current_context()
    with ctx.db.session() as session:
        record = session.get(RuleSetRecord, rule_set_id)
        if record is None:
            log.warning("rescore: rule set %s does not exist", rule_set_id)
            return 0
        transcripts: dict[str, tuple[str, Transcript]] = {}
        for chunk in chunks(call_ids, BATCH):
            for call in session.scalars(select(Call).where(Call.id.in_(chunk), Call.status == CallStatus.DONE.value)):
                transcript = store.load_transcript(session, call.id)
                if transcript is not None:
                    transcripts[call.id] = (call.agent_id, transcript)
    analyzer = ctx.analyzer(record)
    analyses = {call_id: analyzer.analyze_transcript(t, agent_id) for call_id, (agent_id, t) in transcripts.items()}
    rescored = 0
    deliveries: list[int] = []
    with ctx.db.session() as session:
        active = rulesets.active_ruleset(session)
        current = active is not None and active.id == rule_set_id
        for call_id, analysis in analyses.items():
            call = store.get_call(session, call_id)
            if call is None or call.status != CallStatus.DONE.value:
                continue
            stored = store.save_analysis(session, call, analysis, rule_set_id, current=current)
            if current:
                deliveries += _after_analysis(session, ctx, call, stored)
            rescored += 1
    _enqueue_deliveries(ctx, deliveries)
    log.info("rescore: %d calls with rule set %s in %.1f s", rescored, rule_set_id, time.perf_counter() - started)
    return rescored


# --- the reconciler ------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)  # enqueued again
    failed: list[str] = field(default_factory=list)  # out of attempts


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


def _calls_in(db: Database, status: CallStatus) -> Iterator[list[tuple[str, str | None, datetime | None, int]]]:
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


def reconcile(db: Database, queue: Queue, settings: Settings) -> ReconcileReport:
    """Make Redis agree with the database (see the module docstring): re-enqueue queued calls Redis lost,
    and queue again (or fail, once out of attempts) processing calls whose worker is gone."""
    report = ReconcileReport()
    for batch in _calls_in(db, CallStatus.QUEUED):
        states = _job_states(queue.connection, [job_id for _, job_id, _, _ in batch])
        lost = [
            call_id for (call_id, _, _, _), state in zip(batch, states, strict=True) if state not in LIVE_JOB_STATES
        ]
        report.requeued += _enqueue_queued(db, queue, settings, lost)

    max_attempts = settings.queue.retries + 1
    for batch in _calls_in(db, CallStatus.PROCESSING):
        now = utcnow()
        expired = [row for row in batch if row[2] is None or row[2] < now]
        if not expired:
            continue
        states = _job_states(queue.connection, [job_id for _, job_id, _, _ in expired])
        gone = [row for row, state in zip(expired, states, strict=True) if state not in LIVE_JOB_STATES]
        requeue = [call_id for call_id, _, _, attempts in gone if attempts < max_attempts]
        with db.session() as session:
            for call_id, _, _, attempts in gone:
                if attempts >= max_attempts:
                    store.mark_failed(session, call_id, f"处理超时或工作进程中断，已重试 {attempts - 1} 次")
                    report.failed.append(call_id)
            requeued = store.requeue(session, requeue)
        report.requeued += _enqueue_queued(db, queue, settings, requeued)
    if report.requeued or report.failed:
        log.info("reconcile: %d calls enqueued again, %d failed", len(report.requeued), len(report.failed))
    return report


# --- the worker ----------------------------------------------------------------------------------


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
        if not self.connection.set(lock, self.name, nx=True, ex=max(1, self.reconcile_interval_s - 1)):
            return
        try:
            reconcile(self.context.db, self.reconcile_queue, self.context.settings)
        except Exception:  # a database outage must not stop the worker; the next interval tries again
            log.exception("reconcile failed")


def run_worker(
    settings: Settings, *, burst: bool = False, name: str | None = None, context: WorkerContext | None = None
) -> None:
    """``inspector worker``: prepare the database and the models, then work the queue.

    ``context`` defaults to one built from ``settings`` (tests pass their own). With ``burst`` the worker
    stops once the queue is empty (scheduled retries that are not due yet are left for later).
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
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
