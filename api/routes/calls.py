"""Calls: upload, list, detail, transcript, recording, retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import uploads
from api.deps import (
    Admin,
    Anyone,
    DbSession,
    Principal,
    Reviewer,
    State,
    agent_filter,
    agent_scope,
    pii_revealed,
    team_scope,
    visible_call,
)
from api.errors import ApiError
from api.fields import PageQuery, PageSizeQuery, RevealQuery
from api.privacy import audit_reveal, first_bytes, mask_tree, recording_for, stored_transcript, transcript_view
from api.queries import CallFilterParams, agent_of, call_filter_params, count_calls, current_analysis, list_calls
from api.ranges import file_response
from api.schemas.calls import (
    CallCreated,
    CallDetail,
    CallPage,
    ChainLinkOut,
    RepeatChainRef,
    RetryResult,
    TranscriptOut,
    call_detail,
    call_summary,
)
from api.schemas.carryover import carry_over_out
from api.schemas.errors import error_responses
from api.state import AppState
from inspector.people import carryover
from inspector.people.repeats import call_chain
from inspector.service.call_job import retry_calls
from inspector.store.schema import Call
from inspector.vocab import CallStatus

router = APIRouter(tags=["通话"], responses=error_responses(409))
BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/calls",
    status_code=202,
    response_model=CallCreated,
    summary="上传录音（登记并排队分析）",
    responses={200: {"model": CallCreated, "description": "同一录音已登记过：返回已有通话"},
               **error_responses(400, 415)},
    openapi_extra=uploads.upload_openapi(),
)
async def upload_call(request: Request, _: Admin, state: State) -> JSONResponse:
    # The form is read here, after authorization, so an unauthenticated client cannot make us receive a file.
    async with uploads.read_form(request, max_files=1, max_fields=20) as form:
        audio, fields = uploads.parse_form(form, state.tz)
        received = await run_in_threadpool(uploads.receive_call, state, audio, fields)
    body = CallCreated(call_id=received.call_id, status=received.status, created=received.created)
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if received.created else 200)


@router.get("/calls", response_model=CallPage, summary="通话列表（筛选、分页，按开始时间倒序）")
def list_call_page(
    principal: Anyone,
    state: State,
    session: DbSession,
    params: Annotated[CallFilterParams, Depends(call_filter_params)],
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
) -> CallPage:
    size = page_size or state.settings.api.page_size
    f = params.to_filter(state.tz, agent_scope(principal), team_scope(principal))
    rows = list_calls(session, f, offset=(page - 1) * size, limit=size)
    limit = state.settings.api.count_limit or None
    total = count_calls(session, f, at_most=limit)
    return CallPage(
        items=[call_summary(state, call, name, team, False) for call, name, team in rows],
        total=min(total, limit) if limit else total,
        total_exact=limit is None or total <= limit,
        page=page,
        page_size=size,
    )


@router.post("/calls/retry", response_model=RetryResult, summary="重试所有失败的通话")
def retry_all(_: Reviewer, state: State) -> RetryResult:
    requeued = retry_calls(state.db, state.queue, state.settings, None)
    return RetryResult(requeued=requeued, count=len(requeued))


@router.get(
    "/calls/{call_id}",
    response_model=CallDetail,
    response_model_exclude_unset=True,
    summary="通话详情（完成后含评分、检查项、命中明细、情绪、话题、指标）",
)
def get_call(
    call_id: str, principal: Anyone, state: State, session: DbSession, reveal: RevealQuery = False
) -> CallDetail:
    revealed = pii_revealed(principal, reveal)
    call = visible_call(session, principal, call_id)
    name, team = agent_of(session, call.agent_id)
    analysis = current_analysis(session, call)
    carried = None if analysis is None else carryover.carry_over_of(session, call.id, analysis[0].id)
    carry = None if carried is None else carry_over_out(state, carried, agent_scope(principal) is None)
    detail = call_detail(state, call, name, team, revealed, analysis, carry)
    detail.repeat_chain = repeat_chain_ref(state, session, principal, call.id)
    if revealed:
        shown = [name for name, value in (("caller", call.caller), ("unit", call.unit)) if value]
        audit_reveal(session, principal, call.id, "call", shown)
        return detail
    return mask_detail(detail)


def repeat_chain_ref(state: AppState, session: Session, principal: Principal, call_id: str) -> RepeatChainRef | None:
    """The call's repeat-contact chain, with only the calls this principal may see."""
    chain = call_chain(session, call_id, visible=agent_filter(principal, Call.agent_id),
                       days=state.settings.insights.repeat_days)  # fmt: skip
    if chain is None:
        return None
    links = [ChainLinkOut(call_id=c.call_id, started_at=state.local_iso(c.started_at), agent_id=c.agent_id,
                          topics=c.topics, repeat_of=c.repeat_of) for c in chain.calls]  # fmt: skip
    return RepeatChainRef(chain_id=chain.chain_id, calls=links, resolved=chain.resolved)


def mask_detail(detail: CallDetail) -> CallDetail:
    """The call detail with the words it quotes masked (the caller's number is masked by ``call_detail``)."""
    if detail.hits is not None:
        detail.hits = mask_tree(detail.hits)
    if detail.emotion is not None:
        detail.emotion = mask_tree(detail.emotion)
    if detail.score is not None:
        detail.score = mask_tree(detail.score)
    return detail


@router.get(
    "/calls/{call_id}/transcript",
    response_model=TranscriptOut,
    summary="通话转写（逐句，含角色与时间；words=true 时含逐词时间；个人信息默认脱敏）",
    responses=error_responses(410),
)
def get_transcript(
    call_id: str,
    principal: Anyone,
    session: DbSession,
    words: Annotated[bool, Query(description="是否返回逐词时间")] = False,
    reveal: RevealQuery = False,
) -> TranscriptOut:
    revealed = pii_revealed(principal, reveal)
    call = visible_call(session, principal, call_id)
    transcript = stored_transcript(session, call)
    data, kinds = transcript_view(transcript, words, revealed)
    if revealed:
        audit_reveal(session, principal, call.id, "transcript", kinds)
    data["file"] = call.audio_name  # not the worker's path
    return TranscriptOut.model_validate({"call_id": call.id, **data, "pii": kinds, "masked": not revealed})


@router.get(
    "/calls/{call_id}/audio",
    summary="通话录音（支持 HTTP Range，可直接用于播放器）",
    response_class=Response,
    responses={
        200: {"description": "录音文件（媒体类型取决于录音格式）", "content": {"audio/*": BINARY}},
        206: {"description": "部分内容（Range）", "content": {"audio/*": BINARY}},
        **error_responses(410, 416),
    },
)
def get_audio(
    call_id: str,
    principal: Anyone,
    state: State,
    session: DbSession,
    range_header: Annotated[str | None, Header(alias="range", include_in_schema=False)] = None,
    if_range: Annotated[str | None, Header(alias="if-range", include_in_schema=False)] = None,
    reveal: RevealQuery = False,
) -> Response:
    revealed = pii_revealed(principal, reveal)
    call = visible_call(session, principal, call_id)
    path, etag = recording_for(state, session, principal, call, revealed, first_request=first_bytes(range_header))
    return file_response(path, etag, range_header, if_range)


@router.post("/calls/{call_id}/retry", response_model=RetryResult, summary="重试一个失败的通话")
def retry_one(call_id: str, principal: Reviewer, state: State) -> RetryResult:
    with state.db.session() as session:
        call = visible_call(session, principal, call_id)
        status = call.status
    if status != CallStatus.FAILED.value:
        raise ApiError(409, "not_failed", f"只能重试失败的通话，通话 {call_id} 当前状态为 {status}",
                       call_id=call_id, status=status)  # fmt: skip
    requeued = retry_calls(state.db, state.queue, state.settings, [call_id])
    return RetryResult(requeued=requeued, count=len(requeued))
