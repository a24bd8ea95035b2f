"""Authentication on every route, the role rules, JSON errors, and the offline docs."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from api.app import API_PREFIX

PUBLIC = {f"{API_PREFIX}/healthz", f"{API_PREFIX}/vocabulary", f"{API_PREFIX}/auth/login", f"{API_PREFIX}/auth/logout"}


def _api_routes(app) -> set[tuple[str, str]]:
    """(method, path template) of every route of the app, walking included routers."""
    try:  # FastAPI >= 0.16x keeps included routers as one lazy route each
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI flattens them into app.routes
        routes = [(r.path, r.methods) for r in app.routes if isinstance(r, APIRoute)]
    else:
        routes = [
            (r.path, r.methods) for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute)
        ]
    return {(method, path) for path, methods in routes for method in methods or ()}


def _protected_routes(app) -> list[tuple[str, str]]:
    found = sorted((m, p) for m, p in _api_routes(app) if p.startswith(API_PREFIX) and p not in PUBLIC)
    documented = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops if path not in PUBLIC
    }
    assert set(found) == documented  # the walk found every route
    return [(method, re.sub(r"\{[^}]+\}", "1", path)) for method, path in found]


def test_every_api_route_needs_a_valid_token(app, client, database, tokens) -> None:
    routes = _protected_routes(app)
    assert len(routes) >= 15
    from inspector.store.schema import ApiToken

    with database.session() as session:  # a revoked token is refused like an unknown one
        session.query(ApiToken).filter(ApiToken.role == "trainer").update({"revoked": True})
    for method, path in routes:
        for auth in (None, "Bearer insp_not-a-token", "Bearer nonsense", "Basic YWRtaW46YWRtaW4=",
                     f"Bearer {tokens['trainer']}"):  # fmt: skip
            response = client.request(method, path, headers={"Authorization": auth} if auth else {})
            assert response.status_code == 401, (method, path, auth, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            body = response.json()
            assert body["code"] == "unauthorized"
            assert re.search(r"[\u4e00-\u9fff]", body["detail"]), body


def test_healthz_needs_no_token(client) -> None:
    response = client.get(f"{API_PREFIX}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("reviewer", "POST", "/calls"),
        ("agent", "POST", "/calls"),
        ("trainer", "POST", "/calls/retry"),
        ("agent", "POST", "/calls/x/retry"),
        ("reviewer", "POST", "/rulesets"),
        ("team_lead", "POST", "/rulesets/1/activate"),
        ("reviewer", "POST", "/rulesets/1/rescore"),
        ("agent", "GET", "/teams/A组/leaderboard"),
        ("agent", "GET", "/exports/calls.csv"),
        ("agent", "GET", "/exports/scorecards.xlsx"),
    ],
)
def test_roles_not_allowed_get_403(client, headers, who, method, path) -> None:
    response = client.request(method, API_PREFIX + path, headers=headers[who])
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert "无权" in response.json()["detail"]


def test_unknown_route_and_method_answer_json_in_chinese(client, headers) -> None:
    response = client.get(f"{API_PREFIX}/nothing-here", headers=headers["admin"])
    assert response.status_code == 404
    assert response.json() == {"detail": "请求的地址不存在", "code": "not_found"}
    response = client.delete(f"{API_PREFIX}/rulesets", headers=headers["admin"])
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_docs_are_served_without_any_external_host(client) -> None:
    from api.docs import swagger_assets

    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert f"{API_PREFIX}/calls" in paths and "multipart/form-data" in str(paths[f"{API_PREFIX}/calls"]["post"])
    page = client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href|url)\s*[=:]\s*['\"]?(https?:)?//", page.text), page.text
    if swagger_assets() is not None:  # the vendored Swagger UI (swagger-ui-bundle-v2) is installed
        assert "/docs/assets/swagger-ui-bundle.js" in page.text
        asset = client.get("/docs/assets/swagger-ui-bundle.js")
        assert asset.status_code == 200 and len(asset.content) > 100_000
        assert '"validatorUrl": null' in page.text
    else:
        assert "/openapi.json" in page.text and f"{API_PREFIX}/calls" in page.text


def test_docs_without_the_swagger_package_list_the_routes_offline(make_app, settings, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    import api.docs

    monkeypatch.setattr(api.docs, "swagger_assets", lambda: None)
    with TestClient(make_app(settings)) as client:
        page = client.get("/docs")
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404
    assert page.status_code == 200
    assert "/openapi.json" in page.text and f"{API_PREFIX}/calls/{{call_id}}/audio" in page.text
    assert "http://" not in page.text and "https://" not in page.text
