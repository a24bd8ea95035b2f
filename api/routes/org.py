"""The organization hierarchy (组织架构): the tree, replacing it, a node's scorecard and leaderboard, and moving an
agent to another team (effective-dated, ``inspector.store.memberships``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import Admin, Anyone, DbSession, Principal, Staff, State, check_agent, check_node, team_scope
from api.errors import ApiError, invalid_param
from api.fields import MAX_ID
from api.queries import parse_date
from api.routes.agents import FromQuery, ToQuery, date_range
from api.schemas.org import (
    MembershipOut,
    MembershipsOut,
    NodeLeaderboardOut,
    NodeScorecardOut,
    OrgNodeOut,
    OrgOut,
    OrgSpecIn,
    OrgTeamOut,
    TeamMoveIn,
)
from inspector.people.org import OrgError, apply_org, level_name, parse_org
from inspector.reports import leaderboards, org_scorecard
from inspector.store import audit, memberships
from inspector.store.org import OrgTree, load_tree
from inspector.store.schema import Agent, Team

router = APIRouter(tags=["组织架构"])


def _agents_per_team(session: Session) -> dict[str, int]:
    rows = session.execute(select(Agent.team_id, func.count(Agent.id)).group_by(Agent.team_id)).all()
    return {team: int(n) for team, n in rows if team is not None}


def _node_out(tree: OrgTree, node_id: str, agents: dict[str, int]) -> OrgNodeOut:
    node = tree.nodes[node_id]
    children = [_node_out(tree, child.id, agents) for child in tree.kids(node_id)]
    count = sum(agents.get(team, 0) for team in tree.teams_under(node_id))
    return OrgNodeOut(id=node.id, level=node.level.value, level_name=level_name(node.level), name=node.name,
                      agents=count, children=children)  # fmt: skip


def _org_out(session: Session, principal: Principal) -> OrgOut:
    tree = load_tree(session)
    agents = _agents_per_team(session)
    roots = tree.kids(None)
    scope = team_scope(principal)
    if scope is None:
        root_id: str | None = roots[0].id if roots else None
    else:
        root_id = principal.scope if principal.scope in tree.nodes else None
    teams = session.execute(select(Team.id, Team.name).order_by(Team.id)).all()
    unattached = [
        OrgTeamOut(team_id=t, name=name, agents=agents.get(t, 0))
        for t, name in teams
        if t not in tree.nodes and (scope is None or t in scope)
    ]
    root = None if root_id is None else _node_out(tree, root_id, agents)
    return OrgOut(configured=bool(roots), root=root, unattached=unattached)


@router.get("/org", response_model=OrgOut, summary="组织架构（集团 → 区域 → 项目 → 班组；班组长/项目经理只看管辖范围）")
def get_org(principal: Staff, session: DbSession) -> OrgOut:
    return _org_out(session, principal)


@router.put("/org", response_model=OrgOut, summary="替换组织架构（管理员；班组随之创建或改名，记入操作记录）")
def put_org(body: OrgSpecIn, principal: Admin, session: DbSession) -> OrgOut:
    try:
        spec = parse_org(body.model_dump())
    except OrgError as exc:
        raise invalid_param(exc.field, exc.reason) from None
    before = load_tree(session)
    apply_org(session, spec)
    audit.record(session, actor=principal.actor, role=principal.role, action="org.replace", entity="org",
                 entity_id=spec.id, before={"nodes": len(before.nodes)},
                 after={"nodes": len(spec.nodes())})  # fmt: skip
    return _org_out(session, principal)


def _known_node(session: Session, principal: Principal, node_id: str) -> OrgTree:
    tree = load_tree(session)
    check_node(principal, tree, node_id)
    if node_id not in tree.nodes:
        raise ApiError(404, "org_node_not_found", f"组织架构中没有节点 {node_id}", node=node_id)
    return tree


@router.get(
    "/org/{node_id}/scorecard",
    response_model=NodeScorecardOut,
    summary="组织架构节点的成绩单（通话数、平均分、预警、重复来电率、检查项达成率，及下级节点）",
)
def get_node_scorecard(
    node_id: str,
    principal: Staff,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> NodeScorecardOut:
    tree = _known_node(session, principal, node_id)
    start, end = date_range(state, date_from, date_to)
    card = org_scorecard.node_scorecard(session, tree, node_id, start, end)
    assert card is not None  # the node is in the tree
    return NodeScorecardOut.model_validate(
        {
            "node": card.node.to_dict(),
            "path": [{"id": n.id, "level": n.level.value, "name": n.name} for n in card.path],
            "children": [c.to_dict() for c in card.children],
            "from": start.isoformat(),
            "to": end.isoformat(),
        }
    )


@router.get(
    "/org/{node_id}/leaderboard", response_model=NodeLeaderboardOut, summary="组织架构节点下的坐席排行榜（按平均分）"
)
def get_node_leaderboard(
    node_id: str,
    principal: Staff,
    state: State,
    session: DbSession,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    min_calls: Annotated[int, Query(ge=1, le=MAX_ID, description="上榜所需的最少通话数")] = 1,
) -> NodeLeaderboardOut:
    tree = _known_node(session, principal, node_id)
    start, end = date_range(state, date_from, date_to)
    board = leaderboards.leaderboard(session, tree.teams_under(node_id), start, end, min_calls=min_calls)
    return NodeLeaderboardOut.model_validate(
        {"node_id": node_id, "from": start.isoformat(), "to": end.isoformat(), "items": [e.to_dict() for e in board]}
    )


def _memberships_out(session: Session, agent_id: str) -> MembershipsOut:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise ApiError(404, "agent_not_found", f"坐席 {agent_id} 不存在", agent_id=agent_id)
    spans = memberships.spans_of(session, [agent_id])[agent_id]
    names = dict(session.execute(select(Team.id, Team.name)).all())
    items = [
        MembershipOut.model_validate(
            {
                "team_id": s.team_id,
                "team_name": names.get(s.team_id) if s.team_id else None,
                "from": s.valid_from.isoformat() if s.valid_from else None,
                "to": s.valid_to.isoformat() if s.valid_to else None,
            }
        )
        for s in spans
    ]
    return MembershipsOut(agent_id=agent_id, team_id=agent.team_id, items=items)


@router.get("/agents/{agent_id}/teams", response_model=MembershipsOut, summary="坐席的班组归属历史")
def get_memberships(agent_id: str, principal: Anyone, session: DbSession) -> MembershipsOut:
    check_agent(principal, agent_id)
    return _memberships_out(session, agent_id)


@router.post(
    "/agents/{agent_id}/team",
    response_model=MembershipsOut,
    summary="调动坐席到另一班组（从生效日期起；此前的成绩仍计入原班组；记入操作记录）",
)
def move_agent(agent_id: str, body: TeamMoveIn, principal: Admin, state: State, session: DbSession) -> MembershipsOut:
    today = state.today()
    start = parse_date("from", body.date_from) or today
    before = session.get(Agent, agent_id)
    old_team = None if before is None else before.team_id
    try:
        memberships.move_agent(session, agent_id, body.team_id or None, start, today, actor=principal.actor)
    except memberships.MembershipError as exc:
        if exc.field == "agent_id":
            raise ApiError(404, "agent_not_found", str(exc), agent_id=agent_id) from None
        raise invalid_param(exc.field, str(exc)) from None
    audit.record(session, actor=principal.actor, role=principal.role, action="agent.move", entity="agent",
                 entity_id=agent_id, before={"team_id": old_team},
                 after={"team_id": body.team_id, "from": start.isoformat()})  # fmt: skip
    return _memberships_out(session, agent_id)
