"""A transcript prepared once for rule evaluation: utterances in time order with their normalized
text, where its numbers meet (``inspector.text.numbers``), pinyin (lazily, only when a phrase rule
asks), keyword occurrences, and a map from normalized characters back to word timestamps so every
finding can say when its words were said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from inspector.speech.transcript import Transcript, Utterance
from inspector.text.numbers import mark_breaks, normalize_for_match, number_breaks, whole_numbers
from inspector.text.pinyin import syllables

RoleFilter = str  # "agent" | "customer" | "any"


@dataclass
class UttView:
    """One utterance as the rules see it. ``norm`` is ``normalize_for_match(text)``; ``breaks`` are the
    offsets of ``norm`` where two numbers meet (``number_breaks``)."""

    index: int
    utt: Utterance
    norm: str
    # Normalized character offset -> (start, end) seconds, when the utterance has word timings.
    char_times: list[tuple[float, float]] | None = None
    # keyword (normalized) -> start offsets in ``norm``; filled by the engine's automaton.
    keywords: dict[str, list[int]] = field(default_factory=dict)
    breaks: frozenset[int] = frozenset()

    @property
    def role(self) -> str:
        return self.utt.role

    @property
    def start(self) -> float:
        return self.utt.start

    @property
    def end(self) -> float:
        return self.utt.end

    @cached_property
    def syllables(self) -> tuple[str, ...]:
        return syllables(self.norm)

    @cached_property
    def syllable_set(self) -> frozenset[str]:
        return frozenset(self.syllables)

    @cached_property
    def marked(self) -> str:
        """``norm`` with a mark where two numbers meet: what rule regexes search."""
        return mark_breaks(self.norm, self.breaks) if self.breaks else self.norm

    def whole(self, start: int, end: int) -> bool:
        """Whether ``norm[start:end]`` covers whole numbers only (never part of a longer number)."""
        return whole_numbers(self.norm, self.breaks, start, end)

    def span_time(self, start: int, end: int) -> tuple[float, float]:
        """Seconds of normalized characters ``[start, end)``; the utterance's extent without words."""
        if self.char_times is None or not (0 <= start < end <= len(self.char_times)):
            return self.utt.start, self.utt.end
        return self.char_times[start][0], self.char_times[end - 1][1]


def _char_times(utt: Utterance, norm: str) -> list[tuple[float, float]] | None:
    """Per normalized character, the timing of the word it came from (None if words don't add up)."""
    if not utt.words:
        return None
    times: list[tuple[float, float]] = []
    for word in utt.words:
        times += [(word.start, word.end)] * len(normalize_for_match(word.text))
    return times if len(times) == len(norm) else None


class CallView:
    """Utterances sorted by start, normalized once; selections by role and position."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        ordered = sorted(transcript.recognized(), key=lambda u: (u.start, u.end))
        self.utterances: list[UttView] = []
        for i, utt in enumerate(ordered):
            norm = normalize_for_match(utt.text)
            view = UttView(i, utt, norm, _char_times(utt, norm), breaks=number_breaks(utt.text, norm))
            self.utterances.append(view)
        last_end = max((u.end for u in ordered), default=0.0)
        self.duration = max(transcript.duration_s, last_end)
        self._by_role: dict[str, list[int]] = {"any": list(range(len(self.utterances)))}
        for u in self.utterances:
            self._by_role.setdefault(u.role, []).append(u.index)

    def indices(self, role: RoleFilter, first: int | None = None, last: int | None = None) -> list[int]:
        """Indices of ``role``'s utterances in time order, optionally only the first / last N."""
        chosen = self._by_role.get(role, [])
        if first is not None:
            return chosen[:first]
        if last is not None:
            return chosen[-last:]
        return chosen

    def select(self, indices: Iterable[int]) -> list[UttView]:
        return [self.utterances[i] for i in indices]
