"""Migrations on stored rows (SQLite and PostgreSQL). 0016: call_topics rows written before it get the contact
chains that ``inspector.store.topics`` keeps from then on."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select, text

from inspector.store.db import MIGRATIONS_DIR
from inspector.store.schema import AgentDay, CallTopic

DAY0 = date(2024, 5, 1)
# (call, day offset, hour, topic, contact, project): a caller twice on one day, another caller, a call
# without a project, one without a day.
ROWS = [
    ("c1", 0, 9, "电梯", "13900000001", "yangguang"),
    ("c2", 2, 8, "电梯", "13900000001", "yangguang"),
    ("c3", 2, 10, "电梯", "13900000001", "yangguang"),
    ("c4", 1, 9, "电梯", "13900000002", "yangguang"),
    ("c5", 3, 9, "电梯", "13900000001", None),
    ("c6", 4, 9, "停车", "13900000001", "yangguang"),
    ("c7", None, 9, "电梯", "13900000001", "yangguang"),
]


def _upgrade(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def test_stored_rows_get_their_chains(database_url) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            _upgrade(connection, "0015")
            connection.execute(text("INSERT INTO agents (id, name, created_at) VALUES ('8001', '甲', :at)"),
                               {"at": datetime(2024, 1, 1)})  # fmt: skip
            for call_id, offset, hour, topic, contact, project in ROWS:
                day = None if offset is None else DAY0 + timedelta(days=offset)
                at = datetime.combine(day or DAY0, datetime.min.time()) + timedelta(hours=hour)
                values = {"id": call_id, "day": day, "at": at, "project": project, "contact": contact, "topic": topic}
                connection.execute(text(
                    "INSERT INTO calls (id, agent_id, started_at, day, audio_sha256, audio_bytes, audio_name, source,"
                    " status, attempts, created_at, updated_at, project, caller) VALUES (:id, '8001', :at, :day,"
                    " :id, 1, 'a.wav', 'import', 'done', 1, :at, :at, :project, :contact)"
                ), values)  # fmt: skip
                connection.execute(text(
                    "INSERT INTO call_topics (call_id, topic, project, day, at, agent_id, caller, unit, contact)"
                    " VALUES (:id, :topic, :project, :day, :at, '8001', :contact, NULL, :contact)"
                ), values)  # fmt: skip
            _upgrade(connection, "head")
            found = dict(connection.execute(select(CallTopic.call_id, CallTopic.prev_day)).all())
    finally:
        engine.dispose()
    day = [DAY0 + timedelta(days=i) for i in range(5)]
    # c1 → c2 → c3 (same day, by time); c4 another caller; c5 and c6 other chains; c7 has no day.
    assert found == {"c1": None, "c2": day[0], "c3": day[2], "c4": None, "c5": None, "c6": None, "c7": None}


def test_rollup_json_survives_jsonb(database_url) -> None:
    """0017: the rollup's checks become jsonb on PostgreSQL (SQLite keeps text); stored values read back, and
    dimensions keep their order."""
    engine = create_engine(database_url)
    dimensions = '{"礼貌用语": 190.0, "规范": 180.0}'  # jsonb would put the shorter key first
    row = {"dimensions": dimensions, "checks": '{"greeting": 2, "escalation": 1}', "missed": '{"r1": 1}'}
    try:
        with engine.begin() as connection:
            _upgrade(connection, "0016")
            connection.execute(text("INSERT INTO agents (id, name, created_at) VALUES ('8001', '甲', :at)"),
                               {"at": datetime(2024, 1, 1)})  # fmt: skip
            connection.execute(text(
                "INSERT INTO agent_days (agent_id, day, calls, score_sum, red, yellow, blue, fatal, uncertain,"
                " dimensions, checks, missed, repeated) VALUES ('8001', :day, 2, 190.0, 0, 1, 0, 0, 0,"
                " :dimensions, :checks, :missed, 0)"
            ), {"day": DAY0, **row})  # fmt: skip
            _upgrade(connection, "head")
            found = connection.execute(select(AgentDay.dimensions, AgentDay.checks, AgentDay.missed)).one()
            total = connection.execute(select(AgentDay.checks["greeting"].as_integer())).scalar()
    finally:
        engine.dispose()
    assert tuple(found) == ({"礼貌用语": 190.0, "规范": 180.0}, {"greeting": 2, "escalation": 1}, {"r1": 1})
    assert list(found[0]) == ["礼貌用语", "规范"] and total == 2
