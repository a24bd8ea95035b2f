"""inspector.reports.call_report: the Chinese report of one call and the per-agent summary (no audio)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.qa.analysis import Analyzer
from inspector.reports.call_report import RATE_COLUMNS_ZH, agent_summary, format_summary, format_table
from inspector.settings import Settings
from inspector.speech.transcript import Transcript


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Settings())


def reference(samples_dir: Path, name: str) -> dict:
    return json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8"))


def test_agent_summary_rates(analyzer: Analyzer, samples_dir: Path):
    def run(name: str, agent: str):
        return analyzer.analyze_transcript(Transcript.from_dict(reference(samples_dir, name)), agent)

    analyses = [run("call01_leak_stereo", "A"), run("call02_angry_stereo", "A"), run("call05_noise_mono", "B")]
    df = agent_summary(analyses).set_index("坐席")
    assert list(df.index) == ["A", "B"]
    assert df.loc["A", "通话数"] == 2 and df.loc["B", "通话数"] == 1
    assert df.loc["A", "共情话术使用率"] == 0.5 and df.loc["B", "共情话术使用率"] == 1.0
    assert df.loc["A", "红色预警数"] == 1 and df.loc["B", "红色预警数"] == 0
    assert df.loc["A", "最低分"] == analyses[1].score.total
    assert df.loc["A", "平均分"] == round((analyses[0].score.total + analyses[1].score.total) / 2, 1)
    assert set(RATE_COLUMNS_ZH.values()) <= set(df.columns)
    text = format_summary(agent_summary(analyses))
    assert "坐席汇总" in text and "共情话术使用率" in text and "50%" in text
    assert "无成功分析" in format_summary(agent_summary([]))


def test_format_table_lines(analyzer: Analyzer, samples_dir: Path):
    analysis = analyzer.analyze_transcript(Transcript.from_dict(reference(samples_dir, "call02_angry_stereo")), "A01")
    lines = format_table(analysis).splitlines()
    assert lines[:4] == ["文件：call02_angry_stereo.wav", "坐席：A01　时长：01:02.91　规则集：property-default v1",
                         f"总分：{analysis.score.total:.1f}", "预警：红色预警"]  # fmt: skip
    assert "  [全程] 自报工号 -5（未做到：自报工号）" in lines  # a require rule not met: the whole call
    assert "  [00:21.32 - 00:28.12] 服务禁语 -10（坐席：「不归我们管」）" in lines  # a hit: when, whose words
    assert "  自报工号：否" in lines and "  服务禁语：是" in lines
    assert lines[-1].startswith("指标：坐席说话占比 ") and lines[-2] == "话题：漏水/维修"
