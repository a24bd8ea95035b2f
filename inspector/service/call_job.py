"""The job of one call: queued by ``enqueue_calls`` (or ``retry_calls``), run by ``process_call``.

``process_call``: claim the call in the database (a lease as long as the job timeout), transcribe its
recording (or reuse the transcript a dead worker already stored), analyze it with the active rule set,
store the result. Every write is fenced by the claim: the call must still be ``processing`` with the
attempt number this job claimed, so a job that lost its call to another (the lease ran out and the
reconciler handed the call on) writes nothing. Results are upserts, so a rerun never duplicates rows.

Failures:

* a recording that cannot be used (``AudioError`` and other ``InspectorError``s about the call) fails
  the call at once with the one-line Chinese reason; the job itself succeeds, nothing is retried;
* anything else (database or Redis hiccup, timeout, crash) is transient: the error is written on the
  call, the lease released, and the exception re-raised so RQ retries the job after
  ``settings.queue.backoff_s``. When RQ has no retry left, the failure callback ``call_job_failed``
  fails the call with the error (``inspector.service.queue`` says how many attempts a call gets).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from rq import Callback, Queue, get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from inspector.errors import AudioError, ErrorKind, InspectorError, ModelError, one_line
from inspector.intake.placing import location_columns, project_catalog, transcript_location
from inspector.privacy.recording import masked_recording_of
from inspector.qa.analysis import CallAnalysis
from inspector.service.context import WorkerContext, current_context
from inspector.service.follow_up import after_analysis, enqueue_deliveries
from inspector.service.queue import BATCH, job_timeout, retry_policy
from inspector.settings import Settings
from inspector.speech.transcript import Transcript
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.db import Database, DatabaseError, chunks, utcnow
from inspector.store.schema import Call
from inspector.vocab import CallStatus

log = logging.getLogger(__name__)

ERROR_CHARS = 1000  # of an error message kept on a call
MISSING = "missing"  # the result of a job whose call the database does not have


class RecordingMissing(InspectorError):
    """The audio store does not have a call's recording (e.g. a shared folder not mounted): retried."""

    code = "recording_missing"
    kind = ErrorKind.UNAVAILABLE


# Errors about the worker's environment, not about the call: retried like any other.
TRANSIENT_INSPECTOR_ERRORS: tuple[type[InspectorError], ...] = (DatabaseError, ModelError, RecordingMissing)


# --- enqueueing ----------------------------------------------------------------------------------


def enqueue_calls(db: Database, queue: Queue, settings: Settings, call_ids: Sequence[str]) -> int:
    """Enqueue ``process_call`` for each of ``call_ids`` that is queued in the database; returns how many."""
    return len(enqueue_queued(db, queue, settings, call_ids))


def enqueue_queued(db: Database, queue: Queue, settings: Settings, call_ids: Sequence[str]) -> list[str]:
    """``enqueue_calls`` returning the ids enqueued. Job ids are written to the calls first (one commit),
    then the jobs pushed in Redis pipelines."""
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
                retry=retry_policy(settings, attempts),
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
    enqueue_queued(db, queue, settings, requeued)
    return requeued


# --- the job -------------------------------------------------------------------------------------


def process_call(call_id: str) -> str:
    """The RQ job of one call: transcribe → analyze → store. Returns the call's status afterwards."""
    started = time.perf_counter()
    status = "error"
    try:
        status = _process_call(current_context(), call_id)
        return status
    finally:
        log.info("call %s: %s in %.1f s", call_id, status, time.perf_counter() - started)


@dataclass(frozen=True)
class _Claim:
    """What this job holds: the call at attempt ``attempt``, for ``lease_s`` seconds."""

    call_id: str
    attempt: int
    lease_s: int
    agent_id: str
    audio_sha256: str
    audio_name: str


def _process_call(ctx: WorkerContext, call_id: str) -> str:
    claim = _claim(ctx, call_id)
    if isinstance(claim, str):
        return claim
    try:
        return _run(ctx, claim)
    except Exception as err:
        if _is_permanent(err):
            return _fail(ctx, claim, err)
        with ctx.db.session() as session:
            _release(session, call_id, claim.attempt, _error_text(err, claim.lease_s))
        raise


def _claim(ctx: WorkerContext, call_id: str) -> _Claim | str:
    """Claim the call for a lease as long as the job timeout; the call's status when it is not ours."""
    job = get_current_job()
    with ctx.db.session() as session:
        call = store.get_call(session, call_id)
        if call is None:
            return MISSING
        if job is not None and job.timeout is not None and job.timeout > 0:
            lease_s = int(job.timeout)
        else:
            lease_s = job_timeout(ctx.settings, call.duration_s, call.audio_bytes)
        claimed = store.claim(session, call_id, lease_s)
        if claimed is None:  # done, failed, or held by a live lease: not ours to process
            return _status(session, call_id)
        return _Claim(call_id, claimed.attempts, lease_s, claimed.agent_id, claimed.audio_sha256, claimed.audio_name)


def _run(ctx: WorkerContext, claim: _Claim) -> str:
    """Transcribe (or reuse the stored transcript), analyze, store; every write fenced by the claim."""
    call_id, attempt = claim.call_id, claim.attempt
    with ctx.db.session() as session:
        transcript = store.load_transcript(session, call_id)  # stored by a worker that died after ASR
    if transcript is None:
        try:
            path = ctx.audio.local_path(claim.audio_sha256)
        except FileNotFoundError:
            raise RecordingMissing(f"录音库中找不到录音 {claim.audio_name}（{claim.audio_sha256}）") from None
        transcript = ctx.speech().transcribe(path)
        with ctx.db.session() as session:
            if not _hold(session, call_id, attempt):
                return _status(session, call_id)
            store.save_transcript(session, call_id, transcript)

    with ctx.db.session() as session:
        record = rulesets.ensure_default(session, ctx.settings.rules_dir)
    analysis = ctx.analyzer(record).analyze_transcript(transcript, claim.agent_id)

    with ctx.db.session() as session:
        if not _hold(session, call_id, attempt):
            return _status(session, call_id)
        active = rulesets.ensure_default(session, ctx.settings.rules_dir)
        if active.id != record.id:  # a rule set was activated meanwhile
            record = active
            analysis = ctx.analyzer(record).analyze_transcript(transcript, claim.agent_id)
        deliveries = _finish(session, ctx, call_id, transcript, analysis, record.id)
    enqueue_deliveries(ctx, deliveries)
    _premask(ctx, call_id)
    return CallStatus.DONE.value


def _premask(ctx: WorkerContext, call_id: str) -> None:
    """Make the masked recording now (personal data replaced by a tone), so that the first reader without the
    ``pii`` permission does not wait for it (an MP3 re-encode takes seconds). Never fails the call: the API
    makes it on first request instead."""
    try:
        with ctx.db.session() as session:
            call = store.get_call(session, call_id)
            if call is not None:
                masked_recording_of(session, ctx.audio, call)
    except (InspectorError, FileNotFoundError, OSError, DatabaseError) as err:
        log.warning("could not prepare the masked recording of call %s: %s", call_id, one_line(str(err)))


def _finish(
    session: Session, ctx: WorkerContext, call_id: str, transcript: Transcript, analysis: CallAnalysis, rule_set_id: int
) -> list[int]:
    """Store the analysis as the call's current one and mark the call done; returns the alerts to deliver."""
    call = store.get_call(session, call_id)
    assert call is not None
    stored = store.save_analysis(session, call, analysis, rule_set_id, current=True)
    if call.duration_s is None:
        call.duration_s = transcript.duration_s
    if call.location_source is None:  # no location metadata: where the call is about, as said on it
        found = transcript_location(transcript, project_catalog(ctx.settings.projects_file))
        for column, value in location_columns(found).items():
            setattr(call, column, value)
    store.finish(session, call)
    return after_analysis(session, ctx, call, stored)


def _fail(ctx: WorkerContext, claim: _Claim, err: BaseException) -> str:
    """A permanent error: the call fails at once with its one-line reason (if this job still holds it)."""
    message = _permanent_message(err, claim.audio_name)
    with ctx.db.session() as session:
        if not _hold(session, claim.call_id, claim.attempt):
            return _status(session, claim.call_id)
        store.mark_failed(session, claim.call_id, message)
    log.warning("call %s failed: %s", claim.call_id, message)
    return CallStatus.FAILED.value


# --- the claim's fence ---------------------------------------------------------------------------


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
    return status if status is not None else MISSING


# --- errors --------------------------------------------------------------------------------------


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
    message = _failure_message(job, exc_value, retried)
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


def _failure_message(job: Job, exc_value: Any, retried: int) -> str:
    """The error written on a call whose job has no retry left."""
    if isinstance(exc_value, AbandonedJobError):
        return f"处理超时或工作进程中断，已重试 {retried} 次"
    timeout_s = int(job.timeout) if job.timeout and job.timeout > 0 else None
    error = _error_text(exc_value, timeout_s)
    return f"处理失败，已重试 {retried} 次：{error}" if retried else f"处理失败：{error}"
