"""The FastAPI application. Run it with ``uvicorn --factory api.app:create_app`` (settings from the
environment / ``inspector.toml``, see ``inspector.settings``), or build it in tests with explicit
settings, database and Redis connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

import redis as redis_lib
from fastapi import APIRouter, Depends, FastAPI

from api import docs, errors, web
from api.deps import current_principal
from api.limits import BodyLimit, LoginGuard
from api.metrics import Metrics, MetricsMiddleware
from api.routes import (
    agents,
    alerts,
    appeals,
    assessments,
    auth,
    calibration,
    calls,
    cases,
    coaching,
    exports,
    forecast,
    health,
    insights,
    org,
    owners,
    repeat_contacts,
    reviews,
    rulesets,
    satisfaction,
    teams,
    vocabulary,
)
from api.schemas.errors import COMMON_ERRORS, PROTECTED_ERRORS, error_responses
from api.state import AppState
from inspector.service.queue import connect_redis, make_queue
from inspector.settings import Settings
from inspector.store.blobs import LocalAudioStore
from inspector.store.calls import count_by_status
from inspector.store.db import Database

API_PREFIX = "/api/v1"


def _calls_by_status(db: Database) -> dict[str, int]:
    with db.session() as session:
        return count_by_status(session)


def create_app(
    settings: Settings | None = None, *, database: Database | None = None, redis: redis_lib.Redis | None = None
) -> FastAPI:
    """The API over ``settings``. A database / Redis connection passed in is used as is (and not closed);
    ones created here are closed at shutdown, and a database created here is migrated at startup."""
    settings = settings or Settings()
    own_db = database is None
    own_redis = redis is None
    db = database or Database(settings.database)
    connection = redis if redis is not None else connect_redis(settings.redis_url)
    metrics = Metrics()
    state = AppState(
        settings=settings,
        db=db,
        redis=connection,
        queue=make_queue(settings, connection),
        audio=LocalAudioStore(settings.audio_store_dir),
        metrics=metrics,
        tz=ZoneInfo(settings.timezone),
    )
    metrics.watch(lambda: _calls_by_status(db), lambda: state.queue.count)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if own_db:
            db.upgrade()
        yield
        if own_db:
            db.dispose()
        if own_redis:
            connection.close()

    app = FastAPI(
        title=docs.TITLE,
        version="1",
        description="物业服务热线智能质检：录音上传、分析结果、坐席成绩单、规则集管理与导出。"
        "除 /api/v1/healthz、/api/v1/vocabulary 与登录/退出外，所有 /api/v1 接口都需要 Authorization: Bearer <token>，"
        "或网页登录的会话 Cookie（修改类请求另需请求头 X-CSRF-Token）。",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.inspector = state

    protected = APIRouter(dependencies=[Depends(current_principal)], responses=error_responses(*PROTECTED_ERRORS))
    for module in (calls, agents, teams, rulesets, exports, health, auth, coaching, assessments, alerts, reviews,
                   appeals, calibration, insights, forecast, owners, repeat_contacts, cases, satisfaction,
                   org):  # fmt: skip
        protected.include_router(module.router)
    app.include_router(protected, prefix=API_PREFIX)
    app.include_router(health.public, prefix=API_PREFIX, responses=error_responses(*COMMON_ERRORS))
    app.include_router(auth.public, prefix=API_PREFIX, responses=error_responses(*COMMON_ERRORS))  # login / logout
    app.include_router(vocabulary.public, prefix=API_PREFIX, responses=error_responses(*COMMON_ERRORS))
    app.state.login_guard = LoginGuard(connection, settings.login, settings.queue.name)  # shared, in Redis
    app.include_router(web.router)  # the web UI (/ui/), static; its data calls go to /api/v1
    docs.install(app)
    errors.install(app)

    app.add_middleware(
        BodyLimit,
        limits={
            ("POST", f"{API_PREFIX}/calls"): settings.api.max_upload_bytes,
            ("POST", f"{API_PREFIX}/satisfaction/import"): settings.api.max_survey_bytes,
            ("POST", f"{API_PREFIX}/rulesets"): settings.api.max_ruleset_bytes,
        },
        default=settings.api.max_body_bytes,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
