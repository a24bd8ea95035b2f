"""Rule precision: how often reviewers agreed with each rule, from their verdicts.

A rule's precision is confirmed / (confirmed + rejected) over the verdicts on calls of a date range;
the noisiest rules (most false alarms, 误报) come first. It reads the verdicts and the active rule set's
rule names from the database, so it lives with the review workflow rather than in ``inspector.qa``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspector.people.rulesets import rule_names
from inspector.store.rulesets import active_ruleset
from inspector.store.schema import Call, HitVerdict
from inspector.vocab import Verdict


@dataclass(frozen=True)
class RulePrecision:
    """How often reviewers agreed with a rule: confirmed / (confirmed + rejected)."""

    rule_id: str
    name: str
    confirmed: int
    rejected: int
    precision: float | None  # None: no verdicts

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "name": self.name, "confirmed": self.confirmed, "rejected": self.rejected,
                "precision": self.precision}  # fmt: skip


def rule_precision(session: Session, date_from: date | None, date_to: date | None) -> list[RulePrecision]:
    """Per rule, reviewers' confirmed vs rejected verdicts on calls of the (local, inclusive) date range.

    Noisiest first: lowest precision, then most rejections, then rule id. Names from the active rule set.
    """
    query = (
        select(HitVerdict.rule_id, HitVerdict.verdict, func.count())
        .join(Call, Call.id == HitVerdict.call_id)
        .group_by(HitVerdict.rule_id, HitVerdict.verdict)
    )
    if date_from is not None:
        query = query.where(Call.day >= date_from)
    if date_to is not None:
        query = query.where(Call.day <= date_to)
    counts: dict[str, dict[str, int]] = {}
    for rule_id, verdict, count in session.execute(query).all():
        counts.setdefault(rule_id, {Verdict.CONFIRMED: 0, Verdict.REJECTED: 0})[verdict] = int(count)
    active = active_ruleset(session)
    names = rule_names(session, active.id) if active is not None else {}
    result = []
    for rule_id, c in counts.items():
        confirmed, rejected = c[Verdict.CONFIRMED], c[Verdict.REJECTED]
        judged = confirmed + rejected
        precision = round(confirmed / judged, 3) if judged else None
        result.append(RulePrecision(rule_id, names.get(rule_id, rule_id), confirmed, rejected, precision))
    return sorted(result, key=lambda r: (r.precision if r.precision is not None else 2.0, -r.rejected, r.rule_id))
