"""The web UI's files: every ES module served as JavaScript, nothing outside api/web ever served."""

from __future__ import annotations

from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "api" / "web"


def test_every_module_is_served_as_javascript(client) -> None:
    modules = sorted(p.relative_to(WEB).as_posix() for p in WEB.glob("**/*.js"))
    assert "app.js" in modules and any(m.startswith("core/") for m in modules)
    assert any(m.startswith("pages/") for m in modules)
    for module in modules:
        response = client.get(f"/ui/{module}")
        assert response.status_code == 200, module
        assert response.headers["content-type"] == "text/javascript; charset=utf-8", module
        assert response.text == (WEB / module).read_text(encoding="utf-8"), module
        assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    ["/ui/core/../__init__.py", "/ui/..%2f__init__.py", "/ui/core/%2e%2e/%2e%2e/settings.py", "/ui/__init__.py",
     "/ui/pages/missing.js", "/ui/core"],
)  # fmt: skip
def test_anything_else_answers_the_app_page(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (WEB / "index.html").read_text(encoding="utf-8")


def test_index_loads_the_entry_module(client) -> None:
    page = client.get("/ui/").text
    assert '<script type="module" src="/ui/app.js">' in page
