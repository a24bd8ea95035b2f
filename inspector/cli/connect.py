"""What the service commands work on: the settings (environment / ``inspector.toml``), the database
(migrated on first use), the RQ queue; and how they show a stored time. Heavy modules are imported only
by the command that needs them, so ``inspector --help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any
from zoneinfo import ZoneInfo

from inspector.settings import Settings


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings, with a ``--database-url`` where a command has one."""
    settings = Settings()
    if getattr(args, "database_url", None):
        settings.database_url = args.database_url
    return settings


def database(settings: Settings) -> Any:
    """The ``inspector.store.db.Database``, upgraded to the latest schema."""
    from inspector.store.db import Database

    db = Database(settings.database)
    db.upgrade()
    return db


def queue(settings: Settings) -> Any:
    """The RQ queue of call jobs."""
    from inspector.service.queue import connect_redis, make_queue

    return make_queue(settings, connect_redis(settings.redis_url))


def safe_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def local_time(settings: Settings, value: Any) -> str:
    """A stored (naive UTC) time as local minutes, or ``-``."""
    from datetime import UTC

    if value is None:
        return "-"
    return f"{value.replace(tzinfo=UTC).astimezone(ZoneInfo(settings.timezone)):%Y-%m-%d %H:%M}"
