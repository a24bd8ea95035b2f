"""Appeals (申诉): one appeal with the finding it contests, and the list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Number
from api.state import AppState
from inspector.store.schema import Appeal
from inspector.vocab import AppealStatus


class AppealOut(BaseModel):
    id: int
    call_id: str
    agent_id: str
    hit_index: int = Field(description="被申诉的命中在分析结果 hits 中的位置")
    rule_id: str
    rule_name: str
    text: str | None = Field(description="命中的原文")
    points: Number | None = Field(description="该命中的扣分")
    comment: str = Field(description="申诉理由")
    status: AppealStatus
    created_at: str | None
    resolver: str | None = Field(description="处理人（坐席看到 null）")
    resolved_at: str | None
    resolution: str | None = Field(description="处理意见")
    agent_name: str | None = Field(description="坐席姓名（未知时为 null）")


class AppealPage(BaseModel):
    items: list[AppealOut]
    total: int
    page: int
    page_size: int


def appeal_out(
    state: AppState, appeal: Appeal, hit: dict[str, Any], rule_name: str, people: bool, agent_name: str | None
) -> AppealOut:
    return AppealOut(
        id=appeal.id,
        call_id=appeal.call_id,
        agent_id=appeal.agent_id,
        hit_index=appeal.hit_index,
        rule_id=appeal.rule_id,
        rule_name=rule_name,
        text=hit.get("text"),
        points=hit.get("points"),
        comment=appeal.comment,
        status=appeal.status,
        created_at=state.local_iso(appeal.created_at),
        resolver=appeal.resolver if people else None,
        resolved_at=state.local_iso(appeal.resolved_at),
        resolution=appeal.resolution,
        agent_name=agent_name,
    )
