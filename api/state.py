"""What one API process holds: settings, database, Redis + queue, audio store, metrics (no globals)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
import rq
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.metrics import Metrics
from inspector.rules.loader import load_ruleset
from inspector.settings import Settings
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database
from inspector.store.rulesets import materialize
from inspector.store.schema import RuleSetRecord


@dataclass
class AppState:
    settings: Settings
    db: Database
    redis: redis.Redis
    queue: rq.Queue
    audio: LocalAudioStore
    metrics: Metrics
    tz: ZoneInfo
    _rule_names: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rulesets_dir(self) -> Path:
        """Where bundles are materialized (the same folder the workers use)."""
        return self.settings.data_dir / "rulesets"

    def rule_names(self, record: RuleSetRecord) -> dict[str, str]:
        """Rule id → Chinese name of a stored rule set (loaded once per bundle content)."""
        with self._lock:
            cached = self._rule_names.get(record.sha256)
        if cached is None:
            folder = materialize(record, self.rulesets_dir)
            cached = {rule.id: rule.name for rule in load_ruleset(folder).rules}
            with self._lock:
                self._rule_names[record.sha256] = cached
        return cached

    def active_rule_names(self, session: Session) -> dict[str, str] | None:
        """Rule names of the active rule set (None without one). Reads only its id and hash; the stored
        bundle (hundreds of kB of JSON) is loaded only the first time a rule set is seen."""
        row = session.execute(
            select(RuleSetRecord.id, RuleSetRecord.sha256).where(RuleSetRecord.active.is_(True))
        ).first()
        if row is None:
            return None
        with self._lock:
            cached = self._rule_names.get(row.sha256)
        if cached is not None:
            return cached
        record = session.get(RuleSetRecord, row.id)
        return None if record is None else self.rule_names(record)

    def local_iso(self, value: datetime | None) -> str | None:
        """A stored (naive UTC) time as ISO 8601 in the call centre's time zone, with its offset."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC).astimezone(self.tz).isoformat()

    def today(self) -> date:
        return datetime.now(self.tz).date()
