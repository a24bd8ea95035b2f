"""inspector.intake.scan: the directory scan into an import plan (no audio decoding)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pbx import MASTER_HEADER, TZ, at, master_row, write

from inspector.intake import scan as scan_module
from inspector.intake.cdr import Cdr, CdrMapping, read_cdr
from inspector.intake.filenames import conventions_for
from inspector.intake.metadata import CallMetadata, ImportInputError
from inspector.intake.scan import ImportItem, SkippedFile, scan

UUID = "6f1c2f0e-3b4a-4e55-9a7c-1d2e3f405162"


# --------------------------------------------------------------------------- scan


def test_scan_reports_every_file(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    good = write(root / "2024/03/15/in-8001-13812345678-20240315-093012-1710466212.42.wav")
    notes = write(root / "notes.txt", b"hello")
    empty = write(root / "out-13812345678-8002-20240315-101500-1710468900.57.wav", b"")
    queue = write(root / "q-600-13812345678-20240315-093012-1710466212.43.wav")
    unnamed = write(root / "recording.mp3")
    write(root / ".DS_Store", b"x")
    write(root / "._in-8001-13812345678-20240315-093012-1710466212.44.wav", b"x")
    write(root / ".hidden/in-8001-13812345678-20240315-093012-1710466212.45.wav", b"x")
    noext = write(root / "README", b"x")

    results = list(scan(root, tz=TZ))
    assert [r.path for r in results] == sorted(r.path for r in results)
    by_path = {r.path: r for r in results}
    assert set(by_path) == {good, notes, empty, queue, unnamed, noext}

    item = by_path[good]
    assert isinstance(item, ImportItem)
    assert item.source == "filename" and item.metadata.agent_id == "8001"
    assert by_path[notes] == SkippedFile(notes, "不是支持的录音格式 (.txt)")
    assert isinstance(by_path[noext], SkippedFile) and "无扩展名" in by_path[noext].reason
    assert isinstance(by_path[empty], SkippedFile) and "为空" in by_path[empty].reason
    assert isinstance(by_path[queue], SkippedFile)
    assert by_path[queue].reason.startswith("无法确定坐席工号：") and "未提供 CDR" in by_path[queue].reason
    assert isinstance(by_path[unnamed], SkippedFile)
    assert "文件名不符合" in by_path[unnamed].reason


def test_scan_cdr_wins_over_filename(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    name = "in-8001-13812345678-20240315-093012-1710466212.42.wav"
    from_name = write(root / name)
    queue = write(root / "q-600-13912345678-20240315-100000-1710468000.7.mp3")  # CDR has the .wav
    by_id = write(root / "archive/2024/03/15" / f"{UUID}.wav")
    missing = write(root / "q-600-13712345678-20240315-110000-1710471600.9.wav")
    lines = [
        MASTER_HEADER,
        master_row("13812345678", "8009", "2024-03-15 09:30:10", "61", "1710466212.42", name),
        master_row("13912345678", "8003", "2024-03-15 10:00:00", "20", "1710468000.7", queue.stem + ".wav"),
        master_row("13612345678", "8004", "2024-03-15 10:30:00", "33", UUID, ""),
    ]
    cdr = read_cdr(write(tmp_path / "cdr.csv", "\n".join(lines).encode()), CdrMapping(), TZ)

    results = {r.path: r for r in scan(root, cdr=cdr, tz=TZ)}
    merged = results[from_name]
    assert isinstance(merged, ImportItem) and merged.source == "filename+cdr"
    assert merged.metadata.agent_id == "8009"  # the CDR wins
    assert merged.metadata.started_at == at(2024, 3, 15, 9, 30, 10)
    assert merged.metadata.direction == "inbound"  # only the file name knows it
    assert merged.metadata.duration_s == 61.0
    queued = results[queue]
    assert isinstance(queued, ImportItem) and queued.metadata.agent_id == "8003"
    via_uuid = results[by_id]
    assert isinstance(via_uuid, ImportItem) and via_uuid.source == "filename+cdr"
    assert via_uuid.metadata.agent_id == "8004" and via_uuid.metadata.call_id == UUID
    skipped = results[missing]
    assert isinstance(skipped, SkippedFile) and "CDR 中没有该录音" in skipped.reason


def test_scan_cdr_only_and_require_agent_false(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    known = write(root / "0001.wav")
    unknown = write(root / "0002.wav")
    cdr = Cdr(tmp_path / "cdr.csv", {"0001.wav": CallMetadata(agent_id="8001")}, {}, [])
    results = {r.path: r for r in scan(root, cdr=cdr, tz=TZ, require_agent=False)}
    assert results[known] == ImportItem(known, CallMetadata(agent_id="8001"), "cdr")
    assert results[unknown] == ImportItem(unknown, CallMetadata(), "none")


def test_scan_glob_and_custom_conventions(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    top = write(root / "8001_13812345678_20240315093012.wav")
    write(root / "sub/8002_13812345678_20240315093012.wav")
    conventions = conventions_for("{agent_id}_{caller}_{datetime}")
    results = list(scan(root, glob="*", conventions=conventions, tz=TZ))
    expected = CallMetadata(agent_id="8001", caller="13812345678", started_at=at(2024, 3, 15, 9, 30, 12))
    assert results == [ImportItem(top, expected, "filename")]


def test_scan_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "rec"
    locked = write(root / "in-8001-13812345678-20240315-093012-1710466212.42.wav")
    fine = write(root / "in-8001-13812345678-20240315-093013-1710466213.42.wav")
    real_probe = scan_module._probe_readable

    def probe(path: Path) -> None:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        real_probe(path)

    monkeypatch.setattr(scan_module, "_probe_readable", probe)
    results = {r.path: r for r in scan(root, tz=TZ)}
    assert results[locked] == SkippedFile(locked, "无法读取：Permission denied")
    assert isinstance(results[fine], ImportItem)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_scan_permission_denied_for_real(tmp_path: Path) -> None:
    locked = write(tmp_path / "rec" / "in-8001-13812345678-20240315-093012-1710466212.42.wav")
    locked.chmod(0)
    try:
        (result,) = scan(tmp_path / "rec", tz=TZ)
    finally:
        locked.chmod(0o644)
    assert isinstance(result, SkippedFile) and result.reason.startswith("无法读取")


def test_scan_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ImportInputError, match="目录不存在"):
        scan(tmp_path / "nope", tz=TZ)  # raised at once, before iterating
    with pytest.raises(ImportInputError, match="不是目录"):
        scan(write(tmp_path / "file.wav"), tz=TZ)


def test_scan_is_deterministic(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    for name in ("b", "a", "c/z", "c/a", "A"):
        write(root / f"{name}-8001-13812345678-20240315-093012-1710466212.42.wav")
    first = list(scan(root, tz=TZ))
    assert first == list(scan(root, tz=TZ))
    assert [r.path for r in first] == sorted(r.path for r in first)


def test_scan_ten_thousand_files(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    for day in range(10):
        folder = root / f"2024/03/{day + 10:02d}"
        folder.mkdir(parents=True)
        for i in range(1000):
            minute = second = f"{i % 60:02d}"
            name = f"in-{8000 + i % 50}-138{i:08d}-202403{day + 10:02d}-09{minute}{second}-1710466{i:03d}.{day}.wav"
            (folder / name).write_bytes(b"RIFF")
    results = list(scan(root, tz=TZ))
    assert len(results) == 10_000
    assert all(isinstance(r, ImportItem) for r in results)
    assert len({r.path for r in results}) == 10_000
