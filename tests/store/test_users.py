"""Users, password hashing, browser sessions and user-owned tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from inspector.store import users
from inspector.store.db import utcnow
from inspector.store.schema import ApiToken, User, WebSession
from inspector.store.tokens import TokenError, create_token, verify_token
from inspector.store.users import (
    UserError,
    authenticate,
    create_session,
    create_user,
    deactivate,
    end_session,
    session_user,
    set_password,
)

PASSWORD = "correct-horse-battery"
CHEAP = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", CHEAP)


def test_password_is_stored_as_an_argon2id_hash_with_the_default_parameters(database) -> None:
    with database.session() as s:
        user = create_user(s, "ZhangSan", PASSWORD, "reviewer", display_name="张三")
        assert user.username == "zhangsan"  # usernames are case-insensitive
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert not PasswordHasher().check_needs_rehash(user.password_hash)  # argon2-cffi's defaults
    with database.session() as s:
        found = authenticate(s, "zhangsan", PASSWORD)
        assert found is not None and found.role == "reviewer" and found.last_login_at is not None
        assert authenticate(s, "ZHANGSAN", PASSWORD) is not None


@pytest.mark.usefixtures("cheap_hashing")
def test_wrong_unknown_and_inactive_users_fail(database, monkeypatch: pytest.MonkeyPatch) -> None:
    with database.session() as s:
        create_user(s, "lisi", PASSWORD, "trainer")
    verified: list[str] = []
    real_verify = users._verify
    monkeypatch.setattr(users, "_verify", lambda h, p: verified.append(h) or real_verify(h, p))
    with database.session() as s:
        assert authenticate(s, "lisi", PASSWORD + "x") is None
        assert authenticate(s, "nobody", PASSWORD) is None
        assert len(verified) == 2  # an unknown user costs a verification too (against a dummy hash)
        deactivate(s, users.require_user(s, "lisi"))
    with database.session() as s:
        assert authenticate(s, "lisi", PASSWORD) is None


@pytest.mark.usefixtures("cheap_hashing")
def test_create_user_rules(database) -> None:
    with database.session() as s:
        with pytest.raises(UserError, match="密码至少需要 8 个字符"):
            create_user(s, "wangwu", "short", "admin")
        with pytest.raises(UserError, match="坐席工号"):
            create_user(s, "wangwu", PASSWORD, "agent")
        with pytest.raises(UserError, match="班组"):
            create_user(s, "wangwu", PASSWORD, "team_lead")
        with pytest.raises(UserError, match="只有坐席"):
            create_user(s, "wangwu", PASSWORD, "admin", agent_id="8001")
        with pytest.raises(UserError, match="未知角色"):
            create_user(s, "wangwu", PASSWORD, "boss")
        with pytest.raises(UserError, match="用户名"):
            create_user(s, "a b", PASSWORD, "admin")
        agent = create_user(s, "wangwu", PASSWORD, "agent", agent_id="8001")
        lead = create_user(s, "zhaoliu", PASSWORD, "team_lead", team_id="A组")
        assert (agent.agent_id, agent.team_id, lead.team_id) == ("8001", None, "A组")
        with pytest.raises(UserError, match="已存在"):
            create_user(s, "WangWu", PASSWORD, "admin")


def test_hash_is_replaced_when_the_parameters_change(database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", CHEAP)
    with database.session() as s:
        old = create_user(s, "sunqi", PASSWORD, "admin").password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=512, parallelism=1)
    monkeypatch.setattr(users, "HASHER", stronger)
    with database.session() as s:
        assert authenticate(s, "sunqi", PASSWORD) is not None
    with database.session() as s:
        new = users.require_user(s, "sunqi").password_hash
    assert new != old and "m=512,t=2" in new and not stronger.check_needs_rehash(new)


@pytest.mark.usefixtures("cheap_hashing")
def test_sessions_store_only_the_cookie_hash_and_expire(database) -> None:
    with database.session() as s:
        user = create_user(s, "zhouba", PASSWORD, "reviewer")
        cookie, csrf = create_session(s, user, hours=2)
    with database.session() as s:
        (record,) = s.scalars(select(WebSession)).all()
        assert record.id == hashlib.sha256(cookie.encode()).hexdigest() and record.csrf_token == csrf
        assert cookie not in (record.id, record.csrf_token)
        found = session_user(s, cookie)
        assert found is not None and found[0].username == "zhouba" and found[1].csrf_token == csrf
        assert session_user(s, cookie + "x") is None and session_user(s, "") is None
        assert session_user(s, cookie, now=utcnow() + timedelta(hours=3)) is None  # expired: deleted
    with database.session() as s:
        assert s.scalars(select(WebSession)).all() == []
        assert session_user(s, cookie) is None


@pytest.mark.usefixtures("cheap_hashing")
def test_logout_password_change_and_deactivation_end_sessions(database) -> None:
    with database.session() as s:
        user = create_user(s, "wujiu", PASSWORD, "reviewer")
        first, _ = create_session(s, user, hours=1)
        second, _ = create_session(s, user, hours=1)
        end_session(s, first)
        assert session_user(s, first) is None and session_user(s, second) is not None
        with pytest.raises(UserError):
            set_password(s, user, "short")
        set_password(s, user, "another-long-password")
        assert session_user(s, second) is None
        third, _ = create_session(s, user, hours=1)
        deactivate(s, user)
        assert session_user(s, third) is None
    with database.session() as s:
        assert authenticate(s, "wujiu", "another-long-password") is None  # inactive


@pytest.mark.usefixtures("cheap_hashing")
def test_tokens_of_users_carry_the_users_role(database) -> None:
    with database.session() as s:
        lead = create_user(s, "lead", PASSWORD, "team_lead", team_id="A组")
        agent = create_user(s, "agent", PASSWORD, "agent", agent_id="8001")
        with pytest.raises(TokenError, match="--user"):
            create_token(s, "team_lead")  # a token has no team: it must belong to a team lead user
        with pytest.raises(TokenError, match="不一致"):
            create_token(s, "admin", user=lead)
        with pytest.raises(TokenError, match="不一致"):
            create_token(s, None, agent_id="9999", user=agent)
        lead_token = create_token(s, None, user=lead)
        agent_token = create_token(s, "agent", user=agent)
        record = verify_token(s, lead_token)
        assert record is not None and (record.role, record.user_id) == ("team_lead", lead.id)
        record = verify_token(s, agent_token)
        assert record is not None and (record.role, record.agent_id) == ("agent", "8001")
        deactivate(s, lead)
        with pytest.raises(TokenError, match="已停用"):
            create_token(s, None, user=lead)
        assert s.get(User, lead.id) is not None and len(s.scalars(select(ApiToken)).all()) == 2
