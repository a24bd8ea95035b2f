"""Rule sets: upload (validated, size-limited), list, activate with rescoring, rescore."""

from __future__ import annotations

import pytest

from api.app import API_PREFIX
from inspector.settings import PROJECT_ROOT, ApiSettings

URL = f"{API_PREFIX}/rulesets"
DEFAULT = (PROJECT_ROOT / "rules" / "property-default.yaml").read_text(encoding="utf-8")

BROKEN = """\
kind: ruleset
id: broken
version: 1
name: 坏规则
dimensions:
  - {id: service, name: 服务规范, weight: 10}
rules:
  - id: greeting
    name: 开场问候
    category: greeting
    dimension: nowhere
    mode: require
    points: 5
    when:
      keywords: {any: [您好]}
"""


def _files(*named: tuple[str, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, text.encode("utf-8"), "application/yaml")) for name, text in named]


def test_upload_list_activate_and_rescore(app, client, headers, make_call) -> None:
    make_call("r1")
    make_call("r2", transcript_of="call02_angry_stereo")
    make_call("r3", status="queued")
    listed = client.get(URL, headers=headers["reviewer"]).json()["items"]
    assert [(r["name"], r["active"]) for r in listed] == [("property-default", True)]

    v2 = DEFAULT.replace("version: 1", "version: 2", 1)
    created = client.post(URL, headers=headers["admin"], files=_files(("property-default.yaml", v2)))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "property-default" and body["version"] == "2" and body["created"] is True
    assert body["active"] is False and body["rule_count"] == listed[0]["rule_count"]
    again = client.post(URL, headers=headers["admin"], files=_files(("property-default.yaml", v2)))
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["id"] == body["id"]
    assert [r["version"] for r in client.get(URL, headers=headers["agent"]).json()["items"]] == ["1", "2"]

    queue = app.state.inspector.queue
    activated = client.post(f"{URL}/{body['id']}/activate", headers=headers["admin"])
    assert activated.status_code == 200, activated.text
    assert activated.json()["scheduled"] == 2  # the done calls
    assert activated.json()["ruleset"]["active"] is True and activated.json()["ruleset"]["activated_at"]
    assert queue.count >= 1
    states = {r["version"]: r["active"] for r in client.get(URL, headers=headers["admin"]).json()["items"]}
    assert states == {"1": False, "2": True}

    rescore = client.post(f"{URL}/{listed[0]['id']}/rescore", headers=headers["admin"])
    assert rescore.status_code == 202 and rescore.json()["scheduled"] == 2
    assert client.post(f"{URL}/999/activate", headers=headers["admin"]).status_code == 404
    assert client.post(f"{URL}/999/rescore", headers=headers["admin"]).json()["code"] == "ruleset_not_found"


def test_invalid_rule_file_names_file_and_line(client, headers) -> None:
    response = client.post(URL, headers=headers["admin"], files=_files(("broken.yaml", BROKEN)))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_rule_file" and body["file"] == "broken.yaml"
    assert body["line"] == 11 and body["rule"] == "greeting"
    assert "broken.yaml:11" in body["detail"] and "规则文件无效" in body["detail"]
    assert client.get(URL, headers=headers["admin"]).json()["items"] == []  # nothing kept


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([("rules.txt", "kind: ruleset")], "invalid_rule_file"),
        ([("a.yaml", "kind: ruleset\nid: [")], "invalid_rule_file"),
    ],
)
def test_bad_uploads_are_422(client, headers, files, code) -> None:
    response = client.post(URL, headers=headers["admin"], files=_files(*files))
    assert response.status_code == 422 and response.json()["code"] == code
    assert response.json()["file"] == files[0][0]


def test_non_utf8_and_missing_files(client, headers) -> None:
    gbk = client.post(URL, headers=headers["admin"], files=[("files", ("a.yaml", "名称".encode("gbk"), "text/plain"))])
    assert gbk.status_code == 422 and "UTF-8" in gbk.json()["detail"]
    none = client.post(URL, headers=headers["admin"], data={"x": "1"})
    assert none.status_code == 422 and none.json()["field"] == "files"


def test_rule_set_size_limit(make_app, settings, headers) -> None:
    from fastapi.testclient import TestClient

    small = settings.model_copy(update={"api": ApiSettings(max_ruleset_bytes=1000)})
    with TestClient(make_app(small)) as client:
        response = client.post(URL, headers=headers["admin"], files=_files(("property-default.yaml", DEFAULT)))
    assert response.status_code == 413
    assert response.json()["code"] == "ruleset_too_large" and response.json()["limit_bytes"] == 1000
