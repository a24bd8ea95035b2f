"""The Chinese text report of analyzed calls, as ``inspector analyze`` / ``score`` / ``report`` print it:
one call's report (score, alert, dimensions, checks, deductions with the words and times behind them,
topics, metrics) and the per-agent summary of several calls (a DataFrame, and its text table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from inspector.qa.analysis import CallAnalysis
from inspector.qa.scoring import ALERT_NAMES_ZH
from inspector.speech.transcript import ROLE_NAMES_ZH, format_time
from inspector.vocab import AlertLevel

CHECK_NAMES_ZH: dict[str, str] = {
    "greeting": "开场问候", "self_id": "自报工号", "empathy": "共情安抚", "apology": "致歉",
    "closing": "规范结束语", "prohibited": "服务禁语", "customer_emotion": "客户负面情绪",
    "silence": "长时间静音", "interruption": "抢话", "speech_rate": "语速过快", "escalation": "投诉升级",
}  # fmt: skip

# Per-agent summary: the column name of each check's rate (share of the agent's calls where it happened).
RATE_COLUMNS_ZH: dict[str, str] = {
    "greeting": "开场问候率", "self_id": "自报工号率", "empathy": "共情话术使用率", "apology": "致歉率",
    "closing": "结束语使用率", "prohibited": "服务禁语发生率", "customer_emotion": "客户负面情绪率",
    "silence": "长时间静音率", "interruption": "抢话发生率", "speech_rate": "语速过快率",
    "escalation": "投诉升级率",
}  # fmt: skip
SUMMARY_COLUMNS = ("坐席", "通话数", "平均分", "最低分", "红色预警数", *RATE_COLUMNS_ZH.values())


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def format_table(analysis: CallAnalysis) -> str:
    """A readable Chinese report of one call."""
    score = analysis.score
    ruleset = analysis.ruleset
    lines = [
        f"文件：{analysis.file}",
        f"坐席：{analysis.agent_id}　时长：{format_time(analysis.duration_s)}　"
        f"规则集：{ruleset.get('id', '')} v{ruleset.get('version', '')}",
        f"总分：{score.total:.1f}" + ("（一票否决）" if score.fatal else ""),
        f"预警：{ALERT_NAMES_ZH.get(score.alert, score.alert)}",
    ]
    lines += [f"  {reason}" for reason in score.alert_reasons]
    lines.append("各维度得分：")
    lines += [f"  {d.name}　{d.score:.1f} / {d.weight:.1f}" for d in score.dimensions.values()]
    lines.append("检查项：")
    lines += [f"  {CHECK_NAMES_ZH.get(name, name)}：{'是' if done else '否'}" for name, done in analysis.checks.items()]
    lines.append("扣分明细：")
    deductions = [f for f in analysis.hits if f.points < 0]
    if not deductions:
        lines.append("  无")
    for f in deductions:
        if f.outcome == "missing":
            lines.append(f"  [全程] {f.name} {f.points}（{f.reason}）")
        else:
            words = f"「{f.text}」" if f.text else f.reason
            role = ROLE_NAMES_ZH.get(f.role, f.role)
            lines.append(f"  [{format_time(f.start)} - {format_time(f.end)}] {f.name} {f.points}（{role}：{words}）")
    lines.append(f"话题：{'、'.join(analysis.topics) if analysis.topics else '未识别'}")
    m = analysis.metrics
    lines.append(
        f"指标：坐席说话占比 {_percent(m.talk_ratio)}　最长静音 {m.silence_max_s:.1f} 秒　"
        f"抢话重叠 {m.overlaps} 次　坐席语速 {m.agent_cpm:.0f} 字/分钟"
    )
    return "\n".join(lines)


def agent_summary(analyses: Sequence[CallAnalysis]) -> pd.DataFrame:
    """One row per agent (sorted by agent id): calls, mean / lowest score, red alerts, check rates."""
    rows: list[dict[str, Any]] = []
    by_agent: dict[str, list[CallAnalysis]] = {}
    for a in analyses:
        by_agent.setdefault(a.agent_id, []).append(a)
    for agent_id in sorted(by_agent):
        calls = by_agent[agent_id]
        totals = [a.score.total for a in calls]
        row: dict[str, Any] = {
            "坐席": agent_id,
            "通话数": len(calls),
            "平均分": round(sum(totals) / len(totals), 1),
            "最低分": min(totals),
            "红色预警数": sum(1 for a in calls if a.score.alert == AlertLevel.RED),
        }
        for check, column in RATE_COLUMNS_ZH.items():
            row[column] = round(sum(1 for a in calls if a.checks.get(check, False)) / len(calls), 3)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def format_summary(summary: pd.DataFrame) -> str:
    """The per-agent summary as a Chinese text table (rates as percentages)."""
    if summary.empty:
        return "坐席汇总：无成功分析的通话"
    shown = summary.copy()
    for column in RATE_COLUMNS_ZH.values():
        shown[column] = shown[column].map(_percent)
    shown["平均分"] = shown["平均分"].map(lambda v: f"{v:.1f}")
    shown["最低分"] = shown["最低分"].map(lambda v: f"{v:.1f}")
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 10_000,
                           "display.max_columns", None):  # fmt: skip
        table = shown.to_string(index=False)
    return "坐席汇总：\n" + table
