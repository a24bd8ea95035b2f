"""Words -> utterances. An utterance is one speaker's run of words without a long pause and without
the other party taking the floor in between (mono); in stereo each channel is grouped on its own, so
overlapping speech of the two parties stays as two utterances."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from inspector.speech.asr import RecognizedWord
from inspector.speech.transcript import Role, Utterance, Word


def group_words(
    words: Sequence[RecognizedWord], speakers: Sequence[str], max_pause_s: float
) -> list[Utterance]:
    """Group time-ordered ``words`` (with one speaker label each) into utterances.

    A new utterance starts when the speaker changes, or the pause after the previous word exceeds
    ``max_pause_s``. Roles are filled in later (``with_roles``); until then role is "customer".
    """
    utterances: list[Utterance] = []
    run: list[RecognizedWord] = []
    run_speaker = ""

    def flush() -> None:
        if run:
            utterances.append(_make(run, run_speaker))

    for rw, speaker in zip(words, speakers, strict=True):
        if run and (speaker != run_speaker or rw.word.start - run[-1].word.end > max_pause_s):
            flush()
            run = []
        run.append(rw)
        run_speaker = speaker
    flush()
    return utterances


def _make(run: Sequence[RecognizedWord], speaker: str) -> Utterance:
    words = [rw.word for rw in run]
    text = "".join(w.text for w in words)
    raw = "".join(rw.raw for rw in run).strip()
    return Utterance(
        start=words[0].start,
        end=words[-1].end,
        speaker=speaker,
        role="customer",
        text=text,
        raw_text=raw,
        confidence=confidence_of(words),
        words=words,
    )


def confidence_of(words: Sequence[Word]) -> float:
    """Geometric mean of the word probabilities: the per-word likelihood, independent of length (a
    long utterance is not less trusted for having more words, nor a short one for having few)."""
    if not words:
        return 0.0
    return math.exp(sum(math.log(max(w.probability, 1e-6)) for w in words) / len(words))


def with_roles(utterances: Sequence[Utterance], agent_speaker: str) -> list[Utterance]:
    """Set each utterance's role from the agent decision; return them in time order."""
    out: list[Utterance] = []
    for u in utterances:
        role: Role = "agent" if u.speaker == agent_speaker else "customer"
        u.role = role
        out.append(u)
    return sorted(out, key=lambda u: (u.start, u.end))


def speech_by_speaker(utterances: Sequence[Utterance]) -> Mapping[str, list[tuple[float, str]]]:
    """speaker -> [(start, text)] in time order, the shape role decisions read."""
    out: dict[str, list[tuple[float, str]]] = {}
    for u in sorted(utterances, key=lambda u: u.start):
        out.setdefault(u.speaker, []).append((u.start, u.text))
    return out
