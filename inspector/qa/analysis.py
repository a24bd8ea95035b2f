"""One call's full QA analysis (score, checks, evidence, topics, emotion, metrics). Its Chinese report
and the per-agent summary of several calls are ``inspector.reports.call_report``.

JSON of one analyzed call (``inspector analyze`` / ``inspector score`` ``--format json``, one object
per line)::

    {"file", "agent_id", "duration_s",
     "utterances": [{"start", "end", "speaker", "role", "text", "confidence"}],
     "score": {"total", "dimensions": {id: {"name", "weight", "score"}}, "fatal", "fatal_rules",
               "alert", "alert_reasons", "uncertain_rules"},
     "checks": {"greeting": bool, ...},          # CHECK_CATEGORIES: did it happen on the call
     "hits": [{"rule_id", "category", "role", "start", "end", "text", "points", "dimension",
               "confidence", "uncertain"}],
     "emotion": {...},                           # inspector.qa.emotion.scorer's CallEmotion.to_dict()
     "topics": ["漏水/维修", ...],                 # names of the matched ``category: topic`` rules
     "metrics": {"talk_ratio", "silence_max_s", "overlaps", "agent_cpm"},
     "ruleset": {"id", "version"}}

``hits`` lists every finding of the rule set: each hit with the words heard and when, and for a
``require`` rule that was not met one entry with empty ``text`` spanning the call. ``points`` < 0
is what the finding deducted from the total; an ``uncertain`` hit (heard with less ``confidence``
than its rule's ``min_confidence``) deducts and alerts nothing until a reviewer confirms it.

Metrics: ``talk_ratio`` = agent speech seconds / (agent + customer speech seconds);
``silence_max_s`` = the longest gap between utterances with nobody speaking; ``overlaps`` = the
number of (agent, customer) utterance pairs that overlap in time; ``agent_cpm`` = characters of the
agent's normalized text per minute of agent speech.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.errors import InspectorError
from inspector.qa.emotion.classifier import TransformersBackend
from inspector.qa.emotion.lexicon import EmotionLexicon, load_emotion_lexicon
from inspector.qa.emotion.scorer import EmotionBackend, LexiconBackend, LexiconModelBackend, call_emotion
from inspector.qa.emotion.sentiment import MODEL_DIR as SENTIMENT_DIR
from inspector.qa.emotion.sentiment import load as load_sentiment_model
from inspector.qa.rules.engine import CHECK_CATEGORIES, CompiledRuleSet, Finding, checks, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.scoring import CallScore, score_call
from inspector.qa.scoring import to_dict as score_to_dict
from inspector.settings import Settings
from inspector.speech.transcript import ROLE_NAMES_ZH, Transcript
from inspector.text.normalize import normalize_for_cer

if TYPE_CHECKING:
    from inspector.speech.pipeline import SpeechPipeline

UNKNOWN_AGENT = "未知"
EMOTION_LEXICON_FILE = "emotion.yaml"


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

    def __init__(
        self, settings: Settings, rules_path: str | Path | None = None, compiled: CompiledRuleSet | None = None
    ) -> None:
        """``compiled``: the rule set of ``rules_path`` already compiled (a stored bundle from the cache)."""
        self.settings = settings
        self.rules_path = Path(rules_path) if rules_path is not None else settings.rules_dir
        self.rules_dir = self.rules_path if self.rules_path.is_dir() else self.rules_path.parent
        self.compiled: CompiledRuleSet = compiled or compile_ruleset(load_ruleset(self.rules_path))
        # A custom rules folder without its own emotion lexicon uses the default one.
        lexicon = self.rules_dir / EMOTION_LEXICON_FILE
        if not lexicon.is_file():
            lexicon = settings.rules_dir / EMOTION_LEXICON_FILE
        self.emotion_lexicon: EmotionLexicon = load_emotion_lexicon(lexicon)
        self.emotion_backend: EmotionBackend
        if settings.emotion.transformers_model is not None:
            self.emotion_backend = TransformersBackend(settings.emotion.transformers_model)
        elif settings.emotion.model:
            model = load_sentiment_model(settings.models_dir / SENTIMENT_DIR)
            self.emotion_backend = LexiconModelBackend(self.emotion_lexicon, model)
        else:
            self.emotion_backend = LexiconBackend(self.emotion_lexicon)

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
            emotion=call_emotion(transcript, self.emotion_lexicon, self.emotion_backend).to_dict(),
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
                "confidence": f.confidence,
                "uncertain": f.uncertain,
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
