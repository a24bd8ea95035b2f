"""Web login: session cookie, CSRF, logout, /auth/me, brute-force limit, user tokens, and the users CLI."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.app import API_PREFIX
from inspector.store.db import utcnow
from inspector.store.schema import WebSession
from inspector.store.users import require_user

PASSWORD = "correct-horse-battery"  # conftest.PASSWORD (checked by test_password_fixture)
LOGIN = f"{API_PREFIX}/auth/login"
LOGOUT = f"{API_PREFIX}/auth/logout"
ME = f"{API_PREFIX}/auth/me"


def test_password_fixture(password) -> None:
    assert password == PASSWORD


def _https(app) -> TestClient:
    return TestClient(app, base_url="https://testserver")


def test_login_sets_a_strict_http_only_cookie_and_returns_the_user(app, users) -> None:
    with _https(app) as client:
        response = client.post(LOGIN, json={"username": "Lead_A", "password": PASSWORD})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user"] == {"username": "lead_a", "display_name": "测试lead_a", "role": "team_lead",
                                "agent_id": None, "team_id": "A组", "pii": False}  # fmt: skip
        assert len(body["csrf_token"]) >= 32
        cookie = response.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
        assert cookie.startswith("inspector_session=")
        assert {"httponly", "secure", "samesite", "path", "max-age"} <= set(attributes)
        assert attributes["samesite"].lower() == "samesite=strict" and attributes["path"] == "Path=/"
        assert attributes["max-age"] == "Max-Age=43200"  # web.session_hours = 12
        me = client.get(ME)
        assert me.status_code == 200 and me.json() == body


def test_insecure_cookies_when_configured(make_app, settings, users) -> None:
    settings.web.secure_cookies = False
    settings.web.session_hours = 1.5
    with TestClient(make_app(settings)) as client:  # plain http
        response = client.post(LOGIN, json={"username": "admin", "password": PASSWORD})
        cookie = response.headers["set-cookie"].lower()
        assert "secure" not in cookie and "max-age=5400" in cookie
        assert client.get(ME).json()["user"]["role"] == "admin"


def test_wrong_password_and_unknown_user_get_the_same_401(client, users, database) -> None:
    wrong = client.post(LOGIN, json={"username": "admin", "password": "not-the-password"})
    unknown = client.post(LOGIN, json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "用户名或密码错误", "code": "login_failed"}
    assert "set-cookie" not in wrong.headers
    with database.session() as session:
        require_user(session, "trainer").active = False
    assert client.post(LOGIN, json={"username": "trainer", "password": PASSWORD}).status_code == 401
    assert client.post(LOGIN, json={"username": "admin"}).status_code == 422


def test_me_needs_a_session_or_a_token(client, headers, users) -> None:
    response = client.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    response = client.get(ME, headers=headers["team_lead"])  # the team lead user's token
    lead = {"username": "lead_a", "display_name": "test team_lead", "role": "team_lead", "agent_id": None,
            "team_id": "A组", "pii": False}  # fmt: skip
    assert response.json() == {"user": lead, "csrf_token": None}
    response = client.get(ME, headers=headers["agent"])  # a token of its own
    assert response.json()["user"] == {"username": None, "display_name": "test agent 8001", "role": "agent",
                                       "agent_id": "8001", "team_id": None, "pii": False}  # fmt: skip
    client.cookies.set("inspector_session", "forged")
    assert client.get(ME).status_code == 401


def test_csrf_is_required_for_unsafe_cookie_requests_only(app, login, headers) -> None:
    reviewer = login("reviewer")
    assert reviewer.get(f"{API_PREFIX}/calls", headers={"X-CSRF-Token": ""}).status_code == 200  # GET: no CSRF
    url = f"{API_PREFIX}/calls/retry"
    missing = reviewer.post(url, headers={"X-CSRF-Token": ""})
    assert missing.status_code == 403 and missing.json()["code"] == "csrf_failed"
    assert "CSRF" in missing.json()["detail"]
    other = login("admin").headers["X-CSRF-Token"]  # another session's token does not do
    assert reviewer.post(url, headers={"X-CSRF-Token": other}).json()["code"] == "csrf_failed"
    assert reviewer.post(url).status_code == 200  # the client sends its own token by default
    with TestClient(app) as bearer:  # a bearer request needs no CSRF token
        assert bearer.post(url, headers=headers["reviewer"]).status_code == 200
    # A bearer header wins over the cookie: a bad token is refused even with a valid session.
    assert reviewer.get(ME, headers={"Authorization": "Bearer insp_nope"}).status_code == 401


def test_logout_ends_the_session_and_clears_the_cookie(app, login, database) -> None:
    client = login("admin")
    cookie = client.cookies.get("inspector_session")
    refused = client.post(LOGOUT, headers={"X-CSRF-Token": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    response = client.post(LOGOUT)
    assert response.status_code == 204 and not response.content
    cleared = response.headers["set-cookie"].lower()
    assert cleared.startswith("inspector_session=") and "max-age=0" in cleared
    assert client.get(ME).status_code == 401
    client.cookies.set("inspector_session", cookie or "")  # the old cookie value is dead on the server
    assert client.get(ME).status_code == 401
    with _https(app) as anonymous:
        assert anonymous.post(LOGOUT).status_code == 204  # no session: nothing to do


def test_expired_session_is_refused_and_a_new_login_replaces_the_old_session(login, database) -> None:
    client = login("trainer")
    first = client.cookies.get("inspector_session")
    response = client.post(LOGIN, json={"username": "trainer", "password": PASSWORD})
    assert response.status_code == 200 and client.cookies.get("inspector_session") != first
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    with database.session() as session:
        assert session.query(WebSession).count() == 1  # logging in again ended the previous session
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get(ME)
    assert response.status_code == 401 and "重新登录" in response.json()["detail"]
    with database.session() as session:
        assert session.query(WebSession).count() == 0  # deleted when found expired


def test_deactivated_user_loses_sessions_and_tokens(client, login, headers, database) -> None:
    lead = login("team_lead")
    from inspector.store.users import deactivate

    with database.session() as session:
        deactivate(session, require_user(session, "lead_a"))
    assert lead.get(ME).status_code == 401
    response = client.get(ME, headers=headers["team_lead"])
    assert response.status_code == 401 and "停用" in response.json()["detail"]


def _client(app, address: str):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="https://testserver", client=(address, 50000))


def test_too_many_failures_lock_the_username_from_that_address_only(app, make_app, settings, users) -> None:
    import time

    attacker, office = _client(app, "203.0.113.9"), _client(app, "198.51.100.7")
    started = time.monotonic()
    for _ in range(5):
        assert attacker.post(LOGIN, json={"username": "admin", "password": "wrong-password"}).status_code == 401
    locked = attacker.post(LOGIN, json={"username": "ADMIN", "password": PASSWORD})  # even the right password
    elapsed = time.monotonic() - started
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    wait = int(locked.headers["retry-after"])
    # The lock lasts the rest of the 600 s window that began with the first failure (a loaded machine
    # can take several seconds over the five hashes).
    assert 600 - elapsed - 2 <= wait <= 600 and locked.json()["retry_after_s"] == wait
    assert "分钟后再试" in locked.json()["detail"]
    # The admin is not locked out from anywhere else, and other users are not locked out at all.
    assert office.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 200
    assert attacker.post(LOGIN, json={"username": "reviewer", "password": PASSWORD}).status_code == 200
    for _ in range(5):  # unknown usernames are limited the same way
        attacker.post(LOGIN, json={"username": "ghost", "password": "wrong-password"})
    assert attacker.post(LOGIN, json={"username": "ghost", "password": "x"}).status_code == 429
    # Counted in Redis: another API process (a second app on the same Redis) sees the same lock.
    other_process = _client(make_app(settings), "203.0.113.9")
    assert other_process.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 429


def test_a_success_forgets_the_failures_of_that_address(client, users) -> None:
    for _ in range(4):
        assert client.post(LOGIN, json={"username": "admin", "password": "wrong-password"}).status_code == 401
    assert client.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 200
    for _ in range(4):
        assert client.post(LOGIN, json={"username": "admin", "password": "wrong-password"}).status_code == 401
    assert client.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 200


def test_login_attempts_per_address_are_limited_before_hashing(make_app, settings, users, monkeypatch) -> None:
    from argon2 import PasswordHasher

    from inspector.settings import LoginSettings
    from inspector.store import users as store

    class CountingHasher(PasswordHasher):
        verified = 0

        def verify(self, hash, password):
            CountingHasher.verified += 1
            return super().verify(hash, password)

    monkeypatch.setattr(store, "HASHER", CountingHasher(time_cost=1, memory_cost=256, parallelism=1))
    app = make_app(settings.model_copy(update={"login": LoginSettings(attempts_per_minute=5)}))
    flood, office = _client(app, "203.0.113.50"), _client(app, "198.51.100.8")
    for i in range(5):  # random user names: each one would cost a hash
        assert flood.post(LOGIN, json={"username": f"random{i}", "password": "x"}).status_code == 401
    assert CountingHasher.verified == 5
    for i in range(20):
        refused = flood.post(LOGIN, json={"username": f"more{i}", "password": "x"})
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_requests"
    assert CountingHasher.verified == 5  # refused before hashing
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and "秒后再试" in refused.json()["detail"]
    assert flood.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 429
    assert office.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 200


def test_login_without_redis_is_503_and_tokens_still_work(make_app, settings, database, users, headers) -> None:
    import redis as redis_lib
    from fastapi.testclient import TestClient

    from api.app import create_app

    dead = redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    with TestClient(create_app(settings, database=database, redis=dead), base_url="https://testserver") as client:
        response = client.post(LOGIN, json={"username": "admin", "password": PASSWORD})
        assert response.status_code == 503 and response.json()["code"] == "login_unavailable"
        assert client.get("/api/v1/auth/me", headers=headers["admin"]).status_code == 200


# --- the users CLI against the API's database --------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database, tmp_path) -> None:
    monkeypatch.setenv("INSPECTOR_DATABASE_URL", database.url)
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path / "cli-data"))


@pytest.mark.usefixtures("cli_env")
def test_users_cli_creates_a_user_who_can_log_in(client, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from inspector.cli.main import main

    monkeypatch.setattr("sys.stdin", io.StringIO("zhang-password-1\n"))
    assert main(["users", "create", "zhangsan", "--role", "agent", "--agent-id", "8001", "--name", "张三",
                 "--password-stdin"]) == 0  # fmt: skip
    assert "已创建用户 zhangsan（坐席）" in capsys.readouterr().out
    login = client.post(LOGIN, json={"username": "zhangsan", "password": "zhang-password-1"})
    assert login.status_code == 200 and login.json()["user"]["agent_id"] == "8001"

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "create", "lisi", "--role", "admin", "--password-stdin"]) == 2
    assert "密码至少需要 8 个字符" in capsys.readouterr().err
    assert main(["users", "create", "lisi", "--role", "team_lead", "--password-stdin"]) == 2
    assert "--team" in capsys.readouterr().err

    answers = iter(["first-password", "second-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create", "lisi", "--role", "admin"]) == 2
    assert "两次输入的密码不一致" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("new-password-22\n"))
    assert main(["users", "passwd", "zhangsan", "--password-stdin"]) == 0
    assert client.post(LOGIN, json={"username": "zhangsan", "password": "new-password-22"}).status_code == 200
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "zhangsan\t张三\t坐席\t8001\t脱敏\t启用" in out
    assert main(["users", "pii", "zhangsan"]) == 0  # grant the permission to reveal personal data
    assert "已授予用户 zhangsan 查看未脱敏个人信息的权限" in capsys.readouterr().out
    assert main(["users", "pii", "zhangsan"]) == 0
    assert "原本如此" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert "zhangsan\t张三\t坐席\t8001\t可查看\t启用" in capsys.readouterr().out
    assert main(["users", "pii", "zhangsan", "--revoke"]) == 0
    assert "已收回" in capsys.readouterr().out
    assert main(["users", "disable", "zhangsan"]) == 0
    assert client.post(LOGIN, json={"username": "zhangsan", "password": "new-password-22"}).status_code == 401
    assert main(["users", "disable", "nobody"]) == 2
    assert "用户 nobody 不存在" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
def test_token_create_for_a_team_lead_needs_the_user(client, users, capsys) -> None:
    from inspector.cli.main import main

    assert main(["token", "create", "--role", "team_lead"]) == 2
    assert "--user" in capsys.readouterr().err
    assert main(["token", "create", "--user", "lead_b", "--name", "B组看板"]) == 0
    captured = capsys.readouterr()
    assert "属于用户 lead_b" in captured.err
    token = captured.out.strip().splitlines()[-1]
    me = client.get(ME, headers={"Authorization": f"Bearer {token}"}).json()
    assert me["user"]["role"] == "team_lead" and me["user"]["team_id"] == "B组"
