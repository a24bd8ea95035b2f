"""Reviewer calibration (校准) in the API: creating rounds (admin), the blind view of an assigned reviewer,
the admin's progress view, verdicts, closing and the agreement figures, with the refusals (403/404/409/422)
in the project's error format (Chinese ``detail``, stable ``code``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.app import API_PREFIX

CJK = re.compile(r"[\u4e00-\u9fff]")
ROUNDS = f"{API_PREFIX}/calibrations"
ROUND_KEYS = {"id", "name", "status", "created_by", "created_at", "closed_at", "reviewers", "calls"}
RULE_KEYS = {"rule_id", "name", "hits", "agreed", "percent", "cohen_kappa", "fleiss_kappa"}


@pytest.fixture
def judges(database: Any, users: dict[str, str], password: str) -> dict[str, dict[str, str]]:
    """Bearer headers of two reviewer users: ``reviewer`` (from the ``users`` fixture) and ``reviewer2``."""
    from inspector.store.tokens import create_token
    from inspector.store.users import create_user, get_user

    with database.session() as session:
        create_user(session, "reviewer2", password, "reviewer")
        made = {name: create_token(session, None, name=name, user=get_user(session, name))
                for name in ("reviewer", "reviewer2")}  # fmt: skip
    return {name: {"Authorization": f"Bearer {token}"} for name, token in made.items()}


def _create(client, headers, call_ids: list[str], reviewers: list[str] | None = None) -> dict:
    body = {"name": "三月校准", "reviewers": reviewers or ["reviewer", "reviewer2"], "call_ids": call_ids}
    response = client.post(ROUNDS, json=body, headers=headers["admin"])
    assert response.status_code == 201, response.text
    return response.json()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and CJK.search(body["detail"]), body
    return body


def test_a_round_from_creation_to_agreement(client, headers, judges, make_call, database) -> None:
    make_call("c1", "8001", transcript_of="call02_angry_stereo")
    make_call("c2", "8002", team="B组")
    created = _create(client, headers, ["c1", "c2"])
    assert set(created) >= ROUND_KEYS and created["status"] == "open" and created["calls"] == 2
    assert created["reviewers"] == ["reviewer", "reviewer2"] and created["assigned"] is False
    assert [p["judged"] for p in created["progress"]] == [0, 0]
    round_id = created["id"]
    hits = [(c["call_id"], h["index"]) for c in created["call_list"] for h in c["hits"]]
    assert len(hits) >= 2

    # reviewer confirms every hit, reviewer2 rejects the first and confirms the rest
    for who in ("reviewer", "reviewer2"):
        for n, (call_id, index) in enumerate(hits):
            verdict = "rejected" if who == "reviewer2" and n == 0 else "confirmed"
            response = client.post(f"{ROUNDS}/{round_id}/verdicts", headers=judges[who],
                                   json={"call_id": call_id, "hit_index": index, "verdict": verdict})  # fmt: skip
            assert response.status_code == 200, response.text
    # blind: each sees only their own verdicts, and no progress
    for who, other in (("reviewer", "reviewer2"), ("reviewer2", "reviewer")):
        page = client.get(f"{ROUNDS}/{round_id}", headers=judges[who]).json()
        assert page["assigned"] is True and page["progress"] == []
        shown = [h["verdicts"] for c in page["call_list"] for h in c["hits"]]
        assert all(set(v) == {who} for v in shown) and not any(other in v for v in shown)
    admin_page = client.get(f"{ROUNDS}/{round_id}", headers=headers["admin"]).json()
    assert [p["judged"] for p in admin_page["progress"]] == [len(hits), len(hits)]
    assert set(admin_page["call_list"][0]["hits"][0]["verdicts"]) == {"reviewer", "reviewer2"}

    # the figures: refused to a reviewer while open, shown to the admin any time
    _error(client.get(f"{ROUNDS}/{round_id}/agreement", headers=judges["reviewer"]), 409, "calibration_open")
    assert client.get(f"{ROUNDS}/{round_id}/agreement", headers=headers["admin"]).status_code == 200
    closed = client.post(f"{ROUNDS}/{round_id}/close", headers=headers["admin"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_at"]
    for who in (judges["reviewer"], headers["trainer"]):
        response = client.get(f"{ROUNDS}/{round_id}/agreement", headers=who)
        assert response.status_code == 200, response.text
    result = response.json()
    assert set(result["overall"]) == RULE_KEYS and all(set(r) == RULE_KEYS for r in result["rules"])
    n = len(hits)
    assert (result["overall"]["hits"], result["overall"]["agreed"]) == (n, n - 1)
    assert result["overall"]["percent"] == pytest.approx(round((n - 1) / n, 4))
    # reviewer confirmed every hit: chance agreement p_e = (n-1)/n = p_o, so Cohen's kappa is exactly 0
    assert result["overall"]["cohen_kappa"] == pytest.approx(0.0)
    (disagreement,) = result["disagreements"]
    assert (disagreement["call_id"], disagreement["hit_index"]) == hits[0]
    assert disagreement["verdicts"] == {"reviewer": "confirmed", "reviewer2": "rejected"}
    # after close: everyone's verdicts, no more verdicts, not closed twice
    page = client.get(f"{ROUNDS}/{round_id}", headers=judges["reviewer"]).json()
    assert set(page["call_list"][0]["hits"][0]["verdicts"]) == {"reviewer", "reviewer2"}
    late = client.post(f"{ROUNDS}/{round_id}/verdicts", headers=judges["reviewer"],
                       json={"call_id": hits[0][0], "hit_index": hits[0][1], "verdict": "rejected"})  # fmt: skip
    _error(late, 409, "calibration_closed")
    _error(client.post(f"{ROUNDS}/{round_id}/close", headers=headers["admin"]), 409, "calibration_closed")
    listed = client.get(ROUNDS, headers=headers["trainer"]).json()["items"]
    assert [r["id"] for r in listed] == [round_id] and set(listed[0]) == ROUND_KEYS


def test_calibration_verdicts_leave_the_call_review_untouched(client, headers, judges, make_call) -> None:
    make_call("c1", "8001", transcript_of="call02_angry_stereo")
    before = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["admin"]).json()
    call_before = client.get(f"{API_PREFIX}/calls/c1", headers=headers["admin"]).json()
    created = _create(client, headers, ["c1"])
    for index in range(len(created["call_list"][0]["hits"])):
        response = client.post(f"{ROUNDS}/{created['id']}/verdicts", headers=judges["reviewer"],
                               json={"call_id": "c1", "hit_index": index, "verdict": "rejected"})  # fmt: skip
        assert response.status_code == 200
    after = client.get(f"{API_PREFIX}/calls/c1/review", headers=headers["admin"]).json()
    assert after["hits"] == before["hits"] and after["review"] is None
    assert after["effective_score"] == before["effective_score"]
    assert client.get(f"{API_PREFIX}/calls/c1", headers=headers["admin"]).json() == call_before


def test_refusals(client, headers, judges, make_call) -> None:
    make_call("c1", "8001")
    # roles (403), before the body is looked at
    for who in ("reviewer", "trainer", "team_lead", "agent"):
        _error(client.post(ROUNDS, json={}, headers=headers[who]), 403, "forbidden")
    for who in ("team_lead", "agent"):
        _error(client.get(ROUNDS, headers=headers[who]), 403, "forbidden")
    # invalid input (422) in Chinese, naming the field
    body = {"name": "x", "reviewers": ["reviewer", "trainer"], "call_ids": ["c1"]}
    detail = _error(client.post(ROUNDS, json=body, headers=headers["admin"]), 422, "invalid_calibration")["detail"]
    assert "trainer" in detail
    body = {"name": "x", "reviewers": ["reviewer", "reviewer2"], "call_ids": ["nope"]}
    assert (
        "nope" in _error(client.post(ROUNDS, json=body, headers=headers["admin"]), 422, "invalid_calibration")["detail"]
    )
    body = {"name": "x", "reviewers": ["reviewer", "reviewer2"]}
    _error(client.post(ROUNDS, json=body, headers=headers["admin"]), 422, "invalid_request")
    body = {"name": "x", "reviewers": ["reviewer", "reviewer2"],
            "sample": {"date_from": "2024-03-01", "date_to": "2024-03-31", "count": 5}}  # fmt: skip
    sampled = client.post(ROUNDS, json=body, headers=headers["admin"])
    assert sampled.status_code == 201 and [c["call_id"] for c in sampled.json()["call_list"]] == ["c1"]
    # unknown round (404), a reviewer not assigned (409), a hit out of range (422)
    _error(client.get(f"{ROUNDS}/999", headers=headers["admin"]), 404, "calibration_not_found")
    round_id = sampled.json()["id"]
    vote = {"call_id": "c1", "hit_index": 0, "verdict": "confirmed"}
    _error(client.post(f"{ROUNDS}/{round_id}/verdicts", json=vote, headers=headers["reviewer"]), 409,
           "calibration_not_assigned")  # fmt: skip
    outsider = client.get(f"{ROUNDS}/{round_id}", headers=headers["reviewer"]).json()
    assert outsider["assigned"] is False and outsider["progress"] == []
    far = {**vote, "hit_index": 9999}
    _error(client.post(f"{ROUNDS}/{round_id}/verdicts", json=far, headers=judges["reviewer"]), 422,
           "invalid_calibration")  # fmt: skip
    _error(client.get(f"{ROUNDS}/{round_id}/agreement", headers=headers["trainer"]), 409, "calibration_open")
    _error(client.post(f"{ROUNDS}/{round_id}/close", headers=judges["reviewer"]), 403, "forbidden")
