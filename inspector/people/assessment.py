"""The monthly assessment (月度考核): per agent with calls in the month, the scorecard figures, the
competency scores with the 技能综合分 (composite) and the course tier it calls for (建议层级; see
``inspector.people.competency.skill_profile``), the coaching done that month, and a grade:

- A: average ≥ 90 and no 一票否决 (fatal) call;
- B: average ≥ 80;
- C: average ≥ 70;
- D: below 70.

A month with any fatal call is graded C at best. ``assessment_frame`` is the table for Excel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspector.people.catalog import TrainingCatalog
from inspector.people.competency import competencies_from_scorecard, composite_score
from inspector.people.errors import InvalidMonth
from inspector.people.rulesets import ruleset_info
from inspector.reports import agent_summary, scorecards
from inspector.store.schema import CoachingAssignment
from inspector.vocab import AlertLevel, CoachingStatus, CourseTier, label

# Grades of the monthly assessment: the first whose minimum average is reached (else "D").
GRADE_THRESHOLDS: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 80.0), ("C", 70.0))
LOWEST_GRADE = "D"
FATAL_CAP = "C"  # the best grade of a month with a fatal call
GRADE_ORDER = ("A", "B", "C", "D")


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
    composite: float | None = None  # 技能综合分
    tier: CourseTier | None = None  # 建议层级, from the composite

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
            "composite": self.composite,
            "tier": self.tier.value if self.tier is not None else None,
            "tier_label": label(self.tier) if self.tier is not None else None,
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
            CoachingAssignment.status == CoachingStatus.DONE,
            CoachingAssignment.done_at >= lower,
            CoachingAssignment.done_at < upper,
        )
        .group_by(CoachingAssignment.agent_id)
    ).all()
    return {agent_id: int(count) for agent_id, count in rows}


def monthly_assessment(
    session: Session,
    catalog: TrainingCatalog,
    month: str,
    team_id: str | frozenset[str] | None = None,
    *,
    tz: tzinfo = UTC,
) -> list[AssessmentRow]:
    """One row per agent with calls in the month (by agent id).

    With ``team_id`` (a team, or a set of them): the agents with calls in those teams in the month (the
    rollup's team, as in the scorecard export); their figures are their whole month. ``tz``: the call
    centre's time zone, for which coaching counts as done in the month.
    """
    start, end = month_range(month)
    summary = agent_summary.agents_summary(session, start, end, team_id=team_id)
    info = ruleset_info(session)
    done = _coaching_done(session, start, end, tz)
    rows: list[AssessmentRow] = []
    for agent_id, team in zip(summary["坐席"], summary["班组"], strict=True):
        card = scorecards.scorecard(session, agent_id, start, end, trend="month", most_missed=10_000)
        if card is None or card.calls == 0:
            continue
        scores = competencies_from_scorecard(catalog, card, info)
        composite = composite_score({s.id: s.score for s in scores}, catalog.weights())
        rows.append(
            AssessmentRow(
                agent_id=agent_id,
                name=card.agent_name,
                team=team or card.team_id,
                calls=card.calls,
                average_score=card.average_score,
                competencies={s.id: s.score for s in scores},
                red=card.alerts.get(AlertLevel.RED, 0),
                fatal=card.fatal,
                coaching_done=done.get(agent_id, 0),
                grade=grade_for(card.average_score, card.fatal),
                composite=composite,
                tier=catalog.tiers.tier_for(composite),
            )
        )
    return rows


def assessment_columns(catalog: TrainingCatalog) -> list[str]:
    return ["坐席", "姓名", "班组", "通话数", "平均分", *(c.name for c in catalog.competencies), "技能综合分",
            "建议层级", "红色预警数", "一票否决数", "完成辅导数", "考核等级"]  # fmt: skip


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
        record["技能综合分"] = row.composite
        record["建议层级"] = label(row.tier) if row.tier is not None else ""
        record.update({"红色预警数": row.red, "一票否决数": row.fatal, "完成辅导数": row.coaching_done,
                       "考核等级": row.grade})  # fmt: skip
        records.append(record)
    return pd.DataFrame(records, columns=assessment_columns(catalog))
