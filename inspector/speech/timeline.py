"""Time spans: one small type for speaker turns, words, speech regions and evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A half-open interval [start, end) in seconds."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"span ends before it starts: {self.start} > {self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2

    def overlap(self, other: Span) -> float:
        """Seconds shared with ``other`` (0 when disjoint)."""
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))

    def shifted(self, seconds: float) -> Span:
        return Span(self.start + seconds, self.end + seconds)


def merge(spans: Iterable[Span], gap: float = 0.0) -> list[Span]:
    """Union of spans; spans closer than ``gap`` seconds are joined."""
    out: list[Span] = []
    for span in sorted(spans):
        if out and span.start <= out[-1].end + gap:
            if span.end > out[-1].end:
                out[-1] = Span(out[-1].start, span.end)
        else:
            out.append(span)
    return out


def total(spans: Iterable[Span]) -> float:
    return sum(s.duration for s in merge(spans))
