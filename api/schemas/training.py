"""Training (培训辅导): the competency model, the course catalog, an agent's competency scores, coaching
assignments with their effect, and the monthly assessment (月度考核)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from inspector.vocab import CoachingStatus, CourseTier


class CompetencyOut(BaseModel):
    id: str
    name: str
    description: str
    dimensions: dict[str, float] = Field(description="维度 → 在该能力项中的权重")
    rules: list[str]
    weight: float | None = Field(None, description="在技能综合分中的权重（已按总和归一化，0–1）")


class CompetencyList(BaseModel):
    competencies: list[CompetencyOut]


class CourseOut(BaseModel):
    id: str
    name: str
    duration_min: int
    competencies: list[str]
    rules: list[str]
    description: str
    tier: CourseTier | None = Field(None, description="课程层级：basic 基础层 / advanced 进阶层 / leadership 提升层")


class CourseList(BaseModel):
    courses: list[CourseOut]


class CourseRefOut(BaseModel):
    id: str
    name: str


class RuleMissOut(BaseModel):
    rule_id: str
    name: str
    calls: int = Field(description="被该规则扣分的通话数")
    rate: float = Field(description="占该坐席通话数的比例（0–1）")


class CompetencyScoreOut(BaseModel):
    id: str
    name: str
    score: float | None = Field(description="0–100；无通话时为 null")
    weak: bool = Field(description="是否为薄弱项")
    suggested_courses: list[CourseRefOut]
    evidence_calls: list[str] = Field(description="证据通话（扣分最多的在前）")
    evidence_rules: list[RuleMissOut]


class AgentCompetencies(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agent_id: str
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    items: list[CompetencyScoreOut]
    composite: float | None = Field(None, description="技能综合分（0–100，能力项得分按权重加权；无得分时为 null）")
    tier: CourseTier | None = Field(None, description="按技能综合分建议的课程层级")
    tier_label: str | None = Field(None, description="课程层级的中文名（基础层 / 进阶层 / 提升层）")
    weakest: str | None = Field(None, description="得分最低的能力项")
    tier_courses: list[CourseRefOut] = Field([], description="该层级的推荐课程（训练最弱能力项的在前）")


class EffectOut(BaseModel):
    """The targeted dimension before vs. after the assignment (percent of the dimension's weight)."""

    dimension: str | None
    before_calls: list[str]
    before_avg: float | None
    after_calls: list[str]
    after_avg: float | None
    delta: float | None = Field(description="after_avg - before_avg")
    n: int = Field(description="前后各用的通话数")
    level: float = Field(0.95, description="置信水平")
    ci_low: float | None = Field(None, description="变化量置信区间下限（Welch t 区间；每侧至少 2 通）")
    ci_high: float | None = Field(None, description="变化量置信区间上限")
    min_calls: int = Field(5, description="每侧最少通话数，不足时为样本不足")
    enough: bool = Field(False, description="每侧通话数是否达到 min_calls")
    verdict: str = Field(
        "insufficient", description="结论：insufficient 样本不足 / improved 有提升 / declined 有下降 / unclear 无变化"
    )
    label: str = Field("样本不足", description="结论的中文标签")
    team_id: str | None = Field(None, description="对照团队（坐席所在班组）")
    before_from: str | None = Field(None, description="培训前时段起点（本地时间）")
    before_to: str | None = Field(None, description="培训前时段终点（指派时间）")
    after_from: str | None = Field(None, description="培训后时段起点（完成时间）")
    after_to: str | None = Field(None, description="培训后时段终点")
    team_before_n: int = Field(0, description="团队其他坐席培训前时段的通话数")
    team_before_avg: float | None = Field(None, description="团队其他坐席培训前时段的均值")
    team_after_n: int = Field(0, description="团队其他坐席培训后时段的通话数")
    team_after_avg: float | None = Field(None, description="团队其他坐席培训后时段的均值")
    team_delta: float | None = Field(None, description="团队同期变化")
    did: float | None = Field(None, description="扣除团队同期变化后的效果（双重差分）")
    did_low: float | None = Field(None, description="双重差分置信区间下限")
    did_high: float | None = Field(None, description="双重差分置信区间上限")
    team_compared: bool = Field(False, description="结论是否基于团队对照（团队每侧通话数达到 min_calls）")


class AssignmentOut(BaseModel):
    id: int
    agent_id: str
    agent_name: str
    competency: str
    competency_name: str
    course_id: str | None
    course_name: str | None
    evidence: list[str] = Field(description="证据通话")
    due_date: str | None = Field(description="截止日期 YYYY-MM-DD")
    status: CoachingStatus
    trainer: str
    note: str | None
    created_at: str | None
    done_at: str | None
    overdue: bool = Field(description="进行中且已过截止日期")
    effect: EffectOut


class AssignmentList(BaseModel):
    items: list[AssignmentOut]


class AssessmentRowOut(BaseModel):
    agent_id: str
    name: str
    team: str | None
    calls: int
    average_score: float | None
    competencies: dict[str, float | None] = Field(description="能力项 → 得分")
    red: int = Field(description="红色预警通话数")
    fatal: int = Field(description="一票否决的通话数")
    coaching_done: int = Field(description="当月完成的辅导数")
    grade: str = Field(description="考核等级")
    composite: float | None = Field(description="技能综合分（能力项得分按权重加权，0–100）")
    tier: CourseTier | None = Field(description="建议层级（按技能综合分）")
    tier_label: str | None = Field(description="建议层级的中文名")


class AssessmentOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    team: str | None
    items: list[AssessmentRowOut]
