"""Calls: upload (dedup, limits, content sniffing), detail, transcript, recording with ranges, retry."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.app import API_PREFIX
from inspector.settings import ApiSettings
from inspector.store.schema import Call

SAMPLE = "call01_leak_stereo"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _upload(client, headers, path: Path, name: str | None = None, **fields):
    data = {"agent_id": "8001", **fields}
    with path.open("rb") as f:
        return client.post(f"{API_PREFIX}/calls", headers=headers, data=data,
                           files={"audio": (name or path.name, f, "audio/wav")})  # fmt: skip


def _call_count(database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Call)))


def _blobs(settings) -> list[Path]:
    root = settings.audio_store_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_registers_queues_and_deduplicates(app, client, headers, samples_dir, database, redis_conn) -> None:
    path = samples_dir / f"{SAMPLE}.wav"
    response = _upload(client, headers["admin"], path, call_id="up-1", started_at="2024-03-15T23:30:00",
                       direction="inbound", caller="13812345678", team="A组")  # fmt: skip
    assert response.status_code == 202, response.text
    assert response.json() == {"call_id": "up-1", "status": "queued", "created": True}
    queue = app.state.inspector.queue
    assert queue.count == 1  # the job is in Redis
    with database.session() as session:
        call = session.get(Call, "up-1")
        assert call is not None and call.source == "upload" and call.audio_name == path.name
        assert call.started_at == datetime(2024, 3, 15, 15, 30)  # local 23:30 +08:00, stored as UTC
        assert str(call.day) == "2024-03-15"
        assert call.duration_s == pytest.approx(71.46, abs=0.5)

    again = _upload(client, headers["admin"], path, name="copy.wav", call_id="something-else")
    assert again.status_code == 200
    assert again.json() == {"call_id": "up-1", "status": "queued", "created": False}
    assert queue.count == 1 and _call_count(database) == 1

    detail = client.get(f"{API_PREFIX}/calls/up-1", headers=headers["admin"]).json()
    assert detail["status"] == "queued" and detail["started_at"] == "2024-03-15T23:30:00+08:00"
    assert detail["team_id"] == "A组" and "score" not in detail
    assert detail["audio_sha256"] and detail["caller"] == "138****5678"  # masked for admins too until revealed
    revealed = client.get(f"{API_PREFIX}/calls/up-1", params={"reveal": "true"}, headers=headers["admin"]).json()
    assert revealed["caller"] == "13812345678"


def test_upload_over_the_size_limit_is_413(make_app, settings, samples_dir, headers, database) -> None:
    from fastapi.testclient import TestClient

    small = settings.model_copy(update={"api": ApiSettings(max_upload_bytes=100_000)})
    with TestClient(make_app(small)) as client:
        path = samples_dir / f"{SAMPLE}.wav"  # 2.2 MB: refused from its Content-Length, before it is read
        response = _upload(client, headers["admin"], path)
        assert response.status_code == 413
        body = response.json()
        assert body["code"] == "upload_too_large" and body["limit_bytes"] == 100_000 and CJK.search(body["detail"])

        def chunks():  # no Content-Length: counted while it arrives
            data = path.read_bytes()
            yield b'--b\r\nContent-Disposition: form-data; name="agent_id"\r\n\r\n8001\r\n'
            yield b'--b\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
            for i in range(0, len(data), 65536):
                yield data[i : i + 65536]
            yield b"\r\n--b--\r\n"

        multipart = {**headers["admin"], "Content-Type": "multipart/form-data; boundary=b"}
        response = client.post(f"{API_PREFIX}/calls", content=chunks(), headers=multipart)
        assert response.status_code == 413 and response.json()["code"] == "upload_too_large"

        # Within the body allowance but over the file limit: refused by the store while streaming.
        tiny = settings.model_copy(update={"api": ApiSettings(max_upload_bytes=10_000)})
        with TestClient(make_app(tiny)) as tiny_client:
            blob = path.read_bytes()[:40_000]
            response = tiny_client.post(f"{API_PREFIX}/calls", headers=headers["admin"], data={"agent_id": "8001"},
                                        files={"audio": ("a.wav", blob, "audio/wav")})  # fmt: skip
            assert response.status_code == 413 and response.json()["limit_bytes"] == 10_000
    assert _call_count(database) == 0
    assert _blobs(settings) == []


def test_upload_longer_than_the_duration_limit_is_413(make_app, settings, samples_dir, headers, database) -> None:
    from fastapi.testclient import TestClient

    short = settings.model_copy(update={"api": ApiSettings(max_upload_duration_s=30.0)})
    with TestClient(make_app(short)) as client:
        response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav")
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_long" and body["limit_s"] == 30.0 and "超过上限" in body["detail"]
    assert _call_count(database) == 0 and _blobs(settings) == []


def test_a_text_file_named_wav_is_refused_and_nothing_is_kept(client, headers, tmp_path, database, settings) -> None:
    fake = tmp_path / "call.wav"
    fake.write_text("这不是录音，只是一段文字。\n" * 50, encoding="utf-8")
    response = _upload(client, headers["admin"], fake)
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "not_audio" and "不是音频文件" in body["detail"] and CJK.search(body["reason"])
    assert str(settings.audio_store_dir) not in body["detail"]
    assert _call_count(database) == 0 and _blobs(settings) == []


def test_a_refused_upload_keeps_a_blob_that_a_call_uses(client, headers, samples_dir, database, settings) -> None:
    path = samples_dir / f"{SAMPLE}.wav"
    assert _upload(client, headers["admin"], path, call_id="c-1").status_code == 202
    conflict = _upload(client, headers["admin"], samples_dir / "call02_angry_stereo.wav", call_id="c-1")
    assert conflict.status_code == 409 and conflict.json()["code"] == "call_id_conflict"
    assert len(_blobs(settings)) == 1  # call02's blob removed, call01's kept
    assert _call_count(database) == 1


@pytest.mark.parametrize(
    ("fields", "name", "status", "field"),
    [
        ({"agent_id": ""}, "a.wav", 422, "agent_id"),
        ({"started_at": "昨天下午"}, "a.wav", 422, "started_at"),
        ({"direction": "sideways"}, "a.wav", 422, "direction"),
        ({}, "a.txt", 415, None),
    ],
)
def test_upload_form_errors_name_the_field(client, headers, samples_dir, fields, name, status, field) -> None:
    response = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav", name=name, **fields)
    assert response.status_code == status, response.text
    body = response.json()
    assert CJK.search(body["detail"])
    if field:
        assert body["field"] == field and field in body["detail"]
    missing = client.post(f"{API_PREFIX}/calls", headers=headers["admin"], data={"agent_id": "8001"})
    assert missing.status_code == 422 and missing.json()["field"] == "audio"


def test_call_detail_of_a_done_call(client, headers, make_call) -> None:
    make_call("done-1", sample=SAMPLE, started_at=datetime(2024, 3, 15, 9, 30))
    detail = client.get(f"{API_PREFIX}/calls/done-1", headers=headers["reviewer"]).json()
    assert detail["status"] == "done" and detail["agent_name"] == "坐席8001" and detail["team_id"] == "A组"
    assert set(detail["score"]) == {"total", "dimensions", "fatal", "fatal_rules", "alert", "alert_reasons",
                                    "uncertain_rules"}
    assert detail["checks"]["greeting"] is True
    assert isinstance(detail["hits"], list) and detail["topics"] and "talk_ratio" in detail["metrics"]
    assert detail["ruleset"]["name"] == "property-default" and detail["ruleset"]["version"] == "1"
    assert detail["caller"] == "138****5678"  # personal data: masked for everyone until revealed
    assert client.get(f"{API_PREFIX}/calls/done-1", headers=headers["admin"]).json()["caller"] == "138****5678"
    revealed = client.get(f"{API_PREFIX}/calls/done-1", params={"reveal": "true"}, headers=headers["admin"])
    assert revealed.json()["caller"] == "13812345678"
    assert detail["finished_at"].endswith("+08:00") and detail["attempts"] == 1 and detail["error"] is None

    transcript = client.get(f"{API_PREFIX}/calls/done-1/transcript", headers=headers["reviewer"]).json()
    assert transcript["call_id"] == "done-1" and transcript["file"] == "done-1.wav"
    first = transcript["utterances"][0]
    assert first["role"] == "agent" and "您好" in first["text"] and first["end"] > first["start"]
    assert "words" not in first
    with_words = client.get(f"{API_PREFIX}/calls/done-1/transcript?words=true", headers=headers["reviewer"]).json()
    assert "words" in with_words["utterances"][0]

    missing = client.get(f"{API_PREFIX}/calls/nope", headers=headers["admin"])
    assert missing.status_code == 404 and missing.json()["code"] == "call_not_found"


def test_transcript_of_a_queued_call_is_404(client, headers, make_call) -> None:
    make_call("q-1", status="queued")
    response = client.get(f"{API_PREFIX}/calls/q-1/transcript", headers=headers["admin"])
    assert response.status_code == 404 and response.json()["code"] == "transcript_not_ready"


def test_audio_supports_byte_ranges(client, headers, make_call, samples_dir) -> None:
    make_call("a-1", sample=SAMPLE)
    original = (samples_dir / f"{SAMPLE}.wav").read_bytes()
    url = f"{API_PREFIX}/calls/a-1/audio"
    auth = headers["reviewer"]

    full = client.get(url, headers=auth)
    data = full.content  # the masked recording (the owner's address is a tone): same size as the original
    assert full.status_code == 200 and len(data) == len(original) and data[:44] == original[:44]
    assert full.headers["content-type"] == "audio/wav" and full.headers["accept-ranges"] == "bytes"
    assert int(full.headers["content-length"]) == len(data)

    part = client.get(url, headers={**auth, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == data[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(data)}" and part.headers["content-length"] == "100"

    tail = client.get(url, headers={**auth, "Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    assert tail.headers["content-range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"

    rest = client.get(url, headers={**auth, "Range": f"bytes={len(data) - 10}-"})
    assert rest.status_code == 206 and rest.content == data[-10:]
    clipped = client.get(url, headers={**auth, "Range": f"bytes={len(data) - 10}-{len(data) + 500}"})
    assert clipped.status_code == 206 and clipped.content == data[-10:]

    beyond = client.get(url, headers={**auth, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    assert beyond.json()["code"] == "range_not_satisfiable" and CJK.search(beyond.json()["detail"])
    assert client.get(url, headers={**auth, "Range": "bytes=-0"}).status_code == 416

    for ignored in ("items=0-9", "bytes=9-3", "bytes=0-9,20-29", "bytes=abc"):
        response = client.get(url, headers={**auth, "Range": ignored})
        assert response.status_code == 200 and len(response.content) == len(data), ignored

    etag = full.headers["etag"]
    assert client.get(url, headers={**auth, "Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    assert client.get(url, headers={**auth, "Range": "bytes=0-9", "If-Range": '"old"'}).status_code == 200


def test_call_list_total_is_exact_up_to_the_count_limit(make_app, settings, headers, make_call) -> None:
    from fastapi.testclient import TestClient

    for i in range(3):
        make_call(f"c{i}", agent_id="8001")
    with TestClient(make_app(settings.model_copy(update={"api": ApiSettings(count_limit=2)}))) as client:
        page = client.get(f"{API_PREFIX}/calls?page_size=1", headers=headers["admin"]).json()
        assert page["total"] == 2 and page["total_exact"] is False and len(page["items"]) == 1
        assert client.get(f"{API_PREFIX}/calls?page=3&page_size=1", headers=headers["admin"]).json()["items"]
        narrow = client.get(f"{API_PREFIX}/calls?agent_id=no-such-agent", headers=headers["admin"]).json()
        assert narrow["total"] == 0 and narrow["total_exact"] is True
    with TestClient(make_app(settings.model_copy(update={"api": ApiSettings(count_limit=3)}))) as client:
        page = client.get(f"{API_PREFIX}/calls", headers=headers["admin"]).json()
        assert page["total"] == 3 and page["total_exact"] is True
    with TestClient(make_app(settings.model_copy(update={"api": ApiSettings(count_limit=0)}))) as client:
        page = client.get(f"{API_PREFIX}/calls", headers=headers["admin"]).json()
        assert page["total"] == 3 and page["total_exact"] is True


def test_agent_token_sees_only_its_own_calls(client, headers, make_call) -> None:
    make_call("mine", agent_id="8001", sample=SAMPLE)
    make_call("theirs", agent_id="8002", sample="call02_angry_stereo")
    own = headers["agent"]
    listed = client.get(f"{API_PREFIX}/calls", headers=own).json()
    assert [c["call_id"] for c in listed["items"]] == ["mine"] and listed["total"] == 1
    assert client.get(f"{API_PREFIX}/calls?agent_id=8002", headers=own).json()["total"] == 0
    assert client.get(f"{API_PREFIX}/calls/mine", headers=own).status_code == 200
    for suffix in ("", "/transcript", "/audio"):
        response = client.get(f"{API_PREFIX}/calls/theirs{suffix}", headers=own)
        assert response.status_code == 404, suffix
        assert response.json()["code"] == "call_not_found"
    assert client.get(f"{API_PREFIX}/calls/theirs", headers=headers["other_agent"]).status_code == 200


def test_retry_failed_calls(app, client, headers, make_call) -> None:
    make_call("f-1", status="failed")
    make_call("f-2", status="failed")
    make_call("ok-1")
    queue = app.state.inspector.queue

    not_failed = client.post(f"{API_PREFIX}/calls/ok-1/retry", headers=headers["reviewer"])
    assert not_failed.status_code == 409 and not_failed.json()["code"] == "not_failed"
    assert client.post(f"{API_PREFIX}/calls/nope/retry", headers=headers["reviewer"]).status_code == 404

    one = client.post(f"{API_PREFIX}/calls/f-1/retry", headers=headers["reviewer"])
    assert one.status_code == 200 and one.json() == {"requeued": ["f-1"], "count": 1}
    assert client.get(f"{API_PREFIX}/calls/f-1", headers=headers["admin"]).json()["status"] == "queued"
    assert queue.count == 1

    every = client.post(f"{API_PREFIX}/calls/retry", headers=headers["admin"])
    assert every.status_code == 200 and every.json() == {"requeued": ["f-2"], "count": 1}
    assert queue.count == 2


@pytest.mark.slow
def test_uploaded_call_is_analyzed_by_the_real_worker(client, headers, samples_dir, settings) -> None:
    from inspector.service.worker import run_worker

    path = samples_dir / f"{SAMPLE}.wav"
    response = _upload(client, headers["admin"], path, call_id="real-1", started_at="2024-03-15T10:00:00")
    assert response.status_code == 202

    run_worker(settings, burst=True)

    detail = client.get(f"{API_PREFIX}/calls/real-1", headers=headers["reviewer"]).json()
    assert detail["status"] == "done", detail
    assert 0 <= detail["score"]["total"] <= 100 and detail["checks"]["greeting"] is True
    transcript = client.get(f"{API_PREFIX}/calls/real-1/transcript", headers=headers["reviewer"]).json()
    assert {u["role"] for u in transcript["utterances"]} == {"agent", "customer"}
    assert any("物业" in u["text"] for u in transcript["utterances"])
    audio = client.get(f"{API_PREFIX}/calls/real-1/audio", headers={**headers["reviewer"], "Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio.content == path.read_bytes()[:100]
