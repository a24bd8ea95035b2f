"""What the API fuzz test (test_api_fuzz.py) found, each reproduced by hand."""

from __future__ import annotations

import re

import pytest

from api.app import API_PREFIX

CJK = re.compile(r"[\u4e00-\u9fff]")


def _documented(client, method: str, path: str) -> set[int]:
    operation = client.get("/openapi.json").json()["paths"][f"{API_PREFIX}{path}"][method.lower()]
    return {int(status) for status in operation["responses"]}


def _assert_body_refused(response, documented: set[int]) -> None:
    assert response.status_code == 422, response.text
    assert response.status_code in documented
    body = response.json()
    assert body["code"] == "invalid_request" and body["field"] == "请求体", body
    assert body["errors"] == [{"field": "请求体", "message": "不是有效的 JSON"}], body
    assert CJK.search(body["detail"]) and "请求体" in body["detail"], body


# A JSON body that is not UTF-8 was a bare 400 ("There was an error parsing the body", FastAPI's), which no
# route documents; malformed JSON was already a 422. Both are now the documented 422 naming the body.
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/coaching"),
        ("reviewer", "/calls/{call_id}/score"),
        ("reviewer", "/calls/{call_id}/findings"),
        ("agent", "/calls/{call_id}/hits/{index}/appeal"),
        (None, "/auth/login"),  # no token needed: an anonymous client can send it
    ],
)
@pytest.mark.parametrize("raw", [b'{"comment": "\xe7\x94"}', b"i\xefOt\t\x8f\r", b"\xff\xfe\x00"])
def test_json_body_that_is_not_utf8_is_422(client, headers, make_call, who, path, raw) -> None:
    make_call("c1")
    sent = {"Content-Type": "application/json", **(headers[who] if who else {})}
    response = client.post(API_PREFIX + path.format(call_id="c1", index=0), content=raw, headers=sent)
    _assert_body_refused(response, _documented(client, "POST", path))


# Malformed JSON named the character offset of the error as the field ("field": "5").
@pytest.mark.parametrize("raw", [b"{", b'{"username": "a",,}', b"[1, 2"])
def test_malformed_json_names_the_body_not_an_offset(client, raw) -> None:
    response = client.post(f"{API_PREFIX}/auth/login", content=raw, headers={"Content-Type": "application/json"})
    _assert_body_refused(response, _documented(client, "POST", "/auth/login"))
