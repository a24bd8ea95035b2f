"""``inspector purge``, run in-process against a real database (SQLite in a temp data dir, and PostgreSQL) and a
real audio store, with the periods from the environment."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakecalls import four_turn_transcript
from sqlalchemy import func, select

from inspector.cli.main import main
from inspector.privacy.retention import format_bytes
from inspector.settings import Settings
from inspector.store import calls as store
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database, utcnow
from inspector.store.schema import Call, TranscriptRecord

TZ = ZoneInfo("Asia/Shanghai")
TRANSCRIPT = four_turn_transcript(("您好，物业客服中心。", "我家漏水了。", "马上安排师傅。", "再见。"))


@pytest.fixture
def cli_env(env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INSPECTOR_DATABASE_URL", database_url)
    return env


def _seed(ages: dict[str, int]) -> dict[str, str]:
    """Done calls with a transcript, ``ages`` days old (by their start); their recordings' sha256 by call id."""
    settings = Settings()
    db = Database(settings.database)
    db.upgrade()
    audio = LocalAudioStore(settings.audio_store_dir)
    digests = {}
    for call_id, age in ages.items():
        path = settings.data_dir / f"{call_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(call_id.encode() * 3000)
        digest = digests[call_id] = audio.put_file(path, ".wav")
        new = store.NewCall(audio_sha256=digest, audio_bytes=path.stat().st_size, audio_name=path.name,
                            source="import", agent_id="8001", call_id=call_id,
                            started_at=utcnow() - timedelta(days=age))  # fmt: skip
        with db.session() as s:
            store.register_calls(s, [new], TZ)
            call = store.claim(s, call_id, lease_s=600)
            assert call is not None
            store.save_transcript(s, call_id, TRANSCRIPT)
            store.finish(s, call)
    db.dispose()
    return digests


def _stored() -> tuple[int, int, list[str]]:
    """Calls whose audio is purged, transcripts kept, blobs in the store."""
    settings = Settings()
    db = Database(settings.database)
    with db.session() as s:
        purged = s.scalar(select(func.count()).select_from(Call).where(Call.audio_purged_at.is_not(None))) or 0
        transcripts = s.scalar(select(func.count()).select_from(TranscriptRecord)) or 0
    db.dispose()
    return purged, transcripts, sorted(p.name for p in settings.audio_store_dir.rglob("*") if p.is_file())


def test_purge_without_a_period_keeps_everything(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed({"old": 400})
    before = _stored()
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.startswith("未设置保留期限")
    assert main(["purge", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"dry_run": False, "retention": None}
    assert _stored() == before


def test_dry_run_then_purge_then_nothing_left(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSPECTOR_RETENTION__ORIGINAL_AUDIO_DAYS", "30")
    monkeypatch.setenv("INSPECTOR_RETENTION__TRANSCRIPT_DAYS", "90")
    digests = _seed({"fresh": 3, "mid": 60, "old": 120})
    audio = LocalAudioStore(Settings().audio_store_dir)
    freed = format_bytes(audio.size(digests["mid"]) + audio.size(digests["old"]))
    before = _stored()

    assert main(["purge", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == f"将清除：原始录音 2 个（{freed}），脱敏录音 永久保留，转写 1 份"
    assert _stored() == before

    assert main(["purge"]) == 0
    assert capsys.readouterr().out.strip() == f"已清除：原始录音 2 个（{freed}），脱敏录音 永久保留，转写 1 份"
    purged, transcripts, blobs = _stored()
    assert (purged, transcripts) == (2, 2) and len(blobs) == 1 and blobs[0].startswith(digests["fresh"])

    assert main(["purge", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["original_audio"] == {"days": 30, "count": 0, "bytes": 0, "failed": 0}
    assert data["masked_audio"]["days"] is None and data["transcripts"]["days"] == 90
    assert data["bytes_freed"] == 0 and data["dry_run"] is False and data["complete"] is True


def test_a_recording_that_cannot_be_removed_exits_1(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSPECTOR_RETENTION__ORIGINAL_AUDIO_DAYS", "30")
    _seed({"old": 120})

    def refuse(self: LocalAudioStore, digest: str) -> None:
        raise PermissionError(13, "Permission denied", digest)

    monkeypatch.setattr(LocalAudioStore, "delete", refuse)
    assert main(["purge"]) == 1
    assert "原始录音 0 个（0 字节），1 个删除失败（见日志）" in capsys.readouterr().out
    assert _stored()[0] == 0
