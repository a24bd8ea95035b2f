"""API test fixtures: the real app over the real database (SQLite and PostgreSQL) and the real Redis.

Redis: database 12 of the local server, flushed before and after each test; every test has its own
queue name. Done calls are built through the storage layer with the real analyzer on the reference
transcripts of the bundled samples (no speech models), except in the ``slow`` test.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from inspector.settings import ApiSettings, QueueSettings, Settings

# INSPECTOR_TEST_API_REDIS: another database for a second run on the same machine at the same time.
REDIS_URL = os.environ.get("INSPECTOR_TEST_API_REDIS", "redis://127.0.0.1:6379/12")
TZ = ZoneInfo("Asia/Shanghai")
ROLES = ("admin", "reviewer", "trainer", "team_lead")


@pytest.fixture
def redis_conn() -> Iterator[Any]:
    from inspector.service.queue import connect_redis

    connection = connect_redis(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def settings(tmp_path: Path, database: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        redis_url=REDIS_URL,
        timezone="Asia/Shanghai",
        queue=QueueSettings(name=f"test-{uuid.uuid4().hex[:12]}"),
        api=ApiSettings(max_upload_bytes=8 * 1024 * 1024, max_upload_duration_s=600.0, page_size=50),
    )


@pytest.fixture
def make_app(database: Any, redis_conn: Any) -> Callable[[Settings], FastAPI]:
    from api.app import create_app

    def make(settings: Settings) -> FastAPI:
        return create_app(settings, database=database, redis=redis_conn)

    return make


@pytest.fixture
def app(make_app: Callable[[Settings], FastAPI], settings: Settings) -> FastAPI:
    return make_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


PASSWORD = "correct-horse-battery"
# One web user per role (``users`` fixture): username, role, agent id, team.
USERS = {
    "admin": ("admin", "admin", None, None),
    "reviewer": ("reviewer", "reviewer", None, None),
    "trainer": ("trainer", "trainer", None, None),
    "team_lead": ("lead_a", "team_lead", None, "A组"),  # leads A组 (make_call's default team)
    "agent": ("agent8001", "agent", "8001", None),
    "other_team_lead": ("lead_b", "team_lead", None, "B组"),
}


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny parameters: the production cost (~0.15 s a hash) would dominate the tests."""
    from argon2 import PasswordHasher

    from inspector.store import users

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture
def password() -> str:
    """The password of every user of the ``users`` fixture."""
    return PASSWORD


@pytest.fixture
def users(database: Any) -> dict[str, str]:
    """A user per entry of ``USERS`` (password ``PASSWORD``): {key: username}."""
    from inspector.store.users import create_user, get_user

    with database.session() as session:
        for username, role, agent_id, team in USERS.values():
            if get_user(session, username) is None:
                create_user(session, username, PASSWORD, role, display_name=f"测试{username}", agent_id=agent_id,
                            team_id=team)  # fmt: skip
    return {key: spec[0] for key, spec in USERS.items()}


@pytest.fixture
def tokens(database: Any, users: dict[str, str]) -> dict[str, str]:
    """A token per staff role, plus ``agent`` (agent 8001), ``other_agent`` (agent 8002) and
    ``other_team_lead`` (B组). Team lead tokens belong to the team lead users (a token has no team)."""
    from inspector.store.tokens import create_token
    from inspector.store.users import get_user

    with database.session() as session:
        made = {role: create_token(session, role, name=f"test {role}") for role in ROLES if role != "team_lead"}
        for key in ("team_lead", "other_team_lead"):
            made[key] = create_token(session, None, name=f"test {key}", user=get_user(session, users[key]))
        made["agent"] = create_token(session, "agent", agent_id="8001", name="test agent 8001")
        made["other_agent"] = create_token(session, "agent", agent_id="8002", name="test agent 8002")
    return made


@pytest.fixture
def headers(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    return {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}


@pytest.fixture(scope="session")
def analyzer() -> Any:
    from inspector.qa.analysis import Analyzer

    return Analyzer(Settings())


@pytest.fixture
def make_call(database: Any, settings: Settings, analyzer: Any, samples_dir: Path) -> Callable[..., str]:
    """Register a call and, unless ``status`` says otherwise, store its transcript and analysis (done).

    ``sample``: a bundled sample whose recording goes into the audio store and whose reference
    transcript is analyzed; without one the call has a made-up hash and the transcript of call01.
    """
    from inspector.speech.transcript import Transcript
    from inspector.store import calls as store
    from inspector.store import rulesets
    from inspector.store.blobs import LocalAudioStore

    audio = LocalAudioStore(settings.audio_store_dir)

    def make(
        call_id: str,
        agent_id: str = "8001",
        *,
        team: str | None = "A组",
        agent_name: str | None = None,
        started_at: datetime | None = None,
        sample: str | None = None,
        transcript_of: str = "call01_leak_stereo",
        status: str = "done",
        caller: str | None = "13812345678",
        direction: str | None = "inbound",
    ) -> str:
        if sample is not None:
            path = samples_dir / f"{sample}.wav"
            digest, size = audio.put_file(path, ".wav"), path.stat().st_size
            transcript_of = sample
        else:
            digest, size = uuid.uuid4().hex + uuid.uuid4().hex, 1000
        new = store.NewCall(
            audio_sha256=digest,
            audio_bytes=size,
            audio_name=f"{call_id}.wav",
            source="import",
            agent_id=agent_id,
            call_id=call_id,
            started_at=started_at or datetime(2024, 3, 15, 10, 0, tzinfo=TZ),
            direction=direction,
            caller=caller,
            duration_s=60.0,
            team_id=team,
            agent_name=agent_name or f"坐席{agent_id}",
        )
        with database.session() as session:
            (registered,) = store.register_calls(session, [new], TZ)
            assert registered.created, registered
            record = rulesets.ensure_default(session, settings.rules_dir)
            rule_set_id = record.id
        if status == "failed":
            with database.session() as session:
                store.mark_failed(session, call_id, "录音已损坏")
        if status != "done":
            return call_id
        data = (samples_dir / f"{transcript_of}.json").read_text(encoding="utf-8")
        transcript = Transcript.from_dict(json.loads(data))
        with database.session() as session:
            call = store.claim(session, call_id, lease_s=600)
            assert call is not None
            store.save_transcript(session, call.id, transcript)
            store.save_analysis(session, call, analyzer.analyze_transcript(transcript, agent_id), rule_set_id, True)
            store.finish(session, call)
        return call_id

    return make


@pytest.fixture
def login(app: FastAPI, users: dict[str, str]) -> Iterator[Callable[[str], TestClient]]:
    """``login(key)``: a client logged in as the user of ``USERS[key]`` through POST /auth/login, with the
    session cookie in its jar and the session's CSRF token as a default ``X-CSRF-Token`` header.
    (https base URL: the cookie is ``Secure``.)"""
    from contextlib import ExitStack

    with ExitStack() as stack:

        def log_in(key: str) -> TestClient:
            client = stack.enter_context(TestClient(app, base_url="https://testserver"))
            response = client.post("/api/v1/auth/login", json={"username": users[key], "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
            return client

        yield log_in
