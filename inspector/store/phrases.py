"""Stored call phrases: one ``call_phrases`` row per scored call, the phrases of its customer turns as
``inspector.reports.emerging`` cuts them (that module owns the rules and their version; this one only keeps
the result), so emerging phrases read stored sets instead of tokenizing every transcript of a period."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inspector.store.db import chunks
from inspector.store.schema import CallPhrases


def save_phrases(session: Session, call_id: str, phrases: Iterable[str], version: int) -> None:
    """Replace the call's stored phrases."""
    session.execute(delete(CallPhrases).where(CallPhrases.call_id == call_id))
    session.add(CallPhrases(call_id=call_id, version=version, phrases=" ".join(sorted(set(phrases)))))
    session.flush()


def load_phrases(session: Session, call_ids: Sequence[str], version: int) -> dict[str, set[str]]:
    """The stored phrase sets of those calls that have one cut by ``version``."""
    out: dict[str, set[str]] = {}
    for chunk in chunks(call_ids):
        rows = session.execute(
            select(CallPhrases.call_id, CallPhrases.phrases).where(
                CallPhrases.call_id.in_(chunk), CallPhrases.version == version
            )
        )
        out.update((call_id, set(phrases.split())) for call_id, phrases in rows)
    return out


def delete_phrases(session: Session, call_ids: Sequence[str]) -> None:
    """Forget the phrases of these calls (their transcripts were purged)."""
    for chunk in chunks(call_ids):
        session.execute(delete(CallPhrases).where(CallPhrases.call_id.in_(chunk)))
