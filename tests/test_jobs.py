"""Call jobs, retries, rescoring and the reconciler on a real Redis and the real databases.

Redis is a private ``redis-server`` for this module (on a unix socket, flushed before each test), so the
tests neither see nor disturb anything else on the machine's Redis. Workers run in this process, in
burst mode, with a context pointing at the test's database, audio store and speech pipeline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from rq import Callback, Queue
from rq.job import Job
from sqlalchemy import func, select, update

from inspector import jobs
from inspector.analysis import Analyzer
from inspector.audio import decode
from inspector.settings import AudioSettings, QueueSettings, Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database, utcnow
from inspector.store.schema import AgentDay, Analysis, Call, RuleSetRecord, TranscriptRecord, UtteranceRecord
from inspector.transcript import Transcript

TZ = ZoneInfo("Asia/Shanghai")


# --- fixtures ------------------------------------------------------------------------------------


@dataclass
class Env:
    settings: Settings
    db: Database
    audio: LocalAudioStore
    queue: Queue


@pytest.fixture
def env(database: Database, tmp_path: Path, redis_url: str) -> Iterator[Env]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        redis_url=redis_url,
        queue=QueueSettings(name="test-jobs", retries=3, backoff_s=[0]),
    )
    connection = jobs.connect_redis(redis_url)
    connection.flushdb()
    yield Env(settings, database, LocalAudioStore(settings.audio_store_dir), jobs.make_queue(settings, connection))
    connection.close()


class ReferencePipeline:
    """Stands in for ``SpeechPipeline`` without ASR: decodes the recording for real (so a bad file fails
    exactly as in production), then returns a reference transcript. The first ``failures`` calls raise
    a transient error after decoding."""

    def __init__(self, transcript: Transcript, failures: int = 0) -> None:
        self.transcript = transcript
        self.failures = failures
        self.calls = 0

    def transcribe(self, path: str | Path) -> Transcript:
        self.calls += 1
        decode(path, AudioSettings())
        if self.calls <= self.failures:
            raise RuntimeError("模拟的临时故障")
        return self.transcript


class NoAsr:
    """A pipeline that must never be used (rescoring reuses stored transcripts)."""

    calls = 0

    def transcribe(self, path: str | Path) -> Transcript:
        self.calls += 1
        raise AssertionError("ASR must not run")


def _reference(samples_dir: Path, name: str) -> Transcript:
    return Transcript.from_dict(json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8")))


def _register(env: Env, path: Path, call_id: str, agent_id: str = "8001") -> str:
    digest = env.audio.put_file(path, path.suffix)
    new = store.NewCall(
        audio_sha256=digest,
        audio_bytes=path.stat().st_size,
        audio_name=path.name,
        source="import",
        agent_id=agent_id,
        call_id=call_id,
        started_at=datetime(2024, 3, 15, 9, 30, tzinfo=TZ),
    )
    with env.db.session() as session:
        [registered] = store.register_calls(session, [new], TZ)
    assert registered.created
    return registered.call_id


def _work(env: Env, pipeline: object) -> None:
    context = jobs.WorkerContext(env.settings, env.db, env.audio, pipeline=pipeline)  # type: ignore[arg-type]
    jobs.run_worker(env.settings, burst=True, context=context)


def _call(env: Env, call_id: str) -> Call:
    with env.db.session() as session:
        call = store.get_call(session, call_id)
        assert call is not None
        return call


def _count(env: Env, model: type, call_id: str) -> int:
    with env.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.call_id == call_id))


def _set(env: Env, call_id: str, **values: object) -> None:
    with env.db.session() as session:
        session.execute(update(Call).where(Call.id == call_id).values(**values))


# --- unit ----------------------------------------------------------------------------------------


def test_job_timeout_scales_with_audio_length() -> None:
    settings = Settings(queue=QueueSettings(timeout_base_s=300, timeout_per_audio_s=1.0))
    assert jobs.job_timeout(settings, 120.0, 10) == 420
    # Unknown duration: estimated as 8 kHz 16-bit mono (16000 bytes a second).
    assert jobs.job_timeout(settings, None, 1_600_000) == 400
    assert jobs.job_timeout(settings, 0.0, 1_600_000) == 400
    # Never more than the longest recording accepted.
    assert jobs.job_timeout(settings, None, 10**12) == 300 + 7200


# --- the call job --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_call_is_processed_end_to_end_and_never_twice(env: Env, speech_pipeline, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call03_parking_fast_stereo.wav", "c-parking")
    assert jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id, "no-such-call"]) == 1
    assert _call(env, call_id).job_id is not None
    _work(env, speech_pipeline)

    call = _call(env, call_id)
    assert call.status == "done" and call.error is None and call.attempts == 1
    assert call.duration_s == pytest.approx(64.7, abs=0.1)
    utterances = _count(env, UtteranceRecord, call_id)
    assert utterances > 0
    assert _count(env, Analysis, call_id) == 1 and _count(env, TranscriptRecord, call_id) == 1
    with env.db.session() as session:
        transcript = store.load_transcript(session, call_id)
        record = rulesets.active_ruleset(session)
        analysis = session.get(Analysis, call.analysis_id)
    assert transcript is not None and record is not None and analysis is not None
    assert len(transcript.utterances) == utterances
    expected = Analyzer(env.settings, rulesets.materialize(record, env.settings.data_dir / "rulesets"))
    assert call.score == expected.analyze_transcript(transcript, call.agent_id).score.total
    assert analysis.rule_set_id == record.id

    # A done call is not queued, so it is not enqueued again; a stray job for it changes nothing.
    assert jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id]) == 0
    stray = env.queue.enqueue(jobs.process_call, call_id)
    _work(env, speech_pipeline)
    assert Job.fetch(stray.id, connection=env.queue.connection).return_value() == "done"
    again = _call(env, call_id)
    assert again.attempts == 1 and again.finished_at == call.finished_at and again.analysis_id == call.analysis_id
    assert _count(env, Analysis, call_id) == 1 and _count(env, UtteranceRecord, call_id) == utterances


def test_corrupt_audio_fails_at_once_and_can_be_retried(env: Env, samples_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "in-8001-13812345678-20240315-093012-1.wav"
    bad.write_text("这不是录音，只是一段文字。\n" * 20, encoding="utf-8")
    call_id = _register(env, bad, "c-bad")
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    pipeline = ReferencePipeline(_reference(samples_dir, "call01_leak_stereo"))
    _work(env, pipeline)

    call = _call(env, call_id)
    assert call.status == "failed" and call.attempts == 1 and pipeline.calls == 1  # no retry
    assert call.error == f"{bad.name}: 不是音频文件（文本文件）"
    job = Job.fetch(call.job_id, connection=env.queue.connection)
    assert job.get_status() == "finished" and job.return_value() == "failed"
    assert len(env.queue.failed_job_registry) == 0

    assert jobs.retry_calls(env.db, env.queue, env.settings) == [call_id]
    call = _call(env, call_id)
    assert call.status == "queued" and call.attempts == 0 and call.error  # keeps its error until claimed
    assert env.queue.job_ids == [call.job_id]
    assert jobs.retry_calls(env.db, env.queue, env.settings, [call_id]) == []  # no longer failed


def test_a_transient_error_is_retried_by_rq(env: Env, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-flaky")
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    pipeline = ReferencePipeline(_reference(samples_dir, "call01_leak_stereo"), failures=1)
    _work(env, pipeline)  # backoff 0: the retry is queued at once and run by the same burst

    call = _call(env, call_id)
    assert pipeline.calls == 2
    assert call.status == "done" and call.attempts == 2 and call.error is None
    job = Job.fetch(call.job_id, connection=env.queue.connection)
    assert job.retries_left == env.settings.queue.retries - 1 and job.get_status() == "finished"
    assert _count(env, Analysis, call_id) == 1


def test_a_retry_with_backoff_waits_in_the_scheduled_registry(env: Env, samples_dir: Path) -> None:
    env.settings.queue.backoff_s = [60]
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-later")
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    _work(env, ReferencePipeline(_reference(samples_dir, "call01_leak_stereo"), failures=5))

    call = _call(env, call_id)
    assert call.status == "processing" and call.lease_until is None  # released for the retry
    assert call.error == "RuntimeError: 模拟的临时故障"
    assert env.queue.scheduled_job_registry.get_job_ids() == [call.job_id]
    assert Job.fetch(call.job_id, connection=env.queue.connection).retries_left == 2
    # RQ owns the retry: the reconciler leaves the call alone.
    assert jobs.reconcile(env.db, env.queue, env.settings) == jobs.ReconcileReport([], [])


def test_when_retries_run_out_the_call_fails_with_the_error(env: Env, samples_dir: Path) -> None:
    env.settings.queue.retries = 1
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-broken")
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    pipeline = ReferencePipeline(_reference(samples_dir, "call01_leak_stereo"), failures=10)
    _work(env, pipeline)

    call = _call(env, call_id)
    assert pipeline.calls == 2 and call.attempts == 2
    assert call.status == "failed" and call.error == "处理失败，已重试 1 次：RuntimeError: 模拟的临时故障"
    assert env.queue.failed_job_registry.get_job_ids() == [call.job_id]

    assert jobs.retry_calls(env.db, env.queue, env.settings, [call_id]) == [call_id]
    _work(env, ReferencePipeline(_reference(samples_dir, "call01_leak_stereo")))
    call = _call(env, call_id)
    assert call.status == "done" and call.attempts == 1 and call.error is None


class SlowPipeline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def transcribe(self, path: str | Path) -> Transcript:
        time.sleep(self.seconds)
        raise AssertionError("the job timeout should have stopped this")


def test_the_job_timeout_is_enforced_in_the_worker_process(env: Env, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-slow")
    # A job of its own with a 1 s timeout and no retry (enqueue_calls would give it minutes).
    job = env.queue.enqueue(jobs.process_call, call_id, job_timeout=1, on_failure=Callback(jobs.call_job_failed))
    _set(env, call_id, job_id=job.id)
    started = time.monotonic()
    _work(env, SlowPipeline(30))
    assert time.monotonic() - started < 20
    call = _call(env, call_id)
    assert call.status == "failed" and call.error == "处理失败：处理超时（超过 1 秒）"
    assert Job.fetch(job.id, connection=env.queue.connection).get_status() == "failed"


def test_a_recording_missing_from_the_store_is_retried_then_failed(env: Env, samples_dir: Path) -> None:
    env.settings.queue.retries = 1
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-missing")
    with env.db.session() as session:
        digest = store.get_call(session, call_id).audio_sha256
    env.audio.local_path(digest).unlink()
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    _work(env, NoAsr())
    call = _call(env, call_id)
    assert call.status == "failed" and call.attempts == 2
    assert call.error == f"处理失败，已重试 1 次：录音库中找不到录音 call01_leak_stereo.wav（{digest}）"


# --- rescoring -----------------------------------------------------------------------------------


def _bundle_with_doubled_points(settings: Settings) -> dict[str, str]:
    files = rulesets.read_bundle(settings.rules_dir)
    data = yaml.safe_load(files["property-default.yaml"])
    data["version"] = 2
    for rule in data["rules"]:
        if "points" in rule:
            rule["points"] *= 2
    files["property-default.yaml"] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return files


def test_activating_a_rule_set_rescores_done_calls_without_asr(env: Env, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call02_angry_stereo.wav", "c-angry", agent_id="8002")
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    _work(env, ReferencePipeline(_reference(samples_dir, "call02_angry_stereo")))
    first = _call(env, call_id)
    assert first.status == "done"

    with env.db.session() as session:
        rule_set_a = rulesets.active_ruleset(session)
        rule_set_b, created = rulesets.add_ruleset(session, _bundle_with_doubled_points(env.settings))
        assert rule_set_a is not None and created
    assert jobs.activate_and_rescore(env.db, env.queue, env.settings, rule_set_b.id) == 1
    no_asr = NoAsr()
    _work(env, no_asr)

    assert no_asr.calls == 0
    call = _call(env, call_id)
    with env.db.session() as session:
        analyses = {a.rule_set_id: a for a in session.scalars(select(Analysis).where(Analysis.call_id == call_id))}
        day = session.scalars(select(AgentDay).where(AgentDay.agent_id == "8002")).one()
    assert set(analyses) == {rule_set_a.id, rule_set_b.id}
    assert analyses[rule_set_a.id].total == first.score
    assert analyses[rule_set_b.id].total < first.score  # the deductions doubled
    assert call.analysis_id == analyses[rule_set_b.id].id and call.score == analyses[rule_set_b.id].total
    assert call.status == "done" and call.attempts == 1
    assert day.calls == 1 and day.score_sum == call.score

    # Rescoring with a rule set that is not the active one keeps the current analysis.
    assert jobs.enqueue_rescore(env.db, env.queue, env.settings, rule_set_a.id, [call_id, "no-such-call"]) == 1
    _work(env, no_asr)
    assert _call(env, call_id).analysis_id == analyses[rule_set_b.id].id
    assert _count(env, Analysis, call_id) == 2

    with pytest.raises(jobs.RuleSetNotFound, match="规则集 999 不存在"):
        jobs.activate_and_rescore(env.db, env.queue, env.settings, 999)


def test_repeated_rescore_requests_join_the_one_pending_rescore(env: Env, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call02_angry_stereo.wav", "c-angry", agent_id="8002")
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    _work(env, ReferencePipeline(_reference(samples_dir, "call02_angry_stereo")))
    with env.db.session() as session:
        rule_set_b, _ = rulesets.add_ruleset(session, _bundle_with_doubled_points(env.settings))
    assert env.queue.count == 0

    # Many requests, some at the same time from several threads: one job waits in the queue.
    def request(i: int) -> int:
        if i % 2:
            return jobs.activate_and_rescore(env.db, env.queue, env.settings, rule_set_b.id)
        return jobs.enqueue_rescore(env.db, env.queue, env.settings, rule_set_b.id)

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(request, range(40))) == {1}  # each request says how many calls it covers
    assert env.queue.count == 1

    no_asr = NoAsr()
    _work(env, no_asr)
    assert env.queue.count == 0 and no_asr.calls == 0
    with env.db.session() as session:
        rescored = session.scalars(
            select(Analysis).where(Analysis.call_id == call_id, Analysis.rule_set_id == rule_set_b.id)
        ).all()
    assert len(rescored) == 1 and _call(env, call_id).analysis_id == rescored[0].id

    # Once that rescore has run, a new request is a new rescore (the calls may have changed meanwhile).
    assert jobs.enqueue_rescore(env.db, env.queue, env.settings, rule_set_b.id) == 1
    assert env.queue.count == 1
    # Another rule set has its own pending rescore.
    with env.db.session() as session:
        rule_set_a = session.scalars(select(RuleSetRecord).where(RuleSetRecord.id != rule_set_b.id)).one()
    jobs.enqueue_rescore(env.db, env.queue, env.settings, rule_set_a.id)
    jobs.enqueue_rescore(env.db, env.queue, env.settings, rule_set_a.id)
    assert env.queue.count == 2


# --- the reconciler ------------------------------------------------------------------------------


def test_the_reconciler_trusts_the_database(env: Env) -> None:
    names = ("lost", "alive", "live-lease", "dead-worker", "out-of-attempts")
    with env.db.session() as session:  # no worker runs here: the recordings need not exist
        store.register_calls(session, [store.NewCall(f"{i:064x}", 10, f"{name}.wav", "import", "8001", call_id=name)
                                       for i, name in enumerate(names)], TZ)  # fmt: skip
    jobs.enqueue_calls(env.db, env.queue, env.settings, ["alive"])
    alive_job = _call(env, "alive").job_id
    _set(env, "lost", job_id="0" * 32)  # a job Redis does not know (Redis restarted)
    now = utcnow()
    _set(env, "live-lease", status="processing", attempts=1, lease_until=now + timedelta(minutes=5))
    _set(env, "dead-worker", status="processing", attempts=1, lease_until=now - timedelta(seconds=1))
    _set(env, "out-of-attempts", status="processing", attempts=4, lease_until=now - timedelta(seconds=1))

    report = jobs.reconcile(env.db, env.queue, env.settings)
    assert sorted(report.requeued) == ["dead-worker", "lost"]
    assert report.failed == ["out-of-attempts"]
    assert _call(env, "alive").job_id == alive_job  # its job is still queued in Redis
    assert _call(env, "live-lease").status == "processing"  # a live lease is never taken away
    dead = _call(env, "dead-worker")
    assert dead.status == "queued" and dead.attempts == 1
    assert Job.fetch(dead.job_id, connection=env.queue.connection).retries_left == 2  # 1 attempt used
    failed = _call(env, "out-of-attempts")
    assert failed.status == "failed" and failed.error == "处理超时或工作进程中断，已重试 3 次"
    assert sorted(env.queue.job_ids) == sorted(_call(env, c).job_id for c in ("alive", "lost", "dead-worker"))

    # A second pass finds nothing to do: every queued call has its job.
    assert jobs.reconcile(env.db, env.queue, env.settings) == jobs.ReconcileReport([], [])


def test_a_worker_reconciles_when_it_starts(env: Env, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-stuck")
    # A worker died holding the call, and Redis lost its job: only the database remembers.
    _set(env, call_id, status="processing", attempts=1, lease_until=utcnow() - timedelta(seconds=1), job_id="x" * 32)
    pipeline = ReferencePipeline(_reference(samples_dir, "call01_leak_stereo"))
    _work(env, pipeline)
    call = _call(env, call_id)
    assert call.status == "done" and call.attempts == 2 and pipeline.calls == 1


def test_a_stored_transcript_is_reused(env: Env, samples_dir: Path) -> None:
    call_id = _register(env, samples_dir / "call01_leak_stereo.wav", "c-asr-done")
    with env.db.session() as session:  # a worker died after storing the transcript
        store.save_transcript(session, call_id, _reference(samples_dir, "call01_leak_stereo"))
    jobs.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    no_asr = NoAsr()
    _work(env, no_asr)
    call = _call(env, call_id)
    assert no_asr.calls == 0 and call.status == "done" and call.duration_s == pytest.approx(71.46)
    with env.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RuleSetRecord)) == 1
