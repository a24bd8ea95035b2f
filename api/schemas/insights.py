"""Hot issues (热点问题): per project and topic, calls against the baseline (``inspector.reports.hot_issues``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from inspector.reports.emerging import EmergingPhrases
from inspector.reports.hot_issues import HotIssue, HotIssues


class DayCount(BaseModel):
    day: str
    calls: int


class HotIssueOut(BaseModel):
    project: str | None = Field(description="项目/小区（未登记项目的通话为 null，显示为 未知项目）")
    topic: str = Field(description="话题")
    calls: int = Field(description="期间内涉及该话题的通话数")
    callers: int = Field(description="其中不同来电人数（按号码，无号码按房号）")
    baseline_calls: int = Field(description="基线期（期间之前若干天）的通话数")
    baseline_per_day: float = Field(description="基线期日均通话数")
    expected: float = Field(description="按基线日均推算的期间通话数")
    change: float | None = Field(description="较基线的变化：通话数 / 期望 − 1（基线为 0 时为 null）")
    p_value: float = Field(description="按基线泊松分布，出现不少于该通话数的概率")
    spike: bool = Field(description="突增：概率低于阈值且通话数达到下限")
    daily: list[DayCount] = Field(description="期间内每日通话数（有通话的日子）")
    example_call_ids: list[str] = Field(description="示例通话（最新的几通）")


class HotIssueList(BaseModel):
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    baseline_from: str
    baseline_to: str
    spikes: int = Field(description="突增的 项目×话题 数")
    items: list[HotIssueOut]

    model_config = {"populate_by_name": True}


def hot_issue_out(cell: HotIssue) -> HotIssueOut:
    return HotIssueOut(
        project=cell.project,
        topic=cell.topic,
        calls=cell.calls,
        callers=cell.callers,
        baseline_calls=cell.baseline_calls,
        baseline_per_day=round(cell.baseline_per_day, 3),
        expected=round(cell.expected, 2),
        change=None if cell.change is None else round(cell.change, 3),
        p_value=cell.p_value,
        spike=cell.spike,
        daily=[DayCount(day=d.isoformat(), calls=n) for d, n in cell.daily.items()],
        example_call_ids=cell.example_call_ids,
    )


def hot_issue_list(found: HotIssues) -> HotIssueList:
    return HotIssueList(
        date_from=found.date_from.isoformat(),
        date_to=found.date_to.isoformat(),
        baseline_from=found.baseline_from.isoformat(),
        baseline_to=found.baseline_to.isoformat(),
        spikes=sum(1 for c in found.items if c.spike),
        items=[hot_issue_out(c) for c in found.items],
    )


class EmergingPhraseOut(BaseModel):
    phrase: str = Field(description="客户说法（分词后的词或相邻两词）")
    calls: int = Field(description="统计期内说到它的通话数")
    baseline_calls: int = Field(description="基线期内说到它的通话数")
    expected: float = Field(description="按基线比例，统计期内预期的通话数")
    p_value: float = Field(description="按基线比例出现这么多通的泊松尾概率")
    new: bool = Field(description="基线期从未出现")
    example_call_ids: list[str] = Field(description="示例通话（最新在前）")


class EmergingPhraseList(BaseModel):
    date_from: str
    date_to: str
    baseline_from: str
    baseline_to: str
    window_calls: int = Field(description="统计期读取的通话数")
    baseline_calls: int = Field(description="基线期读取的通话数")
    capped: bool = Field(description="某一期的通话多于读取上限（insights.emerging_max_calls），只读了最新的")
    items: list[EmergingPhraseOut]


def emerging_list(found: EmergingPhrases) -> EmergingPhraseList:
    return EmergingPhraseList(
        date_from=found.date_from.isoformat(), date_to=found.date_to.isoformat(),
        baseline_from=found.baseline_from.isoformat(), baseline_to=found.baseline_to.isoformat(),
        window_calls=found.window_calls, baseline_calls=found.baseline_calls, capped=found.capped,
        items=[EmergingPhraseOut(phrase=e.phrase, calls=e.calls, baseline_calls=e.baseline_calls,
                                 expected=round(e.expected, 2), p_value=e.p_value, new=e.new,
                                 example_call_ids=e.examples) for e in found.items],
    )  # fmt: skip
