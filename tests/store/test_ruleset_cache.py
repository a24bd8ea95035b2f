"""The rule-set cache: one parse per bundle content, the same names and weights the loader gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.qa.rules.loader import load_ruleset
from inspector.store import rulesets
from inspector.store.db import Database
from inspector.store.ruleset_cache import RuleSetCache

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_a_bundle_is_parsed_once_and_matches_the_loader(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = RuleSetCache()
    with database.session() as session:
        record = rulesets.ensure_default(session, RULES)
        first = cache.get(record)
        monkeypatch.setattr("inspector.store.ruleset_cache.load_ruleset", lambda _: pytest.fail("parsed twice"))
        assert cache.get(record) is first
        assert cache.active(session) is first
        assert cache.by_id(session, record.id) is first
        assert cache.by_id(session, record.id + 1000) is None
    expected = load_ruleset(RULES)
    assert first.rule_names == {rule.id: rule.name for rule in expected.rules}
    assert set(first.weights) == {d.id for d in expected.dimensions}
    assert sum(first.weights.values()) == pytest.approx(100.0)
    assert first.compiled.ruleset.id == expected.id


def test_no_active_rule_set(database: Database) -> None:
    with database.session() as session:
        assert RuleSetCache().active(session) is None
