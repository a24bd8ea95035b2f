"""The web UI: a small single-page app (vanilla JS, no build step, nothing loaded from another host).

- ``GET /`` redirects to ``/ui/``;
- ``GET /ui/`` and every ``/ui/<path>`` that is not one of the app's files answer ``index.html``
  (the app routes on the URL hash: ``#/calls``, ``#/calls/<id>``, ``#/agents/<id>``...);
- the app's files (``app.js``, ``style.css``..., and the ES modules under ``core/`` and ``pages/``) are
  served from this package with their content type. Only the files listed in ``ASSETS`` are ever served
  (each module is named there by its path, e.g. ``pages/calls.js``): any other path, ``..`` included,
  answers ``index.html``, so nothing outside this folder can be reached.

The pages themselves need no login: every data call goes to ``/api/v1`` with the session cookie, and
the app shows its login page when the API answers 401. Responses carry a Content-Security-Policy that
allows only this origin, so the UI cannot load anything from the internet even by mistake.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

WEB_DIR = Path(__file__).resolve().parent
UI_PREFIX = "/ui"

JAVASCRIPT = "text/javascript; charset=utf-8"  # module scripts need a JavaScript media type
# Folders of ES modules (``core/*.js``, ``pages/*.js``), imported by ``app.js``.
MODULE_DIRS = ("core", "pages")


def _modules() -> dict[str, str]:
    """The ES modules of the app by their path under /ui/: the plain ``*.js`` files of ``MODULE_DIRS``."""
    found: dict[str, str] = {}
    for folder in MODULE_DIRS:
        for module in sorted((WEB_DIR / folder).glob("*.js")):
            # A plain file of this folder only (never a link leading out of the package).
            if module.is_file() and module.resolve().parent == WEB_DIR / folder:
                found[f"{folder}/{module.name}"] = JAVASCRIPT
    return found


# The files the app is made of, with their media types (anything else under /ui/ is a client-side route).
ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": JAVASCRIPT,
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
    **_modules(),
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The assets change with each deployment; revalidate instead of serving a stale app.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _asset(name: str) -> Response:
    return FileResponse(WEB_DIR / name, media_type=ASSETS[name], headers=SECURITY_HEADERS)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(f"{UI_PREFIX}/", status_code=307)


@router.get(UI_PREFIX)
def ui_no_slash() -> RedirectResponse:
    return RedirectResponse(f"{UI_PREFIX}/", status_code=307)


@router.get(f"{UI_PREFIX}/")
def index() -> Response:
    return _asset("index.html")


@router.get(UI_PREFIX + "/{path:path}")
def asset_or_page(path: str) -> Response:
    """An asset of the app by its name, else the app itself (a client-side route)."""
    return _asset(path if path in ASSETS else "index.html")
