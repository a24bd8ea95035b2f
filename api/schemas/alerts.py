"""Alerts (红黄蓝预警): one alert, the queue, and the delivery attempts of one alert.

The queue and ``POST /alerts/{id}/ack`` add ``agent_name``; ``POST /alerts/{id}/redeliver`` answers the
alert without it (``AlertOut``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.state import AppState
from inspector.privacy.masking import mask_text
from inspector.store.schema import AlertDelivery, AlertEvent
from inspector.vocab import AlertKind, AlertLevel, AlertStatus, DeliveryStatus


class AlertOut(BaseModel):
    id: int
    kind: AlertKind = Field(
        description="预警来源：call 单通通话；cluster 群体性投诉（同一项目多位来电人同一话题）；repeat 重复来电"
    )
    call_id: str = Field(description="触发预警的通话")
    call_ids: list[str] = Field(
        description="预警涉及的全部通话（单通预警即触发通话；群体性/重复来电预警含后续并入的通话）"
    )
    project: str | None = Field(None, description="项目（群体性/重复来电预警）")
    topic: str | None = Field(None, description="话题（群体性/重复来电预警）")
    agent_id: str
    level: AlertLevel
    reasons: list[str] = Field(description="预警原因（中文）")
    status: AlertStatus
    created_at: str | None
    handled_by: str | None
    handled_at: str | None
    note: str | None = Field(description="处理说明")
    delivery: DeliveryStatus = Field(description="Webhook 推送状态")
    updated_at: str | None = Field(None, description="最近一次并入通话的时间")


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


def alert_out(state: AppState, alert: AlertEvent, call_ids: list[str] | None = None) -> AlertOut:
    """``call_ids``: the calls of a cluster or repeat alert (``inspector.people.alerts.alert_call_ids``)."""
    return AlertOut(
        id=alert.id,
        kind=alert.kind or AlertKind.CALL,
        call_id=alert.call_id,
        call_ids=call_ids or [alert.call_id],
        project=alert.project,
        topic=alert.topic,
        agent_id=alert.agent_id,
        level=alert.level,
        reasons=[mask_text(r) for r in alert.reasons or []],  # personal data masked for every reader
        status=alert.status,
        created_at=state.local_iso(alert.created_at),
        handled_by=alert.handled_by,
        handled_at=state.local_iso(alert.handled_at),
        note=None if alert.note is None else mask_text(alert.note),
        delivery=alert.delivery,
        updated_at=state.local_iso(alert.updated_at),
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
