"""Which speaker is the agent (坐席): decided from what each speaker says, using the cue phrases of
the rule files (greetings, self-identification, service formulas), with a fallback when the content
says nothing, and reported with a confidence in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inspector.speech.lexicon import Vocabulary
from inspector.text.normalize import normalize_for_cer

# Cues in the opening of the call weigh more: agents greet and give their 工号 first.
OPENING_S = 30.0
OPENING_WEIGHT = 2.0


@dataclass(frozen=True)
class RoleDecision:
    agent_speaker: str
    confidence: float
    evidence: list[str] = field(default_factory=list)


def cue_scores(
    speech: Mapping[str, Sequence[tuple[float, str]]], vocabulary: Vocabulary
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Agent-likeness per speaker: + agent cues, − customer cues; and the cues found."""
    agent_cues = [(c, normalize_for_cer(c)) for c in vocabulary.agent_cues]
    customer_cues = [(c, normalize_for_cer(c)) for c in vocabulary.customer_cues]
    scores: dict[str, float] = {}
    found: dict[str, list[str]] = {}
    for speaker, utterances in speech.items():
        score = 0.0
        hits: list[str] = []
        for start, text in utterances:
            norm = normalize_for_cer(text)
            weight = OPENING_WEIGHT if start < OPENING_S else 1.0
            for cue, norm_cue in agent_cues:
                if norm_cue and norm_cue in norm:
                    score += weight
                    hits.append(cue)
            for cue, norm_cue in customer_cues:
                if norm_cue and norm_cue in norm:
                    score -= weight
                    hits.append(f"-{cue}")
        scores[speaker] = score
        found[speaker] = hits
    return scores, found


def _confidence(margin: float) -> float:
    """0.5 with no evidence, towards 1 as the cue margin grows (2 opening cues ≈ 0.93)."""
    return 1.0 - 0.5 * math.exp(-max(0.0, margin) / 1.5)


def decide_roles(
    speech: Mapping[str, Sequence[tuple[float, str]]],
    vocabulary: Vocabulary,
    configured_agent: str | None = None,
    no_speech_agent: str = "S1",
) -> RoleDecision:
    """Pick the agent among ``speech``'s speakers (speaker -> [(start, text)]).

    With ``configured_agent`` (stereo with a configured agent channel) the configuration decides and
    the confidence says how far the content agrees with it (below 0.5: the content disagrees).
    Otherwise the speaker with the highest cue score is the agent; with no evidence, the first
    speaker (the agent answers inbound calls) at confidence 0.5; with no speech at all,
    ``no_speech_agent``.
    """
    speakers = list(speech)
    if not speakers:
        return RoleDecision(configured_agent or no_speech_agent, 0.5, ["没有识别到语音"])
    if len(speakers) == 1:
        return RoleDecision(speakers[0], 0.5, ["只有一个说话人"])
    scores, found = cue_scores(speech, vocabulary)
    evidence = [f"{s}：{'、'.join(found[s][:8]) or '无'}（得分 {scores[s]:g}）" for s in speakers]

    def margin(agent: str) -> float:
        return scores[agent] - max(v for s, v in scores.items() if s != agent)

    if configured_agent is not None and configured_agent in speech:
        m = margin(configured_agent)
        conf = _confidence(m) if m >= 0 else 1.0 - _confidence(-m)
        if m < 0:
            evidence.append("内容判断与配置的坐席声道不一致，请检查 agent_channel 设置")
        return RoleDecision(configured_agent, conf, evidence)

    best = max(speakers, key=lambda s: scores[s])
    m = margin(best)
    if m <= 0:
        first = min(speakers, key=lambda s: min((t for t, _ in speech[s]), default=math.inf))
        evidence.append("话术线索不足，按先开口者为坐席")
        return RoleDecision(first, 0.5, evidence)
    return RoleDecision(best, _confidence(m), evidence)
