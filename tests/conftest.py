"""Shared fixtures. The speech models are real (whisper-base, GE2E encoder) and loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.settings import PROJECT_ROOT, Settings

SAMPLES = PROJECT_ROOT / "samples" / "calls"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def speech_pipeline():  # a SpeechPipeline; imported lazily so unit tests stay light
    from inspector.speech.pipeline import SpeechPipeline

    return SpeechPipeline(Settings())


@pytest.fixture(scope="session")
def sample_transcripts(speech_pipeline, samples_dir: Path) -> dict:
    """Every sample call transcribed once by the real pipeline, by file name."""
    from inspector.speech.audio import AUDIO_SUFFIXES

    return {
        path.name: speech_pipeline.transcribe(path)
        for path in sorted(samples_dir.iterdir())
        if path.suffix in AUDIO_SUFFIXES
    }


# --- databases: every storage test runs on SQLite and on the real PostgreSQL server -------------------

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgres_admin_url() -> str:
    import os

    return os.environ.get("INSPECTOR_TEST_POSTGRES_URL", POSTGRES_ADMIN_URL)


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database of its own, dropped afterwards. Fails (never skips) without a server."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(_postgres_admin_url())
    name = f"inspector_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a power cut: commits do not wait for the disk (on a slow disk
        # that wait is most of a PostgreSQL test's time). Durability is PostgreSQL's, not ours, to test.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inspector.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(database_url: str):
    """An upgraded ``inspector.store.db.Database`` on SQLite and on PostgreSQL (parametrized)."""
    from inspector.store.db import Database

    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A private redis-server on a unix socket for the module: tests may restart or flush it freely
    without touching the shared server other tests (and other runs) use."""
    import shutil
    import subprocess
    import time

    import redis

    server = shutil.which("redis-server")
    assert server, "redis-server is needed (the CI installs it with Redis)"
    sock = tmp_path_factory.mktemp("redis") / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{sock}?db=0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(url).ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)
