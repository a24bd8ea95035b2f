"""The organization hierarchy (组织架构): the tree, a node's scorecard, an agent's team history."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.fields import SingleLine
from api.schemas.agents import LeaderboardEntryOut

_Id = Annotated[str, Field(min_length=1, max_length=64), SingleLine]
_Name = Annotated[str, Field(max_length=200), SingleLine]


class TeamSpecIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: _Id = Field(description="班组编号")
    name: _Name = ""


class ProjectSpecIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: _Id = Field(description="项目编号（通话的 project）")
    name: _Name = ""
    teams: list[TeamSpecIn | _Id] = []


class RegionSpecIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: _Id
    name: _Name = ""
    projects: list[ProjectSpecIn] = []
    teams: list[TeamSpecIn | _Id] = []


class OrgSpecIn(BaseModel):
    """The whole hierarchy (replaces the stored one): 集团 with 区域, 项目 and 班组."""

    model_config = ConfigDict(extra="forbid")
    id: _Id = Field(description="集团编号")
    name: _Name = ""
    regions: list[RegionSpecIn] = []
    teams: list[TeamSpecIn | _Id] = Field(default=[], description="直属集团的班组（如集中热线班组）")


class OrgNodeOut(BaseModel):
    id: str
    level: str = Field(description="层级：group 集团 / region 区域 / project 项目 / team 班组")
    level_name: str
    name: str
    agents: int = Field(description="目前在该节点下各班组的坐席人数")
    children: list[OrgNodeOut] = []


class OrgTeamOut(BaseModel):
    team_id: str
    name: str
    agents: int


class OrgOut(BaseModel):
    configured: bool = Field(description="是否已配置组织架构")
    root: OrgNodeOut | None = Field(description="可见的最高节点（班组长/项目经理：其管辖范围）")
    unattached: list[OrgTeamOut] = Field(description="不在组织架构中的班组（由通话元数据带入）")


class PathNodeOut(BaseModel):
    id: str
    level: str
    name: str


class NodeFiguresOut(BaseModel):
    id: str
    level: str
    name: str
    teams: int = Field(description="该节点下的班组数")
    calls: int
    agents: int = Field(description="期间有通话的坐席数")
    average_score: float | None
    red: int
    yellow: int
    blue: int
    fatal: int
    red_rate: float = Field(description="红色预警通话占比（0–1）")
    repeat_rate: float = Field(description="重复来电率（0–1）")
    checks: dict[str, float] = Field(description="检查项 → 达成率（0–1）")


class NodeScorecardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    node: NodeFiguresOut
    path: list[PathNodeOut] = Field(description="从集团到该节点")
    children: list[NodeFiguresOut]
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")


class NodeLeaderboardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    node_id: str
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    items: list[LeaderboardEntryOut]


class TeamMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    team_id: Annotated[str | None, SingleLine] = Field(description="调入的班组（null：不在任何班组）", max_length=64)
    date_from: str | None = Field(
        default=None, alias="from", description="生效日期 YYYY-MM-DD（缺省为今天，不能晚于今天）"
    )


class MembershipOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    team_id: str | None
    team_name: str | None
    date_from: str | None = Field(alias="from", description="起始日期（含）；null：最早")
    date_to: str | None = Field(alias="to", description="截止日期（不含）；null：至今")


class MembershipsOut(BaseModel):
    agent_id: str
    team_id: str | None = Field(description="目前所在班组")
    items: list[MembershipOut] = Field(description="班组归属历史（从早到晚）；从未调动过则只有一段")
