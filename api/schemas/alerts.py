"""Alerts (红黄蓝预警): one alert, the queue, and the delivery attempts of one alert.

The queue and ``POST /alerts/{id}/ack`` add ``agent_name``; ``POST /alerts/{id}/redeliver`` answers the
alert without it (``AlertOut``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.state import AppState
from inspector.privacy.masking import mask_text
from inspector.store.schema import AlertDelivery, AlertEvent
from inspector.vocab import AlertLevel, AlertStatus, DeliveryStatus


class AlertOut(BaseModel):
    id: int
    call_id: str
    agent_id: str
    level: AlertLevel
    reasons: list[str] = Field(description="预警原因（中文）")
    status: AlertStatus
    created_at: str | None
    handled_by: str | None
    handled_at: str | None
    note: str | None = Field(description="处理说明")
    delivery: DeliveryStatus = Field(description="Webhook 推送状态")


class NamedAlertOut(AlertOut):
    agent_name: str | None = Field(description="坐席姓名（未知时为 null）")


class AlertPage(BaseModel):
    items: list[NamedAlertOut]
    total: int
    page: int
    page_size: int


class DeliveryOut(BaseModel):
    attempt: int
    at: str | None
    url: str
    status_code: int | None = Field(description="Webhook 的 HTTP 状态码（无应答时为 null）")
    ok: bool
    error: str | None
    duration_ms: float | None


class DeliveryList(BaseModel):
    alert_id: int
    delivery: DeliveryStatus
    items: list[DeliveryOut]


def alert_out(state: AppState, alert: AlertEvent) -> AlertOut:
    return AlertOut(
        id=alert.id,
        call_id=alert.call_id,
        agent_id=alert.agent_id,
        level=alert.level,
        reasons=[mask_text(r) for r in alert.reasons or []],  # personal data masked for every reader
        status=alert.status,
        created_at=state.local_iso(alert.created_at),
        handled_by=alert.handled_by,
        handled_at=state.local_iso(alert.handled_at),
        note=None if alert.note is None else mask_text(alert.note),
        delivery=alert.delivery,
    )


def named_alert(alert: AlertOut, agent_name: str | None) -> NamedAlertOut:
    return NamedAlertOut(**dict(alert), agent_name=agent_name)


def delivery_out(state: AppState, attempt: AlertDelivery) -> DeliveryOut:
    return DeliveryOut(
        attempt=attempt.attempt,
        at=state.local_iso(attempt.at),
        url=attempt.url,
        status_code=attempt.status_code,
        ok=attempt.ok,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )
