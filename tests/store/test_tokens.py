"""API tokens: optional expiry, listing, revocation; an expired or revoked token is refused by the
store and answered 401 by the API (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import update

from inspector.service.queue import connect_redis
from inspector.settings import QueueSettings, Settings
from inspector.store.db import utcnow
from inspector.store.schema import ApiToken, Base
from inspector.store.tokens import TokenError, create_token, list_tokens, parse_expiry, revoke_token, verify_token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_expiry_values(text: str, expected: timedelta) -> None:
    assert parse_expiry(text) == expected


@pytest.mark.parametrize("text", ["", "90", "d", "0d", "-1d", "1.5h", "90x", "10s", "99999999d"])
def test_bad_expiry_values_are_a_clear_error(text: str) -> None:
    with pytest.raises(TokenError, match="有效期") as info:
        parse_expiry(text)
    assert "90d" in str(info.value) and "\n" not in str(info.value)


def test_expired_and_revoked_tokens_are_refused(database) -> None:
    with database.session() as s:
        forever = create_token(s, "admin", name="脚本")
        soon = create_token(s, "agent", agent_id="8001", expires_in=timedelta(minutes=30))
    with database.session() as s:
        assert verify_token(s, forever) is not None
        record = verify_token(s, soon)
        assert record is not None and record.expires_at is not None
        assert timedelta(minutes=29) < record.expires_at - utcnow() <= timedelta(minutes=30)
        s.execute(update(ApiToken).where(ApiToken.id == record.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    with database.session() as s:
        assert verify_token(s, soon) is None
        listed = list_tokens(s)
        assert [(t.role, t.name, t.revoked) for t in listed] == [("admin", "脚本", False), ("agent", "", False)]
        revoked = revoke_token(s, listed[0].id)
        assert revoked.revoked
    with database.session() as s:
        assert verify_token(s, forever) is None
        with pytest.raises(TokenError, match="令牌 #999 不存在"):
            revoke_token(s, 999)


def test_the_migration_matches_the_schema(database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "api_tokens" in repr(d)] == []


def test_the_api_answers_401_to_expired_and_revoked_tokens(database, tmp_path: Path, redis_url: str) -> None:
    from api.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data", database_url=database.url, redis_url=redis_url, queue=QueueSettings(name="t-tok")
    )
    with database.session() as s:
        expiring = create_token(s, "admin", expires_in=timedelta(hours=12))
        revoked = create_token(s, "admin")
    connection = connect_redis(redis_url)
    try:
        with TestClient(create_app(settings, database=database, redis=connection)) as client:
            for token in (expiring, revoked):
                assert client.get("/api/v1/calls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            with database.session() as s:
                s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)).where(
                    ApiToken.id == verify_token(s, expiring).id))  # fmt: skip
                revoke_token(s, verify_token(s, revoked).id)
            for token in (expiring, revoked):
                response = client.get("/api/v1/calls", headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    finally:
        connection.close()
