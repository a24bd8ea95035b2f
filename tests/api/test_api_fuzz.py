"""API fuzz test (issue 10): schemathesis generates requests from the app's own OpenAPI description and sends
them to the real app (in process, ASGI) over a real SQLite database and the real Redis, once with an admin
token and once with the token of agent 8001, who has calls of their own next to other agents' calls,
reviews, an appeal, coaching tasks and alerts, so the authorization paths (404 for others' calls, 403 for
others' figures, narrowed lists) are exercised and not only "not found".

Every response must have a documented status code and content type and a body that matches the documented
model, and no response may be a 5xx. A failure means the service or its OpenAPI description is wrong: fix
the one that is wrong, never the assertion.

Budget: about a minute per token on 2 cores. Per operation: schemathesis' deterministic coverage cases
(boundaries, missing, wrong-typed and oversized values) plus ``FUZZ_EXAMPLES`` random ones (valid and
invalid). ``INSPECTOR_FUZZ_EXAMPLES`` / ``INSPECTOR_FUZZ_SEED`` run it longer or with other data locally.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks as openapi_checks

from api.app import API_PREFIX, create_app
from inspector.settings import AlertSettings, ApiSettings, QueueSettings, Settings
from inspector.store.db import Database

TZ = ZoneInfo("Asia/Shanghai")
REDIS_URL = "redis://127.0.0.1:6379/12"  # the API tests' database (tests/api/conftest.py), flushed here too
FUZZ_EXAMPLES = int(os.environ.get("INSPECTOR_FUZZ_EXAMPLES", "50"))
FUZZ_SEED = int(os.environ.get("INSPECTOR_FUZZ_SEED", "20240315"))
PASSWORD = "correct-horse-battery"

# The four properties asserted on every response, and only these, so a failure always names one of them.
# (schemathesis' default set adds heuristics, e.g. "any invalid input must be rejected", that fail on
# harmless leniency such as an ignored unknown query parameter.)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def _openapi() -> dict[str, Any]:
    """The description the service publishes at /openapi.json (routes only: nothing is connected)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url="sqlite://")
        app = create_app(settings, database=Database("sqlite://"), redis=redis.Redis.from_url(REDIS_URL))
        return json.loads(json.dumps(app.openapi()))


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": FUZZ_SEED,
        "phases": {
            "examples": {"enabled": False},  # the description has no examples
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True, "generation": {"max-examples": FUZZ_EXAMPLES}},
            "stateful": {"enabled": False},
        },
        "generation": {"mode": "all", "database": "none"},  # positive and negative cases; no .hypothesis/
    }
)
schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)
# Not fuzzed: the two multipart uploads. Random bytes never get past the sniffing of a recording or the
# parsing of a rule bundle, so they would only repeat one refusal; tests/api/test_api_calls.py,
# test_api_rulesets.py and test_api_hardening.py cover them by hand (limits, blank fields, control
# characters, encodings, races, YAML bombs).
# Nothing else needed limiting: over this small database even the XLSX exports answer in milliseconds.
# POST /auth/login is cheap only because conftest.py's autouse fixture swaps in a fast argon2 (production
# parameters cost ~0.15 s a guess and would dominate the budget); its per-address rate limit answers 429
# (documented) once the fuzzer has guessed a few times.
# Requests without a token (401) are not fuzzed: tests/api/test_authz_matrix.py covers every route.
schema = schema.exclude(method="POST", path=f"{API_PREFIX}/calls").exclude(method="POST", path=f"{API_PREFIX}/rulesets")


# --- the world the requests run against ------------------------------------------------------------


@dataclass
class Fuzzed:
    app: FastAPI
    headers: dict[str, str]
    known: dict[str, list[Any]]  # known values of parameters and body fields (real ids, agents, teams)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))  # per operation


def _register(database: Database, settings: Settings, analyzer: Any, samples_dir: Path, call_id: str,
              agent_id: str, *, team: str = "A组", started_at: datetime | None = None, sample: str | None = None,
              transcript_of: str = "call01_leak_stereo", status: str = "done") -> str:  # fmt: skip
    """A call of ``agent_id``, done with the real analysis of a sample's reference transcript (as
    ``make_call`` of conftest.py, which is function-scoped), or left failed / queued."""
    from inspector.speech.transcript import Transcript
    from inspector.store import calls as store
    from inspector.store import rulesets
    from inspector.store.blobs import LocalAudioStore

    if sample is not None:
        path = samples_dir / f"{sample}.wav"
        digest, size = LocalAudioStore(settings.audio_store_dir).put_file(path, ".wav"), path.stat().st_size
        transcript_of = sample
    else:
        digest, size = uuid.uuid4().hex + uuid.uuid4().hex, 1000
    new = store.NewCall(audio_sha256=digest, audio_bytes=size, audio_name=f"{call_id}.wav", source="import",
                        agent_id=agent_id, call_id=call_id, direction="inbound", caller="13812345678",
                        started_at=started_at or datetime(2024, 3, 15, 10, tzinfo=TZ), duration_s=60.0,
                        team_id=team, agent_name=f"坐席{agent_id}")  # fmt: skip
    with database.session() as session:
        (registered,) = store.register_calls(session, [new], TZ)
        assert registered.created, registered
        rule_set_id = rulesets.ensure_default(session, settings.rules_dir).id
    if status == "failed":
        with database.session() as session:
            store.mark_failed(session, call_id, "录音已损坏")
    if status != "done":
        return call_id
    transcript = Transcript.from_dict(json.loads((samples_dir / f"{transcript_of}.json").read_text(encoding="utf-8")))
    with database.session() as session:
        call = store.claim(session, call_id, lease_s=600)
        assert call is not None
        store.save_transcript(session, call.id, transcript)
        store.save_analysis(session, call, analyzer.analyze_transcript(transcript, agent_id), rule_set_id, True)
        store.finish(session, call)
    return call_id


@pytest.fixture(scope="module", params=["admin", "agent"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, analyzer: Any,
           samples_dir: Path) -> Iterator[Fuzzed]:  # fmt: skip
    """The app over a fresh SQLite database with agent 8001's calls (one with its recording in the store,
    one failed), other agents' calls (8002 in A组, 9001 in B组), alerts of both, a review queue, an appeal
    of 8001 and coaching tasks; requests carry the ``request.param`` token (admin, or agent 8001)."""
    from argon2 import PasswordHasher

    from inspector.people import alerts
    from inspector.store import users
    from inspector.store.schema import Analysis, Call
    from inspector.store.tokens import create_token

    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    database = Database(f"sqlite:///{folder / 'inspector.db'}")
    database.upgrade()
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    settings = Settings(data_dir=folder / "data", database_url=database.url, redis_url=REDIS_URL,
                        timezone="Asia/Shanghai", queue=QueueSettings(name=f"fuzz-{uuid.uuid4().hex[:12]}"),
                        api=ApiSettings(max_upload_bytes=8 * 1024 * 1024, page_size=50))  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
        with database.session() as session:
            users.create_user(session, "lead_a", PASSWORD, "team_lead", display_name="班组长", team_id="A组")
            tokens = {role: create_token(session, role, name=f"fuzz {role}") for role in ("admin", "reviewer")}
            tokens["agent"] = create_token(session, "agent", agent_id="8001", name="fuzz agent 8001")

        def seed(call_id: str, agent_id: str, **kwargs: Any) -> str:
            return _register(database, settings, analyzer, samples_dir, call_id, agent_id, **kwargs)

        call_ids = [
            seed("own-1", "8001", started_at=datetime(2024, 3, 12, 9, tzinfo=TZ), sample="call02_angry_stereo"),
            seed("own-2", "8001", started_at=datetime(2024, 3, 13, 9, tzinfo=TZ), transcript_of="call06_elevator_mono"),
            seed("own-failed", "8001", status="failed"),
            seed("other-1", "8002", started_at=datetime(2024, 3, 14, 9, tzinfo=TZ),
                 transcript_of="call03_parking_fast_stereo"),
            seed("other-2", "9001", team="B组", started_at=datetime(2024, 3, 12, 10, tzinfo=TZ),
                 transcript_of="call02_angry_stereo"),
            seed("other-queued", "8002", status="queued"),
        ]  # fmt: skip
        alert_ids = []
        for call_id in ("own-1", "own-2", "other-1", "other-2"):
            with database.session() as session:
                call = session.get(Call, call_id)
                alert = alerts.raise_alert(session, AlertSettings(), call, session.get(Analysis, call.analysis_id))
                if alert is not None:
                    alert_ids.append(alert.id)
        assert alert_ids, "no call raised an alert"

        app = create_app(settings, database=database, redis=connection)
        with TestClient(app) as client:
            staff = {"Authorization": f"Bearer {tokens['reviewer']}"}
            agent = {"Authorization": f"Bearer {tokens['agent']}"}

            def post(path: str, who: dict[str, str], body: dict[str, Any]) -> Any:
                response = client.post(f"{API_PREFIX}{path}", headers=who, json=body)
                assert response.status_code < 300, (path, response.text)
                return response.json()

            post("/reviews/sample", staff, {"week": "2024-03-12"})
            review_ids = [r["id"] for r in client.get(f"{API_PREFIX}/reviews", headers=staff).json()["items"]]
            assert review_ids, "sampling queued no review"
            hits = client.get(f"{API_PREFIX}/calls/own-1/review", headers=agent).json()["hits"]
            deduction = next(hit["index"] for hit in hits if (hit["points"] or 0) < 0)
            appeal_ids = [post(f"/calls/own-1/hits/{deduction}/appeal", agent, {"comment": "已按流程处理"})["id"]]
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            task = {"competency": "professionalism", "course_id": "empathy_soothing", "evidence": [],
                    "due_date": "2024-04-01", "note": "加强共情与安抚"}  # fmt: skip
            assignment_ids = [post("/coaching", admin, {**task, "agent_id": a})["id"] for a in ("8001", "8002")]
            rule_set_ids = [r["id"] for r in client.get(f"{API_PREFIX}/rulesets", headers=admin).json()["items"]]
            known = {
                "call_id": call_ids,
                "agent_id": ["8001", "8002", "9001"],
                "team": ["A组", "B组"],
                "index": [hit["index"] for hit in hits],
                "alert_id": alert_ids,
                "review_id": review_ids,
                "appeal_id": appeal_ids,
                "assignment_id": assignment_ids,
                "rule_set_id": rule_set_ids,
                "entity_id": call_ids,
                # JSON body fields (POST /coaching)
                "competency": [c["id"] for c in client.get(f"{API_PREFIX}/competencies", headers=admin).json()[
                    "competencies"]],
                "course_id": [c["id"] for c in client.get(f"{API_PREFIX}/courses", headers=admin).json()["courses"]],
            }
            fuzz = Fuzzed(app, {"Authorization": f"Bearer {tokens[request.param]}"}, known)
            try:
                yield fuzz
            finally:
                connection.flushdb()
                connection.close()
                database.dispose()
    # The known values must reach real records (a renamed parameter would leave only "not found"): the
    # agent reads its own call and gets 404 for the others', the admin reads them all.
    reached = fuzz.statuses.get(f"GET {API_PREFIX}/calls/{{call_id}}")
    if reached is not None:  # (not when that operation was deselected)
        assert reached[200] > 0, reached
        assert request.param == "admin" or reached[404] > 0, reached


# --- known values next to random ones ----------------------------------------------------------------

_FUZZED: list[Fuzzed] = []  # the module's current world, for the hooks (they get no fixtures)


def _with_known(values: dict[str, Any] | None) -> st.SearchStrategy[dict[str, Any] | None]:
    """``values`` as generated, or with its known parameters (ids that exist, agents with calls) swapped in
    for real values: random ids alone only ever reach "not found"."""
    if not values or not _FUZZED:
        return st.just(values)
    known = _FUZZED[-1].known
    names = [name for name in values if name in known]
    if not names:
        return st.just(values)
    swapped = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    return st.one_of(st.just(values), swapped.map(lambda real: {**values, **real}))


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _with_known(path_parameters)


@schema.hook
def flatmap_query(_context: Any, query: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _with_known(query)


@schema.hook
def after_call(_context: Any, case: Any, response: Any) -> None:
    if _FUZZED:
        _FUZZED[-1].statuses[f"{case.operation.method.upper()} {case.operation.path}"][response.status_code] += 1


@schema.hook
def flatmap_body(_context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _with_known(body) if isinstance(body, dict) else st.just(body)


@pytest.fixture
def world(fuzzed: Fuzzed) -> Iterator[Fuzzed]:
    _FUZZED.append(fuzzed)
    yield fuzzed
    _FUZZED.remove(fuzzed)


@schema.parametrize()
@settings(
    # The wall time is bounded by the number of cases, not per case: a busy CI machine must not turn a slow
    # but correct answer into a failure.
    deadline=None,
    # Function-scoped fixtures (``world``, conftest's autouse fast password hashing) are meant to hold
    # across the generated cases of an operation (the world is the module's); slow or heavily filtered
    # generation is expected for the larger bodies.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)
def test_api_fuzz(case: Any, world: Fuzzed) -> None:
    case.call_and_validate(app=world.app, headers=world.headers, checks=CHECKS)

