"""Rescoring done calls with a rule set (on activation, ``POST /rulesets/{id}/rescore``), coalesced.

One ``rescore_ruleset`` job per rule set waits in the queue at most, and a request while it waits joins
it. When it starts it lists the done calls and queues ``rescore_calls`` batches that any worker runs.
Rescoring reuses the stored transcripts (no ASR); the new analysis becomes a call's current one only
while its rule set is the active one, and then the review of the call's previous current analysis is
carried over to it (``inspector.people.carryover``), so reviewed scores survive rule changes.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Sequence

import redis
from rq import Queue, get_current_job
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.errors import ErrorKind, InspectorError
from inspector.people.carryover import carry_review
from inspector.qa.analysis import CallAnalysis
from inspector.service.context import WorkerContext, current_context
from inspector.service.follow_up import after_analysis, enqueue_deliveries
from inspector.service.queue import BATCH, retry_policy
from inspector.settings import Settings
from inspector.speech.transcript import Transcript
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.db import Database, chunks
from inspector.store.schema import Call, RuleSetRecord
from inspector.vocab import CallStatus

log = logging.getLogger(__name__)

# A rescore waiting in the queue, per queue and rule set: the id of its ``rescore_ruleset`` job. It is
# dropped when that job starts; until then, later requests join it. The expiry only guards against a
# job that vanished without starting (Redis keeps the key otherwise as long as the job waits).
RESCORE_PENDING_KEY = "inspector:rescore-pending:{queue}:{rule_set_id}"
RESCORE_PENDING_TTL_S = 24 * 3600
PENDING_JOB_STATES = frozenset({b"queued", b"scheduled", b"deferred"})
_DROP_IF_OURS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class RuleSetNotFound(InspectorError):
    code = "rule_set_not_found"
    kind = ErrorKind.NOT_FOUND


# --- requests ------------------------------------------------------------------------------------


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
    retry = retry_policy(settings, 0)
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
                    retry=retry_policy(settings, 0),
                )
                pipe.multi()
                pipe.set(key, job_id, ex=RESCORE_PENDING_TTL_S)
                queue.enqueue_many([data], pipeline=pipe)
                pipe.execute()
                return job_id
            except redis.WatchError:  # another request got there first: look again
                continue


# --- the jobs ------------------------------------------------------------------------------------


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
        transcripts = _stored_transcripts(session, call_ids)
    analyzer = ctx.analyzer(record)
    analyses = {call_id: analyzer.analyze_transcript(t, agent_id) for call_id, (agent_id, t) in transcripts.items()}
    rescored = _store_analyses(ctx, rule_set_id, analyses)
    log.info("rescore: %d calls with rule set %s in %.1f s", rescored, rule_set_id, time.perf_counter() - started)
    return rescored


def _stored_transcripts(session: Session, call_ids: Sequence[str]) -> dict[str, tuple[str, Transcript]]:
    """(agent id, stored transcript) of each done call of ``call_ids`` that has one."""
    transcripts: dict[str, tuple[str, Transcript]] = {}
    for chunk in chunks(call_ids, BATCH):
        for call in session.scalars(select(Call).where(Call.id.in_(chunk), Call.status == CallStatus.DONE.value)):
            transcript = store.load_transcript(session, call.id)
            if transcript is not None:
                transcripts[call.id] = (call.agent_id, transcript)
    return transcripts


def _store_analyses(ctx: WorkerContext, rule_set_id: int, analyses: dict[str, CallAnalysis]) -> int:
    """Store the analyses of the calls still done (current ones while the rule set is the active one, then
    followed up like a call job's); returns how many were stored."""
    rescored = 0
    deliveries: list[int] = []
    with ctx.db.session() as session:
        active = rulesets.active_ruleset(session)
        current = active is not None and active.id == rule_set_id
        for call_id, analysis in analyses.items():
            call = store.get_call(session, call_id)
            if call is None or call.status != CallStatus.DONE.value:
                continue
            previous = call.analysis_id
            stored = store.save_analysis(session, call, analysis, rule_set_id, current=current)
            if current:
                carry_review(session, call, previous, stored)  # reviewer work follows the call to the new rules
                deliveries += after_analysis(session, ctx, call, stored)
            rescored += 1
    enqueue_deliveries(ctx, deliveries)
    return rescored
