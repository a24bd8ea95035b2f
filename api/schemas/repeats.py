"""Repeat contacts (重复来电): chains of calls of one owner about one problem (``inspector.people.repeats``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.calls import mask_phone, mask_unit
from api.state import AppState
from inspector.people.repeats import ChainCall, RepeatChain
from inspector.privacy.masking import mask_text


class ChainCallOut(BaseModel):
    call_id: str
    started_at: str | None
    agent_id: str
    topics: list[str] = Field(description="话题")
    escalation: list[str] = Field(description="投诉升级用语所在的话（个人信息已脱敏）")
    alert: str | None = Field(description="该通话的预警级别")
    repeat_of: str | None = Field(description="重复的是哪一通（链首为 null）")


class RepeatChainOut(BaseModel):
    chain_id: str = Field(description="链编号（链上第一通通话的编号）")
    project: str | None
    caller: str | None = Field(description="来电号码；无 pii 权限时脱敏")
    unit: str | None = Field(description="房号；无 pii 权限时只显示到单元")
    calls: list[ChainCallOut] = Field(description="链上的通话，先后顺序（只含可查看的通话）")
    topics: list[str]
    escalation: list[str] = Field(description="链上出现的投诉升级用语")
    resolved: bool = Field(description="是否已解决：最后一通没有投诉升级用语，且重复来电期限已过无人再来电")


class RepeatChainPage(BaseModel):
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    items: list[RepeatChainOut]
    total: int
    page: int
    page_size: int

    model_config = {"populate_by_name": True}


def chain_out(state: AppState, chain: RepeatChain, reveal: bool) -> RepeatChainOut:
    return RepeatChainOut(
        chain_id=chain.chain_id,
        project=chain.project,
        caller=chain.caller if reveal else mask_phone(chain.caller),
        unit=chain.unit if reveal else mask_unit(chain.unit),
        calls=[chain_call_out(state, c, reveal) for c in chain.calls],
        topics=chain.topics,
        escalation=chain.escalation if reveal else [mask_text(w) for w in chain.escalation],
        resolved=chain.resolved,
    )


def chain_call_out(state: AppState, call: ChainCall, reveal: bool) -> ChainCallOut:
    return ChainCallOut(
        call_id=call.call_id,
        started_at=state.local_iso(call.started_at),
        agent_id=call.agent_id,
        topics=call.topics,
        escalation=call.escalation if reveal else [mask_text(w) for w in call.escalation],
        alert=call.alert,
        repeat_of=call.repeat_of,
    )
