"""The organization hierarchy (组织架构) as users configure it: 集团 → 区域 → 项目 → 班组.

One YAML file (``inspector org import FILE``) or the same structure as JSON (``PUT /api/v1/org``)::

    id: huaxia                 # the group (集团)
    name: 华夏物业集团
    regions:                   # 区域
      - id: east
        name: 华东区域
        projects:              # 项目: the id is what calls store as their project
          - id: yangguang
            name: 阳光花园
            teams: [A组, B组]   # 班组: team ids (the name is the id), or {id, name}
    teams: [热线中心]           # teams may also hang under a region or the group (a shared hotline team)

Ids share one namespace (a team and a project cannot both be ``yangguang``), at most 64 characters, no
``/``. Every problem is one ``RuleFileError`` naming the file and line (YAML) or an ``OrgError`` naming the
field (JSON). Importing replaces the whole tree; teams named in it are created (or renamed). Agents join
teams through metadata or ``inspector.store.memberships.move_agent``; a user's scope (``users.scope``) names
a node, and sees the teams under it (``api.deps``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator
from sqlalchemy.orm import Session

from inspector.errors import RuleFileError
from inspector.qa.rules.loader import _field_name, _reason, _refuse_duplicate_keys, _walk, validation_error
from inspector.store.org import Node, OrgTree, replace_tree
from inspector.vocab import OrgLevel, label
from inspector.yamlfile import read_yaml

_Id = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^/\s\x00-\x1f\x7f-\x9f]+$")
]
_Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")]


class OrgError(ValueError):
    """An invalid hierarchy given as JSON: ``field`` is where (``regions[0].projects[1].id``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamSpec(_Strict):
    id: _Id
    name: _Name = ""


class _WithTeams(_Strict):
    @field_validator("teams", mode="before", check_fields=False)
    @classmethod
    def _team_ids(cls, value: Any) -> Any:
        """A team given as its id alone (``A组``) is ``{id: A组}``."""
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, str | int) and not isinstance(v, bool) else v for v in value]
        return value


class ProjectSpec(_WithTeams):
    id: _Id
    name: _Name = ""
    teams: list[TeamSpec] = []


class RegionSpec(_WithTeams):
    id: _Id
    name: _Name = ""
    projects: list[ProjectSpec] = []
    teams: list[TeamSpec] = []


class OrgSpec(_WithTeams):
    id: _Id
    name: _Name = ""
    regions: list[RegionSpec] = []
    teams: list[TeamSpec] = []

    def nodes(self) -> list[tuple[list[int | str], Node]]:
        """(where in the document, node) for every node, parents before children."""
        out: list[tuple[list[int | str], Node]] = [([], Node(self.id, OrgLevel.GROUP, self.name or self.id))]

        def teams(where: list[int | str], specs: list[TeamSpec], parent: str) -> None:
            for k, team in enumerate(specs):
                out.append(([*where, "teams", k], Node(team.id, OrgLevel.TEAM, team.name or team.id, parent)))

        for i, region in enumerate(self.regions):
            out.append((["regions", i], Node(region.id, OrgLevel.REGION, region.name or region.id, self.id)))
            for j, project in enumerate(region.projects):
                where: list[int | str] = ["regions", i, "projects", j]
                out.append((where, Node(project.id, OrgLevel.PROJECT, project.name or project.id, region.id)))
                teams(where, project.teams, project.id)
            teams(["regions", i], region.teams, region.id)
        teams([], self.teams, self.id)
        return out


def _duplicate(spec: OrgSpec) -> tuple[list[int | str], str] | None:
    seen: dict[str, OrgLevel] = {}
    for where, node in spec.nodes():
        if node.id in seen:
            return [*where, "id"], f"编号 {node.id} 重复（组织架构中的编号不能重复，已用于{level_name(seen[node.id])}）"
        seen[node.id] = node.level
    return None


def level_name(level: OrgLevel | str) -> str:
    return label(OrgLevel(level))


def _json_field(loc: list[int | str]) -> str:
    return _field_name([f"[{part}]" if isinstance(part, int) else part for part in loc])


def parse_org(data: Any) -> OrgSpec:
    """Validate a hierarchy given as JSON-like data; ``OrgError`` names the field."""
    if not isinstance(data, dict):
        raise OrgError("（顶层）", "组织架构必须是对象（id、name、regions、teams）")
    try:
        spec = OrgSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        field = _json_field(loc)
        raise OrgError(field, _reason(error, field)) from exc
    problem = _duplicate(spec)
    if problem is not None:
        raise OrgError(_json_field(problem[0]), problem[1])
    return spec


def load_org(path: str | Path) -> OrgSpec:
    """Load and validate an org file; a problem is a ``RuleFileError`` with the file and line."""
    path = Path(path)
    data, node = read_yaml(path, missing="组织架构文件不存在")
    if node is not None:
        _refuse_duplicate_keys(path, node)
    if not isinstance(data, dict):
        raise RuleFileError(path, "顶层必须是映射（id、name、regions、teams）", line=1)
    try:
        spec = OrgSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, node, exc) from exc
    problem = _duplicate(spec)
    if problem is not None:
        line, _ = _walk(node, problem[0])
        raise RuleFileError(path, problem[1], line=line)
    return spec


def apply_org(session: Session, spec: OrgSpec) -> OrgTree:
    """Replace the stored hierarchy with ``spec``."""
    return replace_tree(session, [node for _, node in spec.nodes()])

