"""The training catalog (``rules/training.yaml``, ``kind: training``, skipped by the rule loader): the
competency model and the courses.

Competencies (专业知识, 服务技能, 职业素养 in the default file) are each mapped to score dimensions with
weights and/or rule ids; ``weak_below`` is the score under which a competency is weak; each course has
an id, a name, a duration in minutes, a tier, and the competencies and rules it trains. ``load_training``
validates the file; every problem is a one-line ``RuleFileError`` naming file and line.

The skill model (技能模型): each competency has a ``weight`` (> 0, default 1; the default file gives
35 / 45 / 20). Weights are relative: ``TrainingCatalog.weights`` divides each by their sum, so 35/45/20 and
0.35/0.45/0.2 mean the same. An agent's 技能综合分 is the weighted mean of its competency scores
(``inspector.people.competency.composite_score``). ``tiers`` maps that composite to a course tier
(``CourseTier``): below ``basic_below`` 基础层 (onboarding), from ``leadership_from`` on 提升层 (leadership),
in between 进阶层 (skill courses); ``basic_below`` must be below ``leadership_from``. A course without
``tier`` is 进阶层.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from inspector.errors import RuleFileError
from inspector.qa.rules.loader import _field_name, _refuse_duplicate_keys, _walk, validation_error
from inspector.qa.rules.schema import RuleSet
from inspector.vocab import CourseTier, values
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
    # weight in the 技能综合分, relative to the other competencies' (normalized by their sum)
    weight: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
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
    tier: CourseTier = CourseTier.ADVANCED


class Tiers(_Strict):
    """Which course tier a 技能综合分 calls for (see the module docstring)."""

    basic_below: Annotated[float, Field(ge=0, le=100)] = 70.0
    leadership_from: Annotated[float, Field(ge=0, le=100)] = 90.0

    def tier_for(self, composite: float | None) -> CourseTier | None:
        """The tier for a composite score; ``None`` without one."""
        if composite is None:
            return None
        if composite < self.basic_below:
            return CourseTier.BASIC
        if composite >= self.leadership_from:
            return CourseTier.LEADERSHIP
        return CourseTier.ADVANCED


class TrainingCatalog(_Strict):
    kind: Literal["training"]
    id: _Id
    version: int | str = 1
    name: _Text
    weak_below: Annotated[float, Field(ge=0, le=100)] = 80.0
    tiers: Tiers = Tiers()
    competencies: Annotated[list[Competency], Field(min_length=1)]
    courses: list[Course] = []

    def weights(self) -> dict[str, float]:
        """Competency id → weight in the 技能综合分, normalized to sum to 1 (in file order)."""
        total = sum(c.weight for c in self.competencies)
        return {c.id: c.weight / total for c in self.competencies}

    def courses_of_tier(self, tier: CourseTier) -> list[Course]:
        return [c for c in self.courses if c.tier == tier]

    def competency(self, competency_id: str) -> Competency | None:
        return next((c for c in self.competencies if c.id == competency_id), None)

    def course(self, course_id: str) -> Course | None:
        return next((c for c in self.courses if c.id == course_id), None)


def _problems(catalog: TrainingCatalog, ruleset: RuleSet | None) -> list[tuple[list[int | str], str]]:
    """Reference problems: (location in the file, reason)."""
    problems: list[tuple[list[int | str], str]] = []
    tiers = catalog.tiers
    if tiers.basic_below >= tiers.leadership_from:
        problems.append(
            (["tiers", "basic_below"], f"层级阈值 tiers.basic_below（{tiers.basic_below:g}）必须小于 "
                                       f"tiers.leadership_from（{tiers.leadership_from:g}）")
        )  # fmt: skip
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
        if error["type"] != "enum":
            raise validation_error(path, node, exc) from exc
        line, walked = _walk(node, list(error["loc"]))  # pydantic's message is English: list the allowed values
        reason = f"字段 {_field_name(walked)} 的值 {error.get('input')!r} 无效（可选：{'、'.join(values(CourseTier))}）"
        raise RuleFileError(path, reason, line=line) from exc
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
