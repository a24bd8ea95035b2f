"""Rule sets: list, upload (validated whole), activate (with rescoring), rescore."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.deps import Admin, Anyone, DbSession, State
from api.errors import ApiError, validation_error
from api.fields import IdPath
from api.schemas.errors import error_responses
from api.schemas.rulesets import RescoreResult, RuleSetCreated, RuleSetList, ruleset_out
from api.state import AppState
from api.uploads import read_form
from inspector.errors import RuleFileError
from inspector.service import rescore
from inspector.store.rulesets import add_ruleset, list_rulesets
from inspector.store.schema import RuleSetRecord

router = APIRouter(tags=["规则集"])

MAX_FILES = 50
FILES_DESCRIPTION = "规则集 YAML 文件（可多个：规则集文件，以及可选的 vocabulary.yaml、emotion.yaml）"

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": FILES_DESCRIPTION,
                        }
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


def _read_bundle(form: FormData, limit: int) -> dict[str, str]:
    """{file name: text} of the uploaded files; 413 past ``limit`` bytes in all, 422 for a bad file."""
    uploads = [value for key, value in form.multi_items() if key == "files" and isinstance(value, UploadFile)]
    if not uploads:
        raise validation_error([{"loc": ("body", "files"), "type": "missing"}])
    files: dict[str, str] = {}
    total = 0
    for upload in uploads:
        name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
        if not name.endswith(".yaml"):
            raise RuleFileError(name or "（无文件名）", "规则文件名必须以 .yaml 结尾")
        if name in files:
            raise RuleFileError(name, "同名文件上传了两次")
        data = upload.file.read(limit - total + 1)
        total += len(data)
        if total > limit:
            raise ApiError(413, "ruleset_too_large", f"规则文件总大小超过上限 {limit} 字节", limit_bytes=limit)
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RuleFileError(name, f"不是 UTF-8 编码的文本（第 {err.start} 字节）") from None
    return files


def _get(session: Any, rule_set_id: int) -> RuleSetRecord:
    record = session.get(RuleSetRecord, rule_set_id)
    if record is None:
        raise ApiError(404, "ruleset_not_found", f"规则集 {rule_set_id} 不存在", ruleset_id=rule_set_id)
    return record


def _store(state: AppState, files: dict[str, str]) -> tuple[RuleSetCreated, bool]:
    with state.db.session() as session:
        record, created = add_ruleset(session, files)
        out = RuleSetCreated(**ruleset_out(state, record).model_dump(), created=created)
    return out, created


@router.get("/rulesets", response_model=RuleSetList, summary="规则集列表")
def get_rulesets(_: Anyone, state: State, session: DbSession) -> RuleSetList:
    return RuleSetList(items=[ruleset_out(state, r) for r in list_rulesets(session)])


@router.post(
    "/rulesets",
    status_code=201,
    response_model=RuleSetCreated,
    summary="上传规则集（校验通过才保存；不会自动启用）",
    responses={200: {"model": RuleSetCreated, "description": "相同内容的规则集已存在"}, **error_responses(400)},
    openapi_extra=UPLOAD_OPENAPI,
)
async def upload_ruleset(request: Request, _: Admin, state: State) -> JSONResponse:
    async with read_form(request, max_files=MAX_FILES, max_fields=10) as form:
        files = await run_in_threadpool(_read_bundle, form, state.settings.api.max_ruleset_bytes)
    out, created = await run_in_threadpool(_store, state, files)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.post(
    "/rulesets/{rule_set_id}/activate", response_model=RescoreResult, summary="启用规则集并重新评分已完成的通话"
)
def activate_ruleset(rule_set_id: IdPath, _: Admin, state: State) -> RescoreResult:
    with state.db.session() as session:
        _get(session, rule_set_id)
    try:
        scheduled = rescore.activate_and_rescore(state.db, state.queue, state.settings, rule_set_id)
    except rescore.RuleSetNotFound:  # deleted in between: answered like _get (the API's code and ruleset_id)
        raise ApiError(404, "ruleset_not_found", f"规则集 {rule_set_id} 不存在", ruleset_id=rule_set_id) from None
    with state.db.session() as session:
        return RescoreResult(ruleset=ruleset_out(state, _get(session, rule_set_id)), scheduled=scheduled)


@router.post(
    "/rulesets/{rule_set_id}/rescore",
    status_code=202,
    response_model=RescoreResult,
    summary="用此规则集重新评分所有已完成的通话",
)
def rescore_ruleset(rule_set_id: IdPath, _: Admin, state: State) -> RescoreResult:
    with state.db.session() as session:
        out = ruleset_out(state, _get(session, rule_set_id))
    scheduled = rescore.enqueue_rescore(state.db, state.queue, state.settings, rule_set_id)
    return RescoreResult(ruleset=out, scheduled=scheduled)
