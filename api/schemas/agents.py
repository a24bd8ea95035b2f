"""Agents and teams: the pickers' lists, an agent's scorecard and a team's leaderboard (the shapes of
``inspector.reports.scorecards``' ``to_dict``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AgentOut(BaseModel):
    agent_id: str
    name: str
    team_id: str | None


class AgentList(BaseModel):
    items: list[AgentOut]


class TeamOut(BaseModel):
    team_id: str
    name: str
    agents: int = Field(description="坐席人数")


class TeamList(BaseModel):
    items: list[TeamOut]


class TrendPointOut(BaseModel):
    period: str = Field(description="日期（按日；按周为周一）YYYY-MM-DD，或月份 YYYY-MM")
    calls: int
    average_score: float | None


class MissedRuleOut(BaseModel):
    rule_id: str
    name: str
    calls: int = Field(description="被该规则扣分的通话数")
    rate: float = Field(description="占该坐席通话数的比例（0–1）")


class SatisfactionOut(BaseModel):
    responses: int = Field(description="回访（满意度调查）份数")
    csat: float | None = Field(description="平均满意度（1–5）")
    csat_responses: int = Field(description="有满意度评分的份数")
    nps: float | None = Field(description="净推荐值 NPS（−100–100：9–10 分占比减 0–6 分占比，百分点）")
    nps_responses: int = Field(description="有 NPS 评分的份数")


class ScorecardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agent_id: str
    agent_name: str
    team_id: str | None
    date_from: str | None = Field(alias="from")
    date_to: str | None = Field(alias="to")
    calls: int
    average_score: float | None
    dimensions: dict[str, float] = Field(description="维度 → 平均得分")
    checks: dict[str, float] = Field(description="检查项 → 达成率（0–1）")
    alerts: dict[str, int] = Field(description="red、yellow、blue → 通话数")
    fatal: int = Field(description="一票否决的通话数")
    trend: list[TrendPointOut]
    most_missed: list[MissedRuleOut]
    team_percentile: float | None = Field(description="在班组中的百分位（0–100）")
    uncertain_calls: int = Field(0, description="含待确认发现（识别置信度低，确认前不扣分）的通话数")
    uncertain_share: float = Field(0.0, description="含待确认发现的通话占比（0–1）")
    repeated_calls: int = Field(0, description="之后被重复来电的通话数（同一业主同一话题在规定天数内再次来电）")
    repeat_rate: float = Field(0.0, description="重复来电率：之后被重复来电的通话占比（0–1），首次解决率的反面")
    satisfaction: SatisfactionOut = Field(description="该坐席通话的满意度回访（导入后才有）")


class LeaderboardEntryOut(BaseModel):
    rank: int
    agent_id: str
    agent_name: str
    calls: int
    average_score: float | None
    red: int = Field(description="红色预警通话数")
    fatal: int = Field(description="一票否决的通话数")
    checks: dict[str, float] = Field(description="检查项 → 达成率（0–1）")


class LeaderboardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    team_id: str
    date_from: str | None = Field(alias="from")
    date_to: str | None = Field(alias="to")
    items: list[LeaderboardEntryOut]
