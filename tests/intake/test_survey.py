"""Survey CSV reading (满意度导入): default and mapped columns, UTF-8 with BOM and GBK, every bad row reported
with its line and reason, duplicate calls, and files that cannot be used at all."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inspector.intake.metadata import ImportInputError
from inspector.intake.survey import SurveyColumns, parse_surveys, read_surveys

TZ = ZoneInfo("Asia/Shanghai")


def test_default_columns_and_bad_rows_with_their_lines() -> None:
    text = (
        "call_id,csat,nps,comment\n"
        "c1,5,10,很满意\n"
        "c2,,3,\n"
        "c3,6,,\n"  # csat out of range
        "c4,4.5,,\n"  # not an integer
        "c5,,,\n"  # neither
        "c6,3,11,\n"  # nps out of range
        "c7,2\n"  # too few cells
        "\n"
        ',4,,"没有通话编号"\n'
        "c1,4,,改评\n"  # c1 again: the later row wins, the earlier is reported
    )
    found = parse_surveys(text, TZ)
    assert [(r.call_id, r.csat, r.nps, r.comment) for r in found.rows] == [
        ("c1", 4, None, "改评"), ("c2", None, 3, None)]  # fmt: skip
    assert [(e.line, e.reason) for e in found.errors] == [
        (2, "通话 c1 在第 11 行再次出现，以第 11 行为准"),
        (4, "满意度 '6' 无效（应为 1–5 的整数）"),
        (5, "满意度 '4.5' 无效（应为 1–5 的整数）"),
        (6, "满意度和 NPS 都为空"),
        (7, "NPS '11' 无效（应为 0–10 的整数）"),
        (8, "该行有 2 列，表头有 4 列"),
        (10, "通话 ID 为空，且没有来电号码和回访时间，无法对应通话"),
    ]


def test_mapped_chinese_columns_in_gbk_with_caller_and_time(tmp_path: Path) -> None:
    path = tmp_path / "回访.csv"
    path.write_bytes("来电号码,回访时间,满意度,评价\n13900000001,2024-05-06 10:30:00,2,等太久\n"
                     "13900000002,昨天下午,5,\n".encode("gbk"))  # fmt: skip
    columns, named = SurveyColumns.parse("caller=来电号码,answered_at=回访时间,csat=满意度,comment=评价")
    found = read_surveys(path, TZ, columns, named)
    assert len(found.rows) == 1
    first = found.rows[0]
    assert first.caller == "13900000001" and first.call_id is None and first.comment == "等太久"
    assert first.answered_at == datetime(2024, 5, 6, 2, 30)  # 10:30 in Shanghai, stored as naive UTC
    assert [(e.line, e.reason) for e in found.errors] == [
        (3, "回访时间 '昨天下午' 无法解析（例如 2026-12-01 09:30:00）")]  # fmt: skip


def test_a_bom_and_excel_quoting_are_read() -> None:
    found = parse_surveys('\ufeffcall_id,csat\n="00123",5\n', TZ)
    assert [(r.call_id, r.csat) for r in found.rows] == [("00123", 5)]


@pytest.mark.parametrize(
    ("text", "spec", "message"),
    [
        ("", None, "文件为空或缺少表头行"),
        ("call_id,comment\nc1,好\n", None, "没有满意度列（csat）也没有 NPS 列（nps）"),
        ("csat,nps\n5,9\n", None, "没有通话 ID 列（call_id）"),
        ("call_id,csat\nc1,5\n", "csat=满意度", "缺少列 '满意度'（字段 csat"),
        ("call_id,csat\nc1,5\n", "score=满意度", "--columns: 未知字段 'score'"),
        ("call_id,csat\nc1,5\n", "csat=a,csat=b", "--columns: 字段 csat 指定了多次"),
    ],
)
def test_files_that_cannot_be_used_say_why(text: str, spec: str | None, message: str) -> None:
    with pytest.raises(ImportInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        columns, named = SurveyColumns.parse(spec) if spec else (SurveyColumns(), frozenset())
        parse_surveys(text, TZ, columns, named)


def test_a_missing_or_undecodable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImportInputError, match="满意度 文件不存在"):
        read_surveys(tmp_path / "none.csv", TZ)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"call_id,csat\n\xff\xfe\xfa,5\n")
    with pytest.raises(ImportInputError, match="编码无法识别"):
        read_surveys(bad, TZ)
