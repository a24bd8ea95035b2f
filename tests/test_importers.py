"""inspector.importers: file name conventions, CDR reading and the directory scan (no audio decoding)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inspector import importers
from inspector.importers import (
    ASTERISK,
    FREESWITCH,
    CallMetadata,
    Cdr,
    CdrMapping,
    CdrRowError,
    ImportInputError,
    ImportItem,
    SkippedFile,
    convention_from_pattern,
    conventions_for,
    parse_filename,
    read_cdr,
    scan,
)

TZ = ZoneInfo("Asia/Shanghai")
BUILTIN = (ASTERISK, FREESWITCH)
UUID = "6f1c2f0e-3b4a-4e55-9a7c-1d2e3f405162"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def write(path: Path, data: bytes = b"RIFF") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- metadata


def test_merged_prefers_self_and_fills_gaps() -> None:
    cdr = CallMetadata(agent_id="8001", duration_s=61.0)
    name = CallMetadata(agent_id="9999", caller="0755123456", call_id="1.2")
    merged = cdr.merged(name)
    assert merged == CallMetadata(agent_id="8001", duration_s=61.0, caller="0755123456", call_id="1.2")


# --------------------------------------------------------------------------- Asterisk / FreePBX


def test_asterisk_inbound() -> None:
    meta = ASTERISK.parse("in-8001-13812345678-20240315-093012-1710466212.42.wav", TZ)
    assert meta == CallMetadata(
        call_id="1710466212.42",
        agent_id="8001",
        started_at=at(2024, 3, 15, 9, 30, 12),
        direction="inbound",
        caller="13812345678",
    )
    assert meta.started_at is not None and meta.started_at.utcoffset() is not None


def test_asterisk_outbound_swaps_roles() -> None:
    meta = ASTERISK.parse("out-13812345678-8001-20240315-101500-1710468900.57.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.direction) == ("8001", "13812345678", "outbound")
    assert meta.call_id == "1710468900.57"
    assert meta.started_at == at(2024, 3, 15, 10, 15, 0)


def test_asterisk_queue_has_no_agent() -> None:
    meta = ASTERISK.parse("q-600-13812345678-20240315-093012-1710466212.42.wav", TZ)
    assert meta is not None
    assert meta.agent_id is None
    assert (meta.caller, meta.direction, meta.call_id) == ("13812345678", "inbound", "1710466212.42")


def test_asterisk_inbound_to_a_did_has_no_agent() -> None:
    meta = ASTERISK.parse("in-4008001234-13812345678-20240315-093012-1710466212.42.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.direction) == (None, "13812345678", "inbound")


def test_asterisk_exten_and_force() -> None:
    internal = ASTERISK.parse("exten-8001-8002-20240315-093012-1710466212.42.wav", TZ)
    assert internal is not None
    assert (internal.agent_id, internal.caller, internal.direction) == ("8001", "8002", None)
    incoming = ASTERISK.parse("exten-8001-02787654321-20240315-093012-1710466212.43.mp3", TZ)
    assert incoming is not None
    assert (incoming.agent_id, incoming.caller, incoming.direction) == ("8001", "02787654321", "inbound")
    forced = ASTERISK.parse("force-0821XXXX8663-3201-20250327-092517-1743042317.12206.wav", TZ)
    assert forced is not None
    assert (forced.agent_id, forced.caller, forced.direction) == ("3201", "0821XXXX8663", "outbound")


def test_asterisk_keeps_numbers_and_system_name_uniqueid() -> None:
    meta = ASTERISK.parse("IN-8001-+8613812345678-20240315-093012-pbx01-1710466212.42.WAV", TZ)
    assert meta is not None
    assert meta.caller == "+8613812345678"
    assert meta.call_id == "pbx01-1710466212.42"
    assert meta.direction == "inbound"
    leading_zero = ASTERISK.parse("in-8001-075512345678-20240315-093012-1710466212.42.wav", TZ)
    assert leading_zero is not None and leading_zero.caller == "075512345678"


def test_invalid_date_does_not_match() -> None:
    assert ASTERISK.parse("in-8001-13812345678-20241345-093012-1710466212.42.wav", TZ) is None
    assert ASTERISK.parse("in-8001-13812345678-20240315-253012-1710466212.42.wav", TZ) is None
    assert FREESWITCH.parse("2024-02-30-09-30-12_8001_13812345678.wav", TZ) is None
    assert parse_filename("in-8001-13812345678-20241345-093012-1710466212.42.wav", BUILTIN, TZ) is None


# --------------------------------------------------------------------------- FreeSWITCH


def test_freeswitch_datetime_destination_caller() -> None:
    meta = FREESWITCH.parse("2024-03-15-09-30-12_8001_13812345678.wav", TZ)
    assert meta == CallMetadata(
        agent_id="8001", started_at=at(2024, 3, 15, 9, 30, 12), direction="inbound", caller="13812345678"
    )


def test_freeswitch_outbound_when_destination_is_external() -> None:
    meta = FREESWITCH.parse("2024-03-15-09-30-12_013812345678_8001.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.direction) == ("8001", "013812345678", "outbound")


def test_freeswitch_uuid_only() -> None:
    assert FREESWITCH.parse(f"{UUID}.wav", TZ) == CallMetadata(call_id=UUID)
    assert parse_filename(f"{UUID}.wav", BUILTIN, TZ) == CallMetadata(call_id=UUID)


def test_unknown_names_do_not_match() -> None:
    for name in ("recording.wav", "8001.wav", "in-8001.wav", "2024-03-15_8001.wav", ".wav"):
        assert parse_filename(name, BUILTIN, TZ) is None, name


# --------------------------------------------------------------------------- custom --pattern


def test_custom_pattern_datetime() -> None:
    convention = convention_from_pattern("{agent_id}_{caller}_{datetime}")
    meta = convention.parse("8001_13812345678_20240315093012.wav", TZ)
    assert meta == CallMetadata(agent_id="8001", caller="13812345678", started_at=at(2024, 3, 15, 9, 30, 12))
    assert convention.parse("8001_13812345678_20240315093012", TZ) == meta  # extension optional
    assert convention.parse("8001_13812345678_20241315093012.wav", TZ) is None  # month 13


def test_custom_pattern_with_extension_direction_epoch_and_wildcard() -> None:
    convention = convention_from_pattern("{direction}_{agent_id}_{epoch}_{*}.{ext}")
    meta = convention.parse("呼出_A1023_1710466212_whatever-1.mp3", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.direction) == ("A1023", "outbound")
    assert meta.started_at == datetime.fromtimestamp(1710466212, TZ)
    with_wav = convention_from_pattern("{agent_id}-{date}-{time}.wav")
    meta = with_wav.parse("8001-20240315-093012.wav", TZ)
    assert meta is not None and meta.started_at == at(2024, 3, 15, 9, 30, 12)
    assert with_wav.parse("8001-20240315-093012.mp3", TZ) is None


def test_custom_pattern_escapes_literal_metacharacters() -> None:
    convention = convention_from_pattern("rec[{agent_id}]+({caller}).{call_id}")
    meta = convention.parse("rec[8001]+(0755-1234567).abc.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.call_id) == ("8001", "0755-1234567", "abc")
    assert convention.parse("recX8001]+(0755).abc.wav", TZ) is None
    assert convention.parse("rec[8001]]((0755).abc.wav", TZ) is None
    dots = convention_from_pattern("{agent_id}.{caller}")
    assert dots.parse("8001x13812345678.wav", TZ) is None  # "." is literal, not "any character"
    meta = dots.parse("8001.13812345678.wav", TZ)  # the extension is not part of {caller}
    assert meta is not None and (meta.agent_id, meta.caller) == ("8001", "13812345678")


def test_custom_pattern_errors() -> None:
    with pytest.raises(ImportInputError, match=r"\{agent\}") as info:
        convention_from_pattern("{agent}_{caller}")
    assert info.value.code == "invalid_import_input"
    assert "\n" not in str(info.value)
    with pytest.raises(ImportInputError, match="花括号"):
        convention_from_pattern("{agent_id_{caller}")
    with pytest.raises(ImportInputError, match="多次"):
        convention_from_pattern("{caller}_{caller}")
    with pytest.raises(ImportInputError, match="占位符"):
        convention_from_pattern("recording_{*}")


def test_custom_pattern_is_tried_first() -> None:
    conventions = conventions_for("{agent_id}-{caller}-{*}")
    assert [c.name for c in conventions] == ["custom", "asterisk", "freeswitch"]
    meta = parse_filename("in-8001-13812345678-20240315-093012-1710466212.42.wav", conventions, TZ)
    assert meta is not None and meta.agent_id == "in"  # the custom pattern won
    assert conventions_for(None) == BUILTIN
    meta = parse_filename(f"{UUID}.wav", conventions_for("{agent_id}_{caller}"), TZ)
    assert meta == CallMetadata(call_id=UUID)  # falls through to FreeSWITCH


# --------------------------------------------------------------------------- CDR

MASTER_HEADER = "accountcode,src,dst,dcontext,calldate,duration,billsec,disposition,uniqueid,recordingfile"


def master_row(src: str, dst: str, calldate: str, billsec: str, uniqueid: str, recording: str) -> str:
    return f',{src},{dst},from-internal,{calldate},{billsec},{billsec},ANSWERED,{uniqueid},{recording}'


def test_read_cdr_utf8_bom_defaults(tmp_path: Path) -> None:
    rec = "in-600-13812345678-20240315-093012-1710466212.42.wav"
    lines = [
        MASTER_HEADER,
        master_row("13812345678", "8001", "2024-03-15 09:30:12", "61", "1710466212.42", rec),
        master_row("8002", "013912345678", "2024-03-15T10:15:00", "30.5", "1710468900.57", ""),
    ]
    path = write(tmp_path / "Master.csv", ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    cdr = read_cdr(path, CdrMapping(), TZ)
    assert cdr.errors == []
    entry = cdr.by_recording[rec]
    assert entry == CallMetadata(
        call_id="1710466212.42",
        agent_id="8001",
        started_at=at(2024, 3, 15, 9, 30, 12),
        caller="13812345678",
        duration_s=61.0,
    )
    assert cdr.by_recording[rec.removesuffix(".wav")] is entry
    assert cdr.by_call_id["1710466212.42"] is entry
    outbound = cdr.by_call_id["1710468900.57"]  # Master.csv: dst is the customer on an outbound call
    assert (outbound.agent_id, outbound.caller, outbound.direction) == ("8002", "013912345678", "outbound")
    assert outbound.duration_s == 30.5


def test_read_cdr_gbk_with_chinese_columns(tmp_path: Path) -> None:
    text = (
        "录音文件,通话编号,坐席工号,客户号码,开始时间,通话时长,呼叫方向\n"
        'rec/2024/03/15/a.wav,u1,A1023,="013812345678",2024/03/15 09:30:12,61,呼入\n'
        "b.mp3,u2,A1024,+8613912345678,2024-03-15 10:00:00,5,呼出\n"
    )
    path = write(tmp_path / "cdr.csv", text.encode("gbk"))
    mapping = CdrMapping.parse(
        "recording=录音文件,call_id=通话编号,agent_id=坐席工号,caller=客户号码,"
        "started_at=开始时间,duration=通话时长,direction=呼叫方向"
    )
    cdr = read_cdr(path, mapping, TZ)
    assert cdr.errors == []
    first = cdr.by_recording["a.wav"]
    assert (first.agent_id, first.caller, first.direction) == ("A1023", "013812345678", "inbound")
    assert first.started_at == at(2024, 3, 15, 9, 30, 12)
    second = cdr.by_recording["b"]
    assert (second.agent_id, second.caller, second.direction) == ("A1024", "+8613912345678", "outbound")


def test_cdr_mapping_parse() -> None:
    mapping = CdrMapping.parse(" agent_id = 工号 , duration= , datetime_format=%Y%m%d%H%M%S")
    assert mapping.agent_id == "工号"
    assert mapping.duration is None
    assert mapping.datetime_format == "%Y%m%d%H%M%S"
    assert mapping.recording == "recordingfile"  # untouched fields keep their defaults
    with pytest.raises(ImportInputError, match="recording=录音文件"):
        CdrMapping.parse("录音文件=recording")  # written the wrong way round
    with pytest.raises(ImportInputError, match="agent"):
        CdrMapping.parse("agent=dst")
    with pytest.raises(ImportInputError, match="至少"):
        CdrMapping.parse("recording=,call_id=")


def test_read_cdr_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "cdr.csv", b"src,dst,calldate,billsec,uniqueid\n1,2,2024-03-15 09:30:12,1,x\n")
    with pytest.raises(ImportInputError) as info:
        read_cdr(path, CdrMapping(), TZ)
    message = str(info.value)
    assert str(path) in message and "'recordingfile'" in message
    assert "\n" not in message
    # Without a header row the first data row is taken as the header: same error.
    row = master_row("1", "8001", "2024-03-15 09:30:12", "1", "x", "a.wav")
    headless = write(tmp_path / "Master.csv", row.encode())
    with pytest.raises(ImportInputError, match="表头"):
        read_cdr(headless, CdrMapping(), TZ)


def test_read_cdr_unusable_files(tmp_path: Path) -> None:
    with pytest.raises(ImportInputError, match="不存在"):
        read_cdr(tmp_path / "missing.csv", CdrMapping(), TZ)
    with pytest.raises(ImportInputError, match="表头"):
        read_cdr(write(tmp_path / "empty.csv", b""), CdrMapping(), TZ)
    with pytest.raises(ImportInputError, match="编码"):
        read_cdr(write(tmp_path / "binary.csv", bytes([0x81, 0x20, 0xFF, 0xFE]) * 8), CdrMapping(), TZ)


def test_read_cdr_bad_rows_report_file_lines(tmp_path: Path) -> None:
    lines = [
        MASTER_HEADER,  # line 1
        master_row("13800000001", "8001", "2024-03-15 09:30:12", "10", "1.1", "good1.wav"),  # 2
        master_row("13800000002", "8002", "2024-03-15 25:00:00", "10", "1.2", "bad-date.wav"),  # 3
        master_row("13800000003", "8003", "2024-03-15 09:30:12", "ten", "1.3", "bad-billsec.wav"),  # 4
        ",13800000004,8004,from-internal,2024-03-15 09:30:12",  # 5: short row
        "",  # 6: blank, ignored
        master_row("13800000005", "8005", "2024-03-15 09:30:12", "10", "", ""),  # 7: no recording, no id
        master_row("13800000006", "8006", "2024-03-15 09:30:12", "-3", "1.6", "negative.wav"),  # 8
        # 9-10: a quoted field spanning two lines is one row
        ',13800000007,8007,"multi\nline",2024-03-15 09:30:12,10,10,ANSWERED,1.7,good2.wav',
        master_row("13800000008", "8008", "not a date", "10", "1.8", "bad-date2.wav"),  # 11
        master_row("13800000009", "8009", "", "", "1.9", "good3.wav"),  # 12: empty date / billsec are fine
    ]
    path = write(tmp_path / "cdr.csv", "\n".join(lines).encode())
    cdr = read_cdr(path, CdrMapping(), TZ)
    assert [e.line for e in cdr.errors] == [3, 4, 5, 7, 8, 11]
    reasons = {e.line: e.reason for e in cdr.errors}
    assert "2024-03-15 25:00:00" in reasons[3] and "calldate" in reasons[3]
    assert "'ten'" in reasons[4] and "billsec" in reasons[4]
    assert "列" in reasons[5]
    assert "为空" in reasons[7]
    assert all(e.path == path for e in cdr.errors)
    assert str(cdr.errors[0]) == f"{path}:3: {reasons[3]}"
    assert sorted(k for k in cdr.by_recording if k.endswith(".wav")) == ["good1.wav", "good2.wav", "good3.wav"]
    assert cdr.by_recording["good2.wav"].agent_id == "8007"
    assert cdr.by_recording["good3.wav"].started_at is None and cdr.by_recording["good3.wav"].duration_s is None


def test_read_cdr_duplicate_recording(tmp_path: Path) -> None:
    lines = [
        MASTER_HEADER,
        master_row("13800000001", "8001", "2024-03-15 09:30:12", "42", "1.1", "dup.wav"),  # 2: kept
        master_row("13800000001", "8002", "2024-03-15 09:30:12", "42", "1.1", "dup.wav"),  # 3: later, equal
        master_row("13800000001", "8003", "2024-03-15 09:30:12", "0", "1.1", "dup.wav"),  # 4: shorter
    ]
    cdr = read_cdr(write(tmp_path / "cdr.csv", "\n".join(lines).encode()), CdrMapping(), TZ)
    assert [e.line for e in cdr.errors] == [3, 4]
    assert all("dup.wav" in e.reason and "第 2 行" in e.reason for e in cdr.errors)
    assert cdr.by_recording["dup.wav"].agent_id == "8001"


def test_read_cdr_duplicate_keeps_answered_leg(tmp_path: Path) -> None:
    # FreePBX queue: the unanswered leg (billsec 0) is written first, the answered one after it.
    lines = [
        MASTER_HEADER,
        master_row("13800000001", "8001", "2024-03-15 09:30:12", "0", "1.1", "q.wav"),
        master_row("13800000001", "8002", "2024-03-15 09:30:12", "95", "1.1", "q.wav"),
    ]
    cdr = read_cdr(write(tmp_path / "cdr.csv", "\n".join(lines).encode()), CdrMapping(), TZ)
    assert cdr.by_recording["q.wav"].agent_id == "8002"
    assert [e.line for e in cdr.errors] == [2]


def test_read_cdr_agent_from_channel_name(tmp_path: Path) -> None:
    text = "uniqueid,dstchannel,src,calldate,billsec\n1.1,PJSIP/8001-0000002a,13800000001,2024-03-15 09:30:12,5\n"
    mapping = CdrMapping.parse("recording=,agent_id=dstchannel")
    cdr = read_cdr(write(tmp_path / "cdr.csv", text.encode()), mapping, TZ)
    assert cdr.by_call_id["1.1"].agent_id == "8001"


def test_read_cdr_explicit_datetime_format(tmp_path: Path) -> None:
    text = "recordingfile,uniqueid,dst,src,calldate,billsec\na.wav,1,8001,138,20240315093012,1\n"
    mapping = CdrMapping(datetime_format="%Y%m%d%H%M%S")
    cdr = read_cdr(write(tmp_path / "cdr.csv", text.encode()), mapping, TZ)
    assert cdr.by_recording["a.wav"].started_at == at(2024, 3, 15, 9, 30, 12)


def test_cdr_lookup_order(tmp_path: Path) -> None:
    by_name, by_stem, by_id = CallMetadata(agent_id="1"), CallMetadata(agent_id="2"), CallMetadata(agent_id="3")
    cdr = Cdr(
        path=tmp_path / "cdr.csv",
        by_recording={"a.wav": by_name, "b": by_stem},
        by_call_id={"u": by_id},
        errors=[],
    )
    assert cdr.lookup(Path("x/a.wav"), CallMetadata(call_id="u")) is by_name
    assert cdr.lookup(Path("b.mp3"), None) is by_stem
    assert cdr.lookup(Path("c.wav"), CallMetadata(call_id="u")) is by_id
    assert cdr.lookup(Path("c.wav"), None) is None


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
    real_probe = importers._probe_readable

    def probe(path: Path) -> None:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        real_probe(path)

    monkeypatch.setattr(importers, "_probe_readable", probe)
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


def test_row_error_is_a_plain_record() -> None:
    error = CdrRowError(3, "时长 'x' 不是有效的秒数", Path("cdr.csv"))
    assert (error.line, error.reason) == (3, "时长 'x' 不是有效的秒数")
