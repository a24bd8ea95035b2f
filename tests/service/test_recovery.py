"""The recovery promise, with real processes: import a batch, kill a worker mid-call, lose everything
Redis held (Redis restarted: it keeps nothing on disk), start again: every call ends done exactly once.

Redis is a private ``redis-server`` (unix socket) that the test really restarts; workers are
``inspector.service.worker.run_worker`` in subprocesses configured through ``INSPECTOR_*`` variables, with the
real speech models.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import func, select

from inspector.service.call_job import enqueue_calls
from inspector.service.queue import connect_redis, make_queue
from inspector.service.reconciler import reconcile
from inspector.settings import PROJECT_ROOT, QueueSettings, Settings
from inspector.store import calls as store
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database, utcnow
from inspector.store.schema import Analysis, Call, TranscriptRecord, UtteranceRecord

pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Shanghai")
# The quickest samples to transcribe; the first one is the call the killed worker holds.
SAMPLES = ("call03_parking_fast_stereo.wav", "call07_garbage_mono.wav", "call06_elevator_mono.wav")
WORKER = (
    "from inspector.service.worker import run_worker; from inspector.settings import Settings; run_worker(Settings())"
)
T = TypeVar("T")


class RedisServer:
    """A private Redis without persistence, on a unix socket; ``restart`` loses everything, as in production."""

    def __init__(self, sock: Path) -> None:
        self.sock = sock
        self.url = f"unix://{sock}?db=0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is needed (the CI installs it with Redis)"
        self.process = subprocess.Popen(
            [server, "--port", "0", "--unixsocket", str(self.sock), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        _wait_for(lambda: _ping(self.url), 10, "redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
        self.sock.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def _wait_for(check: Callable[[], T], timeout_s: float, message: str) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis.sock")
    server.start()
    yield server
    server.stop()


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # Its own session: killing the group also takes down the scheduler process RQ forks.
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER], env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _kill(worker: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGKILL) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(30)


def test_killed_worker_and_lost_redis_every_call_ends_done_exactly_once(
    postgres_url: str, tmp_path: Path, samples_dir: Path, redis_server: RedisServer
) -> None:
    # PostgreSQL, as in production (the same run on SQLite passes too, in about the same 40 s).
    database_url = postgres_url
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        redis_url=redis_server.url,
        queue=QueueSettings(name="recovery", reconcile_interval_s=1),
    )
    db = Database(database_url)
    db.upgrade()
    audio = LocalAudioStore(settings.audio_store_dir)
    new_calls = []
    for i, name in enumerate(SAMPLES):
        path = samples_dir / name
        new_calls.append(
            store.NewCall(
                audio_sha256=audio.put_file(path, path.suffix),
                audio_bytes=path.stat().st_size,
                audio_name=name,
                source="import",
                agent_id="8001",
                call_id=f"call-{i}",
                started_at=datetime(2024, 3, 15, 9, i, tzinfo=TZ),
            )
        )
    with db.session() as session:
        ids = [r.call_id for r in store.register_calls(session, new_calls, TZ)]

    # The batch is enqueued with a 10 s job timeout, so the lease of the call the worker dies holding
    # runs out quickly. The worker is killed long before any job could reach that timeout.
    quick = settings.model_copy(
        update={"queue": settings.queue.model_copy(update={"timeout_base_s": 10, "timeout_per_audio_s": 0.0})}
    )
    queue = make_queue(settings, connect_redis(redis_server.url))
    assert enqueue_calls(db, queue, quick, ids) == len(ids)

    env = dict(os.environ)
    env.update(
        INSPECTOR_DATABASE_URL=database_url,
        INSPECTOR_DATA_DIR=str(settings.data_dir),
        INSPECTOR_AUDIO_DIR=str(settings.audio_store_dir),
        INSPECTOR_REDIS_URL=redis_server.url,
        INSPECTOR_QUEUE__NAME=settings.queue.name,
        INSPECTOR_QUEUE__RECONCILE_INTERVAL_S="1",
    )
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        workers.append(_start_worker(env, log))

        def processing() -> list[str]:
            with db.session() as session:
                return list(session.scalars(select(Call.id).where(Call.status == "processing")))

        [victim] = _wait_for(processing, 60, "the worker never claimed a call")
        time.sleep(0.5)  # mid-ASR
        _kill(workers[0])
        redis_server.restart()

        # Right after the restart Redis knows nothing. The reconciler queues the calls Redis lost, but
        # leaves the killed worker's call alone while its lease lasts: it cannot tell a dead worker from
        # a live one any other way.
        queue = make_queue(settings, connect_redis(redis_server.url))
        with db.session() as session:
            lease_until = store.get_call(session, victim).lease_until
        assert lease_until is not None and lease_until > utcnow()
        report = reconcile(db, queue, settings)
        assert sorted(report.requeued) == sorted(set(ids) - {victim}) and report.failed == []
        with db.session() as session:
            assert store.get_call(session, victim).status == "processing"

        # A new worker processes them; its own reconciler hands on the victim once the lease ran out.
        workers.append(_start_worker(env, log))

        def all_done() -> bool:
            with db.session() as session:
                return store.count_by_status(session) == {"done": len(ids)}

        _wait_for(all_done, 180, f"not every call ended done:\n{log.read_text(errors='replace')[-3000:]}")
        _kill(workers[1], signal.SIGTERM)  # warm shutdown
        assert workers[1].returncode == 0
    finally:
        for worker in workers:
            _kill(worker)

    with db.session() as session:
        calls = {c.id: c for c in session.scalars(select(Call))}
        for call_id in ids:
            call = calls[call_id]
            assert call.status == "done" and call.error is None and call.lease_until is None
            assert call.attempts == (2 if call_id == victim else 1)
            where = Analysis.call_id == call_id
            assert session.scalar(select(func.count()).select_from(Analysis).where(where)) == 1
            assert (
                session.scalar(
                    select(func.count()).select_from(TranscriptRecord).where(TranscriptRecord.call_id == call_id)
                )
                == 1
            )
            idx = list(session.scalars(select(UtteranceRecord.idx).where(UtteranceRecord.call_id == call_id)))
            assert sorted(idx) == list(range(len(idx))) and idx
            assert call.analysis_id == session.scalars(select(Analysis.id).where(where)).one()
    db.dispose()
