"""Personal data over a whole transcript: detections in each utterance, numbers split across utterances,
and the time spans the audio mask covers.

A number read out in pieces (我的电话是幺三九 / 一二三四 / 五六七八) often becomes several utterances of one
speaker. Consecutive utterances of the same speaker (the other party may speak in between) that are at
most ``SPLIT_GAP_S`` apart, where one ends with a digit or a building word (三号楼 / 二单元五零二) and the
next starts with a digit (punctuation and a filler such as 嗯 aside), are read as one text, joined by a
space, so that the pieces make one number or address.
Each utterance's piece of it becomes its own span, marked ``fragment`` (same kind, value and confidence).

Times: the word timestamps covering the span's characters (an utterance's text is its words' texts
joined, see ``inspector.speech.utterances``), padded by ``PAD_S`` and clipped to the utterance. When an
utterance has no words or they do not spell its text, the characters' proportional position inside the
utterance is used instead, padded by ``PROPORTIONAL_PAD_S`` (a guess deserves a wider margin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inspector.privacy.detection import PiiKind, detect, is_digit_char
from inspector.speech.transcript import Transcript, Utterance

PAD_S = 0.15
PROPORTIONAL_PAD_S = 0.5
# Longest pause between two utterances of one speaker that a number read out in pieces may span.
SPLIT_GAP_S = 3.0

TextField = Literal["text", "raw_text"]

# What may come after a number's last digit at the end of an utterance / before the first digit of the next.
_TRAILING = frozenset(" \t\u3000，,、。．.…；;！!？?")
_LEADING = frozenset(" \t\u3000，,、。．.…；;嗯呃啊额哦")
_JOIN = " "
# An address said in pieces: 我住三号楼 / 二单元五零二.
_ADDRESS_WORDS = ("号楼", "栋", "幢", "座", "单元", "层")


@dataclass(frozen=True)
class PiiPiece:
    """A detection in one utterance's ``text`` or ``raw_text`` (character offsets into that field)."""

    kind: PiiKind
    utterance: int
    start: int
    end: int
    confidence: float
    value: str
    # Only part of the number is in this utterance (the rest is in its neighbours).
    fragment: bool = False


@dataclass(frozen=True)
class PiiSpan:
    kind: PiiKind
    utterance: int
    start: int  # character offsets into ``transcript.utterances[utterance].text``
    end: int
    start_s: float
    end_s: float
    confidence: float
    value: str
    fragment: bool = False


def transcript_pieces(transcript: Transcript, field: TextField = "text") -> list[PiiPiece]:
    """Detections in every utterance's ``field``, numbers split across utterances included; sorted by
    utterance, then start."""
    utterances = transcript.utterances
    texts = [getattr(u, field) or "" for u in utterances]
    pieces: list[PiiPiece] = []
    for run in _runs(utterances, texts):
        pieces += _run_pieces(run, texts)
    return sorted(pieces, key=lambda p: (p.utterance, p.start))


def transcript_spans(transcript: Transcript) -> list[PiiSpan]:
    """Detections in each utterance's ``text`` with the time span each covers (see the module docstring)."""
    spans: list[PiiSpan] = []
    for p in transcript_pieces(transcript, "text"):
        start_s, end_s = piece_times(transcript.utterances[p.utterance], p.start, p.end)
        spans.append(PiiSpan(p.kind, p.utterance, p.start, p.end, start_s, end_s, p.confidence, p.value, p.fragment))
    return spans


def audio_spans(spans: list[PiiSpan]) -> list[tuple[float, float]]:
    """The time intervals of ``spans``, sorted, overlapping or touching ones merged."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((s.start_s, s.end_s) for s in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def word_indices(utterance: Utterance, start: int, end: int) -> list[int] | None:
    """Indices of the words spelling ``utterance.text[start:end]``; None when the words do not spell the
    text (or there are none)."""
    bounds = _word_bounds(utterance)
    if bounds is None:
        return None
    return [i for i, (a, b) in enumerate(bounds) if a < end and b > start]


def piece_times(utterance: Utterance, start: int, end: int) -> tuple[float, float]:
    """Padded time span of ``utterance.text[start:end]``, clipped to the utterance."""
    indices = word_indices(utterance, start, end)
    if indices:
        words = utterance.words
        lo, hi = words[indices[0]].start - PAD_S, words[indices[-1]].end + PAD_S
    else:
        length = max(len(utterance.text), 1)
        duration = utterance.end - utterance.start
        lo = utterance.start + duration * start / length - PROPORTIONAL_PAD_S
        hi = utterance.start + duration * end / length + PROPORTIONAL_PAD_S
    return max(utterance.start, lo), min(utterance.end, hi)


def _word_bounds(utterance: Utterance) -> list[tuple[int, int]] | None:
    """Character range of each word in ``utterance.text``: exact, or ignoring whitespace."""
    words = utterance.words
    if not words:
        return None
    text = utterance.text
    if "".join(w.text for w in words) == text:
        bounds, at = [], 0
        for w in words:
            bounds.append((at, at + len(w.text)))
            at += len(w.text)
        return bounds
    # Whitespace-insensitive: position of each non-space character of the text.
    visible = [i for i, c in enumerate(text) if not c.isspace()]
    if "".join(w.text for w in words).replace(" ", "") != "".join(text[i] for i in visible):
        return None
    bounds, k = [], 0
    for w in words:
        n = sum(1 for c in w.text if not c.isspace())
        if n == 0:
            bounds.append((visible[k] if k < len(visible) else len(text),) * 2)
            continue
        bounds.append((visible[k], visible[k + n - 1] + 1))
        k += n
    return bounds


def _runs(utterances: list[Utterance], texts: list[str]) -> list[list[int]]:
    """Utterance indices read as one text: one utterance, or pieces of a number said across several."""
    last_of: dict[str, int] = {}
    runs: list[list[int]] = []
    run_of: dict[int, int] = {}
    for i, u in enumerate(utterances):
        prev = last_of.get(u.speaker)
        last_of[u.speaker] = i
        if prev is not None and _continues(utterances[prev], u, texts[prev], texts[i]):
            run = run_of[prev]
            runs[run].append(i)
        else:
            run = len(runs)
            runs.append([i])
        run_of[i] = run
    return runs


def _continues(prev: Utterance, cur: Utterance, prev_text: str, cur_text: str) -> bool:
    if cur.start - prev.end > SPLIT_GAP_S:
        return False
    head, tail = _head_end(prev_text), _tail_start(cur_text)
    if head == 0 or tail == len(cur_text) or not is_digit_char(cur_text[tail]):
        return False
    return is_digit_char(prev_text[head - 1]) or prev_text.endswith(_ADDRESS_WORDS, 0, head)


def _head_end(text: str) -> int:
    """End of ``text`` without the punctuation after its last word."""
    end = len(text)
    while end > 0 and text[end - 1] in _TRAILING:
        end -= 1
    return end


def _tail_start(text: str) -> int:
    """Start of ``text`` after leading punctuation and fillers (嗯，)."""
    start = 0
    while start < len(text) and text[start] in _LEADING:
        start += 1
    return start


def _run_pieces(run: list[int], texts: list[str]) -> list[PiiPiece]:
    if len(run) == 1:
        i = run[0]
        return [PiiPiece(d.kind, i, d.start, d.end, d.confidence, d.value) for d in detect(texts[i])]
    # Joined text: each utterance without what separates its number from the next one's.
    parts: list[tuple[int, int, int]] = []  # utterance, offset in joined, first char kept
    chunks: list[str] = []
    at = 0
    for k, i in enumerate(run):
        text = texts[i]
        first = _tail_start(text) if k > 0 else 0
        last = _head_end(text) if k < len(run) - 1 else len(text)
        chunk = text[first:last]
        parts.append((i, at, first))
        chunks.append(chunk)
        at += len(chunk) + len(_JOIN)
    joined = _JOIN.join(chunks)
    pieces: list[PiiPiece] = []
    for d in detect(joined):
        covered = []
        for (i, offset, first), chunk in zip(parts, chunks, strict=True):
            lo, hi = max(d.start, offset), min(d.end, offset + len(chunk))
            if lo < hi:
                covered.append((i, lo - offset + first, hi - offset + first))
        fragment = len(covered) > 1
        pieces += [PiiPiece(d.kind, i, a, b, d.confidence, d.value, fragment) for i, a, b in covered]
    return pieces
