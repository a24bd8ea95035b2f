"""The training catalog (``rules/training.yaml``, ``kind: training``, skipped by the rule loader): the
competency model and the courses.

Competencies (专业知识, 服务技能, 职业素养 in the default file) are each mapped to score dimensions with
weights and/or rule ids; ``weak_below`` is the score under which a competency is weak; each course has
an id, a name, a duration in minutes, and the competencies and rules it trains. ``load_training``
validates the file; every problem is a one-line ``RuleFileError`` naming file and line.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from inspector.errors import RuleFileError
from inspector.qa.rules.loader import _field_name, _reason, _refuse_duplicate_keys, _walk
from inspector.qa.rules.schema import RuleSet
from inspector.yamlfile import read_yaml

TRAINING_FILE = "training.yaml"

_Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=64)]
_Text = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Competency(_Strict):
    id: _Id
    name: _Text
    description: str = ""
    # score dimension id → weight within this competency
    dimensions: dict[str, Annotated[float, Field(ge=0)]] = {}
    rules: list[str] = []

    def main_dimension(self) -> str | None:
        """The dimension weighted most (the first one on a tie): what coaching for it measures."""
        best: str | None = None
        for dimension, weight in self.dimensions.items():
            if best is None or weight > self.dimensions[best]:
                best = dimension
        return best


class Course(_Strict):
    id: _Id
    name: _Text
    duration_min: Annotated[int, Field(gt=0)]
    competencies: Annotated[list[str], Field(min_length=1)]
    rules: list[str] = []
    description: str = ""


class TrainingCatalog(_Strict):
    kind: Literal["training"]
    id: _Id
    version: int | str = 1
    name: _Text
    weak_below: Annotated[float, Field(ge=0, le=100)] = 80.0
    competencies: Annotated[list[Competency], Field(min_length=1)]
    courses: list[Course] = []

    def competency(self, competency_id: str) -> Competency | None:
        return next((c for c in self.competencies if c.id == competency_id), None)

    def course(self, course_id: str) -> Course | None:
        return next((c for c in self.courses if c.id == course_id), None)


def _problems(catalog: TrainingCatalog, ruleset: RuleSet | None) -> list[tuple[list[int | str], str]]:
    """Reference problems: (location in the file, reason)."""
    problems: list[tuple[list[int | str], str]] = []
    seen: set[str] = set()
    for i, competency in enumerate(catalog.competencies):
        if competency.id in seen:
            problems.append((["competencies", i, "id"], f"能力项 id {competency.id} 重复"))
        seen.add(competency.id)
        if not competency.dimensions and not competency.rules:
            problems.append(
                (["competencies", i], f"能力项 {competency.id} 至少要对应一个维度（dimensions）或规则（rules）")
            )
        elif competency.dimensions and sum(competency.dimensions.values()) <= 0:
            problems.append((["competencies", i, "dimensions"], f"能力项 {competency.id} 的维度权重之和必须大于 0"))
    courses: set[str] = set()
    for i, course in enumerate(catalog.courses):
        if course.id in courses:
            problems.append((["courses", i, "id"], f"课程 id {course.id} 重复"))
        courses.add(course.id)
        for j, competency_id in enumerate(course.competencies):
            if competency_id not in seen:
                problems.append(
                    (["courses", i, "competencies", j], f"课程 {course.id} 引用了不存在的能力项 {competency_id}")
                )
    if ruleset is not None:
        dimensions = {d.id for d in ruleset.dimensions}
        rules = {r.id for r in ruleset.rules}
        for i, competency in enumerate(catalog.competencies):
            for dimension in competency.dimensions:
                if dimension not in dimensions:
                    where: list[int | str] = ["competencies", i, "dimensions", dimension]
                    problems.append((where, f"能力项 {competency.id} 引用了规则集中不存在的维度 {dimension}"))
            for j, rule_id in enumerate(competency.rules):
                if rule_id not in rules:
                    where = ["competencies", i, "rules", j]
                    problems.append((where, f"能力项 {competency.id} 引用了规则集中不存在的规则 {rule_id}"))
        for i, course in enumerate(catalog.courses):
            for j, rule_id in enumerate(course.rules):
                if rule_id not in rules:
                    problems.append(
                        (["courses", i, "rules", j], f"课程 {course.id} 引用了规则集中不存在的规则 {rule_id}")
                    )
    return problems


def load_training(path: str | Path, ruleset: RuleSet | None = None) -> TrainingCatalog:
    """Load and validate a training file. With ``ruleset``, its dimension and rule ids are checked too."""
    path = Path(path)
    data, node = read_yaml(path, missing="培训配置文件不存在")
    if node is not None:
        _refuse_duplicate_keys(path, node)
    if not isinstance(data, dict):
        raise RuleFileError(path, "顶层必须是映射（kind: training ...）", line=1)
    if data.get("kind") != "training":
        line, _ = _walk(node, ["kind"])
        raise RuleFileError(path, f"不是培训配置文件：kind 应为 training，实际为 {data.get('kind')!r}", line=line)
    try:
        catalog = TrainingCatalog.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        line, walked = _walk(node, loc)
        if error["type"] == "missing":
            walked = [*walked, str(loc[-1])]
        raise RuleFileError(path, _reason(error, _field_name(walked)), line=line) from exc
    for where, reason in _problems(catalog, ruleset):
        line, _ = _walk(node, where)
        raise RuleFileError(path, reason, line=line)
    return catalog


_catalog_cache: dict[Path, tuple[tuple[int, int], TrainingCatalog]] = {}
_catalog_lock = threading.Lock()


def catalog_for(rules_dir: Path) -> TrainingCatalog:
    """``rules_dir/training.yaml``, loaded again only when the file changed."""
    path = rules_dir / TRAINING_FILE
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (0, 0)  # load_training names the problem
    with _catalog_lock:
        cached = _catalog_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    catalog = load_training(path)
    with _catalog_lock:
        _catalog_cache[path] = (stamp, catalog)
    return catalog
