"""ASR-tolerant phrase matching on tone-insensitive pinyin.

Recognizers write homophones and near-homophones (工号 → 公号, 不便 → 不变, 理解 → 立见). A phrase
is therefore compared as a sequence of syllables (``pypinyin.lazy_pinyin``, style NORMAL, one
syllable per character, read per character), after folding the distinctions southern and noisy speech blurs:
zh/z, ch/c, sh/s, n/l (initials) and an/ang, en/eng, in/ing (finals). On top of that an edit
distance in syllables is allowed, but only for phrases long enough that one wrong syllable still
leaves them unmistakable (``min_fuzzy_syllables``, default 4): a two-syllable phrase such as 工号
must match every syllable after folding, otherwise 房号 (fang hao) would count as 工号 (gong hao).
Only substitutions between similar syllables (same initial or same final) are forgiven.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_INITIAL_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_NG_FINALS = ("ang", "eng", "ing")
# Initials after folding (zh/ch/sh are already z/c/s, n is l).
_INITIALS = ("b", "p", "m", "f", "d", "t", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")


@lru_cache(maxsize=4096)
def fold_syllable(syllable: str) -> str:
    """Fold one tone-less syllable to its near-homophone class (``zhang`` → ``zan``)."""
    s = syllable
    for full, short in _INITIAL_FOLDS:
        if s.startswith(full) and len(s) > len(full):
            s = short + s[len(full) :]
            break
    if s.endswith(_NG_FINALS):
        s = s[:-1]
    return s


@lru_cache(maxsize=65536)
def char_syllable(char: str) -> str:
    """The folded syllable of one character (its most common reading); other characters as is."""
    raw = lazy_pinyin(char, style=Style.NORMAL, errors=lambda chars: list(chars))
    return fold_syllable(raw[0].lower()) if raw else char


def syllables(text: str) -> tuple[str, ...]:
    """Folded syllables of ``text``, exactly one per character.

    Read character by character (cached), not with pypinyin's phrase segmentation: a transcript's
    pinyin is needed on every call and the per-character table makes it cheap. Phrases go through
    the same function, so a polyphone (还 hai/huan) is read the same way on both sides.
    """
    return tuple(map(char_syllable, text))


@dataclass(frozen=True)
class SyllableMatch:
    """Characters ``[start, end)`` of the text matched a phrase at ``distance`` syllable edits."""

    start: int
    end: int
    distance: int


def _find_exact(phrase: tuple[str, ...], text: tuple[str, ...]) -> int:
    m = len(phrase)
    for i in range(len(text) - m + 1):
        if text[i : i + m] == phrase:
            return i
    return -1


@lru_cache(maxsize=4096)
def split_syllable(syllable: str) -> tuple[str, str]:
    """(initial, final) of a folded syllable; ("", syllable) for zero-initial syllables and digits."""
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


@lru_cache(maxsize=65536)
def similar(a: str, b: str) -> bool:
    """Two folded syllables a recognizer plausibly confuses: they share their initial or final."""
    if a == b:
        return True
    ia, fa = split_syllable(a)
    ib, fb = split_syllable(b)
    return (ia != "" and ia == ib) or fa == fb


def find_phrase(
    phrase: tuple[str, ...],
    text: tuple[str, ...],
    max_distance: int,
    min_fuzzy_syllables: int,
    present: frozenset[str] | None = None,
) -> SyllableMatch | None:
    """Best occurrence of ``phrase`` in ``text`` (both folded syllables), or None.

    Exact (folded) occurrences win. Otherwise, for phrases of at least ``min_fuzzy_syllables``
    syllables, the window of the same length with the fewest substituted syllables, if at most
    ``max_distance`` and every substitution is between ``similar`` syllables (理解 ~ 立见: same
    initial j). Insertions and deletions are not tolerated: homophone errors keep the length,
    and allowing them lets a phrase match a prefix of another (感谢您的来电 vs 感谢您的耐心).
    """
    m = len(phrase)
    if m == 0 or len(text) < m:
        return None
    k = max_distance if m >= min_fuzzy_syllables else 0
    # Cheap rejection: a match needs at least m - k of the phrase's syllables somewhere in the text.
    # ``present`` (the text's syllables as a set) is passed in when the caller has it already.
    present = present if present is not None else frozenset(text)
    if sum(1 for syllable in phrase if syllable in present) < m - max(k, 0):
        return None
    exact = _find_exact(phrase, text)
    if exact >= 0:
        return SyllableMatch(exact, exact + m, 0)
    if k <= 0:
        return None
    best: SyllableMatch | None = None
    for i in range(len(text) - m + 1):
        distance = 0
        for p, t in zip(phrase, text[i : i + m], strict=True):
            if p != t:
                distance += 1
                if distance > k or not similar(p, t):
                    distance = k + 1
                    break
        if distance <= k and (best is None or distance < best.distance):
            best = SyllableMatch(i, i + m, distance)
    return best
