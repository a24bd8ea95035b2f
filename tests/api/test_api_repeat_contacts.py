"""Repeat contacts (重复来电) over the API: the chains, who sees which calls, masking and reveal, the call
detail's chain and the scorecard's 重复来电率."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
URL = f"{API_PREFIX}/insights/repeat-contacts?from=2024-03-01&to=2024-03-31"


@pytest.fixture(autouse=True)
def chain(make_call, database, settings) -> None:
    """13900000001 calls about a leak on March 1 (8001, A组), 2 (9001, B组) and 3 (8001): one chain."""
    from sqlalchemy import update

    from inspector.people import repeats
    from inspector.store.schema import Analysis, Call
    from inspector.store.topics import refresh_call_topics

    for call_id, agent, team, day in (("k1", "8001", "A组", 1), ("k2", "9001", "B组", 2), ("k3", "8001", "A组", 3)):
        make_call(call_id, agent, team=team, caller="13900000001", started_at=datetime(2024, 3, day, 10, tzinfo=TZ))
        with database.session() as session:
            session.execute(update(Call).where(Call.id == call_id).values(project="yangguang", unit="3号楼1单元601"))
            call = session.get(Call, call_id)
            session.refresh(call)
            analysis = session.get(Analysis, call.analysis_id)
            refresh_call_topics(session, call, list(analysis.topics))
            repeats.on_analysis(session, settings, call, analysis)


def test_the_chain_masked_and_scoped(client, headers, database) -> None:
    from sqlalchemy import select

    from inspector.store.schema import AuditEntry

    body = client.get(URL, headers=headers["reviewer"]).json()
    assert body["total"] == 1 and body["page"] == 1
    [item] = body["items"]
    assert item["chain_id"] == "k1" and [c["call_id"] for c in item["calls"]] == ["k1", "k2", "k3"]
    assert [c["repeat_of"] for c in item["calls"]] == [None, "k1", "k2"]
    assert item["caller"] == "139****0001" and item["unit"] == "3号楼1单元***" and item["topics"] == ["漏水/维修"]
    assert item["resolved"] is True  # March 2024: the window is long over, no escalation words
    assert client.get(URL + "&project=lanting", headers=headers["reviewer"]).json()["total"] == 0
    assert client.get(URL + "&agent_id=9001", headers=headers["admin"]).json()["total"] == 1
    # A team lead and an agent see the chain with their own calls only.
    lead_b = client.get(URL, headers=headers["other_team_lead"]).json()["items"]
    assert [c["call_id"] for c in lead_b[0]["calls"]] == ["k2"]
    mine = client.get(URL, headers=headers["agent"]).json()["items"]
    assert [c["call_id"] for c in mine[0]["calls"]] == ["k1", "k3"]
    assert client.get(URL, headers=headers["other_agent"]).json()["total"] == 0  # 8002 has no call in it
    assert client.get(URL + "&agent_id=9001", headers=headers["agent"]).status_code == 403
    # Reveal: pii only, audited.
    assert client.get(URL + "&reveal=true", headers=headers["reviewer"]).status_code == 403
    shown = client.get(URL + "&reveal=true", headers=headers["admin"]).json()["items"][0]
    assert shown["caller"] == "13900000001" and shown["unit"] == "3号楼1单元601"
    with database.session() as session:
        assert session.scalars(select(AuditEntry.entity).where(AuditEntry.action == "pii.reveal")).all() == [
            "repeat_contacts"
        ]


def test_the_call_detail_shows_the_chain_and_the_scorecard_the_rate(client, headers) -> None:
    detail = client.get(f"{API_PREFIX}/calls/k3", headers=headers["reviewer"]).json()
    assert detail["repeat_chain"]["chain_id"] == "k1"
    assert [c["call_id"] for c in detail["repeat_chain"]["calls"]] == ["k1", "k2", "k3"]
    own = client.get(f"{API_PREFIX}/calls/k1", headers=headers["agent"]).json()
    assert [c["call_id"] for c in own["repeat_chain"]["calls"]] == ["k1", "k3"]  # 9001's call is not its own
    card = client.get(f"{API_PREFIX}/agents/8001/scorecard?from=2024-03-01&to=2024-03-31",
                      headers=headers["trainer"]).json()  # fmt: skip
    assert card["calls"] == 2 and card["repeated_calls"] == 1 and card["repeat_rate"] == 0.5  # k1 repeated, k3 not
    other = client.get(f"{API_PREFIX}/agents/9001/scorecard?from=2024-03-01&to=2024-03-31",
                       headers=headers["admin"]).json()  # fmt: skip
    assert other["repeated_calls"] == 1 and other["repeat_rate"] == 1.0
