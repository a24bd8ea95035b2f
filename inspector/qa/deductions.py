"""The pattern of rules that deducted points on a call (``analyses.deducted``, ``surveys.deducted``): each rule
with a finding of negative points that is not uncertain, once, as ``rule:dimension``, sorted and joined by
commas ("" when none). Calls with the same pattern group together, so a million calls reduce to the few
thousand patterns that occur (``inspector.people.satisfaction.rule_effects``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def deducted_rules(hits: Iterable[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(rule id, dimension) of each rule with a finding that deducted points (once per rule, first seen)."""
    seen: dict[str, str | None] = {}
    for hit in hits:
        if hit.get("points", 0) < 0 and not hit.get("uncertain") and hit.get("rule_id") not in seen:
            seen[hit["rule_id"]] = hit.get("dimension")
    return list(seen.items())


def pattern_of(hits: Iterable[dict[str, Any]]) -> str:
    """The pattern text of a call's hits (the JSON shape of ``inspector.qa.analysis``)."""
    return ",".join(sorted(f"{rule}:{dimension or ''}" for rule, dimension in deducted_rules(hits)))


def parse_pattern(text: str) -> list[tuple[str, str | None]]:
    """(rule, dimension) pairs of a pattern text."""
    pairs = []
    for item in filter(None, text.split(",")):
        rule, _, dimension = item.partition(":")
        pairs.append((rule, dimension or None))
    return pairs
