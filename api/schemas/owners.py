"""Owner profiles (业主画像): the most frequent callers of a project (``inspector.reports.owners``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.calls import mask_phone, mask_unit
from api.state import AppState
from inspector.reports.owners import OwnerProfile


class OwnerOut(BaseModel):
    project: str | None = Field(description="项目/小区")
    caller: str | None = Field(description="来电号码；无 pii 权限时脱敏（138****5678）")
    unit: str | None = Field(description="房号；无 pii 权限时只显示到单元（3号楼1单元***）")
    calls: int = Field(description="期间内有话题的来电数")
    complaints: int = Field(description="其中含投诉/升级词（投诉、12345、曝光等）的来电数")
    repeats: int = Field(description="其中属于重复来电（同一业主同一话题在规定天数内再次来电）的来电数")
    topics: dict[str, int] = Field(description="话题 → 来电数（多的在前）")
    first_at: str | None = Field(description="期间内第一次来电")
    last_at: str | None = Field(description="期间内最近一次来电")
    call_ids: list[str] = Field(description="最近的通话（最多 10 通）")


class OwnerList(BaseModel):
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    project: str | None
    revealed: bool = Field(description="是否显示了未脱敏的个人信息（已记入操作记录）")
    items: list[OwnerOut]

    model_config = {"populate_by_name": True}


def owner_out(state: AppState, profile: OwnerProfile, reveal: bool) -> OwnerOut:
    return OwnerOut(
        project=profile.project,
        caller=profile.caller if reveal else mask_phone(profile.caller),
        unit=profile.unit if reveal else mask_unit(profile.unit),
        calls=profile.calls,
        complaints=profile.complaints,
        repeats=profile.repeats,
        topics=profile.topics,
        first_at=state.local_iso(profile.first_at),
        last_at=state.local_iso(profile.last_at),
        call_ids=profile.call_ids,
    )
