"""Shared by the service tests: the environment (settings, database, audio store, queue on the module's
private Redis), stand-ins for the speech pipeline, and helpers to register, work and inspect calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rq import Queue
from sqlalchemy import func, select, update

from inspector.service.context import WorkerContext
from inspector.service.worker import run_worker
from inspector.settings import AudioSettings, Settings
from inspector.speech.audio import decode
from inspector.speech.transcript import Transcript
from inspector.store import calls as store
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database
from inspector.store.schema import Call

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Env:
    settings: Settings
    db: Database
    audio: LocalAudioStore
    queue: Queue


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


def reference(samples_dir: Path, name: str) -> Transcript:
    return Transcript.from_dict(json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8")))


def register(env: Env, path: Path, call_id: str, agent_id: str = "8001") -> str:
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


def work(env: Env, pipeline: object) -> None:
    context = WorkerContext(env.settings, env.db, env.audio, pipeline=pipeline)  # type: ignore[arg-type]
    run_worker(env.settings, burst=True, context=context)


def get_call(env: Env, call_id: str) -> Call:
    with env.db.session() as session:
        call = store.get_call(session, call_id)
        assert call is not None
        return call


def count_rows(env: Env, model: type, call_id: str) -> int:
    with env.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.call_id == call_id))


def set_call(env: Env, call_id: str, **values: object) -> None:
    with env.db.session() as session:
        session.execute(update(Call).where(Call.id == call_id).values(**values))
