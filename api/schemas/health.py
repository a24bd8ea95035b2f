"""Health check answer (``GET /healthz``: 200 all ok, 503 with the part that is unavailable)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: str = Field(description="ok 或 unavailable")
    checks: dict[str, str] = Field(description="database、redis：ok 或 unavailable")
