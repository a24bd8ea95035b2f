"""Helpers the intake tests share: the call centre's time zone, files on disk, Asterisk Master.csv rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
MASTER_HEADER = "accountcode,src,dst,dcontext,calldate,duration,billsec,disposition,uniqueid,recordingfile"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def write(path: Path, data: bytes = b"RIFF") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def master_row(src: str, dst: str, calldate: str, billsec: str, uniqueid: str, recording: str) -> str:
    return f",{src},{dst},from-internal,{calldate},{billsec},{billsec},ANSWERED,{uniqueid},{recording}"
