"""GET /vocabulary: the labels the web UI reads, without a token."""

from __future__ import annotations

from api.app import API_PREFIX
from inspector.vocab import API_NAMES, LABELS


def test_vocabulary_is_public_and_lists_every_value_with_its_label(client) -> None:
    response = client.get(f"{API_PREFIX}/vocabulary")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(API_NAMES.values())
    assert body["alert_level"] == {"none": "无预警", "blue": "蓝色预警", "yellow": "黄色预警", "red": "红色预警"}
    assert list(body["call_status"]) == ["queued", "processing", "done", "failed"]
    for kind, name in API_NAMES.items():
        assert body[name] == {member.value: LABELS[kind][member.value] for member in kind}


def test_vocabulary_is_documented(client) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"][f"{API_PREFIX}/vocabulary"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]
