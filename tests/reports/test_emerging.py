"""Emerging phrases (新出现的说法) on real databases: a phrase owners start saying in the window is found (new),
a phrase said at its usual rate is not, one said by too few calls is not, a part of a longer emerging phrase is
dropped, the project and visibility filters hold, the cap is reported, and personal data never becomes a phrase."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from inspector.reports.emerging import PHRASES_VERSION, call_phrases, emerging_phrases, phrases_of_call
from inspector.settings import InsightSettings
from inspector.store.phrases import save_phrases
from inspector.store.schema import Agent, Call, UtteranceRecord

START, END = date(2024, 3, 25), date(2024, 3, 31)  # the baseline: the 28 days before
SETTINGS = InsightSettings()


def _call(session, call_id: str, day: date, text: str, project: str = "yangguang", agent: str = "8001") -> None:
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=3)
    digest = call_id.encode().hex().ljust(64, "0")
    session.add(Call(id=call_id, agent_id=agent, started_at=at, day=day, audio_sha256=digest, audio_bytes=1,
                     audio_name=f"{call_id}.wav", source="import", status="done", attempts=1, created_at=at,
                     updated_at=at, project=project))  # fmt: skip
    session.flush()
    session.add_all([
        UtteranceRecord(call_id=call_id, idx=0, start=0, end=2, speaker="S0", role="agent", text="您好，物业客服。",
                        confidence=1.0),
        UtteranceRecord(call_id=call_id, idx=1, start=2, end=6, speaker="S1", role="customer", text=text,
                        confidence=1.0),
    ])  # fmt: skip


@pytest.fixture
def db(database):
    with database.session() as session:
        now = datetime(2024, 1, 1)
        session.add_all([Agent(id="8001", name="甲", created_at=now), Agent(id="9001", name="乙", created_at=now)])
        session.flush()
        for i in range(40):  # the baseline: the usual calls about fees and leaks
            text = "我想问一下物业费怎么交" if i % 2 else "厨房水管漏水了"
            _call(session, f"b{i}", START - timedelta(days=1 + i % 28), text)
        for i in range(10):  # the window: the usual rate, plus an elevator that traps people five times
            usual = "我想问一下物业费怎么交" if i % 2 else "厨房水管漏水了"
            _call(session, f"w{i}", START + timedelta(days=i % 7), usual)
        for i in range(5):
            _call(session, f"e{i}", START + timedelta(days=i), f"五号楼电梯困人了，我的手机13912345{i:03d}")
        for i in range(2):  # said by two calls only
            _call(session, f"g{i}", START + timedelta(days=i), "车库门禁坏了")
        for i in range(4):  # another project, another agent
            _call(session, f"o{i}", START + timedelta(days=i), "游泳池停水", project="lanting", agent="9001")
    return database


def test_a_new_phrase_emerges_and_the_usual_ones_do_not(db) -> None:
    with db.session() as session:
        found = emerging_phrases(session, SETTINGS, START, END, "yangguang")
    phrases = {e.phrase: e for e in found.items}
    assert found.window_calls == 17 and found.baseline_calls == 40 and not found.capped
    assert "电梯困人" in phrases and not {"电梯", "困人"} & phrases.keys()  # its parts, said as often: dropped
    elevator = phrases["电梯困人"]
    assert elevator.calls == 5 and elevator.new and elevator.baseline_calls == 0
    assert elevator.examples == ["e4", "e3", "e2"]  # newest first
    assert not {"物业费", "漏水", "水管漏水", "厨房"} & phrases.keys()  # said at the usual rate
    assert not {"车库", "门禁"} & phrases.keys()  # two calls: fewer than emerging_min_calls
    assert not any(ch.isdigit() for p in phrases for ch in p)  # the phone number never becomes a phrase
    assert not {"游泳池", "游泳池停水"} & phrases.keys()  # another project


def test_visibility_and_the_cap(db) -> None:
    with db.session() as session:
        other = emerging_phrases(session, SETTINGS, START, END, None, Call.agent_id == "9001")
        assert {e.phrase for e in other.items} == {"游泳池停水"} and other.window_calls == 4  # 游泳池: a part of it
        small = InsightSettings.model_validate({**SETTINGS.model_dump(), "emerging_max_calls": 10})
        capped = emerging_phrases(session, small, START, END, "yangguang")
        assert capped.capped and capped.window_calls == 10 and capped.baseline_calls == 10  # the newest ten


def test_phrases_of_a_call() -> None:
    phrases = call_phrases(["厨房水管漏水了，墙都泡了", "你们物业怎么回事"])
    assert {"厨房", "水管", "漏水", "水管漏水"} <= phrases
    assert not {"你们", "物业", "了墙", "漏水了"} & phrases  # stop words and particles are no phrases
    paused = call_phrases(["楼顶水箱有异味，自来水很臭", "电梯 3 楼卡住"])
    assert {"水箱", "异味", "自来水", "楼顶水箱"} <= paused
    assert not {"异味自来水", "电梯楼"} & paused  # a pause, a digit or a space parts two words


def test_stored_phrase_sets_are_read_and_old_versions_cut_again(db) -> None:
    """A call's stored set (cut when it was scored) is what counts; a set of another rules version, or none,
    is cut from the transcript on read, with the same result as before sets were stored."""
    with db.session() as session:
        before = emerging_phrases(session, SETTINGS, START, END, "yangguang")
        for i in range(5):  # the elevator calls' sets as stored when scored: the same phrases
            save_phrases(session, f"e{i}", phrases_of_call(session, f"e{i}"), PHRASES_VERSION)
        assert emerging_phrases(session, SETTINGS, START, END, "yangguang") == before
        for i in range(5):  # stored sets win over the transcript: here they say something else
            save_phrases(session, f"e{i}", {"水箱异味"}, PHRASES_VERSION)
        stored = {e.phrase for e in emerging_phrases(session, SETTINGS, START, END, "yangguang").items}
        assert "水箱异味" in stored and "电梯困人" not in stored
        for i in range(5):  # older rules: cut again from the transcript
            save_phrases(session, f"e{i}", {"水箱异味"}, PHRASES_VERSION - 1)
        assert emerging_phrases(session, SETTINGS, START, END, "yangguang") == before
