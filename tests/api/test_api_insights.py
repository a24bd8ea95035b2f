"""Hot issues (热点问题) over the API on SQLite and PostgreSQL: a wave of calls is a spike, who may ask and
what they count, bad windows refused in Chinese."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")
URL = f"{API_PREFIX}/insights/hot-issues?from=2024-03-11&to=2024-03-17"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def calls(make_call, database) -> None:
    """Four leak callers of yangguang in the week of March 11 (three 8001/A组, one 9001/B组), none before."""
    from sqlalchemy import update

    from inspector.store.schema import Analysis, Call
    from inspector.store.topics import refresh_call_topics

    for n, (agent, team) in enumerate((("8001", "A组"), ("8001", "A组"), ("8001", "A组"), ("9001", "B组"))):
        call_id = f"h{n}"
        started = datetime(2024, 3, 12 + n, 10, tzinfo=TZ)
        make_call(call_id, agent, team=team, caller=f"1390000000{n}", started_at=started)
        with database.session() as session:
            session.execute(update(Call).where(Call.id == call_id).values(project="yangguang"))
            call = session.get(Call, call_id)
            session.refresh(call)
            refresh_call_topics(session, call, list(session.get(Analysis, call.analysis_id).topics))


def test_a_wave_of_callers_is_a_spike(client, headers) -> None:
    body = client.get(URL, headers=headers["reviewer"]).json()
    assert (body["from"], body["to"], body["baseline_from"], body["baseline_to"]) == (
        "2024-03-11", "2024-03-17", "2024-02-12", "2024-03-10")  # fmt: skip
    [cell] = body["items"]
    assert (cell["project"], cell["topic"], cell["calls"], cell["callers"]) == ("yangguang", "漏水/维修", 4, 4)
    assert cell["spike"] is True and body["spikes"] == 1 and cell["change"] is None and cell["expected"] == 0
    assert [d["day"] for d in cell["daily"]] == ["2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15"]
    assert cell["example_call_ids"] == ["h3", "h2", "h1", "h0"]
    assert client.get(URL + "&project=lanting", headers=headers["admin"]).json()["items"] == []
    later = client.get(f"{API_PREFIX}/insights/hot-issues?from=2024-04-08&to=2024-04-14", headers=headers["admin"])
    assert later.json()["items"] == []  # the wave is in the baseline now, nothing in the window


def test_who_may_ask_and_what_they_count(client, headers) -> None:
    for who in ("agent", "other_agent"):
        assert client.get(URL, headers=headers[who]).status_code == 403
    [a_cell] = client.get(URL, headers=headers["team_lead"]).json()["items"]
    assert (a_cell["calls"], a_cell["spike"]) == (3, True)
    [b_cell] = client.get(URL, headers=headers["other_team_lead"]).json()["items"]
    assert (b_cell["calls"], b_cell["spike"]) == (1, False)  # one call is no wave
    for query, field in (("?from=2024-03-17&to=2024-03-11", "from"), ("?from=2023-01-01&to=2024-03-11", "from"),
                         ("?from=2024-13-01&to=2024-03-11", "from")):  # fmt: skip
        bad = client.get(f"{API_PREFIX}/insights/hot-issues{query}", headers=headers["admin"])
        assert bad.status_code == 422 and CJK.search(bad.text) and field in bad.text, query


def test_emerging_phrases_of_the_wave(client, headers) -> None:
    url = f"{API_PREFIX}/insights/emerging?from=2024-03-11&to=2024-03-17&project=yangguang"
    body = client.get(url, headers=headers["reviewer"]).json()
    assert body["window_calls"] == 4 and body["baseline_calls"] == 0 and not body["capped"]
    assert body["items"] and all(e["calls"] == 4 and e["new"] for e in body["items"])  # the same owner's words, new
    wave = {"h0", "h1", "h2", "h3"}
    assert all(CJK.search(e["phrase"]) and set(e["example_call_ids"]) <= wave for e in body["items"])
    lead = client.get(url, headers=headers["team_lead"]).json()  # A组: three of the four calls
    assert lead["window_calls"] == 3 and all(e["calls"] == 3 for e in lead["items"])
    assert client.get(url, headers=headers["agent"]).status_code == 403
