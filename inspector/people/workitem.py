"""Work items (an alert, a review, an appeal, a coaching assignment): moving one to its next state.

Every such change is the same few steps, written once here: take the audit snapshot of the item
before, set its status and the fields saying who handled it, when and with what note, flush, and
write the audit entry with the snapshots before and after. Checking that the item may move (it is
still open) is the caller's, with its own error and message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from inspector.store import audit


class WorkItem(Protocol):
    """A stored row with an id (what the audit entry names)."""

    @property
    def id(self) -> int: ...


Item = TypeVar("Item", bound=WorkItem)


def transition(
    session: Session,
    item: Item,
    changes: Mapping[str, Any],
    *,
    actor: str,
    role: str,
    action: str,
    entity: str,
    snapshot: Callable[[Item], dict[str, Any]],
    after: Callable[[Item], dict[str, Any]] | None = None,
    reason: str | None = None,
) -> Item:
    """Set ``changes`` (column → value) on ``item`` and audit it as ``action`` on ``entity``.

    ``snapshot`` is what the audit entry keeps of the item before (and after, unless ``after`` says
    otherwise); ``reason`` is the note the person gave.
    """
    before = snapshot(item)
    for column, value in changes.items():
        setattr(item, column, value)
    session.flush()
    audit.record(session, actor=actor, role=role, action=action, entity=entity, entity_id=item.id,
                 before=before, after=(after or snapshot)(item), reason=reason)  # fmt: skip
    return item
