"""The reconciler on a real Redis and the real databases: it trusts the database, and every worker runs it
when it starts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rq.job import Job
from service_env import TZ, Env, ReferencePipeline, get_call, reference, register, set_call, work

from inspector.service import call_job, reconciler
from inspector.store import calls as store
from inspector.store.db import utcnow


def test_the_reconciler_trusts_the_database(env: Env) -> None:
    names = ("lost", "alive", "live-lease", "dead-worker", "out-of-attempts")
    with env.db.session() as session:  # no worker runs here: the recordings need not exist
        store.register_calls(session, [store.NewCall(f"{i:064x}", 10, f"{name}.wav", "import", "8001", call_id=name)
                                       for i, name in enumerate(names)], TZ)  # fmt: skip
    call_job.enqueue_calls(env.db, env.queue, env.settings, ["alive"])
    alive_job = get_call(env, "alive").job_id
    set_call(env, "lost", job_id="0" * 32)  # a job Redis does not know (Redis restarted)
    now = utcnow()
    set_call(env, "live-lease", status="processing", attempts=1, lease_until=now + timedelta(minutes=5))
    set_call(env, "dead-worker", status="processing", attempts=1, lease_until=now - timedelta(seconds=1))
    set_call(env, "out-of-attempts", status="processing", attempts=4, lease_until=now - timedelta(seconds=1))

    report = reconciler.reconcile(env.db, env.queue, env.settings)
    assert sorted(report.requeued) == ["dead-worker", "lost"]
    assert report.failed == ["out-of-attempts"]
    assert get_call(env, "alive").job_id == alive_job  # its job is still queued in Redis
    assert get_call(env, "live-lease").status == "processing"  # a live lease is never taken away
    dead = get_call(env, "dead-worker")
    assert dead.status == "queued" and dead.attempts == 1
    assert Job.fetch(dead.job_id, connection=env.queue.connection).retries_left == 2  # 1 attempt used
    failed = get_call(env, "out-of-attempts")
    assert failed.status == "failed" and failed.error == "处理超时或工作进程中断，已重试 3 次"
    assert sorted(env.queue.job_ids) == sorted(get_call(env, c).job_id for c in ("alive", "lost", "dead-worker"))

    # A second pass finds nothing to do: every queued call has its job.
    assert reconciler.reconcile(env.db, env.queue, env.settings) == reconciler.ReconcileReport([], [])


def test_a_worker_reconciles_when_it_starts(env: Env, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-stuck")
    # A worker died holding the call, and Redis lost its job: only the database remembers.
    expired = utcnow() - timedelta(seconds=1)
    set_call(env, call_id, status="processing", attempts=1, lease_until=expired, job_id="x" * 32)
    pipeline = ReferencePipeline(reference(samples_dir, "call01_leak_stereo"))
    work(env, pipeline)
    call = get_call(env, call_id)
    assert call.status == "done" and call.attempts == 2 and pipeline.calls == 1
