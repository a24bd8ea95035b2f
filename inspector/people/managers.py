"""Who manages an agent or a project at a level of the org hierarchy (the 班组长 of its team, the 项目经理 of its
project, the region's manager): the active team-lead users whose scope is that node (``users.scope``), or, for a
team, whose own team it is and who have no other scope. Escalation notices name them
(``inspector.service.case_notices``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from inspector.store.org import Node, OrgTree
from inspector.store.schema import User
from inspector.vocab import OrgLevel, UserRole


@dataclass(frozen=True)
class Manager:
    username: str
    name: str


def node_at(tree: OrgTree, level: OrgLevel, team_id: str | None, project: str | None) -> Node | None:
    """The node at ``level`` above the team (a team outside the tree is its own team node), else above the
    project; None when neither reaches that level."""
    if level == OrgLevel.TEAM:
        if team_id is None:
            return None
        return tree.nodes.get(team_id) or Node(team_id, OrgLevel.TEAM, team_id)
    for start in (project, team_id):
        if start is None or start not in tree.nodes:
            continue
        found = next((n for n in tree.path(start) if n.level == level), None)
        if found is not None:
            return found
    return None


def managers_of(session: Session, node: Node) -> list[Manager]:
    """The active team-lead users who manage the node, by user name."""
    manages = User.scope == node.id
    if node.level == OrgLevel.TEAM:
        manages = or_(manages, and_(User.scope.is_(None), User.team_id == node.id))
    rows = session.execute(
        select(User.username, User.display_name)
        .where(User.role == UserRole.TEAM_LEAD.value, User.active.is_(True), manages)
        .order_by(User.username)
    ).all()
    return [Manager(username, name or username) for username, name in rows]
