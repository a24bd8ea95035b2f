"""SLA clocks of complaint cases (投诉工单) and the overdue escalation ladder.

**Deadlines.** When a case opens, ``deadlines`` fixes two absolute times (naive UTC): the first response (the
case leaves 受理) within ``respond_red_min`` (15 min) for a red case and ``respond_other_min`` (4 h) for the
others, and the resolution (closed after a satisfied 回访) within ``close_red_h`` / ``close_other_h``. Nothing is
kept in memory: a restarted worker, another worker or a server in another time zone reads the same deadlines,
and ``clock`` says from them alone whether each was met, missed, is running or is overdue now.

**Escalation.** A case past a deadline it has not met climbs ``settings.cases.ladder`` (班组长 → 项目经理 → 区域 by
default): step *k* is reached ``after_min`` minutes after the deadline. ``escalate_overdue`` (run by the workers
every ``escalate_interval_s`` under a Redis lock) raises ``cases.escalation``
to the steps reached and audit-logs each new step (actor ``system:sla``) with the deadline it is about. It only
ever compares stored times with ``now``, so running it twice, late, or after a restart gives the same result;
steps skipped while nothing ran are each logged once when it runs. The response deadline escalates while the
case is in 受理; once it has been answered the resolution deadline does (``cases.advance`` resets the steps).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from inspector.settings import CaseSettings
from inspector.store import audit
from inspector.store.schema import Case, CaseNotice
from inspector.vocab import AlertLevel, CaseStatus, DeliveryStatus

SLA_ACTOR = "system:sla"


class ClockState(enum.StrEnum):
    RUNNING = "running"  # not met yet, not due yet
    OVERDUE = "overdue"  # not met yet, past due
    MET = "met"  # done in time
    MISSED = "missed"  # done, late


class Deadline(enum.StrEnum):
    RESPOND = "respond"  # 首次响应
    CLOSE = "close"  # 办结


DEADLINE_LABELS = {Deadline.RESPOND: "首次响应", Deadline.CLOSE: "办结"}


def deadlines(settings: CaseSettings, level: str, opened_at: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due) of a case of ``level`` opened at ``opened_at`` (naive UTC)."""
    red = level == AlertLevel.RED
    respond = timedelta(minutes=settings.respond_red_min if red else settings.respond_other_min)
    close = timedelta(hours=settings.close_red_h if red else settings.close_other_h)
    return opened_at + respond, opened_at + close


@dataclass(frozen=True)
class Clock:
    """One deadline of a case as of ``now``: its state and the minutes left (negative: overdue or late by)."""

    due: datetime
    done_at: datetime | None
    state: ClockState
    minutes_left: float


def _clock(due: datetime, done_at: datetime | None, now: datetime) -> Clock:
    if done_at is not None:
        state = ClockState.MET if done_at <= due else ClockState.MISSED
        return Clock(due, done_at, state, (due - done_at).total_seconds() / 60)
    state = ClockState.RUNNING if now <= due else ClockState.OVERDUE
    return Clock(due, None, state, (due - now).total_seconds() / 60)


def clock(case: Case, deadline: Deadline, now: datetime) -> Clock:
    if deadline == Deadline.RESPOND:
        return _clock(case.respond_due, case.responded_at, now)
    return _clock(case.close_due, case.closed_at, now)


def escalating_deadline(case: Case, now: datetime) -> Deadline | None:
    """The deadline the case is overdue on now (the response first), if any."""
    if case.status == CaseStatus.CLOSED:
        return None
    if case.responded_at is None:
        return Deadline.RESPOND if now > case.respond_due else None
    return Deadline.CLOSE if now > case.close_due else None


def steps_reached(settings: CaseSettings, case: Case, now: datetime) -> int:
    """How many ladder steps an overdue case has reached by ``now`` (0 when it is not overdue)."""
    deadline = escalating_deadline(case, now)
    if deadline is None:
        return 0
    due = case.respond_due if deadline == Deadline.RESPOND else case.close_due
    late_min = (now - due).total_seconds() / 60
    return sum(1 for step in settings.ladder if late_min >= step.after_min)


def escalated_to(settings: CaseSettings, case: Case) -> str | None:
    """Who the case has been escalated to (the role of its highest step), if anyone."""
    if case.escalation <= 0 or not settings.ladder:
        return None
    return settings.ladder[min(case.escalation, len(settings.ladder)) - 1].role


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Cases past a deadline they have not met yet (the SQL side of ``escalating_deadline``)."""
    return and_(
        Case.status != CaseStatus.CLOSED,
        or_(and_(Case.responded_at.is_(None), Case.respond_due < now), Case.close_due < now),
    )


@dataclass(frozen=True)
class Escalation:
    case_id: int
    step: int  # 1-based
    role: str
    deadline: Deadline
    notice_id: int | None = None  # its webhook notice (``notify``), to queue once the transaction commits


def escalate_overdue(
    session: Session, settings: CaseSettings, now: datetime, *, notify: bool = False
) -> list[Escalation]:
    """Raise every overdue case to the ladder step it has reached by ``now``; one audit entry per new step, and
    with ``notify`` (a webhook is configured) one pending ``case_notices`` row per new step."""
    overdue = select(Case).where(overdue_condition(now))
    done: list[Escalation] = []
    for case in session.scalars(overdue.order_by(Case.id)):
        reached = steps_reached(settings, case, now)
        deadline = escalating_deadline(case, now)
        if deadline is None or reached <= case.escalation:
            continue
        for step in range(case.escalation + 1, reached + 1):
            role = settings.ladder[step - 1].role
            audit.record(session, actor=SLA_ACTOR, role="system", action="case.escalate", entity="case",
                         entity_id=case.id, before={"escalation": step - 1},
                         after={"escalation": step, "role": role, "deadline": deadline.value},
                         reason=f"{DEADLINE_LABELS[deadline]}超时，升级至{role}")  # fmt: skip
            notice = None
            if notify:
                notice = CaseNotice(case_id=case.id, step=step, role=role, deadline=deadline.value,
                                    status=DeliveryStatus.PENDING.value, attempts=0, created_at=now)  # fmt: skip
                session.add(notice)
                session.flush()
            done.append(Escalation(case.id, step, role, deadline, notice.id if notice is not None else None))
        case.escalation = reached
        case.escalated_at = now
    session.flush()
    return done
