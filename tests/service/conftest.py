"""The ``env`` fixture of the service tests: Redis is a private ``redis-server`` for each module (on a unix
socket, flushed before each test), so the tests neither see nor disturb anything else on the machine's
Redis; the databases are SQLite and PostgreSQL (parametrized)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_env import Env

from inspector.service.queue import connect_redis, make_queue
from inspector.settings import QueueSettings, Settings
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database


@pytest.fixture
def env(database: Database, tmp_path: Path, redis_url: str) -> Iterator[Env]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        redis_url=redis_url,
        queue=QueueSettings(name="test-jobs", retries=3, backoff_s=[0]),
    )
    connection = connect_redis(redis_url)
    connection.flushdb()
    yield Env(settings, database, LocalAudioStore(settings.audio_store_dir), make_queue(settings, connection))
    connection.close()
