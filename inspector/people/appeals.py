"""Appeals (申诉): an agent contests one deduction on their own call, a reviewer resolves it.

One appeal per finding, only on a deduction that has not been withdrawn in review already. Resolving
it is a verdict on the finding: accepted (申诉成功) rejects the finding, restoring its points, and queues
the call for review (reason ``appeal``); rejected (申诉驳回) confirms it. Creating and resolving are
audit-logged on entity ``appeal``, the verdict on entity ``call``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspector.people import workitem
from inspector.people.errors import (
    AppealNotAllowed,
    AppealNotFound,
    AppealResolved,
    DuplicateAppeal,
    InvalidReviewInput,
    checked_text,
)
from inspector.people.reading import current_analysis, hit_at, verdict_of
from inspector.people.review_queue import enqueue
from inspector.people.rulesets import rule_names
from inspector.people.verdicts import record_verdict
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import Analysis, Appeal, Call
from inspector.vocab import AppealDecision, AppealStatus, ReviewReason, Verdict, values


@dataclass(frozen=True)
class AppealRow:
    appeal: Appeal
    hit: dict[str, Any]
    rule_name: str


def create_appeal(
    session: Session, actor: str, role: str, agent_id: str, call: Call, hit_index: int, comment: str
) -> Appeal:
    """The agent ``agent_id`` contests one deduction on their own call (one appeal per finding)."""
    if call.agent_id != agent_id:
        raise AppealNotAllowed("只能对自己的通话提出申诉")
    analysis = current_analysis(session, call)
    hit = hit_at(analysis, hit_index)
    text = checked_text(comment, "申诉理由", required=True)
    if hit.get("points", 0) >= 0:
        raise AppealNotAllowed(f"命中 {hit_index} 没有扣分，无需申诉")
    verdict = verdict_of(session, analysis.id, hit_index)
    if verdict is not None and verdict.verdict == Verdict.REJECTED:
        raise AppealNotAllowed(f"命中 {hit_index} 的扣分已在复核中撤销，无需申诉")
    existing = session.scalars(
        select(Appeal).where(Appeal.analysis_id == analysis.id, Appeal.hit_index == hit_index)
    ).one_or_none()
    if existing is not None:
        raise DuplicateAppeal(f"命中 {hit_index} 已提出过申诉（申诉 {existing.id}，状态：{existing.status}）")
    appeal = Appeal(call_id=call.id, analysis_id=analysis.id, hit_index=hit_index, rule_id=hit["rule_id"],
                    agent_id=agent_id, comment=text, status=AppealStatus.OPEN, created_at=utcnow())  # fmt: skip
    try:
        with session.begin_nested():
            session.add(appeal)
    except IntegrityError:
        raise DuplicateAppeal(f"命中 {hit_index} 已提出过申诉") from None
    audit.record(session, actor=actor, role=role, action="appeal.create", entity="appeal", entity_id=appeal.id,
                 after={"call_id": call.id, "analysis_id": analysis.id, "hit_index": hit_index,
                        "rule_id": hit["rule_id"], "points": hit.get("points"), "status": AppealStatus.OPEN},
                 reason=text)  # fmt: skip
    return appeal


def resolve_appeal(session: Session, actor: str, role: str, appeal_id: int, decision: str, resolution: str) -> Appeal:
    """Accept (the finding is rejected, its points restored, the call queued for review) or reject an appeal."""
    if decision not in values(AppealDecision):
        raise InvalidReviewInput(f"处理结果必须是 {' 或 '.join(values(AppealDecision))}，不能是 {decision!r}")
    appeal = session.get(Appeal, appeal_id, with_for_update=True)
    if appeal is None:
        raise AppealNotFound(f"申诉 {appeal_id} 不存在")
    if appeal.status != AppealStatus.OPEN:
        raise AppealResolved(f"申诉 {appeal_id} 已处理（{appeal.status}）")
    text = checked_text(resolution, "处理意见", required=True)
    call = session.get(Call, appeal.call_id)
    analysis = session.get(Analysis, appeal.analysis_id, with_for_update=True)
    assert call is not None and analysis is not None  # appeals cascade with their call and analysis
    changes = {"status": AppealStatus(decision), "resolver": actor, "resolved_at": utcnow(), "resolution": text}
    workitem.transition(session, appeal, changes, actor=actor, role=role, action="appeal.resolve", entity="appeal",
                        snapshot=lambda a: {"status": a.status},
                        after=lambda a: {"status": a.status, "call_id": a.call_id, "hit_index": a.hit_index},
                        reason=text)  # fmt: skip
    accepted = decision == AppealDecision.ACCEPTED
    if accepted:
        enqueue(session, call, analysis.id, ReviewReason.APPEAL, actor, role)
    verdict = Verdict.REJECTED if accepted else Verdict.CONFIRMED
    record_verdict(session, actor, role, call, analysis, appeal.hit_index, verdict, text, appeal_id=appeal.id)
    return appeal


def list_appeals(
    session: Session,
    *,
    status: str | None = None,
    agent_id: str | None = None,
    appeal_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[AppealRow], int]:
    """Appeals, newest first, with the finding they contest, and how many match.

    ``visible``: a condition on ``Appeal.agent_id`` narrowing to the agents the caller may see.
    """
    conditions: list[ColumnElement[bool]] = [] if visible is None else [visible]
    if appeal_id is not None:
        conditions.append(Appeal.id == appeal_id)
    if status is not None:
        conditions.append(Appeal.status == status)
    if agent_id is not None:
        conditions.append(Appeal.agent_id == agent_id)
    query = (
        select(Appeal, Analysis.hits, Analysis.rule_set_id)
        .join(Analysis, Analysis.id == Appeal.analysis_id)
        .where(*conditions)
        .order_by(Appeal.created_at.desc(), Appeal.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows: list[AppealRow] = []
    names: dict[int, dict[str, str]] = {}
    for appeal, hits, rule_set_id in session.execute(query).all():
        if rule_set_id not in names:
            names[rule_set_id] = rule_names(session, rule_set_id)
        hit = hits[appeal.hit_index] if 0 <= appeal.hit_index < len(hits or []) else {}
        rows.append(AppealRow(appeal, hit, names[rule_set_id].get(appeal.rule_id, appeal.rule_id)))
    total = session.scalar(select(func.count()).select_from(Appeal).where(*conditions))
    return rows, int(total or 0)
