"""The company's projects (项目/小区): a YAML list with ids, names and aliases.

```yaml
projects:
  - id: yangguang          # [a-z0-9_-], at most 64 characters: what calls store
    name: 阳光花园
    aliases: [阳光小区]    # other names staff type or owners say
```

Metadata (upload form, CDR column, file name) may name a project by id, name or alias; ``resolve`` gives the
project. ``find`` looks for a name or alias in what was said on the call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from inspector.errors import RuleFileError
from inspector.yamlfile import read_yaml

_ID = re.compile(r"[a-z0-9_-]{1,64}")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class ProjectCatalog:
    projects: tuple[Project, ...]

    def resolve(self, value: str) -> Project | None:
        """The project a metadata value names (its id, name or an alias; width and spaces ignored)."""
        key = _key(value)
        for project in self.projects:
            if key == project.id or any(key == _key(name) for name in project.names):
                return project
        return None

    def find(self, text: str) -> tuple[Project, str] | None:
        """The project whose name or alias occurs in ``text`` (the longest name wins), with the name found."""
        key = _key(text)
        best: tuple[Project, str] | None = None
        for project in self.projects:
            for name in project.names:
                if _key(name) in key and (best is None or len(name) > len(best[1])):
                    best = (project, name)
        return best


def _key(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _items(node: yaml.Node | None) -> list[yaml.Node | None]:
    """The nodes of the ``projects`` list (for line numbers); Nones when the file has no such list."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "projects" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return []


def load_projects(path: Path) -> ProjectCatalog:
    """Read and check a project list; every problem is a ``RuleFileError`` naming the file, line and field."""
    data, node = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        raise RuleFileError(path, "应为 projects: 列表（每项含 id 与 name）", line=_line(node))
    nodes = _items(node)
    projects: list[Project] = []
    owner: dict[str, str] = {}  # name or alias key -> project id
    for index, item in enumerate(data["projects"]):
        line = _line(nodes[index]) if index < len(nodes) else None
        where = f"projects[{index}]"
        if not isinstance(item, dict):
            raise RuleFileError(path, f"{where}: 应为含 id 与 name 的映射", line=line)
        project_id, name, aliases = item.get("id"), item.get("name"), item.get("aliases", [])
        if not isinstance(project_id, str) or not _ID.fullmatch(project_id):
            reason = f"{where}.id: 应为 1–64 位小写字母、数字、_ 或 -（现为 {project_id!r}）"
            raise RuleFileError(path, reason, line=line)
        if any(p.id == project_id for p in projects):
            raise RuleFileError(path, f"{where}.id: 项目编号 {project_id} 重复", line=line)
        if not isinstance(name, str) or not name.strip():
            raise RuleFileError(path, f"{where}.name: 项目 {project_id} 缺少名称", line=line)
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise RuleFileError(path, f"{where}.aliases: 应为非空字符串的列表", line=line)
        unknown = set(item) - {"id", "name", "aliases"}
        if unknown:
            raise RuleFileError(path, f"{where}: 未知字段 {'、'.join(sorted(map(str, unknown)))}", line=line)
        project = Project(project_id, name.strip(), tuple(a.strip() for a in aliases))
        for label in project.names:
            key = _key(label)
            if owner.get(key, project_id) != project_id:
                raise RuleFileError(path, f"{where}: 名称或别名 {label} 已属于项目 {owner[key]}", line=line)
            owner[key] = project_id
        projects.append(project)
    return ProjectCatalog(tuple(projects))
