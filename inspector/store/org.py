"""The organization hierarchy as stored (``org_units``): load it, walk it, replace it.

The tree is small (a group has tens of regions and projects, hundreds of teams), so it is loaded whole and
walked in Python. A team that is in no node of the tree (one a CDR brought in before the hierarchy was
configured) is outside it: only unscoped users see it, and a team lead scoped to it sees just that team.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inspector.store.schema import OrgUnit, Team
from inspector.vocab import OrgLevel


@dataclass(frozen=True)
class Node:
    id: str
    level: OrgLevel
    name: str
    parent_id: str | None = None


@dataclass
class OrgTree:
    nodes: dict[str, Node] = field(default_factory=dict)
    children: dict[str | None, list[str]] = field(default_factory=dict)  # None: the roots

    @classmethod
    def of(cls, nodes: Sequence[Node]) -> OrgTree:
        tree = cls()
        for node in nodes:  # in configured order, so children keep it
            tree.nodes[node.id] = node
            tree.children.setdefault(node.parent_id, []).append(node.id)
        return tree

    def subtree(self, node_id: str) -> list[Node]:
        """The node and everything under it, parents before children; empty for an unknown id."""
        if node_id not in self.nodes:
            return []
        out: list[Node] = []
        stack = [node_id]
        while stack:
            current = stack.pop()
            out.append(self.nodes[current])
            stack.extend(reversed(self.children.get(current, [])))
        return out

    def teams_under(self, node_id: str) -> frozenset[str]:
        """The team ids at or under the node. An id that is no node is taken as a team outside the tree."""
        if node_id not in self.nodes:
            return frozenset({node_id})
        return frozenset(n.id for n in self.subtree(node_id) if n.level == OrgLevel.TEAM)

    def path(self, node_id: str) -> list[Node]:
        """From the root down to the node (empty for an unknown id)."""
        out: list[Node] = []
        current = self.nodes.get(node_id)
        while current is not None:
            out.append(current)
            current = self.nodes.get(current.parent_id) if current.parent_id else None
        return out[::-1]

    def kids(self, node_id: str | None) -> list[Node]:
        return [self.nodes[c] for c in self.children.get(node_id, [])]


def load_tree(session: Session) -> OrgTree:
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.level, OrgUnit.name, OrgUnit.parent_id).order_by(OrgUnit.position, OrgUnit.id)
    ).all()
    return OrgTree.of([Node(i, OrgLevel(level), name, parent) for i, level, name, parent in rows])


def replace_tree(session: Session, nodes: Sequence[Node]) -> OrgTree:
    """Make ``nodes`` (parents before children) the hierarchy. Team nodes become teams (or rename them)."""
    session.execute(delete(OrgUnit))
    session.flush()
    teams = {t.id: t for t in session.scalars(select(Team))}
    for position, node in enumerate(nodes):
        if node.level == OrgLevel.TEAM:
            team = teams.get(node.id)
            if team is None:
                session.add(Team(id=node.id, name=node.name))
            elif team.name != node.name:
                team.name = node.name
        session.add(OrgUnit(id=node.id, level=node.level.value, name=node.name, parent_id=node.parent_id,
                            position=position))  # fmt: skip
        session.flush()  # parents first: each row's foreign key is already there
    return OrgTree.of(list(nodes))
