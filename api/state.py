"""What one API process holds: settings, database, Redis + queue, audio store, metrics (no globals; stored
rule sets come from the store's content-addressed cache, ``inspector.store.ruleset_cache``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import redis
import rq
from sqlalchemy.orm import Session

from api.metrics import Metrics
from inspector.settings import Settings
from inspector.store.blobs import LocalAudioStore
from inspector.store.db import Database
from inspector.store.ruleset_cache import RULESETS


@dataclass
class AppState:
    settings: Settings
    db: Database
    redis: redis.Redis
    queue: rq.Queue
    audio: LocalAudioStore
    metrics: Metrics
    tz: ZoneInfo

    def active_rule_names(self, session: Session) -> dict[str, str] | None:
        """Rule names of the active rule set (None without one), from the process's rule-set cache."""
        loaded = RULESETS.active(session)
        return None if loaded is None else loaded.rule_names

    def local_iso(self, value: datetime | None) -> str | None:
        """A stored (naive UTC) time as ISO 8601 in the call centre's time zone, with its offset."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC).astimezone(self.tz).isoformat()

    def today(self) -> date:
        return datetime.now(self.tz).date()
