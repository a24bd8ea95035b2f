"""Batch import into the real database (SQLite and PostgreSQL); the queue side is tested in tests/service."""

from __future__ import annotations

from pathlib import Path

from pbx import TZ
from sqlalchemy import func, select

from inspector.intake.ingest import import_recordings
from inspector.intake.scan import scan
from inspector.store.blobs import LocalAudioStore, sha256_file
from inspector.store.schema import Agent, Call


def _pbx_folder(root: Path, samples_dir: Path) -> Path:
    folder = root / "pbx"
    (folder / "2024" / "03").mkdir(parents=True)
    wavs = sorted(samples_dir.glob("*.wav"))[:3]
    names = ["in-8001-13812345678-20240315-093012-1710466212.42.wav",
             "out-13900001111-8002-20240315-101500-1710468900.57.wav",
             "2024/03/2024-03-16-08-00-00_8003_13700000000.wav"]  # fmt: skip
    for src, name in zip(wavs, names, strict=True):
        (folder / name).write_bytes(src.read_bytes())
    (folder / "copy-of-first.wav").write_bytes(wavs[0].read_bytes())  # no agent in the name
    (folder / "in-8004-13812345678-20240315-093012-1710466299.1.wav").write_bytes(wavs[0].read_bytes())  # same audio
    (folder / "readme.txt").write_text("not audio")
    (folder / "in-8005-1381234-20240315-093012-1.2.wav").write_bytes(b"")
    return folder


def test_import_registers_once_and_reports_every_skip(database, tmp_path: Path, samples_dir: Path) -> None:
    folder = _pbx_folder(tmp_path, samples_dir)
    store = LocalAudioStore(tmp_path / "audio")
    enqueued: list[str] = []

    def enqueue(ids):
        enqueued.extend(ids)
        return len(ids)

    summary = import_recordings(scan(folder, tz=TZ), db=database, audio_store=store, tz=TZ, enqueue=enqueue)
    assert len(summary.imported) == 3 and summary.enqueued == 3 and enqueued == summary.imported
    assert [p.name for p, _ in summary.duplicates] == ["in-8004-13812345678-20240315-093012-1710466299.1.wav"]
    skipped = {p.name: reason for p, reason in summary.skipped}
    assert set(skipped) == {"copy-of-first.wav", "readme.txt", "in-8005-1381234-20240315-093012-1.2.wav"}
    assert all(reason for reason in skipped.values())

    with database.session() as s:
        calls = {c.id: c for c in s.scalars(select(Call))}
        assert set(calls) == {"1710466212.42", "1710468900.57", *[c for c in calls if len(c) == 32]}
        first = calls["1710466212.42"]
        assert first.agent_id == "8001" and first.caller == "13812345678" and first.direction == "inbound"
        assert first.status == "queued" and first.source == "import"
        assert str(first.day) == "2024-03-15"
        assert store.local_path(first.audio_sha256).read_bytes() == (folder / first.audio_name).read_bytes()
        assert sha256_file(folder / first.audio_name) == first.audio_sha256
        assert set(s.scalars(select(Agent.id))) == {"8001", "8002", "8003"}

    again = import_recordings(scan(folder, tz=TZ), db=database, audio_store=store, tz=TZ, enqueue=enqueue)
    assert again.imported == [] and again.enqueued == 0 and len(again.duplicates) == 4
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 3


def test_default_agent_and_team(database, tmp_path: Path, samples_dir: Path) -> None:
    folder = _pbx_folder(tmp_path, samples_dir)
    summary = import_recordings(scan(folder, tz=TZ, require_agent=False), db=database,
                                audio_store=LocalAudioStore(tmp_path / "audio"), tz=TZ, enqueue=None,
                                default_agent="9999", team="一组")  # fmt: skip
    # Sorted order: copy-of-first.wav (no agent in its name → 9999) comes before in-8001-…, whose audio is
    # the same recording and so a duplicate.
    assert len(summary.imported) == 3 and len(summary.duplicates) == 2
    with database.session() as s:
        agents = {a.id: a.team_id for a in s.scalars(select(Agent))}
    assert agents == {"9999": "一组", "8002": "一组", "8003": "一组"}


def test_cdr_project_and_unit_are_stored_normalized(database, tmp_path: Path, samples_dir: Path) -> None:
    from inspector.intake.cdr import CdrMapping, read_cdr
    from inspector.intake.placing import project_catalog

    folder = tmp_path / "pbx"
    folder.mkdir()
    wavs = sorted(samples_dir.glob("*.wav"))[:3]
    for i, src in enumerate(wavs):
        (folder / f"rec{i}.wav").write_bytes(src.read_bytes())
    cdr_path = tmp_path / "cdr.csv"
    cdr_path.write_text(
        "录音文件,坐席工号,小区,房号\n"
        "rec0.wav,8001,阳光小区,3栋1单元601室\n"  # an alias, and the room as staff type it
        "rec1.wav,8002,不在清单里的小区,\n"  # kept as given: the list may lag behind
        "rec2.wav,8003,,\n",
        encoding="utf-8",
    )
    projects = tmp_path / "projects.yaml"
    projects.write_text("projects:\n  - id: yangguang\n    name: 阳光花园\n    aliases: [阳光小区]\n", encoding="utf-8")
    cdr = read_cdr(cdr_path, CdrMapping.parse("recording=录音文件,agent_id=坐席工号,project=小区,unit=房号,"
                                              "call_id=,caller=,started_at=,duration="), TZ)  # fmt: skip
    assert cdr.errors == []
    summary = import_recordings(scan(folder, tz=TZ, cdr=cdr), db=database, audio_store=LocalAudioStore(tmp_path / "a"),
                                tz=TZ, enqueue=None, catalog=project_catalog(projects))  # fmt: skip
    assert len(summary.imported) == 3, summary.skipped
    with database.session() as s:
        calls = {c.audio_name: c for c in s.scalars(select(Call))}
    first = calls["rec0.wav"]
    assert (first.project, first.building, first.unit) == ("yangguang", "3号楼", "3号楼1单元601")
    assert first.location_source == "metadata" and first.location_confidence == 1.0
    assert calls["rec1.wav"].project == "不在清单里的小区" and calls["rec1.wav"].unit is None
    third = calls["rec2.wav"]
    assert (third.project, third.location_source) == (None, None)  # left for the transcript to tell
