"""Complaint cases (投诉工单): one case, the list, one case with its calls and history, the statistics.

Times are ISO 8601 in the call centre's time zone; notes and titles are masked (personal data) for every reader."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.state import AppState
from inspector.people.case_sla import Clock, ClockState, Deadline, clock, escalated_to
from inspector.people.case_stats import CaseGroup, CaseStats
from inspector.people.cases import LABELS, NEXT
from inspector.privacy.masking import mask_text
from inspector.settings import CaseSettings
from inspector.store.schema import AuditEntry, Case, CaseNotice
from inspector.vocab import AlertLevel, CaseSource, CaseStatus, RevisitOutcome

ACTION_LABELS = {
    "case.open": "受理（立案）",
    "case.verifying": "核实",
    "case.handling": "处理",
    "case.feedback": "反馈",
    "case.revisit": "回访",
    "case.reopen": "回访不满意，重新处理",
    "case.closed": "回访满意，关闭",
    "case.escalate": "超时升级",
}


class ClockOut(BaseModel):
    due: str | None = Field(description="截止时间")
    done_at: str | None = Field(description="完成时间（未完成为 null）")
    state: ClockState = Field(description="running 计时中；overdue 已超时未完成；met 按时完成；missed 超时完成")
    minutes_left: float = Field(description="剩余分钟（负数：已超时或超时完成的分钟数）")


class CaseOut(BaseModel):
    id: int
    status: CaseStatus
    status_label: str = Field(description="受理/核实/处理/反馈/回访/关闭")
    next_status: CaseStatus | None = Field(
        description="下一步（回访环节为 null：由回访结果决定关闭或重新处理；已关闭为 null）"
    )
    level: AlertLevel
    source: CaseSource = Field(description="alert 红色预警自动立案；person 人工立案")
    title: str
    alert_id: int | None
    call_id: str = Field(description="立案的通话")
    agent_id: str
    agent_name: str | None
    project: str | None
    topic: str | None = Field(description="投诉原因（话题）")
    chain_id: str | None = Field(description="重复来电链（首通通话编号）")
    cluster_alert_id: int | None = Field(description="所属群体性投诉预警")
    opened_by: str
    opened_at: str | None
    respond: ClockOut = Field(description="首次响应时限（受理 → 核实）")
    close: ClockOut = Field(description="办结时限（回访满意后关闭）")
    escalation: int = Field(description="已升级的层级数（0：未升级）")
    escalated_to: str | None = Field(description="当前升级到的角色，例如 项目经理")
    reopened: int = Field(description="回访不满意重新处理的次数")
    revisit_outcome: RevisitOutcome | None
    updated_at: str | None
    note: str | None = Field(description="最近一次处理说明")


class CaseEventOut(BaseModel):
    at: str | None
    actor: str
    role: str
    action: str
    label: str = Field(description="操作（中文）")
    from_status: str | None
    to_status: str | None
    note: str | None


class NoticeOut(BaseModel):
    step: int = Field(description="升级的层级（1 起）")
    role: str = Field(description="升级到的角色，例如 项目经理")
    deadline: str = Field(description="respond 首次响应 / close 办结")
    status: str = Field(description="推送状态：pending 推送中 / delivered 已推送 / failed 推送失败 / none 未推送")
    attempts: int
    error: str | None
    created_at: str | None
    delivered_at: str | None


class CaseDetail(CaseOut):
    call_ids: list[str] = Field(description="工单涉及的全部通话（按时间）")
    history: list[CaseEventOut] = Field(description="处理记录（操作记录中的每一步：谁、何时、说明）")
    notices: list[NoticeOut] = Field(description="超时升级的推送通知（配置了预警推送地址时）")


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    page_size: int


class CaseStatsOut(BaseModel):
    key: str
    cases: int
    open: int
    closed: int
    overdue: int = Field(description="当前已超时未完成")
    respond_median_min: float | None = Field(description="首次响应用时中位数（分钟）")
    respond_p90_min: float | None = Field(description="首次响应用时 P90（分钟）")
    close_median_h: float | None = Field(description="办结用时中位数（小时）")
    close_p90_h: float | None = Field(description="办结用时 P90（小时）")
    respond_sla_rate: float | None = Field(description="首次响应按时率（按时 ÷ 已定：按时、超时完成或已超时）")
    close_sla_rate: float | None = Field(description="办结按时率")
    reopen_rate: float | None = Field(description="重开率（回访不满意的工单 ÷ 有回访结果的工单）")


class CaseStatsList(BaseModel):
    by: CaseGroup
    date_from: str
    date_to: str
    overall: CaseStatsOut
    groups: list[CaseStatsOut]


def _clock_out(state: AppState, found: Clock) -> ClockOut:
    return ClockOut(due=state.local_iso(found.due), done_at=state.local_iso(found.done_at), state=found.state,
                    minutes_left=round(found.minutes_left, 1))  # fmt: skip


def case_out(state: AppState, settings: CaseSettings, case: Case, agent_name: str | None, now: datetime) -> CaseOut:
    status = CaseStatus(case.status)
    return CaseOut(
        id=case.id,
        status=status,
        status_label=LABELS[status],
        next_status=NEXT.get(status),
        level=case.level,
        source=case.source,
        title=mask_text(case.title),
        alert_id=case.alert_id,
        call_id=case.call_id,
        agent_id=case.agent_id,
        agent_name=agent_name,
        project=case.project,
        topic=case.topic,
        chain_id=case.chain_id,
        cluster_alert_id=case.cluster_alert_id,
        opened_by=case.opened_by,
        opened_at=state.local_iso(case.opened_at),
        respond=_clock_out(state, clock(case, Deadline.RESPOND, now)),
        close=_clock_out(state, clock(case, Deadline.CLOSE, now)),
        escalation=case.escalation,
        escalated_to=escalated_to(settings, case),
        reopened=case.reopened,
        revisit_outcome=case.revisit_outcome,
        updated_at=state.local_iso(case.updated_at),
        note=mask_text(case.note) if case.note else None,
    )


def event_out(state: AppState, entry: AuditEntry) -> CaseEventOut:
    before, after = entry.before or {}, entry.after or {}
    return CaseEventOut(
        at=state.local_iso(entry.at),
        actor=entry.actor,
        role=entry.actor_role,
        action=entry.action,
        label=ACTION_LABELS.get(entry.action, entry.action),
        from_status=before.get("status"),
        to_status=after.get("status"),
        note=mask_text(entry.reason) if entry.reason else None,
    )


def notice_out(state: AppState, notice: CaseNotice) -> NoticeOut:
    return NoticeOut(step=notice.step, role=notice.role, deadline=notice.deadline, status=notice.status,
                     attempts=notice.attempts, error=notice.error, created_at=state.local_iso(notice.created_at),
                     delivered_at=state.local_iso(notice.delivered_at))  # fmt: skip


def stats_out(found: CaseStats) -> CaseStatsOut:
    return CaseStatsOut(**found.__dict__)
