"""Stored rule sets as the people workflows read them, through the store's one rule-set cache
(``inspector.store.ruleset_cache.RULESETS``): review compiles the bundle a call was scored with
(``compiled_ruleset``, ``rule_names``), to score it again and name its rules; training reads the active
bundle's dimension weights and rule names (``ruleset_info``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from inspector.people.errors import InvalidReviewInput
from inspector.qa.rules.engine import CompiledRuleSet
from inspector.store.ruleset_cache import RULESETS


def compiled_ruleset(session: Session, rule_set_id: int) -> CompiledRuleSet:
    """The compiled rule set of a stored bundle (compiled once per process)."""
    loaded = RULESETS.by_id(session, rule_set_id)
    if loaded is None:
        raise InvalidReviewInput(f"规则集 {rule_set_id} 不存在")
    return loaded.compiled


def rule_names(session: Session, rule_set_id: int) -> dict[str, str]:
    """Rule id → Chinese name in a stored rule set."""
    loaded = RULESETS.by_id(session, rule_set_id)
    if loaded is None:
        raise InvalidReviewInput(f"规则集 {rule_set_id} 不存在")
    return loaded.rule_names


@dataclass(frozen=True)
class RuleSetInfo:
    weights: dict[str, float]  # dimension id → weight normalized to sum to 100 (as in scoring)
    rule_names: dict[str, str]  # rule id → Chinese name


def ruleset_info(session: Session) -> RuleSetInfo:
    """Dimension weights and rule names of the active rule set (empty without one)."""
    loaded = RULESETS.active(session)
    return RuleSetInfo({}, {}) if loaded is None else RuleSetInfo(loaded.weights, loaded.rule_names)
