"""Owner profiles (业主画像) over the API: the most frequent callers of a project, masked unless revealed
(audited), counted from the calls' topics, narrowed to a team lead's team, forbidden to agents."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
URL = f"{API_PREFIX}/insights/owners?from=2024-03-01&to=2024-03-31"


@pytest.fixture
def owners(make_call, database) -> None:
    """Owner 13900000001 (yangguang 3号楼1单元601) calls three times about leaks, once with 投诉 words, the
    third a repeat; 13900000002 once; an unknown caller in 5号楼 twice (counted by unit); lanting once (B组)."""
    from sqlalchemy import update

    from inspector.store.schema import Call
    from inspector.store.topics import refresh_call_topics

    made = [
        ("o1", "8001", "13900000001", "yangguang", "3号楼1单元601", 1, "call01_leak_stereo", "A组"),
        ("o2", "8002", "13900000001", "yangguang", "3号楼1单元601", 2, "call02_angry_stereo", "A组"),
        ("o3", "8001", "13900000001", "yangguang", "3号楼1单元601", 3, "call01_leak_stereo", "A组"),
        ("o4", "8001", "13900000002", "yangguang", None, 4, "call01_leak_stereo", "A组"),
        ("o5", "8002", None, "yangguang", "5号楼2单元302", 5, "call01_leak_stereo", "A组"),
        ("o6", "8002", None, "yangguang", "5号楼2单元302", 6, "call01_leak_stereo", "A组"),
        ("o7", "9001", "13900000003", "lanting", None, 7, "call01_leak_stereo", "B组"),
    ]
    for call_id, agent, caller, project, unit, day, transcript, team in made:
        make_call(call_id, agent, team=team, caller=caller, transcript_of=transcript,
                  started_at=datetime(2024, 3, day, 10, tzinfo=TZ))  # fmt: skip
        with database.session() as session:
            session.execute(update(Call).where(Call.id == call_id).values(project=project, unit=unit))
            call = session.get(Call, call_id)
            session.refresh(call)
            topics = call_topics_of(session, call)
            refresh_call_topics(session, call, topics)
    with database.session() as session:
        session.execute(update(Call).where(Call.id == "o3").values(repeat_of="o1", chain_id="o1"))


def call_topics_of(session, call) -> list[str]:
    from inspector.store.schema import Analysis

    analysis = session.get(Analysis, call.analysis_id)
    return list(analysis.topics) or ["其他"]


def test_the_most_frequent_callers_masked_with_their_topics_complaints_and_repeats(client, headers) -> None:
    body = client.get(URL + "&project=yangguang", headers=headers["reviewer"]).json()
    assert body["revealed"] is False and body["project"] == "yangguang"
    first, *rest = body["items"]
    assert first["caller"] == "139****0001" and first["unit"] == "3号楼1单元***"
    assert first["calls"] == 3 and first["repeats"] == 1 and first["call_ids"] == ["o3", "o2", "o1"]
    assert first["complaints"] == 1  # call02 says 投诉
    assert first["first_at"].startswith("2024-03-01") and first["last_at"].startswith("2024-03-03")
    assert sum(first["topics"].values()) >= 3
    by_unit = next(o for o in rest if o["unit"] == "5号楼2单元***")
    assert by_unit["caller"] is None and by_unit["calls"] == 2
    assert [o["calls"] for o in body["items"]] == sorted((o["calls"] for o in body["items"]), reverse=True)
    assert all(o["project"] == "yangguang" for o in body["items"])
    everywhere = client.get(URL, headers=headers["admin"]).json()["items"]
    assert {o["project"] for o in everywhere} == {"yangguang", "lanting"}
    assert len(client.get(URL + "&limit=1", headers=headers["admin"]).json()["items"]) == 1


def test_owners_are_for_staff_narrowed_to_a_team_and_revealed_only_with_pii(client, headers, database) -> None:
    from sqlalchemy import select

    from inspector.store.schema import AuditEntry

    for who in ("agent", "other_agent"):
        assert client.get(URL, headers=headers[who]).status_code == 403
    lead_b = client.get(URL, headers=headers["other_team_lead"]).json()["items"]
    assert [(o["project"], o["calls"]) for o in lead_b] == [("lanting", 1)]
    lead_a = client.get(URL, headers=headers["team_lead"]).json()["items"]
    assert "lanting" not in {o["project"] for o in lead_a}
    refused = client.get(URL + "&reveal=true", headers=headers["reviewer"])
    assert refused.status_code == 403 and refused.json()["code"] == "pii_forbidden"
    shown = client.get(URL + "&project=yangguang&reveal=true", headers=headers["admin"]).json()
    assert shown["revealed"] is True and shown["items"][0]["caller"] == "13900000001"
    assert shown["items"][0]["unit"] == "3号楼1单元601"
    with database.session() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.entity == "owners")).all()
        assert entry.action == "pii.reveal" and entry.entity_id == "yangguang:2024-03-01..2024-03-31"
    bad = client.get(f"{API_PREFIX}/insights/owners?from=2024-03-31&to=2024-03-01", headers=headers["admin"])
    assert bad.status_code == 422


@pytest.fixture(autouse=True)
def _owners(owners) -> None:
    return None
