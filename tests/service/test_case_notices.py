"""Escalation notices of complaint cases (超时升级通知) through the real queue and a real HTTP receiver, on SQLite
and PostgreSQL: an overdue red case climbs the ladder, each new step becomes one pending notice, and the worker
POSTs it signed to the alert webhook (retried until accepted); a receiver that keeps refusing leaves it failed;
without a webhook no notice is made."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from fakecalls import four_turn_transcript as transcript
from rq import Queue

from inspector.people import alerts, cases
from inspector.people.case_sla import escalate_overdue
from inspector.people.org import apply_org, parse_org
from inspector.qa.analysis import Analyzer
from inspector.service.case_notices import enqueue_case_notice
from inspector.service.context import WorkerContext
from inspector.service.webhooks import SIGNATURE_HEADER
from inspector.service.worker import run_worker
from inspector.settings import PROJECT_ROOT, AlertSettings, CaseSettings, QueueSettings, Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database
from inspector.store.schema import CaseNotice
from inspector.store.users import create_user, deactivate, require_user

TZ = ZoneInfo("Asia/Shanghai")
SECRET = "notice-secret"
T0 = datetime(2024, 3, 15, 2, 0)  # naive UTC
RED = ("您好，物业客服中心，工号三一五七。", "我家厨房漏水三天了，再不来修我要投诉你们。",
       "非常抱歉给您带来不便，马上安排师傅上门。", "感谢您的来电，再见。")  # fmt: skip
CASES = CaseSettings()


@pytest.fixture
def hook() -> Iterator[Callable[[Callable[[int], int]], Any]]:
    servers: list[ThreadingHTTPServer] = []

    def make(status: Callable[[int], int]) -> Any:
        got: dict[str, Any] = {"bodies": [], "signed": []}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                got["signed"].append(self.headers.get(SIGNATURE_HEADER) == expected)
                got["bodies"].append(json.loads(body))
                self.send_response(status(len(got["bodies"])))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        got["url"] = f"http://127.0.0.1:{server.server_address[1]}/hooks/cases"
        return got

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def _settings(db: Database, tmp: Path, redis_url: str, url: str | None, retries: int) -> Settings:
    return Settings(data_dir=tmp / "data", database_url=db.url, redis_url=redis_url,
                    queue=QueueSettings(name="test-case-notices", retries=0, backoff_s=[0]),
                    alerts=AlertSettings(webhook_url=url, secret=SECRET, retries=retries, backoff_s=[0],
                                         timeout_s=5.0))  # fmt: skip


def _red_case(db: Database) -> int:
    call_id = f"n-{uuid.uuid4().hex[:8]}"
    new = store.NewCall(audio_sha256=uuid.uuid4().hex * 2, audio_bytes=10, audio_name=f"{call_id}.wav",
                        source="import", agent_id="8001", call_id=call_id, started_at=T0, team_id="A组",
                        project="yangguang")  # fmt: skip
    with db.session() as session:
        store.register_calls(session, [new], TZ)
        rule_set_id = rulesets.ensure_default(session, PROJECT_ROOT / "rules").id
    with db.session() as session:
        call = store.claim(session, call_id, lease_s=600)
        text = transcript(RED)
        store.save_transcript(session, call_id, text)
        analysis = store.save_analysis(session, call, Analyzer(Settings()).analyze_transcript(text, "8001"),
                                       rule_set_id, True)  # fmt: skip
        store.finish(session, call)
        alert = alerts.raise_alert(session, AlertSettings(), call, analysis)
        [case] = [cases.open_case(session, CASES, call=call, actor="system:cases", role="system", now=T0,
                                  alert=alert)]  # fmt: skip
        return case.id


def _work(db: Database, settings: Settings) -> None:
    context = WorkerContext(settings, db, LocalAudioStore(settings.audio_store_dir), pipeline=None)
    run_worker(settings, burst=True, context=context)


def test_each_escalation_step_is_posted_once_and_retried_until_taken(
    database: Database, tmp_path: Path, redis_url: str, hook: Callable[..., Any]
) -> None:
    got = hook(lambda n: 503 if n == 1 else 200)  # the receiver is busy once
    settings = _settings(database, tmp_path, redis_url, got["url"], retries=3)
    case_id = _red_case(database)
    with database.session() as session:  # who manages 8001's team A组, its project, its region
        apply_org(session, parse_org({"id": "g", "regions": [{"id": "east", "name": "华东区域", "projects": [
            {"id": "yangguang", "name": "阳光花园", "teams": ["A组"]}]}]}))  # fmt: skip
        for username, name, team, scope in (("lead_a", "王班长", "A组", None), ("pm", "周经理", None, "yangguang"),
                                            ("pm_old", "离职经理", None, "yangguang"), ("rm", "", None, "east"),
                                            ("lead_pm", "李经理", "A组", "yangguang")):  # fmt: skip
            create_user(session, username, "correct-horse-battery", "team_lead", display_name=name, team_id=team,
                        scope=scope)  # fmt: skip
        deactivate(session, require_user(session, "pm_old"))
    with database.session() as session:  # 250 min after opening: past 15 min, +60 and +240 → all three steps
        steps = escalate_overdue(session, CASES, T0 + timedelta(minutes=15 + 250), notify=True)
    assert [(s.step, s.role) for s in steps] == [(1, "班组长"), (2, "项目经理"), (3, "区域")]
    assert all(s.notice_id is not None for s in steps)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    queue = Queue("test-case-notices", connection=connection)
    for step in steps:
        enqueue_case_notice(queue, settings.alerts, step.notice_id)
    _work(database, settings)

    with database.session() as session:
        notices = cases.case_notices(session, case_id)
        assert [(n.step, n.role, n.deadline, n.status) for n in notices] == [
            (1, "班组长", "respond", "delivered"), (2, "项目经理", "respond", "delivered"),
            (3, "区域", "respond", "delivered")]  # fmt: skip
        assert sorted(n.attempts for n in notices) == [1, 1, 2] and all(n.delivered_at for n in notices)
    assert len(got["bodies"]) == 4 and all(got["signed"])
    body = next(b for b in got["bodies"] if b["role"] == "项目经理")
    assert body["event"] == "case.escalated" and body["case_id"] == case_id and body["level"] == "red"
    assert body["status_name"] == "受理" and body["deadline_name"] == "首次响应" and body["project"] == "yangguang"
    assert body["due"] == "2024-03-15T02:15:00Z" and body["link"] == f"/api/v1/cases/{case_id}"
    assert len(body["call_ids"]) == 1
    addressed = {b["role"]: (b["node"], b["recipients"]) for b in got["bodies"]}
    assert addressed["班组长"] == ({"id": "A组", "level": "team", "name": "A组"},
                                 [{"username": "lead_a", "name": "王班长"}])  # lead_pm manages the project instead
    assert addressed["项目经理"] == ({"id": "yangguang", "level": "project", "name": "阳光花园"},
                                  [{"username": "lead_pm", "name": "李经理"}, {"username": "pm", "name": "周经理"}])
    assert addressed["区域"] == ({"id": "east", "level": "region", "name": "华东区域"},
                               [{"username": "rm", "name": "rm"}])

    with database.session() as session:  # the same steps again: nothing new to send
        assert escalate_overdue(session, CASES, T0 + timedelta(minutes=900), notify=True) == []
    connection.close()


def test_a_refusing_receiver_leaves_the_notice_failed_and_no_webhook_makes_none(
    database: Database, tmp_path: Path, redis_url: str, hook: Callable[..., Any]
) -> None:
    got = hook(lambda n: 500)
    settings = _settings(database, tmp_path, redis_url, got["url"], retries=1)
    case_id = _red_case(database)
    with database.session() as session:
        [step] = escalate_overdue(session, CASES, T0 + timedelta(minutes=16), notify=True)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    enqueue_case_notice(Queue("test-case-notices", connection=connection), settings.alerts, step.notice_id)
    _work(database, settings)
    with database.session() as session:
        notice = session.get(CaseNotice, step.notice_id)
        assert notice.status == "failed" and notice.attempts == 2 and notice.error.startswith("HTTP 500")
    connection.close()

    other = _red_case(database)
    with database.session() as session:  # without a webhook the step is recorded, no notice is made
        steps = escalate_overdue(session, CASES, T0 + timedelta(minutes=16))
        assert [s.case_id for s in steps] == [other] and steps[0].notice_id is None
        assert cases.case_notices(session, other) == [] and case_id != other
