"""API documentation served offline: Swagger UI from a pip package, never from a CDN.

FastAPI's default /docs page loads Swagger UI from cdn.jsdelivr.net, which a call centre's intranet
cannot reach. Here:

- ``/openapi.json`` is FastAPI's OpenAPI document (no token: it describes, it holds no data);
- ``/docs`` is Swagger UI with its assets served from ``/docs/assets`` out of the
  ``swagger-ui-bundle-v2`` package (import name ``swagger_ui_bundle``, Swagger UI 5, which renders
  the OpenAPI 3.1 FastAPI writes); the online spec validator badge is turned off;
- without that package, ``/docs`` is a plain page listing the routes from the OpenAPI document and
  linking to ``/openapi.json`` — still nothing loaded from another host.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
TITLE = "智能质检 API"


def swagger_assets() -> Path | None:
    """The folder of the vendored Swagger UI files, if the package is installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    folder = Path(str(swagger_ui_path))
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _route_list(app: FastAPI, root: str) -> str:
    rows = []
    for path, operations in app.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            summary = html.escape(str(operation.get("summary", "")))
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{summary}</td></tr>")  # fmt: skip
    return (
        f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{TITLE}</title></head><body>"
        f"<h1>{TITLE}</h1><p>完整的接口定义：<a href='{root}/openapi.json'>openapi.json</a>"
        "（未安装 swagger-ui-bundle-v2，交互式文档不可用）</p>"
        f"<table border='1' cellpadding='4'><tr><th>方法</th><th>地址</th><th>说明</th></tr>{''.join(rows)}</table>"
        "</body></html>"
    )


def install(app: FastAPI) -> None:
    assets = swagger_assets()
    if assets is not None:
        app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        if assets is None:
            return HTMLResponse(_route_list(app, root))
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=TITLE,
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )
