"""inspector.intake.cdr: reading a PBX CDR export, with every unusable row reported by its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pbx import MASTER_HEADER, TZ, at, master_row, write

from inspector.intake.cdr import Cdr, CdrMapping, CdrRowError, read_cdr
from inspector.intake.metadata import CallMetadata, ImportInputError

# --------------------------------------------------------------------------- CDR


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


def test_row_error_is_a_plain_record() -> None:
    error = CdrRowError(3, "时长 'x' 不是有效的秒数", Path("cdr.csv"))
    assert (error.line, error.reason) == (3, "时长 'x' 不是有效的秒数")
