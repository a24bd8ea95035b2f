"""Complaint cases (投诉工单): opening one, moving it through its states, the case list.

**States** (``inspector.vocab.CaseStatus``): 受理 → 核实 → 处理 → 反馈 → 回访 → 关闭, one step at a time. The 回访
(revisit) step ends with the owner's outcome: satisfied closes the case, not satisfied sends it back to 处理 and
counts a reopening. Every change is audit-logged (entity ``case``: who, role, when, the note, before and after).

**Opening.** An alert at or above ``settings.cases.auto_open_level`` (red by default) opens a case by itself
(``on_alerts``, in the transaction that raised the alert); a reviewer or team lead opens one from a call or an
alert (``open_case``). One case per alert. A case lists its calls (the alert's calls for a cluster or repeat
alert) and names the repeat-contact chain and the cluster alert its call belongs to; a later call that joins
the case's alert joins the case.

**Clocks.** The deadlines (first response, resolution) are fixed when the case opens, as absolute UTC times
(``inspector.people.case_sla``); overdue cases climb the escalation ladder there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from inspector import vocab
from inspector.errors import ErrorKind, InspectorError
from inspector.people import workitem
from inspector.people.alerts import alert_call_ids
from inspector.people.case_sla import deadlines, overdue_condition
from inspector.settings import CaseSettings
from inspector.store import audit
from inspector.store.schema import AlertCall, AlertEvent, Call, CallTopic, Case, CaseCall, CaseNotice
from inspector.vocab import AlertKind, AlertLevel, CaseSource, CaseStatus, RevisitOutcome, values

LABELS = {status: vocab.label(status) for status in CaseStatus}  # 受理 … 关闭
# The next state of each state but 回访 (whose next depends on the outcome) and 关闭.
NEXT = {
    CaseStatus.ACCEPTED: CaseStatus.VERIFYING,
    CaseStatus.VERIFYING: CaseStatus.HANDLING,
    CaseStatus.HANDLING: CaseStatus.FEEDBACK,
    CaseStatus.FEEDBACK: CaseStatus.REVISIT,
}
_LEVELS = values(AlertLevel)  # none, blue, yellow, red
SYSTEM = "system:cases"  # the actor of what opens by itself


class CaseNotFound(InspectorError):
    code = "case_not_found"
    kind = ErrorKind.NOT_FOUND


class CaseStateError(InspectorError):
    """A state change the case's current state does not allow, or a second case for one alert."""

    code = "case_state_conflict"
    kind = ErrorKind.CONFLICT


def _snapshot(case: Case) -> dict[str, Any]:
    return {"status": case.status, "escalation": case.escalation, "reopened": case.reopened,
            "revisit_outcome": case.revisit_outcome}  # fmt: skip


# --- opening -------------------------------------------------------------------------------------


def _topic(session: Session, call: Call, alert: AlertEvent | None) -> str | None:
    if alert is not None and alert.topic:
        return alert.topic
    query = select(CallTopic.topic).where(CallTopic.call_id == call.id).order_by(CallTopic.topic).limit(1)
    return session.scalar(query)


def _cluster_of(session: Session, call_id: str) -> int | None:
    """The newest cluster alert the call is in, if any."""
    query = (
        select(AlertEvent.id)
        .join(AlertCall, AlertCall.alert_id == AlertEvent.id)
        .where(AlertCall.call_id == call_id, AlertEvent.kind == AlertKind.CLUSTER)
        .order_by(AlertEvent.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def _title(call: Call, alert: AlertEvent | None, topic: str | None) -> str:
    if alert is None:
        return f"人工立案：通话 {call.id}"
    if alert.kind == AlertKind.CLUSTER:
        return f"群体性投诉：{alert.project or '未知项目'} · {topic or '未分类'}"
    if alert.kind == AlertKind.REPEAT:
        return f"重复来电：{topic or '未分类'}"
    reasons = [str(r) for r in alert.reasons or []]
    return ("预警：" + "；".join(reasons))[:200] if reasons else f"预警：通话 {call.id}"


def case_notices(session: Session, case_id: int) -> list[CaseNotice]:
    """The escalation notices of a case, oldest first."""
    return list(session.scalars(select(CaseNotice).where(CaseNotice.case_id == case_id).order_by(CaseNotice.id)))


def case_of_alert(session: Session, alert_id: int) -> Case | None:
    return session.scalar(select(Case).where(Case.alert_id == alert_id))


def open_case(
    session: Session,
    settings: CaseSettings,
    *,
    call: Call,
    actor: str,
    role: str,
    now: datetime,
    alert: AlertEvent | None = None,
    level: str | None = None,
    title: str | None = None,
    note: str | None = None,
) -> Case:
    """Open a case (受理) about ``call`` (and ``alert``, when it comes from one), audit-logged. ``level`` defaults to
    the alert's, else yellow; ``now`` (naive UTC) starts its clocks."""
    if alert is not None:
        existing = case_of_alert(session, alert.id)
        if existing is not None:
            raise CaseStateError(f"预警 {alert.id} 已有工单 #{existing.id}")
    level = level or (alert.level if alert is not None else AlertLevel.YELLOW)
    if level not in _LEVELS[1:]:
        raise CaseStateError(f"工单级别无效：{level}")
    topic = _topic(session, call, alert)
    respond_due, close_due = deadlines(settings, level, now)
    case = Case(
        status=CaseStatus.ACCEPTED,
        level=level,
        source=CaseSource.ALERT if actor == SYSTEM else CaseSource.PERSON,
        alert_id=alert.id if alert is not None else None,
        call_id=call.id,
        agent_id=call.agent_id,
        project=(alert.project if alert is not None and alert.project else None) or call.project,
        topic=topic,
        chain_id=call.chain_id,
        cluster_alert_id=alert.id if alert is not None and alert.kind == AlertKind.CLUSTER else _cluster_of(
            session, call.id
        ),
        title=(title or _title(call, alert, topic))[:200],
        opened_by=actor,
        opened_at=now,
        respond_due=respond_due,
        close_due=close_due,
        updated_at=now,
        note=note,
    )
    session.add(case)
    session.flush()
    calls = alert_call_ids(session, alert.id) if alert is not None and alert.kind != AlertKind.CALL else []
    session.add_all(CaseCall(case_id=case.id, call_id=c) for c in dict.fromkeys([call.id, *calls]))
    session.flush()
    audit.record(session, actor=actor, role=role, action="case.open", entity="case", entity_id=case.id,
                 after=_snapshot(case) | {"level": level, "alert_id": case.alert_id, "call_id": call.id},
                 reason=note)  # fmt: skip
    return case


def on_alerts(session: Session, settings: CaseSettings, call: Call, raised: list[AlertEvent], now: datetime) -> None:
    """In the transaction that stored ``call``'s analysis: open the case of each new alert at or above
    ``auto_open_level``, and add the call to the open cases of the alerts it joined."""
    if settings.auto_open_level is not None:
        floor = _LEVELS.index(settings.auto_open_level)
        for alert in raised:
            if _LEVELS.index(alert.level) >= floor and case_of_alert(session, alert.id) is None:
                open_case(session, settings, call=call, actor=SYSTEM, role="system", now=now, alert=alert)
    joined = select(Case.id).join(AlertCall, AlertCall.alert_id == Case.alert_id).where(
        AlertCall.call_id == call.id, Case.status != CaseStatus.CLOSED
    )
    have = select(CaseCall.case_id).where(CaseCall.call_id == call.id)
    for case_id in session.scalars(joined.where(Case.id.not_in(have))):
        session.add(CaseCall(case_id=case_id, call_id=call.id))
    session.flush()


# --- moving it on --------------------------------------------------------------------------------


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"工单 {case_id} 不存在")
    return case


def advance(
    session: Session,
    case_id: int,
    *,
    to: CaseStatus | None,
    actor: str,
    role: str,
    now: datetime,
    note: str | None = None,
    outcome: RevisitOutcome | None = None,
) -> Case:
    """Move a case one step on (``to``: the state asked for, checked against the current one). At 回访 the
    ``outcome`` decides: satisfied → 关闭, not satisfied → back to 处理 (reopened)."""
    case = get_case(session, case_id)
    current = CaseStatus(case.status)
    if current == CaseStatus.CLOSED:
        raise CaseStateError(f"工单 {case_id} 已关闭")
    changes: dict[str, Any] = {"updated_at": now, "note": note}
    if current == CaseStatus.REVISIT:
        if outcome is None:
            raise CaseStateError("回访须填写结果：satisfied（满意）或 unsatisfied（不满意）")
        target = CaseStatus.CLOSED if outcome == RevisitOutcome.SATISFIED else CaseStatus.HANDLING
        changes["revisit_outcome"] = outcome.value
        if target == CaseStatus.CLOSED:
            changes["closed_at"] = now
        else:
            changes["reopened"] = case.reopened + 1
    else:
        if outcome is not None:
            raise CaseStateError(f"只有回访环节填写回访结果（当前：{LABELS[current]}）")
        target = NEXT[current]
    if to is not None and to != target:
        raise CaseStateError(f"工单当前为{LABELS[current]}，下一步是{LABELS[target]}，不能转为{LABELS[to]}")
    if current == CaseStatus.ACCEPTED:
        changes["responded_at"] = now
        changes["escalation"] = 0  # the response came: a later escalation is about the resolution deadline
    changes["status"] = target.value
    action = "case.reopen" if current == CaseStatus.REVISIT and target == CaseStatus.HANDLING else f"case.{target}"
    return workitem.transition(session, case, changes, actor=actor, role=role, action=action, entity="case",
                               snapshot=_snapshot, reason=note)  # fmt: skip


# --- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    total: int


def list_cases(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    project: str | None = None,
    agent_id: str | None = None,
    level: str | None = None,
    overdue: bool | None = None,
    visible: ColumnElement[bool] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> CasePage:
    """Cases matching the filters, newest first, and how many match. ``status="open"``: every state but 关闭."""
    query = select(Case)
    if visible is not None:
        query = query.where(visible)
    if status == "open":
        query = query.where(Case.status != CaseStatus.CLOSED)
    elif status is not None:
        query = query.where(Case.status == status)
    if project is not None:
        query = query.where(Case.project == project)
    if agent_id is not None:
        query = query.where(Case.agent_id == agent_id)
    if level is not None:
        query = query.where(Case.level == level)
    if overdue is not None:
        condition = overdue_condition(now)
        query = query.where(condition if overdue else ~condition)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc()).offset(offset).limit(limit))
    return CasePage(list(rows), int(total))


def case_call_ids(session: Session, case_id: int) -> list[str]:
    """The case's calls by start time."""
    query = (
        select(CaseCall.call_id)
        .join(Call, Call.id == CaseCall.call_id)
        .where(CaseCall.case_id == case_id)
        .order_by(Call.started_at, Call.created_at, Call.id)
    )
    return list(session.scalars(query))

