"""The call job on a real Redis and the real databases: processed once, failures permanent or retried by
RQ, the job timeout, a missing recording, a stored transcript reused. Workers run in this process, in
burst mode, with a context pointing at the test's database, audio store and speech pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rq import Callback
from rq.job import Job
from service_env import Env, NoAsr, ReferencePipeline, count_rows, get_call, reference, register, set_call, work
from sqlalchemy import func, select

from inspector.qa.analysis import Analyzer
from inspector.service import call_job, reconciler
from inspector.speech.transcript import Transcript
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.schema import Analysis, RuleSetRecord, TranscriptRecord, UtteranceRecord


@pytest.mark.slow
def test_a_call_is_processed_end_to_end_and_never_twice(env: Env, speech_pipeline, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call03_parking_fast_stereo.wav", "c-parking")
    assert call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id, "no-such-call"]) == 1
    assert get_call(env, call_id).job_id is not None
    work(env, speech_pipeline)

    call = get_call(env, call_id)
    assert call.status == "done" and call.error is None and call.attempts == 1
    assert call.duration_s == pytest.approx(64.7, abs=0.1)
    utterances = count_rows(env, UtteranceRecord, call_id)
    assert utterances > 0
    assert count_rows(env, Analysis, call_id) == 1 and count_rows(env, TranscriptRecord, call_id) == 1
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
    assert call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id]) == 0
    stray = env.queue.enqueue(call_job.process_call, call_id)
    work(env, speech_pipeline)
    assert Job.fetch(stray.id, connection=env.queue.connection).return_value() == "done"
    again = get_call(env, call_id)
    assert again.attempts == 1 and again.finished_at == call.finished_at and again.analysis_id == call.analysis_id
    assert count_rows(env, Analysis, call_id) == 1 and count_rows(env, UtteranceRecord, call_id) == utterances


def test_corrupt_audio_fails_at_once_and_can_be_retried(env: Env, samples_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "in-8001-13812345678-20240315-093012-1.wav"
    bad.write_text("这不是录音，只是一段文字。\n" * 20, encoding="utf-8")
    call_id = register(env, bad, "c-bad")
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    pipeline = ReferencePipeline(reference(samples_dir, "call01_leak_stereo"))
    work(env, pipeline)

    call = get_call(env, call_id)
    assert call.status == "failed" and call.attempts == 1 and pipeline.calls == 1  # no retry
    assert call.error == f"{bad.name}: 不是音频文件（文本文件）"
    job = Job.fetch(call.job_id, connection=env.queue.connection)
    assert job.func_name == "inspector.service.call_job.process_call"  # RQ stores the job's function by its path
    assert job.get_status() == "finished" and job.return_value() == "failed"
    assert len(env.queue.failed_job_registry) == 0

    assert call_job.retry_calls(env.db, env.queue, env.settings) == [call_id]
    call = get_call(env, call_id)
    assert call.status == "queued" and call.attempts == 0 and call.error  # keeps its error until claimed
    assert env.queue.job_ids == [call.job_id]
    assert call_job.retry_calls(env.db, env.queue, env.settings, [call_id]) == []  # no longer failed


def test_a_transient_error_is_retried_by_rq(env: Env, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-flaky")
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    pipeline = ReferencePipeline(reference(samples_dir, "call01_leak_stereo"), failures=1)
    work(env, pipeline)  # backoff 0: the retry is queued at once and run by the same burst

    call = get_call(env, call_id)
    assert pipeline.calls == 2
    assert call.status == "done" and call.attempts == 2 and call.error is None
    job = Job.fetch(call.job_id, connection=env.queue.connection)
    assert job.retries_left == env.settings.queue.retries - 1 and job.get_status() == "finished"
    assert count_rows(env, Analysis, call_id) == 1


def test_a_retry_with_backoff_waits_in_the_scheduled_registry(env: Env, samples_dir: Path) -> None:
    env.settings.queue.backoff_s = [60]
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-later")
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    work(env, ReferencePipeline(reference(samples_dir, "call01_leak_stereo"), failures=5))

    call = get_call(env, call_id)
    assert call.status == "processing" and call.lease_until is None  # released for the retry
    assert call.error == "RuntimeError: 模拟的临时故障"
    assert env.queue.scheduled_job_registry.get_job_ids() == [call.job_id]
    assert Job.fetch(call.job_id, connection=env.queue.connection).retries_left == 2
    # RQ owns the retry: the reconciler leaves the call alone.
    assert reconciler.reconcile(env.db, env.queue, env.settings) == reconciler.ReconcileReport([], [])


def test_when_retries_run_out_the_call_fails_with_the_error(env: Env, samples_dir: Path) -> None:
    env.settings.queue.retries = 1
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-broken")
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    pipeline = ReferencePipeline(reference(samples_dir, "call01_leak_stereo"), failures=10)
    work(env, pipeline)

    call = get_call(env, call_id)
    assert pipeline.calls == 2 and call.attempts == 2
    assert call.status == "failed" and call.error == "处理失败，已重试 1 次：RuntimeError: 模拟的临时故障"
    assert env.queue.failed_job_registry.get_job_ids() == [call.job_id]

    assert call_job.retry_calls(env.db, env.queue, env.settings, [call_id]) == [call_id]
    work(env, ReferencePipeline(reference(samples_dir, "call01_leak_stereo")))
    call = get_call(env, call_id)
    assert call.status == "done" and call.attempts == 1 and call.error is None


class SlowPipeline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def transcribe(self, path: str | Path) -> Transcript:
        time.sleep(self.seconds)
        raise AssertionError("the job timeout should have stopped this")


def test_the_job_timeout_is_enforced_in_the_worker_process(env: Env, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-slow")
    # A job of its own with a 1 s timeout and no retry (enqueue_calls would give it minutes).
    on_failure = Callback(call_job.call_job_failed)
    job = env.queue.enqueue(call_job.process_call, call_id, job_timeout=1, on_failure=on_failure)
    set_call(env, call_id, job_id=job.id)
    started = time.monotonic()
    work(env, SlowPipeline(30))
    assert time.monotonic() - started < 20
    call = get_call(env, call_id)
    assert call.status == "failed" and call.error == "处理失败：处理超时（超过 1 秒）"
    assert Job.fetch(job.id, connection=env.queue.connection).get_status() == "failed"


def test_a_recording_missing_from_the_store_is_retried_then_failed(env: Env, samples_dir: Path) -> None:
    env.settings.queue.retries = 1
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-missing")
    with env.db.session() as session:
        digest = store.get_call(session, call_id).audio_sha256
    env.audio.local_path(digest).unlink()
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    work(env, NoAsr())
    call = get_call(env, call_id)
    assert call.status == "failed" and call.attempts == 2
    assert call.error == f"处理失败，已重试 1 次：录音库中找不到录音 call01_leak_stereo.wav（{digest}）"



def test_a_stored_transcript_is_reused(env: Env, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call01_leak_stereo.wav", "c-asr-done")
    with env.db.session() as session:  # a worker died after storing the transcript
        store.save_transcript(session, call_id, reference(samples_dir, "call01_leak_stereo"))
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    no_asr = NoAsr()
    work(env, no_asr)
    call = get_call(env, call_id)
    assert no_asr.calls == 0 and call.status == "done" and call.duration_s == pytest.approx(71.46)
    with env.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RuleSetRecord)) == 1


def test_a_call_without_location_metadata_gets_the_one_said_on_it(env: Env, samples_dir: Path) -> None:
    located = register(env, samples_dir / "call01_leak_stereo.wav", "c-located")  # 我是三号楼二单元五零二的业主
    given = register(env, samples_dir / "call02_angry_stereo.wav", "c-given")
    set_call(env, given, project="lanting", location_source="metadata", location_confidence=1.0)
    with env.db.session() as session:
        store.save_transcript(session, located, reference(samples_dir, "call01_leak_stereo"))
        store.save_transcript(session, given, reference(samples_dir, "call02_angry_stereo"))
    call_job.enqueue_calls(env.db, env.queue, env.settings, [located, given])
    work(env, NoAsr())

    call = get_call(env, located)
    assert call.status == "done"
    assert (call.building, call.unit, call.location_source) == ("3号楼", "3号楼2单元502", "transcript")
    assert call.location_confidence is not None and 0 < call.location_confidence <= 1
    kept = get_call(env, given)  # metadata wins: the transcript is not asked
    assert (kept.project, kept.unit, kept.location_source) == ("lanting", None, "metadata")
