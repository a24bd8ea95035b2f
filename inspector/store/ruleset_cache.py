"""The one cache of stored rule sets: a bundle parsed and compiled once per process, by content hash.

Workers (analyzers), review (reviewed scores), training (dimension weights, rule names) and the API
(rule names on every call) all read a stored rule set through ``RULESETS``. A bundle is immutable
once stored and keyed by its sha256, so one process-wide cache is safe: a new bundle has a new key,
and nothing is ever invalidated. The bundle is parsed exactly as a worker loads it (written to a
temporary folder, then ``load_ruleset``), so names and weights are those the scores were made with.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.qa.rules.engine import CompiledRuleSet, compile_ruleset
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.rules.schema import RuleSet
from inspector.store.rulesets import write_bundle
from inspector.store.schema import RuleSetRecord


@dataclass
class LoadedRuleSet:
    """A stored bundle, parsed; compiled on first use."""

    sha256: str
    ruleset: RuleSet

    @cached_property
    def compiled(self) -> CompiledRuleSet:
        return compile_ruleset(self.ruleset)

    @cached_property
    def rule_names(self) -> dict[str, str]:
        """Rule id → Chinese name."""
        return {rule.id: rule.name for rule in self.ruleset.rules}

    @cached_property
    def weights(self) -> dict[str, float]:
        """Dimension id → weight, normalized to sum to 100 (as in scoring)."""
        weights = {dimension.id: float(dimension.weight) for dimension in self.ruleset.dimensions}
        total = sum(weights.values())
        if not weights:
            return {}
        return {d: (w * 100.0 / total if total else 100.0 / len(weights)) for d, w in weights.items()}


class RuleSetCache:
    """Loaded rule sets by bundle sha256 (thread-safe)."""

    def __init__(self) -> None:
        self._loaded: dict[str, LoadedRuleSet] = {}
        self._lock = threading.Lock()

    def get(self, record: RuleSetRecord) -> LoadedRuleSet:
        """The loaded bundle of ``record`` (parsed the first time its content is seen)."""
        with self._lock:
            cached = self._loaded.get(record.sha256)
        if cached is not None:
            return cached
        with tempfile.TemporaryDirectory(prefix="inspector-rules-") as tmp:
            ruleset = load_ruleset(write_bundle(record.files, Path(tmp)))
        loaded = LoadedRuleSet(record.sha256, ruleset)
        with self._lock:
            return self._loaded.setdefault(record.sha256, loaded)

    def active(self, session: Session) -> LoadedRuleSet | None:
        """The active rule set (None without one). Reads only its id and hash while it is cached: the
        stored bundle (hundreds of kB of JSON) is read only the first time a rule set is seen."""
        row = session.execute(
            select(RuleSetRecord.id, RuleSetRecord.sha256).where(RuleSetRecord.active.is_(True))
        ).first()
        if row is None:
            return None
        with self._lock:
            cached = self._loaded.get(row.sha256)
        if cached is not None:
            return cached
        record = session.get(RuleSetRecord, row.id)
        return None if record is None else self.get(record)

    def by_id(self, session: Session, rule_set_id: int) -> LoadedRuleSet | None:
        """The loaded rule set stored under ``rule_set_id`` (None when there is none)."""
        sha = session.scalar(select(RuleSetRecord.sha256).where(RuleSetRecord.id == rule_set_id))
        if sha is None:
            return None
        with self._lock:
            cached = self._loaded.get(sha)
        if cached is not None:
            return cached
        record = session.get(RuleSetRecord, rule_set_id)
        return None if record is None else self.get(record)


# The process's cache (content-addressed and immutable: shared by everything in the process).
RULESETS = RuleSetCache()
