"""Training (培训辅导): the competency model and course catalog, agents' competency scores, coaching
assignments and their measured effect, and the monthly assessment (月度考核).

**Catalog** (``rules/training.yaml``, ``kind: training``, skipped by the rule loader): competencies
(专业知识, 服务技能, 职业素养 in the default file), each mapped to score dimensions with weights and/or
rule ids; ``weak_below``; and the courses (id, name, duration in minutes, the competencies and rules
each one trains). ``load_training`` validates it; every problem is a one-line ``RuleFileError`` naming
file and line.

**Competency score** (0..100, from the agent's scorecard over a date range, i.e. the rollup):

- each dimension of the competency: its average score as a percentage of the dimension's weight in the
  active rule set (weights normalized to sum to 100, as scoring does), capped at 100;
- the competency: the mean of those percentages weighted by the competency's own dimension weights;
- a competency without dimensions (or none of whose dimensions the rule set has): 100 × (1 − the mean
  miss rate of its rules), a rule's miss rate being the share of calls it deducted points on;
- ``None`` with no calls in the range. ``weak``: below ``weak_below``. Evidence: the competency's rules
  the agent missed (by rate) and the calls with the most points deducted by its rules or dimensions.
  Suggested courses (weak competencies only): the courses training the competency, those training
  the most-missed rules first.

**Coaching**: ``assign`` / ``mark_done`` / ``cancel`` (status ``assigned`` → ``done`` | ``cancelled``),
each one audit-logged. Who may do what is the API's business (``api/routes/coaching.py``).

**Effect** (``coaching_effect``): the targeted dimension (as a percentage of its weight, per call, from
the calls' current analyses) over the agent's last ``n`` calls started before the assignment was
created vs. the first ``n`` calls started after it was done (after it was created while not done).
Both sides use the same number of calls, ``n_used = min(n, calls before, calls after)``; with
``n_used == 0`` the averages and the delta are ``None``.

**Monthly assessment** (``monthly_assessment``): per agent with calls in the month, the scorecard
figures, the competency scores, the coaching done that month, and a grade:

- A: average ≥ 90 and no 一票否决 (fatal) call;
- B: average ≥ 80;
- C: average ≥ 70;
- D: below 70.

A month with any fatal call is graded C at best.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from inspector import scorecards
from inspector.errors import InspectorError, RuleFileError
from inspector.rules.loader import _field_name, _reason, _refuse_duplicate_keys, _walk
from inspector.rules.schema import RuleSet
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.rulesets import active_ruleset
from inspector.store.schema import Agent, Analysis, Call, CallStatus, CoachingAssignment
from inspector.yamlfile import read_yaml

TRAINING_FILE = "training.yaml"
# Grades of the monthly assessment: the first whose minimum average is reached (else "D").
GRADE_THRESHOLDS: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 80.0), ("C", 70.0))
LOWEST_GRADE = "D"
FATAL_CAP = "C"  # the best grade of a month with a fatal call
GRADE_ORDER = ("A", "B", "C", "D")
STATUSES = ("assigned", "done", "cancelled")
STATUS_ZH = {"assigned": "待完成", "done": "已完成", "cancelled": "已取消"}
MAX_EVIDENCE_CALLS = 20  # evidence calls one assignment may cite

_Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=64)]
_Text = Annotated[str, StringConstraints(min_length=1)]


# --- errors --------------------------------------------------------------------------------------


class TrainingError(InspectorError):
    """A coaching request that cannot be carried out; ``field`` names the input at fault."""

    code = "invalid_coaching"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TrainingNotFound(TrainingError):
    """An agent or assignment that does not exist (``code`` says which)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidMonth(TrainingError):
    code = "invalid_month"


class CoachingStateError(TrainingError):
    """An assignment that is no longer open (done or cancelled)."""

    code = "coaching_closed"


# --- the catalog ---------------------------------------------------------------------------------


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


# --- the active rule set: dimension weights and rule names ---------------------------------------


@dataclass(frozen=True)
class RuleSetInfo:
    weights: dict[str, float]  # dimension id → weight normalized to sum to 100 (as in scoring)
    rule_names: dict[str, str]  # rule id → Chinese name


_info_cache: dict[str, RuleSetInfo] = {}


def ruleset_info(session: Session) -> RuleSetInfo:
    """Dimension weights and rule names of the active rule set (empty without one)."""
    record = active_ruleset(session)
    if record is None:
        return RuleSetInfo({}, {})
    cached = _info_cache.get(record.sha256)
    if cached is not None:
        return cached
    weights: dict[str, float] = {}
    names: dict[str, str] = {}
    for _name, text in sorted(record.files.items()):
        data = yaml.safe_load(text)
        if not isinstance(data, dict) or data.get("kind") != "ruleset":
            continue
        ruleset = RuleSet.model_validate(data)  # a stored bundle was validated on upload
        for dimension in ruleset.dimensions:
            weights.setdefault(dimension.id, float(dimension.weight))
        names.update({rule.id: rule.name for rule in ruleset.rules})
    total = sum(weights.values())
    if weights:
        weights = {d: (w * 100.0 / total if total else 100.0 / len(weights)) for d, w in weights.items()}
    info = RuleSetInfo(weights, names)
    _info_cache[record.sha256] = info
    return info


# --- competency scores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleMiss:
    rule_id: str
    name: str
    calls: int  # calls the rule deducted points on
    rate: float  # of the agent's calls in the range

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "name": self.name, "calls": self.calls, "rate": self.rate}


@dataclass(frozen=True)
class CourseRef:
    id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class CompetencyScore:
    id: str
    name: str
    score: float | None  # 0..100; None without calls
    weak: bool
    evidence_rules: list[RuleMiss]
    suggested_courses: list[CourseRef]
    evidence_calls: list[str] = field(default_factory=list)  # most points deducted first

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "weak": self.weak,
            "evidence_rules": [r.to_dict() for r in self.evidence_rules],
            "suggested_courses": [c.to_dict() for c in self.suggested_courses],
            "evidence_calls": list(self.evidence_calls),
        }


def competency_score(
    competency: Competency, card: scorecards.Scorecard, weights: dict[str, float], miss_rates: dict[str, float]
) -> float | None:
    """The competency's score from a scorecard (see the module docstring)."""
    if card.calls == 0:
        return None
    parts: list[tuple[float, float]] = []  # (competency weight, percentage of the dimension's weight)
    for dimension, weight in competency.dimensions.items():
        full = weights.get(dimension, 0.0)
        if weight <= 0 or full <= 0 or dimension not in card.dimensions:
            continue
        parts.append((weight, min(100.0, card.dimensions[dimension] / full * 100.0)))
    if parts:
        return round(sum(w * p for w, p in parts) / sum(w for w, _ in parts), 1)
    if competency.rules:
        missed = sum(miss_rates.get(rule_id, 0.0) for rule_id in competency.rules) / len(competency.rules)
        return round(100.0 * (1.0 - missed), 1)
    return None


def _suggest(catalog: TrainingCatalog, competency: Competency, miss_rates: dict[str, float]) -> list[CourseRef]:
    courses = [(i, c) for i, c in enumerate(catalog.courses) if competency.id in c.competencies]
    ranked = sorted(courses, key=lambda item: (-sum(miss_rates.get(r, 0.0) for r in item[1].rules), item[0]))
    return [CourseRef(c.id, c.name) for _, c in ranked]


def competencies_from_scorecard(
    catalog: TrainingCatalog, card: scorecards.Scorecard, info: RuleSetInfo
) -> list[CompetencyScore]:
    """Competency scores from a scorecard built with every missed rule (``most_missed`` large)."""
    misses = {m.rule_id: m for m in card.most_missed}
    miss_rates = {rule_id: m.rate for rule_id, m in misses.items()}
    scores: list[CompetencyScore] = []
    for competency in catalog.competencies:
        score = competency_score(competency, card, info.weights, miss_rates)
        weak = score is not None and score < catalog.weak_below
        evidence = sorted(
            (
                RuleMiss(rule_id, info.rule_names.get(rule_id, rule_id), misses[rule_id].calls, misses[rule_id].rate)
                for rule_id in competency.rules
                if rule_id in misses and misses[rule_id].calls > 0
            ),
            key=lambda m: (-m.rate, m.rule_id),
        )
        suggested = _suggest(catalog, competency, miss_rates) if weak else []
        scores.append(CompetencyScore(competency.id, competency.name, score, weak, evidence, suggested))
    return scores


def _evidence_calls(
    session: Session,
    catalog: TrainingCatalog,
    agent_id: str,
    date_from: date | None,
    date_to: date | None,
    limit: int,
) -> dict[str, list[str]]:
    """Per competency, the agent's calls with the most points deducted by its rules or dimensions."""
    query = (
        select(Call.id, Call.started_at, Analysis.hits)
        .join(Analysis, Analysis.id == Call.analysis_id)
        .where(Call.agent_id == agent_id, Analysis.total < 100)  # a call at 100 lost no points
    )
    if date_from is not None:
        query = query.where(Call.day >= date_from)
    if date_to is not None:
        query = query.where(Call.day <= date_to)
    rows = session.execute(query).all()
    found: dict[str, list[str]] = {}
    for competency in catalog.competencies:
        rules, dimensions = set(competency.rules), set(competency.dimensions)
        lost: list[tuple[float, datetime, str]] = []
        for call_id, started_at, hits in rows:
            points = sum(
                -float(h.get("points", 0))
                for h in hits or ()
                if h.get("points", 0) < 0 and (h.get("rule_id") in rules or h.get("dimension") in dimensions)
            )
            if points > 0:
                lost.append((points, started_at or datetime.min, call_id))
        lost.sort(key=lambda item: item[2])  # ties: newer calls first, then by id (stable sorts)
        lost.sort(key=lambda item: item[1], reverse=True)
        lost.sort(key=lambda item: -item[0])
        found[competency.id] = [call_id for _, _, call_id in lost[: max(0, limit)]]
    return found


def agent_competencies(
    session: Session,
    catalog: TrainingCatalog,
    agent_id: str,
    date_from: date | None,
    date_to: date | None,
    *,
    evidence_limit: int = 5,
) -> list[CompetencyScore]:
    """The agent's competency scores over the range (inclusive local dates); ``TrainingNotFound`` if the
    agent is unknown."""
    card = scorecards.scorecard(session, agent_id, date_from, date_to, trend="month", most_missed=10_000)
    if card is None:
        raise TrainingNotFound(f"坐席 {agent_id} 不存在", "agent_not_found")
    scores = competencies_from_scorecard(catalog, card, ruleset_info(session))
    if card.calls:
        evidence = _evidence_calls(session, catalog, agent_id, date_from, date_to, evidence_limit)
        for score in scores:
            score.evidence_calls = evidence.get(score.id, [])
    return scores


# --- coaching ------------------------------------------------------------------------------------


def _snapshot(assignment: CoachingAssignment) -> dict[str, Any]:
    """What the audit log keeps of an assignment."""
    return {
        "agent_id": assignment.agent_id,
        "competency": assignment.competency,
        "dimension": assignment.dimension,
        "course_id": assignment.course_id,
        "evidence": list(assignment.evidence or []),
        "due_date": assignment.due_date.isoformat() if assignment.due_date else None,
        "status": assignment.status,
        "trainer": assignment.trainer,
        "note": assignment.note,
    }


def assign(
    session: Session,
    catalog: TrainingCatalog,
    actor: str,
    role: str,
    agent_id: str,
    competency: str,
    course_id: str | None,
    evidence_call_ids: list[str],
    due_date: date | None,
    note: str | None,
    dimension: str | None = None,
) -> CoachingAssignment:
    """Assign coaching to an agent for a competency (audit-logged).

    The agent must exist, the competency and course be in the catalog, every evidence call be one of
    the agent's calls. ``dimension`` (whose effect is measured) defaults to the competency's main one
    and must be one of the competency's dimensions.
    """
    if session.get(Agent, agent_id) is None:
        raise TrainingNotFound(f"坐席 {agent_id} 不存在", "agent_not_found")
    spec = catalog.competency(competency)
    if spec is None:
        known = "、".join(c.id for c in catalog.competencies)
        raise TrainingError(f"能力项 {competency} 不存在（可选：{known}）", field="competency")
    if course_id is not None and catalog.course(course_id) is None:
        raise TrainingError(f"课程 {course_id} 不存在", field="course_id")
    evidence = list(dict.fromkeys(evidence_call_ids))
    if len(evidence) > MAX_EVIDENCE_CALLS:
        raise TrainingError(f"证据通话最多 {MAX_EVIDENCE_CALLS} 个", field="evidence")
    if evidence:
        owners = dict(session.execute(select(Call.id, Call.agent_id).where(Call.id.in_(evidence))).all())
        for call_id in evidence:
            if call_id not in owners:
                raise TrainingError(f"证据通话 {call_id} 不存在", field="evidence")
            if owners[call_id] != agent_id:
                raise TrainingError(f"证据通话 {call_id} 不是坐席 {agent_id} 的通话", field="evidence")
    if dimension is None:
        dimension = spec.main_dimension()
    elif dimension not in spec.dimensions:
        known = "、".join(spec.dimensions) or "无"
        raise TrainingError(f"维度 {dimension} 不属于能力项 {spec.name}（可选：{known}）", field="dimension")
    assignment = CoachingAssignment(
        agent_id=agent_id,
        competency=spec.id,
        dimension=dimension,
        course_id=course_id,
        evidence=evidence,
        due_date=due_date,
        status="assigned",
        trainer=actor,
        note=note,
        created_at=utcnow(),
        done_at=None,
    )
    session.add(assignment)
    session.flush()
    audit.record(session, actor=actor, role=role, action="coaching.assign", entity="coaching",
                 entity_id=assignment.id, after=_snapshot(assignment), reason=note)  # fmt: skip
    return assignment


def get_assignment(session: Session, assignment_id: int) -> CoachingAssignment:
    assignment = session.get(CoachingAssignment, assignment_id)
    if assignment is None:
        raise TrainingNotFound(f"辅导任务 {assignment_id} 不存在", "coaching_not_found")
    return assignment


def _close(
    session: Session, actor: str, role: str, assignment_id: int, status: str, action: str, note: str | None
) -> CoachingAssignment:
    assignment = get_assignment(session, assignment_id)
    if assignment.status != "assigned":
        raise CoachingStateError(f"辅导任务 {assignment_id} 已{STATUS_ZH.get(assignment.status, assignment.status)}")
    before = _snapshot(assignment)
    assignment.status = status
    if status == "done":
        assignment.done_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, role=role, action=action, entity="coaching", entity_id=assignment.id,
                 before=before, after=_snapshot(assignment), reason=note)  # fmt: skip
    return assignment


def mark_done(
    session: Session, actor: str, role: str, assignment_id: int, note: str | None = None
) -> CoachingAssignment:
    """Mark an open assignment done (by the agent or a trainer; the API decides who). ``note`` is audited."""
    return _close(session, actor, role, assignment_id, "done", "coaching.done", note)


def cancel(session: Session, actor: str, role: str, assignment_id: int, note: str | None = None) -> CoachingAssignment:
    """Cancel an open assignment (audit-logged with ``note`` as the reason)."""
    return _close(session, actor, role, assignment_id, "cancelled", "coaching.cancel", note)


def list_assignments(
    session: Session,
    agent_id: str | None = None,
    status: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> list[CoachingAssignment]:
    """Assignments, newest first; ``visible``: a condition on ``CoachingAssignment.agent_id`` (the API's
    per-principal filter)."""
    query = select(CoachingAssignment)
    if visible is not None:
        query = query.where(visible)
    if agent_id is not None:
        query = query.where(CoachingAssignment.agent_id == agent_id)
    if status is not None:
        query = query.where(CoachingAssignment.status == status)
    return list(session.scalars(query.order_by(CoachingAssignment.created_at.desc(), CoachingAssignment.id.desc())))


def is_overdue(assignment: CoachingAssignment, today: date) -> bool:
    return assignment.status == "assigned" and assignment.due_date is not None and assignment.due_date < today


# --- effect --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    dimension: str | None
    before_calls: list[str]  # call ids, oldest first
    before_avg: float | None  # 0..100: the dimension's score as a percentage of its weight
    after_calls: list[str]
    after_avg: float | None
    delta: float | None  # after_avg - before_avg
    n_used: int  # calls on each side

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "before_calls": list(self.before_calls),
            "before_avg": self.before_avg,
            "after_calls": list(self.after_calls),
            "after_avg": self.after_avg,
            "delta": self.delta,
            "n": self.n_used,
        }


def _dimension_percent(score: dict[str, Any], dimension: str) -> float | None:
    value = (score.get("dimensions") or {}).get(dimension)
    if not isinstance(value, dict) or not value.get("weight"):
        return None
    return min(100.0, float(value.get("score", 0.0)) / float(value["weight"]) * 100.0)


def _dimension_series(
    session: Session, agent_id: str, dimension: str, moment: datetime, n: int, before: bool
) -> list[tuple[str, float]]:
    """(call id, percentage) of up to ``n`` done calls nearest to ``moment`` on one side, oldest first."""
    query = (
        select(Call.id, Analysis.score)
        .join(Analysis, Analysis.id == Call.analysis_id)
        .where(Call.agent_id == agent_id, Call.status == CallStatus.DONE.value, Call.started_at.is_not(None))
    )
    if before:
        query = query.where(Call.started_at < moment).order_by(Call.started_at.desc(), Call.id.desc())
    else:
        query = query.where(Call.started_at >= moment).order_by(Call.started_at, Call.id)
    series = [
        (call_id, percent)
        for call_id, score in session.execute(query.limit(n))
        if (percent := _dimension_percent(score, dimension)) is not None
    ]
    return series[::-1] if before else series


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def coaching_effect(session: Session, assignment: CoachingAssignment, n: int = 10) -> Effect:
    """The targeted dimension before vs. after the coaching (see the module docstring); ``n`` is
    ``settings.training.effect_calls``."""
    dimension = assignment.dimension
    if dimension is None or n <= 0:
        return Effect(dimension, [], None, [], None, None, 0)
    after_moment = assignment.done_at or assignment.created_at
    before = _dimension_series(session, assignment.agent_id, dimension, assignment.created_at, n, before=True)
    after = _dimension_series(session, assignment.agent_id, dimension, after_moment, n, before=False)
    n_used = min(n, len(before), len(after))
    before = before[len(before) - n_used :]  # the last n_used before
    after = after[:n_used]  # the first n_used after
    before_avg = _mean([p for _, p in before])
    after_avg = _mean([p for _, p in after])
    delta = round(after_avg - before_avg, 1) if before_avg is not None and after_avg is not None else None
    return Effect(dimension, [c for c, _ in before], before_avg, [c for c, _ in after], after_avg, delta, n_used)


# --- monthly assessment --------------------------------------------------------------------------


@dataclass
class AssessmentRow:
    agent_id: str
    name: str
    team: str | None
    calls: int
    average_score: float | None
    competencies: dict[str, float | None]  # competency id → score
    red: int
    fatal: int
    coaching_done: int
    grade: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "team": self.team,
            "calls": self.calls,
            "average_score": self.average_score,
            "competencies": dict(self.competencies),
            "red": self.red,
            "fatal": self.fatal,
            "coaching_done": self.coaching_done,
            "grade": self.grade,
        }


def grade_for(average_score: float | None, fatal: int) -> str:
    """The grade of a month (see the module docstring)."""
    grade = LOWEST_GRADE
    for name, minimum in GRADE_THRESHOLDS:
        if average_score is not None and average_score >= minimum:
            grade = name
            break
    if fatal and GRADE_ORDER.index(grade) < GRADE_ORDER.index(FATAL_CAP):
        grade = FATAL_CAP
    return grade


def month_range(month: str) -> tuple[date, date]:
    """First and last day of a month written ``YYYY-MM``; ``InvalidMonth`` on anything else."""
    try:
        first = datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidMonth(f"月份 {month} 无效，应为 YYYY-MM（如 2024-03）", field="month") from None
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def _coaching_done(session: Session, start: date, end: date, tz: tzinfo) -> dict[str, int]:
    """Assignments done in the month (local dates ``start``..``end``), per agent."""
    lower = datetime.combine(start, time.min, tz).astimezone(UTC).replace(tzinfo=None)
    upper = datetime.combine(date.fromordinal(end.toordinal() + 1), time.min, tz).astimezone(UTC).replace(tzinfo=None)
    rows = session.execute(
        select(CoachingAssignment.agent_id, func.count())
        .where(
            CoachingAssignment.status == "done",
            CoachingAssignment.done_at >= lower,
            CoachingAssignment.done_at < upper,
        )
        .group_by(CoachingAssignment.agent_id)
    ).all()
    return {agent_id: int(count) for agent_id, count in rows}


def monthly_assessment(
    session: Session, catalog: TrainingCatalog, month: str, team_id: str | None = None, *, tz: tzinfo = UTC
) -> list[AssessmentRow]:
    """One row per agent with calls in the month (by agent id).

    With ``team_id``: the agents with calls in that team in the month (the rollup's team, as in the
    scorecard export); their figures are their whole month. ``tz``: the call centre's time zone, for
    which coaching counts as done in the month.
    """
    start, end = month_range(month)
    summary = scorecards.agents_summary(session, start, end, team_id=team_id)
    info = ruleset_info(session)
    done = _coaching_done(session, start, end, tz)
    rows: list[AssessmentRow] = []
    for agent_id, team in zip(summary["坐席"], summary["班组"], strict=True):
        card = scorecards.scorecard(session, agent_id, start, end, trend="month", most_missed=10_000)
        if card is None or card.calls == 0:
            continue
        scores = competencies_from_scorecard(catalog, card, info)
        rows.append(
            AssessmentRow(
                agent_id=agent_id,
                name=card.agent_name,
                team=team or card.team_id,
                calls=card.calls,
                average_score=card.average_score,
                competencies={s.id: s.score for s in scores},
                red=card.alerts.get("red", 0),
                fatal=card.fatal,
                coaching_done=done.get(agent_id, 0),
                grade=grade_for(card.average_score, card.fatal),
            )
        )
    return rows


def assessment_columns(catalog: TrainingCatalog) -> list[str]:
    return ["坐席", "姓名", "班组", "通话数", "平均分", *(c.name for c in catalog.competencies),
            "红色预警数", "一票否决数", "完成辅导数", "考核等级"]  # fmt: skip


def assessment_frame(rows: list[AssessmentRow], catalog: TrainingCatalog) -> pd.DataFrame:
    """The assessment for Excel: Chinese column headers, one row per agent."""
    records: list[dict[str, Any]] = []
    for row in rows:
        record: dict[str, Any] = {
            "坐席": row.agent_id,
            "姓名": row.name,
            "班组": row.team or "",
            "通话数": row.calls,
            "平均分": row.average_score,
        }
        for competency in catalog.competencies:
            record[competency.name] = row.competencies.get(competency.id)
        record.update({"红色预警数": row.red, "一票否决数": row.fatal, "完成辅导数": row.coaching_done,
                       "考核等级": row.grade})  # fmt: skip
        records.append(record)
    return pd.DataFrame(records, columns=assessment_columns(catalog))
