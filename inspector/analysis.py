"""One call's full QA analysis (score, checks, evidence, topics, emotion, metrics) and per-agent summaries.

JSON of one analyzed call (``inspector analyze`` / ``inspector score`` ``--format json``, one object
per line)::

    {"file", "agent_id", "duration_s",
     "utterances": [{"start", "end", "speaker", "role", "text", "confidence"}],
     "score": {"total", "dimensions": {id: {"name", "weight", "score"}}, "fatal", "fatal_rules",
               "alert", "alert_reasons"},
     "checks": {"greeting": bool, ...},          # CHECK_CATEGORIES: did it happen on the call
     "hits": [{"rule_id", "category", "role", "start", "end", "text", "points", "dimension"}],
     "emotion": {...},                           # inspector.emotion's CallEmotion.to_dict()
     "topics": ["漏水/维修", ...],                 # names of the matched ``category: topic`` rules
     "metrics": {"talk_ratio", "silence_max_s", "overlaps", "agent_cpm"},
     "ruleset": {"id", "version"}}

``hits`` lists every finding of the rule set: each hit with the words heard and when, and for a
``require`` rule that was not met one entry with empty ``text`` spanning the call. ``points`` < 0
is what the finding deducted from the total.

Metrics: ``talk_ratio`` = agent speech seconds / (agent + customer speech seconds);
``silence_max_s`` = the longest gap between utterances with nobody speaking; ``overlaps`` = the
number of (agent, customer) utterance pairs that overlap in time; ``agent_cpm`` = characters of the
agent's normalized text per minute of agent speech.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from inspector.emotion import EmotionLexicon, call_emotion, load_emotion_lexicon
from inspector.errors import InspectorError
from inspector.rules.engine import CHECK_CATEGORIES, CompiledRuleSet, Finding, checks, compile_ruleset, evaluate
from inspector.rules.loader import load_ruleset
from inspector.scoring import ALERT_NAMES_ZH, CallScore, score_call
from inspector.scoring import to_dict as score_to_dict
from inspector.settings import Settings
from inspector.textnorm import normalize_for_cer
from inspector.transcript import ROLE_NAMES_ZH, Transcript, format_time

if TYPE_CHECKING:
    from inspector.pipeline import SpeechPipeline

UNKNOWN_AGENT = "未知"
EMOTION_LEXICON_FILE = "emotion.yaml"

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


class TranscriptFileError(InspectorError):
    """A stored transcript that cannot be read. Names the file, the line (JSONL) and the reason."""

    code = "invalid_transcript"

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = self.path + (f":{line}" if line else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class CallMetrics:
    talk_ratio: float
    silence_max_s: float
    overlaps: int
    agent_cpm: float

    def to_dict(self) -> dict[str, Any]:
        return {"talk_ratio": self.talk_ratio, "silence_max_s": self.silence_max_s, "overlaps": self.overlaps,
                "agent_cpm": self.agent_cpm}  # fmt: skip


@dataclass
class CallAnalysis:
    file: str
    agent_id: str
    duration_s: float
    transcript: Transcript
    score: CallScore
    checks: dict[str, bool]
    hits: list[Finding]
    emotion: dict[str, Any]
    topics: list[str]
    metrics: CallMetrics
    ruleset: dict[str, Any] = field(default_factory=dict)  # {"id", "version"}


# --- metrics -------------------------------------------------------------------------------------


def call_metrics(transcript: Transcript) -> CallMetrics:
    """Talk ratio, longest silence, cross-role overlaps and agent speech rate (see module docstring)."""
    utts = sorted(transcript.recognized(), key=lambda u: (u.start, u.end))
    seconds = {"agent": 0.0, "customer": 0.0}
    agent_chars = 0
    for u in utts:
        seconds[u.role] += max(0.0, u.end - u.start)
        if u.role == "agent":
            agent_chars += len(normalize_for_cer(u.text))
    speech = seconds["agent"] + seconds["customer"]
    talk_ratio = seconds["agent"] / speech if speech > 0 else 0.0

    silence_max = 0.0
    covered_until: float | None = None  # the latest end among the utterances so far
    for u in utts:
        if covered_until is not None:
            silence_max = max(silence_max, u.start - covered_until)
        covered_until = u.end if covered_until is None else max(covered_until, u.end)

    overlaps = 0
    for i, a in enumerate(utts):
        for b in utts[i + 1 :]:
            if b.start >= a.end:
                break  # sorted by start: no later utterance overlaps a either
            if a.role != b.role and min(a.end, b.end) > b.start:
                overlaps += 1

    agent_cpm = agent_chars / (seconds["agent"] / 60) if seconds["agent"] > 0 else 0.0
    return CallMetrics(round(talk_ratio, 3), round(silence_max, 2), overlaps, round(agent_cpm, 1))


# --- analysis ------------------------------------------------------------------------------------


class Analyzer:
    """The compiled rule set (loaded once) plus settings; analyzes transcripts or audio files."""

    def __init__(self, settings: Settings, rules_path: str | Path | None = None) -> None:
        self.settings = settings
        self.rules_path = Path(rules_path) if rules_path is not None else settings.rules_dir
        self.rules_dir = self.rules_path if self.rules_path.is_dir() else self.rules_path.parent
        self.compiled: CompiledRuleSet = compile_ruleset(load_ruleset(self.rules_path))
        # A custom rules folder without its own emotion lexicon uses the default one.
        lexicon = self.rules_dir / EMOTION_LEXICON_FILE
        if not lexicon.is_file():
            lexicon = settings.rules_dir / EMOTION_LEXICON_FILE
        self.emotion_lexicon: EmotionLexicon = load_emotion_lexicon(lexicon)

    def analyze_transcript(self, transcript: Transcript, agent_id: str = UNKNOWN_AGENT) -> CallAnalysis:
        """Score and describe one call from its transcript (no audio)."""
        findings = evaluate(self.compiled, transcript)
        topic_names = [f.name for f in findings if f.category == "topic" and f.outcome == "hit"]
        ruleset = self.compiled.ruleset
        return CallAnalysis(
            file=transcript.file,
            agent_id=agent_id,
            duration_s=transcript.duration_s,
            transcript=transcript,
            score=score_call(self.compiled, findings),
            checks=checks(findings, CHECK_CATEGORIES),
            hits=findings,
            emotion=call_emotion(transcript, self.emotion_lexicon).to_dict(),
            topics=list(dict.fromkeys(topic_names)),
            metrics=call_metrics(transcript),
            ruleset={"id": ruleset.id, "version": ruleset.version},
        )

    def analyze_file(
        self,
        path: str | Path,
        pipeline: SpeechPipeline,
        agent_id: str = UNKNOWN_AGENT,
        language: str | None = None,
        agent_channel: str | None = None,
        speakers: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> CallAnalysis:
        """Transcribe an audio file with ``pipeline``, then analyze it."""
        transcript = pipeline.transcribe(path, language=language, agent_channel=agent_channel, speakers=speakers,
                                         progress=progress)  # fmt: skip
        return self.analyze_transcript(transcript, agent_id)


def to_dict(analysis: CallAnalysis) -> dict[str, Any]:
    """The JSON shape documented in the module docstring."""
    return {
        "file": analysis.file,
        "agent_id": analysis.agent_id,
        "duration_s": round(analysis.duration_s, 3),
        "utterances": [
            {
                "start": round(u.start, 3),
                "end": round(u.end, 3),
                "speaker": u.speaker,
                "role": u.role,
                "text": u.text,
                "confidence": round(u.confidence, 3),
            }
            for u in analysis.transcript.utterances
        ],
        "score": score_to_dict(analysis.score),
        "checks": dict(analysis.checks),
        "hits": [
            {
                "rule_id": f.rule_id,
                "category": f.category,
                "role": f.role,
                "start": f.start,
                "end": f.end,
                "text": f.text,
                "points": f.points,
                "dimension": f.dimension,
            }
            for f in analysis.hits
        ],
        "emotion": analysis.emotion,
        "topics": list(analysis.topics),
        "metrics": analysis.metrics.to_dict(),
        "ruleset": dict(analysis.ruleset),
    }


# --- stored transcripts (inspector score) --------------------------------------------------------


@dataclass
class StoredCall:
    """A transcript read back from JSON, and the agent id stored with it (analysis JSON), if any."""

    source: str  # file, plus ":line" for a JSONL line
    transcript: Transcript
    agent_id: str | None


def _stored_call(path: Path, data: Any, line: int | None) -> StoredCall:
    if not isinstance(data, dict):
        raise TranscriptFileError(path, "不是 JSON 对象", line)
    if "error" in data and "utterances" not in data:
        raise TranscriptFileError(path, "这是一条转写失败的记录，没有转写内容", line)
    utterances = data.get("utterances")
    if not isinstance(utterances, list):
        raise TranscriptFileError(path, "缺少 utterances 列表（需要 inspector transcribe --format json 的输出）", line)
    for index, u in enumerate(utterances):
        if not isinstance(u, dict):
            raise TranscriptFileError(path, f"utterances[{index}] 不是对象", line)
        missing = [key for key in ("start", "end", "role", "text") if key not in u]
        if missing:
            raise TranscriptFileError(path, f"utterances[{index}] 缺少字段 {', '.join(missing)}", line)
        if u["role"] not in ROLE_NAMES_ZH:
            raise TranscriptFileError(path, f"utterances[{index}].role 必须是 agent 或 customer", line)
    try:
        transcript = Transcript.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptFileError(path, f"转写内容无效（{exc}）", line) from exc
    if not transcript.file:
        transcript.file = str(path)
    agent_id = data.get("agent_id")
    source = f"{path}:{line}" if line else str(path)
    return StoredCall(source, transcript, str(agent_id) if agent_id else None)


def read_transcripts(path: str | Path) -> list[StoredCall | TranscriptFileError]:
    """The calls of a transcript / analysis JSON file, or of a JSONL file (one per line).

    A file that cannot be read at all gives one error; in a JSONL file every bad line gives its own
    error (with the line number) and the good lines are still returned.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [TranscriptFileError(path, "文件不是 UTF-8 编码")]
    except OSError as exc:
        return [TranscriptFileError(path, f"无法读取文件（{exc.strerror}）")]
    if not text.strip():
        return [TranscriptFileError(path, "文件为空")]
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        if len(lines) < 2:
            return [TranscriptFileError(path, f"不是有效的 JSON（{exc.msg}，第 {exc.lineno} 行第 {exc.colno} 列）")]
    else:
        try:
            return [_stored_call(path, whole, None)]
        except TranscriptFileError as err:
            return [err]
    results: list[StoredCall | TranscriptFileError] = []
    for number, line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            results.append(TranscriptFileError(path, f"不是有效的 JSON（{exc.msg}）", number))
            continue
        try:
            results.append(_stored_call(path, data, number))
        except TranscriptFileError as err:
            results.append(err)
    return results


# --- reports -------------------------------------------------------------------------------------


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
            "红色预警数": sum(1 for a in calls if a.score.alert == "red"),
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
