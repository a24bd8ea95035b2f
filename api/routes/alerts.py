"""The alert queue (红黄蓝预警): list, acknowledge, delivery attempts, redeliver.

Who (built from ``api.deps``' names): the list is for staff (a team lead sees its team's agents' alerts,
``agent_filter``); acknowledging for admin, reviewer and team lead (``HANDLERS``; a team lead only its
team's, ``check_agent``); the delivery attempts for admin and reviewer; redelivery for admin.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field

from api.deps import Admin, DbSession, Principal, Reviewer, Staff, State, agent_filter, may_see_agent, require_roles
from api.errors import ApiError
from api.fields import AgentQuery, IdPath, MultiLine, PageQuery, PageSizeQuery
from api.queries import agent_names
from api.schemas.alerts import (
    AlertOut,
    AlertPage,
    DeliveryList,
    NamedAlertOut,
    alert_out,
    delivery_out,
    named_alert,
)
from api.schemas.errors import error_responses
from inspector.people import alerts
from inspector.service import webhooks
from inspector.store.schema import AlertEvent
from inspector.vocab import AlertKind

router = APIRouter(tags=["预警"], responses=error_responses(409))

HANDLERS = ("admin", "reviewer", "team_lead")
Handler = Annotated[Principal, Depends(require_roles(*HANDLERS))]
Level = Literal["red", "yellow", "blue"]
KindName = Literal["call", "cluster", "repeat"]
StatusName = Literal["open", "acknowledged", "closed"]


class AckIn(BaseModel):
    note: Annotated[str, MultiLine] | None = Field(None, max_length=2000, description="处理说明")


@router.get("/alerts", response_model=AlertPage, summary="预警队列（筛选、分页，最新在前）")
def list_alerts(
    principal: Staff,
    state: State,
    session: DbSession,
    status: Annotated[StatusName | None, Query(description="处理状态")] = None,
    level: Annotated[Level | None, Query(description="预警级别")] = None,
    agent_id: AgentQuery = None,
    kind: Annotated[KindName | None, Query(description="来源：call/cluster 群体性/repeat 重复来电")] = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
) -> AlertPage:
    size = page_size or state.settings.api.page_size
    found = alerts.list_alerts(
        session,
        status=status,
        level=level,
        agent_id=agent_id or None,
        kind=kind,
        visible=agent_filter(principal, AlertEvent.agent_id),
        offset=(page - 1) * size,
        limit=size,
    )
    names = agent_names(session, [a.agent_id for a in found.items])
    members = alerts.alerts_call_ids(session, [a.id for a in found.items if a.kind != AlertKind.CALL])
    items = [named_alert(alert_out(state, a, members.get(a.id)), names.get(a.agent_id)) for a in found.items]
    return AlertPage(items=items, total=found.total, page=page, page_size=size)


@router.post("/alerts/{alert_id}/ack", response_model=NamedAlertOut, summary="确认处理预警")
def acknowledge_alert(
    alert_id: IdPath,
    principal: Handler,
    state: State,
    session: DbSession,
    body: Annotated[AckIn | None, Body()] = None,
) -> NamedAlertOut:
    if not may_see_agent(principal, alerts.get_alert(session, alert_id).agent_id):
        # Not check_agent: its body names the agent, which the caller may not know (nor learn).
        raise ApiError(403, "forbidden", "班组长只能处理本班组坐席的预警")
    alert = alerts.acknowledge(session, principal.actor, principal.role, alert_id, body.note if body else None)
    members = alerts.alert_call_ids(session, alert.id)
    return named_alert(alert_out(state, alert, members), agent_names(session, [alert.agent_id]).get(alert.agent_id))


@router.get("/alerts/{alert_id}/deliveries", response_model=DeliveryList, summary="预警推送记录（每次尝试）")
def list_deliveries(alert_id: IdPath, _: Reviewer, state: State, session: DbSession) -> DeliveryList:
    alert = alerts.get_alert(session, alert_id)
    attempts = alerts.deliveries(session, alert_id)
    return DeliveryList(alert_id=alert_id, delivery=alert.delivery, items=[delivery_out(state, d) for d in attempts])


@router.post(
    "/alerts/{alert_id}/redeliver",
    status_code=202,
    response_model=AlertOut,
    summary="重新推送预警到 Webhook",
)
def redeliver_alert(alert_id: IdPath, principal: Admin, state: State) -> AlertOut:
    # Its own transaction, committed before the job is queued, so the worker sees the alert pending.
    with state.db.session() as session:
        alert = alerts.redeliver(session, state.settings.alerts, principal.actor, principal.role, alert_id)
        body = alert_out(state, alert, alerts.alert_call_ids(session, alert.id))
    webhooks.enqueue_delivery(state.queue, state.settings.alerts, alert_id)
    return body
