"""Alerts: raising, the queue, and webhook delivery with retries against a real local HTTP server.

Jobs run on a real Redis (a private ``redis-server`` for this module on a unix socket, as in
tests/service/conftest.py: the shared server's test databases are flushed by other test modules) in a burst
worker in this process; the databases are SQLite and PostgreSQL. Calls are built
through the storage layer with the real analyzer on hand-made transcripts (no speech models).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from fakecalls import four_turn_transcript as transcript
from rq import Queue
from sqlalchemy import select

from inspector.people import alerts
from inspector.qa.analysis import Analyzer
from inspector.service import webhooks
from inspector.service.call_job import enqueue_calls
from inspector.service.context import WorkerContext
from inspector.service.queue import connect_redis, make_queue
from inspector.service.rescore import enqueue_rescore
from inspector.service.worker import run_worker
from inspector.settings import PROJECT_ROOT, AlertSettings, QueueSettings, Settings
from inspector.speech.transcript import Transcript
from inspector.store import audit, rulesets
from inspector.store import calls as store
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database
from inspector.store.schema import AlertDelivery, AlertEvent, Analysis, Call, Review
from inspector.vocab import AlertKind, AlertLevel

TZ = ZoneInfo("Asia/Shanghai")
RULES = PROJECT_ROOT / "rules"
SECRET = "webhook-secret"
OPENING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
CLOSING = "感谢您的来电，再见。"
SOOTHE = "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"
GOOD = (OPENING, "我家厨房漏水了，麻烦派人来修一下。", SOOTHE, CLOSING)  # 100, no alert
RED = (OPENING, "我家厨房漏水三天了，再不来修我要投诉你们。", SOOTHE, CLOSING)  # escalation: red
YELLOW = (OPENING, "我家厨房漏水了，麻烦派人来修一下。", "这个不归我们管，你自己去找开发商。", CLOSING)  # taboo


# --- a webhook receiver --------------------------------------------------------------------------


@dataclass
class Received:
    body: dict[str, Any]
    signature: str | None
    signature_ok: bool


@dataclass
class Hook:
    """A real HTTP server on 127.0.0.1: answers ``status(n)`` to the n-th request (1-based) and checks
    each request's HMAC signature with ``SECRET``."""

    status: Callable[[int], int]
    received: list[Received] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def make_hook() -> Iterator[Callable[[Callable[[int], int]], Hook]]:
    servers: list[ThreadingHTTPServer] = []

    def make(status: Callable[[int], int]) -> Hook:
        hook = Hook(status)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get(webhooks.SIGNATURE_HEADER)
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                with lock:
                    ok = signature is not None and hmac.compare_digest(signature, expected)
                    hook.received.append(Received(json.loads(body), signature, ok))
                    code = hook.status(len(hook.received))
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write("好的".encode() if code < 300 else "服务繁忙".encode())

            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/qa"
        return hook

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/qa"


# --- environment ---------------------------------------------------------------------------------


@dataclass
class Env:
    db: Database
    tmp: Path
    analyzer: Analyzer
    redis_url: str
    connection: redis.Redis
    rule_set_id: int = 0
    count: int = 0

    def settings(self, **alert_settings: Any) -> Settings:
        return Settings(
            data_dir=self.tmp / "data",
            database_url=self.db.url,
            redis_url=self.redis_url,
            queue=QueueSettings(name="test-alerts", retries=0, backoff_s=[0]),
            alerts=AlertSettings(**{"secret": SECRET, "backoff_s": [0], "timeout_s": 5.0, **alert_settings}),
        )

    def queue(self) -> Queue:
        return Queue("test-alerts", connection=self.connection)

    def call(self, lines: tuple[str, ...], agent: str = "8001") -> tuple[Call, Analysis]:
        """A done call; returns it and its current analysis (detached)."""
        self.count += 1
        call_id = f"c{self.count:03d}-{uuid.uuid4().hex[:6]}"
        new = store.NewCall(audio_sha256=uuid.uuid4().hex * 2, audio_bytes=10, audio_name=f"{call_id}.wav",
                            source="import", agent_id=agent, call_id=call_id,
                            started_at=datetime(2024, 3, 15, 9, self.count, tzinfo=TZ), team_id="A组")  # fmt: skip
        with self.db.session() as session:
            store.register_calls(session, [new], TZ)
        with self.db.session() as session:
            call = store.claim(session, call_id, lease_s=600)
            assert call is not None
            text = transcript(lines)
            store.save_transcript(session, call_id, text)
            analysis = store.save_analysis(session, call, self.analyzer.analyze_transcript(text, agent),
                                           self.rule_set_id, True)  # fmt: skip
            store.finish(session, call)
        return call, analysis

    def raise_alert(self, settings: AlertSettings, lines: tuple[str, ...] = RED) -> AlertEvent:
        call, analysis = self.call(lines)
        with self.db.session() as session:
            alert = alerts.raise_alert(session, settings, call, analysis)
            assert alert is not None
        return alert

    def work(self, settings: Settings) -> None:
        context = WorkerContext(settings, self.db, LocalAudioStore(settings.audio_store_dir),
                                     pipeline=StubPipeline())  # fmt: skip
        run_worker(settings, burst=True, context=context)

    def attempts(self, alert_id: int) -> list[AlertDelivery]:
        with self.db.session() as session:
            return alerts.deliveries(session, alert_id)

    def alert(self, alert_id: int) -> AlertEvent:
        with self.db.session() as session:
            return alerts.get_alert(session, alert_id)


class StubPipeline:
    """Speech pipeline stand-in: every recording is the RED transcript."""

    def transcribe(self, path: str | Path) -> Transcript:
        return transcript(RED)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Settings())


@pytest.fixture
def env(database: Database, tmp_path: Path, analyzer: Analyzer, redis_url: str) -> Iterator[Env]:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    found = Env(database, tmp_path, analyzer, redis_url, connection)
    with database.session() as session:
        found.rule_set_id = rulesets.ensure_default(session, RULES).id
    yield found
    connection.close()


# --- raising -------------------------------------------------------------------------------------


def _variant(env: Env, escalation_alert: str) -> tuple[int, Analyzer]:
    """Another rule set: the default one with the escalation rule's alert level set (and a new version)."""
    files = rulesets.read_bundle(RULES)
    text = files["property-default.yaml"]
    rule = text.index("  - id: escalation")
    at = text.index("alert: red", rule)
    files["property-default.yaml"] = (text[:at] + f"alert: {escalation_alert}" + text[at + len("alert: red") :]
                                      ).replace("version: 1", f"version: {len(escalation_alert)}")  # fmt: skip
    with env.db.session() as session:
        record, _ = rulesets.add_ruleset(session, files)
        folder = rulesets.materialize(record, env.tmp / "rulesets")
        return record.id, Analyzer(Settings(), folder)


def test_raise_alert(env: Env) -> None:
    quiet = AlertSettings()  # no webhook
    hooked = AlertSettings(webhook_url="http://127.0.0.1:9/hooks", min_level="red")
    red_call, red = env.call(RED)
    yellow_call, yellow = env.call(YELLOW)
    good_call, good = env.call(GOOD)
    with env.db.session() as session:
        alert = alerts.raise_alert(session, quiet, red_call, red)
        assert alert is not None
        assert (alert.call_id, alert.analysis_id, alert.agent_id, alert.level) == (red_call.id, red.id, "8001", "red")
        assert alert.status == "open" and alert.delivery == "none" and alert.handled_by is None
        assert alert.reasons == red.score["alert_reasons"] and "客户扬言投诉升级" in alert.reasons[0]
        assert alerts.raise_alert(session, quiet, red_call, red) is None  # idempotent per analysis
        below = alerts.raise_alert(session, hooked, yellow_call, yellow)
        assert below is not None and below.level == "yellow" and below.delivery == "none"  # under min_level
        assert alerts.raise_alert(session, hooked, good_call, good) is None  # no alert on the analysis

    # Rescoring: a new analysis of the same level is the same incident; a new level is a new alert.
    for level, raised in (("red", False), ("yellow", True)):
        rule_set_id, analyzer = _variant(env, level)
        with env.db.session() as session:
            call = store.get_call(session, red_call.id)
            assert call is not None
            text = store.load_transcript(session, call.id)
            assert text is not None
            analysis = store.save_analysis(session, call, analyzer.analyze_transcript(text, "8001"), rule_set_id, True)
            assert analysis.alert == level
            new = alerts.raise_alert(session, AlertSettings(webhook_url="http://127.0.0.1:9/hooks"), call, analysis)
            assert (new is not None) == raised
            if new is not None:
                assert new.level == "yellow" and new.delivery == "pending"  # yellow ≥ the default min_level


def test_queue_acknowledge_and_redeliver(env: Env) -> None:
    settings = AlertSettings()
    first = env.raise_alert(settings, RED)
    second = env.raise_alert(settings, YELLOW)
    third = env.raise_alert(settings, RED)
    with env.db.session() as session:
        page = alerts.list_alerts(session)
        assert page.total == 3 and [a.id for a in page.items] == [third.id, second.id, first.id]  # newest first
        assert [a.id for a in alerts.list_alerts(session, level="red").items] == [third.id, first.id]
        assert alerts.list_alerts(session, agent_id="9999").total == 0
        paged = alerts.list_alerts(session, offset=1, limit=1)
        assert paged.total == 3 and [a.id for a in paged.items] == [second.id]
        done = alerts.acknowledge(session, "user:lead_a", "team_lead", first.id, "已回访客户")
        assert done.status == "acknowledged" and done.handled_by == "user:lead_a" and done.handled_at is not None
        assert done.note == "已回访客户"
        with pytest.raises(alerts.AlertStateError):
            alerts.acknowledge(session, "user:admin", "admin", first.id)
        with pytest.raises(alerts.AlertNotFound):
            alerts.acknowledge(session, "user:admin", "admin", 999_999)
        with pytest.raises(alerts.AlertStateError, match="webhook_url"):
            alerts.redeliver(session, settings, "user:admin", "admin", second.id)
        again = alerts.redeliver(
            session, AlertSettings(webhook_url="http://x.invalid/"), "user:admin", "admin", second.id
        )
        assert again.delivery == "pending"
        assert [a.id for a in alerts.list_alerts(session, status="open").items] == [third.id, second.id]
    with env.db.session() as session:
        log = audit.history(session, "alert", first.id)
        assert [(e.action, e.actor, e.reason) for e in log] == [("alert.acknowledge", "user:lead_a", "已回访客户")]
        assert log[0].before == {"status": "open", "handled_by": None, "note": None, "delivery": "none"}
        assert [e.action for e in audit.history(session, "alert", second.id)] == ["alert.redeliver"]


# --- delivery ------------------------------------------------------------------------------------


def test_webhook_retries_until_delivered(env: Env, make_hook: Callable[..., Hook]) -> None:
    hook = make_hook(lambda n: 500 if n <= 2 else 200)  # fails twice, then accepts
    settings = env.settings(webhook_url=hook.url, retries=5)
    alert = env.raise_alert(settings.alerts, RED)
    assert alert.delivery == "pending"
    webhooks.enqueue_delivery(env.queue(), settings.alerts, alert.id)
    env.work(settings)

    attempts = env.attempts(alert.id)
    assert [(a.attempt, a.status_code, a.ok) for a in attempts] == [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert (
        attempts[0].error is not None and attempts[0].error.startswith("HTTP 500") and "服务繁忙" in attempts[0].error
    )
    assert attempts[2].error is None and all(a.url == hook.url and a.duration_ms is not None for a in attempts)
    assert env.alert(alert.id).delivery == "delivered"
    assert len(hook.received) == 3 and all(r.signature_ok for r in hook.received)
    body = hook.received[-1].body
    assert body["alert_id"] == alert.id and body["level"] == "red" and body["level_name"] == "红色预警"
    assert body["call_id"] == alert.call_id and body["agent_id"] == "8001" and body["score"] == 100.0
    assert body["reasons"] == alert.reasons and body["link"] == f"/api/v1/calls/{alert.call_id}"
    assert body["started_at"] == "2024-03-15T01:01:00Z"  # 09:01 in Shanghai
    assert body["kind"] == "call" and body["call_ids"] == [alert.call_id] and body["project"] is None
    assert set(body) == {"alert_id", "kind", "level", "level_name", "reasons", "call_id", "call_ids", "project",
                         "topic", "agent_id", "score", "started_at", "created_at", "link"}  # fmt: skip


def test_an_alert_of_several_calls_is_raised_once_grows_and_is_delivered_with_its_calls(
    env: Env, make_hook: Callable[..., Hook]
) -> None:
    hook = make_hook(lambda n: 200)
    settings = env.settings(webhook_url=hook.url, retries=0)
    made = [env.call(RED) for _ in range(4)]
    ids = [c.id for c, _ in made]

    def group(call_ids: list[str], reason: str) -> alerts.GroupAlert:
        return alerts.GroupAlert(kind=AlertKind.CLUSTER, subject="yangguang|漏水/维修|x", level=AlertLevel.RED,
                                 reasons=[reason], call_ids=call_ids, project="yangguang",
                                 topic="漏水/维修")  # fmt: skip

    call, analysis = made[2]
    with env.db.session() as session:
        raised = alerts.group_alert(session, settings.alerts, call, analysis, group(ids[:3], "3 位来电人"))
        assert raised is not None and raised.delivery == "pending" and raised.kind == "cluster"
        # The call's own (red) alert and the cluster alert live side by side on the same analysis.
        assert alerts.raise_alert(session, settings.alerts, call, analysis) is not None
    with env.db.session() as session:
        later, later_analysis = made[3]
        grew = alerts.group_alert(session, settings.alerts, later, later_analysis, group([ids[3]], "4 位来电人"))
        assert grew is None
        assert alerts.alert_call_ids(session, raised.id) == ids
        grown = alerts.get_alert(session, raised.id)
        assert grown.reasons == ["4 位来电人"] and grown.updated_at is not None
        assert [a.id for a in alerts.list_alerts(session, kind="cluster").items] == [raised.id]
    webhooks.enqueue_delivery(env.queue(), settings.alerts, raised.id)
    env.work(settings)
    [received] = [r.body for r in hook.received if r.body["alert_id"] == raised.id]
    assert received["kind"] == "cluster" and received["call_ids"] == ids and received["call_id"] == ids[2]
    assert (received["project"], received["topic"], received["level"]) == ("yangguang", "漏水/维修", "red")
    # Closed, a new cluster on the same subject is a new alert.
    with env.db.session() as session:
        alerts.get_alert(session, raised.id).status = "closed"
    with env.db.session() as session:
        again = alerts.group_alert(session, settings.alerts, later, later_analysis, group([ids[3]], "再次"))
        assert again is not None and again.id != raised.id


def test_webhook_gives_up_after_the_retries(env: Env, make_hook: Callable[..., Hook]) -> None:
    hook = make_hook(lambda n: 503)
    settings = env.settings(webhook_url=hook.url, retries=2)
    alert = env.raise_alert(settings.alerts, RED)
    webhooks.enqueue_delivery(env.queue(), settings.alerts, alert.id)
    env.work(settings)
    attempts = env.attempts(alert.id)
    assert [(a.attempt, a.status_code, a.ok) for a in attempts] == [(1, 503, False), (2, 503, False), (3, 503, False)]
    assert all(a.error and a.error.startswith("HTTP 503") for a in attempts)
    assert env.alert(alert.id).delivery == "failed"
    assert len(hook.received) == 3 and all(r.signature_ok for r in hook.received)

    # Redelivery (admin) goes on numbering the attempts; this time the server accepts.
    hook.status = lambda n: 200
    with env.db.session() as session:
        alerts.redeliver(session, settings.alerts, "user:admin", "admin", alert.id)
    webhooks.enqueue_delivery(env.queue(), settings.alerts, alert.id)
    env.work(settings)
    assert [(a.attempt, a.ok) for a in env.attempts(alert.id)][-1] == (4, True)
    assert env.alert(alert.id).delivery == "delivered"


def test_connection_errors_are_attempts_too(env: Env) -> None:
    settings = env.settings(webhook_url=closed_port_url(), retries=1, secret=None)
    alert = env.raise_alert(settings.alerts, RED)
    webhooks.enqueue_delivery(env.queue(), settings.alerts, alert.id)
    env.work(settings)
    attempts = env.attempts(alert.id)
    assert [(a.attempt, a.status_code, a.ok) for a in attempts] == [(1, None, False), (2, None, False)]
    assert all(a.error and "ConnectError" in a.error for a in attempts)
    assert env.alert(alert.id).delivery == "failed"


def test_worker_raises_and_delivers_alerts(env: Env, make_hook: Callable[..., Hook], samples_dir: Path) -> None:
    """process_call and rescoring raise the alert in the analysis' transaction, then queue the delivery."""
    hook = make_hook(lambda n: 200)
    settings = env.settings(webhook_url=hook.url, retries=1)
    audio = LocalAudioStore(settings.audio_store_dir)
    wav = samples_dir / "call01_leak_stereo.wav"
    new = store.NewCall(audio_sha256=audio.put_file(wav, ".wav"), audio_bytes=wav.stat().st_size,
                        audio_name=wav.name, source="import", agent_id="8001", call_id="live-1",
                        started_at=datetime(2024, 3, 15, 9, 30, tzinfo=TZ))  # fmt: skip
    with env.db.session() as session:
        store.register_calls(session, [new], TZ)
    connection = connect_redis(env.redis_url)
    assert enqueue_calls(env.db, make_queue(settings, connection), settings, ["live-1"]) == 1
    env.work(settings)  # the call job, then the delivery job it queued

    with env.db.session() as session:
        call = store.get_call(session, "live-1")
        assert call is not None and call.status == "done" and call.alert == "red"
        [alert] = session.scalars(select(AlertEvent).where(AlertEvent.call_id == "live-1"))
        assert alert.analysis_id == call.analysis_id and alert.level == "red" and alert.delivery == "delivered"
        assert session.scalar(select(Review.reason).where(Review.call_id == "live-1")) == "red"  # review hook
    assert [r.body["call_id"] for r in hook.received] == ["live-1"]

    # Activating a rule set that makes the escalation yellow rescores the call: a new (yellow) alert.
    rule_set_id, _ = _variant(env, "yellow")
    with env.db.session() as session:
        rulesets.activate(session, rule_set_id)
    enqueue_rescore(env.db, make_queue(settings, connection), settings, rule_set_id)
    env.work(settings)
    connection.close()
    with env.db.session() as session:
        levels = session.execute(
            select(AlertEvent.level, AlertEvent.delivery).where(AlertEvent.call_id == "live-1").order_by(AlertEvent.id)
        ).all()
    assert [tuple(row) for row in levels] == [("red", "delivered"), ("yellow", "delivered")]
    assert [r.body["level"] for r in hook.received] == ["red", "yellow"]
