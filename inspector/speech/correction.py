"""Domain bias that never invents: the recognizer decodes without prompt or hotwords, then a domain
phrase may *replace* a near-homophone it wrote (公号 → 工号, 午夜 → 物业, 不变 → 不便) when the
recognizer itself, listening to the same audio with the domain prompt as context, finds the
corrected text more likely than its own.

Why not bias the decoding: a prompt and hotwords let whisper-base add domain words to speech that
never held them (``…的情况证证证``, ``换一首歌维修``); on real speech they raised CER from 0.22 to 0.29.
Here the bias can only choose between readings of characters that were recognized: the number of
characters, their timestamps and everything outside a candidate stay as they were, so nothing can
be appended, and a phrase the audio does not support is refused by the acoustic score.

A candidate is a run of Chinese characters whose tone-less pinyin (folded as in
``inspector.text.pinyin``: zh/z, ch/c, sh/s, n/l, -ng) equals the phrase's. Near misses with another
final (理解 li jie ← 立见 li jian) are not tried: on the samples and on real speech none of them was
ever accepted, and each costs an encoder pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.text.pinyin import syllables

# Scores texts against one stretch of audio: total log-probabilities, one per text.
Scorer = Callable[[Sequence[str]], list[float]]


@dataclass(frozen=True)
class Candidate:
    """Characters ``[start, end)`` of a text may be the domain phrase ``phrase``."""

    start: int
    end: int
    phrase: str


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


class PhraseFinder:
    """Finds near-homophones of domain phrases in recognized text."""

    def __init__(self, phrases: Sequence[str]) -> None:
        kept = [p for p in dict.fromkeys(phrases) if len(p) >= 2 and all(map(_is_han, p))]
        # Longest first, so 物业费 is found before 物业 inside it.
        self.phrases = [(p, syllables(p)) for p in sorted(kept, key=len, reverse=True)]

    def candidates(self, text: str) -> list[Candidate]:
        """Non-overlapping candidates, longest phrase first, then left to right."""
        if not self.phrases:
            return []
        sylls = syllables(text)
        taken = [False] * len(text)
        found: list[Candidate] = []
        for phrase, target in self.phrases:
            n = len(phrase)
            for i in range(len(text) - n + 1):
                window = text[i : i + n]
                if window == phrase or any(taken[i : i + n]) or not all(map(_is_han, window)):
                    continue
                if sylls[i : i + n] == target:
                    found.append(Candidate(i, i + n, phrase))
                    taken[i : i + n] = [True] * n
        return sorted(found, key=lambda c: c.start)


def apply(text: str, accepted: Sequence[Candidate]) -> str:
    out = list(text)
    for c in accepted:
        out[c.start : c.end] = list(c.phrase)
    return "".join(out)


def correct(text: str, candidates: Sequence[Candidate], score: Scorer, margin: float) -> list[Candidate]:
    """The candidates the recognizer prefers, each tried on top of those already accepted.

    A candidate is kept when the text with it scores more than ``margin`` (natural log) above the text
    without it. One scoring of the text as recognized, then one per candidate.
    """
    accepted: list[Candidate] = []
    (base,) = score([text])
    for candidate in candidates:
        (new,) = score([apply(text, [*accepted, candidate])])
        if new > base + margin:
            accepted.append(candidate)
            base = new
    return accepted
