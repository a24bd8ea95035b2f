"""Reviewer calibration (校准): rounds in which several reviewers judge the same calls' hits blind, and
their agreement per rule (``inspector.people.calibration``). Calibration verdicts never change a score.

Who may do what (roles from ``api.deps``): an admin creates and closes rounds and sees everyone's
progress and verdicts at any time; reviewers and admins read a round, and those assigned to it judge its
hits, seeing only their own verdicts while it is open (blind; others' after it is closed); admins,
reviewers and trainers list rounds and read the agreement of a closed round (an admin: any time).
Domain errors propagate to ``api.errors``: 404 (unknown round), 409 (not assigned, round closed, figures
of an open round) or 422 (invalid input).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, StringConstraints

from api.deps import REVIEWERS, Admin, DbSession, Principal, Reviewer, State, require_roles
from api.errors import invalid_param
from api.fields import IdPath, SingleLine
from api.schemas.calibration import AgreementOut, RoundDetailOut, RoundList, agreement_out, detail_out, round_out
from api.schemas.errors import error_responses
from inspector.people import calibration
from inspector.people.errors import CalibrationOpen
from inspector.vocab import CalibrationStatus

router = APIRouter(tags=["校准"], responses=error_responses(409))

# Who reads rounds and their agreement: reviewers, admins and trainers (who coach on what reviewers disagree).
Calibrators = Annotated[Principal, Depends(require_roles(*REVIEWERS, "trainer"))]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), SingleLine]
CallId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), SingleLine]


class SampleIn(BaseModel):
    date_from: date = Field(description="起始日期（含，本地日期）")
    date_to: date = Field(description="结束日期（含，本地日期）")
    count: int = Field(ge=1, le=calibration.MAX_CALLS, description="随机抽取的已完成通话数")
    seed: Annotated[str, SingleLine] = Field("", max_length=64, description="随机种子（相同种子抽到相同通话）")


class RoundIn(BaseModel):
    name: Name = Field(description="校准名称")
    reviewers: list[Username] = Field(min_length=2, max_length=50, description="参加的质检员用户名（至少 2 名）")
    call_ids: list[CallId] | None = Field(None, max_length=calibration.MAX_CALLS, description="指定通话")
    sample: SampleIn | None = Field(None, description="或：按日期范围随机抽取已完成的通话")


class VerdictIn(BaseModel):
    call_id: CallId
    hit_index: int = Field(ge=0, le=10_000, description="命中序号（从 0 开始）")
    verdict: Literal["confirmed", "rejected"] = Field(description="confirmed：确认命中；rejected：误报")


def _detail(state: State, session: DbSession, principal: Principal, round_id: int) -> RoundDetailOut:
    calibration.get_round(session, round_id)  # 404 when unknown
    reviewers = calibration.round_reviewers(session, round_id)
    assigned = principal.username is not None and principal.username in reviewers
    admin = principal.role == "admin"
    # An admin who is not judging sees every verdict; anyone judging (or not assigned) only their own while open.
    viewer = None if admin and not assigned else (principal.username or "")
    view = calibration.round_view(session, round_id, viewer)
    return detail_out(state, view, assigned, progress=admin)


@router.post("/calibrations", status_code=201, response_model=RoundDetailOut, summary="创建校准（指定通话或随机抽样）")
def create(body: RoundIn, principal: Admin, state: State, session: DbSession) -> RoundDetailOut:
    if (body.call_ids is None) == (body.sample is None):
        raise invalid_param("call_ids", "请指定通话（call_ids）或抽样条件（sample），二者选一")
    if body.sample is not None:
        s = body.sample
        calls = calibration.sample_calls(session, s.date_from, s.date_to, s.count, s.seed)
    else:
        calls = calibration.calls_by_id(session, body.call_ids or [])
    row = calibration.create_round(session, principal.actor, principal.role, body.name, body.reviewers, calls)
    return _detail(state, session, principal, row.id)


@router.get("/calibrations", response_model=RoundList, summary="校准列表（最新在前）")
def list_rounds(_: Calibrators, state: State, session: DbSession) -> RoundList:
    rows = calibration.list_rounds(session)
    return RoundList(items=[round_out(state, row, calls, reviewers) for row, calls, reviewers in rows])


@router.get("/calibrations/{calibration_id}", response_model=RoundDetailOut, summary="校准详情（待判定的通话与命中）")
def get_round(calibration_id: IdPath, principal: Reviewer, state: State, session: DbSession) -> RoundDetailOut:
    return _detail(state, session, principal, calibration_id)


@router.post(
    "/calibrations/{calibration_id}/verdicts", response_model=RoundDetailOut, summary="提交校准结论（盲评，不影响分数）"
)
def post_verdict(
    calibration_id: IdPath, body: VerdictIn, principal: Reviewer, state: State, session: DbSession
) -> RoundDetailOut:
    calibration.record_verdict(session, principal.actor, principal.role, calibration_id, principal.username,
                               body.call_id, body.hit_index, body.verdict)  # fmt: skip
    return _detail(state, session, principal, calibration_id)


@router.post("/calibrations/{calibration_id}/close", response_model=RoundDetailOut, summary="结束校准")
def close(calibration_id: IdPath, principal: Admin, state: State, session: DbSession) -> RoundDetailOut:
    calibration.close_round(session, principal.actor, principal.role, calibration_id)
    return _detail(state, session, principal, calibration_id)


@router.get(
    "/calibrations/{calibration_id}/agreement",
    response_model=AgreementOut,
    summary="校准一致性：各规则一致率、Cohen's / Fleiss' kappa 与分歧",
)
def get_agreement(calibration_id: IdPath, principal: Calibrators, state: State, session: DbSession) -> AgreementOut:
    row = calibration.get_round(session, calibration_id)
    if row.status != CalibrationStatus.CLOSED and principal.role != "admin":
        raise CalibrationOpen(f"校准 {calibration_id} 尚未结束，结束后才能查看一致性")
    result = calibration.agreement(session, calibration_id)
    return agreement_out(state, result)
