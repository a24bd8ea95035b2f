"""The audit log: every change a person makes to scores, findings, appeals, coaching and rule sets.

One row per change: who (``actor``, e.g. ``user:zhangsan``), in which role, what (``action`` on
``entity``/``entity_id``), the value before and after, and the reason they gave.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.store.db import utcnow
from inspector.store.schema import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(at=utcnow(), actor=actor, actor_role=role, action=action, entity=entity,
                       entity_id=str(entity_id), before=before, after=after, reason=reason)  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


def history(session: Session, entity: str, entity_id: str | int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
    return list(session.scalars(query.order_by(AuditEntry.at, AuditEntry.id)))


def to_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat() + "Z", "actor": entry.actor, "role": entry.actor_role,
            "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id, "before": entry.before,
            "after": entry.after, "reason": entry.reason}  # fmt: skip
