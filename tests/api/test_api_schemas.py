"""Every /api/v1 route documents what it answers: JSON routes have a response model (so /docs and
openapi.json describe the body), file and text routes their media type, and openapi.json has a schema
for every 2xx answer. The next route added cannot skip this."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import API_PREFIX


def _api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(path template, route) of every /api/v1 route, walking included routers."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path.startswith(API_PREFIX):
            found.append((context.path, route))
    return found


def _answers_json(route: APIRoute) -> bool:
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    return issubclass(response_class, JSONResponse)


def test_every_json_route_has_a_response_model(app: FastAPI) -> None:
    routes = _api_routes(app)
    assert len(routes) > 40
    missing = [(sorted(r.methods), path) for path, r in routes if _answers_json(r) and r.response_model is None]
    assert not missing, f"JSON routes without response_model= (add one in api/schemas/): {missing}"


def test_every_other_route_documents_its_media_type(app: FastAPI) -> None:
    for path, route in _api_routes(app):
        if _answers_json(route) or route.status_code == 204:
            continue
        success: dict[str, Any] = route.responses.get(200) or route.responses.get(route.status_code or 200) or {}
        assert success.get("content"), (sorted(route.methods), path, "document the media type in responses=")


def test_openapi_has_a_schema_for_every_success_response(client) -> None:
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content") or {}
                assert content, (method, path, status)
                for media, body in content.items():
                    assert body.get("schema"), (method, path, status, media)
                    if media == "application/json":
                        assert body["schema"] != {}, (method, path, status)
                checked += 1
    assert checked > 40


def test_openapi_names_the_vocabulary_of_statuses(client) -> None:
    """Status, level and role fields are the enums of ``inspector.vocab`` (the same strings as before)."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["AlertLevel"]["enum"] == ["none", "blue", "yellow", "red"]
    assert schemas["NamedAlertOut"]["properties"]["level"] == {"$ref": "#/components/schemas/AlertLevel"}
    assert schemas["CallSummary"]["properties"]["status"] == {"$ref": "#/components/schemas/CallStatus"}
    assert schemas["AppealOut"]["properties"]["status"] == {"$ref": "#/components/schemas/AppealStatus"}
    assert schemas["AssignmentOut"]["properties"]["status"] == {"$ref": "#/components/schemas/CoachingStatus"}
    assert schemas["ReviewOut"]["properties"]["reason"]["$ref"] == "#/components/schemas/ReviewReason"
