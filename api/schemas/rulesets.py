"""Rule sets: one rule set, the list, the upload answer and the activate / rescore answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.state import AppState
from inspector.store.schema import RuleSetRecord


class RuleSetOut(BaseModel):
    id: int
    name: str
    version: str
    rule_count: int
    active: bool
    created_at: str | None
    activated_at: str | None


class RuleSetList(BaseModel):
    items: list[RuleSetOut]


class RuleSetCreated(RuleSetOut):
    created: bool = Field(description="false：相同内容的规则集已存在")


class RescoreResult(BaseModel):
    ruleset: RuleSetOut
    scheduled: int = Field(description="排队重新评分的通话数")


def ruleset_out(state: AppState, record: RuleSetRecord) -> RuleSetOut:
    return RuleSetOut(
        id=record.id,
        name=record.name,
        version=record.version,
        rule_count=record.rule_count,
        active=record.active,
        created_at=state.local_iso(record.created_at),
        activated_at=state.local_iso(record.activated_at),
    )
