"""Satisfaction surveys (满意度): import by CSV (the body is the file) or JSON, and the rule-effect analysis.

Who (``api.deps``): importing is for admins and reviewers (``IMPORTERS``); the analysis for staff. Agents see
their own satisfaction on their scorecard, not here."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import DbSession, Principal, Staff, State, require_roles
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.satisfaction import EffectsOut, ImportOut, SurveysIn, effects_out
from inspector.intake.cdr import decode_text
from inspector.intake.survey import SurveyColumns, SurveyRow, parse_surveys
from inspector.people.satisfaction import import_surveys, rule_effects
from inspector.store.db import utcnow
from inspector.store.ruleset_cache import RULESETS

router = APIRouter(tags=["满意度"])

IMPORTERS = ("admin", "reviewer")
Importer = Annotated[Principal, Depends(require_roles(*IMPORTERS))]
CSV_BODY = {"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}}


@router.post("/satisfaction/import", response_model=ImportOut,
             summary="导入满意度 CSV（请求体即文件；UTF-8 或 GBK；默认列 call_id,csat,nps,comment）",
             openapi_extra=CSV_BODY)  # fmt: skip
async def import_csv(
    request: Request,
    principal: Importer,
    state: State,
    session: DbSession,
    columns: Annotated[str | None, Query(max_length=500, description="列映射，如 csat=满意度,nps=推荐值")] = None,
) -> ImportOut:
    data = await request.body()

    def work() -> ImportOut:  # parsing and the database off the event loop
        spec, named = SurveyColumns.parse(columns) if columns else (SurveyColumns(), frozenset())
        found = parse_surveys(decode_text(data, "CSV", "满意度"), state.tz, spec, named)
        result = import_surveys(session, found.rows, state.settings.satisfaction, source="csv", now=utcnow(),
                                errors=found.errors)  # fmt: skip
        return ImportOut.model_validate(result.to_dict())

    return await run_in_threadpool(work)


@router.post("/satisfaction", response_model=ImportOut, summary="导入满意度（JSON，每次至多 10000 条）")
def import_json(principal: Importer, state: State, session: DbSession, body: Annotated[SurveysIn, Body()]) -> ImportOut:
    rows = []
    for n, item in enumerate(body.items, start=1):
        answered = item.answered_at
        if answered is not None:
            aware = answered if answered.tzinfo is not None else answered.replace(tzinfo=state.tz)
            answered = aware.astimezone(UTC).replace(tzinfo=None)
        rows.append(SurveyRow(line=n, call_id=item.call_id, caller=item.caller, answered_at=answered, csat=item.csat,
                              nps=item.nps, comment=item.comment))  # fmt: skip
    result = import_surveys(session, rows, state.settings.satisfaction, source="api", now=utcnow())
    return ImportOut.model_validate(result.to_dict())


@router.get("/satisfaction/effects", response_model=EffectsOut, summary="哪些规则与维度影响满意度（效应与置信区间）")
def get_effects(
    principal: Staff, state: State, session: DbSession, date_from: FromQuery = None, date_to: ToQuery = None
) -> EffectsOut:
    start, end = date_range(state, date_from, date_to)
    loaded = RULESETS.active(session)
    names: dict[str, str] = {}
    if loaded is not None:
        names.update({d.id: d.name for d in loaded.ruleset.dimensions})
        names.update(loaded.rule_names)
    settings = state.settings.satisfaction
    return effects_out(rule_effects(session, settings, start, end, names), settings.min_responses)
