"""Types shared by the response models of several resources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# A number read from stored JSON (a hit's points, start, end): an int stays an int (``5``, not ``5.0``).
Number = float | int


class AuditEntryOut(BaseModel):
    """One change a person made (``inspector.store.audit.to_dict``)."""

    id: int
    at: str = Field(description="UTC 时间，ISO 8601（以 Z 结尾）")
    actor: str = Field(description="操作人，如 user:zhangsan")
    role: str = Field(description="操作人的角色")
    action: str = Field(description="操作，如 verdict.set、score.adjust")
    entity: str
    entity_id: str
    before: dict[str, Any] | None = Field(description="修改前的值")
    after: dict[str, Any] | None = Field(description="修改后的值")
    reason: str | None


class AuditList(BaseModel):
    items: list[AuditEntryOut]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int
    page_size: int
