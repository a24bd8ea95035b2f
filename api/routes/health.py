"""Health (no token: for load balancers and orchestrators) and Prometheus metrics (any valid token)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from api.deps import Anyone, State
from api.schemas.health import HealthOut

log = logging.getLogger("api")

public = APIRouter(tags=["运维"])
router = APIRouter(tags=["运维"])


@public.get(
    "/healthz",
    response_model=HealthOut,
    summary="健康检查（无需令牌）：数据库与 Redis",
    responses={503: {"model": HealthOut, "description": "数据库或 Redis 不可用"}},
)
def healthz(state: State) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with state.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        log.exception("health check: database unavailable")
        checks["database"] = "unavailable"
    try:
        state.redis.ping()
        checks["redis"] = "ok"
    except Exception:
        log.exception("health check: redis unavailable")
        checks["redis"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    body = HealthOut(status="ok" if healthy else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


@router.get("/metrics", summary="Prometheus 指标（需令牌）", response_class=Response,
            responses={200: {"description": "Prometheus 文本格式",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}})  # fmt: skip
def metrics(_: Anyone, state: State) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
