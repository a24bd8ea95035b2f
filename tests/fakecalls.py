"""Hand-made transcripts for tests that score calls without audio (imported by test modules in tests/)."""

from __future__ import annotations

from inspector.speech.transcript import Diarization, Transcript, Utterance


def four_turn_transcript(lines: tuple[str, ...]) -> Transcript:
    """Agent, customer, agent, agent; durations at about 240 characters a minute (no speech-rate hit)."""
    roles = ("agent", "customer", "agent", "agent")
    utterances, start = [], 0.0
    for role, text in zip(roles, lines, strict=True):
        length = max(2.0, len(text) / 4)
        utterances.append(Utterance(start, start + length, "S0" if role == "agent" else "S1", role, text))
        start += length + 0.5
    return Transcript("x.wav", start, 1, 8000, utterances, Diarization("channels", 1.0, "S0", ["S0", "S1"]))
