"""Coaching (辅导): assignments a trainer gives an agent for a competency, and their life.

``assign`` / ``mark_done`` / ``cancel`` (status ``assigned`` → ``done`` | ``cancelled``), each one
audit-logged on entity ``coaching``. Who may do what is the API's business (``api/routes/coaching.py``);
what a done assignment changed is ``inspector.people.effect``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from inspector.people import workitem
from inspector.people.catalog import TrainingCatalog
from inspector.people.errors import CoachingStateError, TrainingError, TrainingNotFound
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import Agent, Call, CoachingAssignment
from inspector.vocab import CoachingStatus, label

MAX_EVIDENCE_CALLS = 20  # evidence calls one assignment may cite


def _snapshot(assignment: CoachingAssignment) -> dict[str, Any]:
    """What the audit log keeps of an assignment."""
    return {
        "agent_id": assignment.agent_id,
        "competency": assignment.competency,
        "dimension": assignment.dimension,
        "course_id": assignment.course_id,
        "evidence": list(assignment.evidence or []),
        "due_date": assignment.due_date.isoformat() if assignment.due_date else None,
        "status": assignment.status,
        "trainer": assignment.trainer,
        "note": assignment.note,
    }


def _evidence(session: Session, agent_id: str, call_ids: list[str]) -> list[str]:
    """The evidence calls without repeats; ``TrainingError`` unless each is one of the agent's calls."""
    evidence = list(dict.fromkeys(call_ids))
    if len(evidence) > MAX_EVIDENCE_CALLS:
        raise TrainingError(f"证据通话最多 {MAX_EVIDENCE_CALLS} 个", field="evidence")
    if evidence:
        owners = dict(session.execute(select(Call.id, Call.agent_id).where(Call.id.in_(evidence))).all())
        for call_id in evidence:
            if call_id not in owners:
                raise TrainingError(f"证据通话 {call_id} 不存在", field="evidence")
            if owners[call_id] != agent_id:
                raise TrainingError(f"证据通话 {call_id} 不是坐席 {agent_id} 的通话", field="evidence")
    return evidence


def assign(
    session: Session,
    catalog: TrainingCatalog,
    actor: str,
    role: str,
    agent_id: str,
    competency: str,
    course_id: str | None,
    evidence_call_ids: list[str],
    due_date: date | None,
    note: str | None,
    dimension: str | None = None,
) -> CoachingAssignment:
    """Assign coaching to an agent for a competency (audit-logged).

    The agent must exist, the competency and course be in the catalog, every evidence call be one of
    the agent's calls. ``dimension`` (whose effect is measured) defaults to the competency's main one
    and must be one of the competency's dimensions.
    """
    if session.get(Agent, agent_id) is None:
        raise TrainingNotFound(f"坐席 {agent_id} 不存在", "agent_not_found")
    spec = catalog.competency(competency)
    if spec is None:
        known = "、".join(c.id for c in catalog.competencies)
        raise TrainingError(f"能力项 {competency} 不存在（可选：{known}）", field="competency")
    if course_id is not None and catalog.course(course_id) is None:
        raise TrainingError(f"课程 {course_id} 不存在", field="course_id")
    evidence = _evidence(session, agent_id, evidence_call_ids)
    if dimension is None:
        dimension = spec.main_dimension()
    elif dimension not in spec.dimensions:
        known = "、".join(spec.dimensions) or "无"
        raise TrainingError(f"维度 {dimension} 不属于能力项 {spec.name}（可选：{known}）", field="dimension")
    assignment = CoachingAssignment(
        agent_id=agent_id,
        competency=spec.id,
        dimension=dimension,
        course_id=course_id,
        evidence=evidence,
        due_date=due_date,
        status=CoachingStatus.ASSIGNED,
        trainer=actor,
        note=note,
        created_at=utcnow(),
        done_at=None,
    )
    session.add(assignment)
    session.flush()
    audit.record(session, actor=actor, role=role, action="coaching.assign", entity="coaching",
                 entity_id=assignment.id, after=_snapshot(assignment), reason=note)  # fmt: skip
    return assignment


def get_assignment(session: Session, assignment_id: int) -> CoachingAssignment:
    assignment = session.get(CoachingAssignment, assignment_id)
    if assignment is None:
        raise TrainingNotFound(f"辅导任务 {assignment_id} 不存在", "coaching_not_found")
    return assignment


def _close(
    session: Session,
    actor: str,
    role: str,
    assignment_id: int,
    status: CoachingStatus,
    action: str,
    note: str | None,
) -> CoachingAssignment:
    assignment = get_assignment(session, assignment_id)
    if assignment.status != CoachingStatus.ASSIGNED:
        # "已完成" / "已取消": the labels of the closed states (an open one never gets here)
        raise CoachingStateError(f"辅导任务 {assignment_id} 已{label(assignment.status, CoachingStatus)}")
    changes: dict[str, Any] = {"status": status}
    if status == CoachingStatus.DONE:
        changes["done_at"] = utcnow()
    return workitem.transition(session, assignment, changes, actor=actor, role=role, action=action,
                               entity="coaching", snapshot=_snapshot, reason=note)  # fmt: skip


def mark_done(
    session: Session, actor: str, role: str, assignment_id: int, note: str | None = None
) -> CoachingAssignment:
    """Mark an open assignment done (by the agent or a trainer; the API decides who). ``note`` is audited."""
    return _close(session, actor, role, assignment_id, CoachingStatus.DONE, "coaching.done", note)


def cancel(session: Session, actor: str, role: str, assignment_id: int, note: str | None = None) -> CoachingAssignment:
    """Cancel an open assignment (audit-logged with ``note`` as the reason)."""
    return _close(session, actor, role, assignment_id, CoachingStatus.CANCELLED, "coaching.cancel", note)


def list_assignments(
    session: Session,
    agent_id: str | None = None,
    status: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> list[CoachingAssignment]:
    """Assignments, newest first; ``visible``: a condition on ``CoachingAssignment.agent_id`` (the API's
    per-principal filter)."""
    query = select(CoachingAssignment)
    if visible is not None:
        query = query.where(visible)
    if agent_id is not None:
        query = query.where(CoachingAssignment.agent_id == agent_id)
    if status is not None:
        query = query.where(CoachingAssignment.status == status)
    return list(session.scalars(query.order_by(CoachingAssignment.created_at.desc(), CoachingAssignment.id.desc())))


def is_overdue(assignment: CoachingAssignment, today: date) -> bool:
    due = assignment.due_date
    return assignment.status == CoachingStatus.ASSIGNED and due is not None and due < today
