"""Masked text for readers without the ``pii`` permission.

Formats (``mask_value``), chosen so that a masked text never shows 7 digits of a number in a row and
masking it again changes nothing:

- mobile: first 3 and last 4 digits, ``139****5678`` (separators and +86 dropped; a 10-digit one keeps 3
  and 3: at least 4 digits are always hidden);
- landline: the area code (a city, not a person), then the local number with all but its last 2 digits
  hidden, ``0755-******78``;
- ID: first 4 (province and city) and last 4, ``4403**********3521``;
- bank card: the last 4 digits, the rest as groups of 4 stars, ``**** **** **** 1234``;
- plate: the province and city letter, the rest hidden, ``粤B*****`` (5 or 6 stars: new energy or not);
- address: ``[地址]`` (the community name, building, unit and room are all gone);
- number fallback (数字串): one star per digit, ``*******``: what it is is unknown, so nothing is shown.

A fragment (one utterance's piece of a number said across several) shows nothing: every digit, letter
and numeral character becomes ``*``; an address fragment becomes ``[地址]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from inspector.privacy.detection import PiiKind, detect, digits_of, is_digit_char
from inspector.privacy.spans import PiiSpan, transcript_pieces, transcript_spans, word_indices
from inspector.speech.transcript import Transcript

ADDRESS_MASK = "[地址]"
_X_CHARS = frozenset("Xx叉")
_PLATE_SEPARATORS = frozenset(" ·•・.-\u3000")


class _HasKind(Protocol):
    @property
    def kind(self) -> PiiKind: ...


def mask_value(kind: PiiKind, text_piece: str, whole: bool = True) -> str:
    """The masked form of ``text_piece``, a detected ``kind`` (see the module docstring). ``whole=False``:
    the piece is only part of the number (a fragment)."""
    if kind is PiiKind.ADDRESS:
        return ADDRESS_MASK
    if not whole:
        return _hide_all(text_piece)
    if kind is PiiKind.PLATE:
        chars = [c for c in text_piece if c not in _PLATE_SEPARATORS]
        return "".join(chars[:2]).upper() + "*" * (len(chars) - 2)
    digits = digits_of(text_piece)
    if kind is PiiKind.MOBILE:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        return _keep(digits, 3, 4)
    if kind is PiiKind.LANDLINE:
        area = 3 if digits[1:2] in ("1", "2") else 4
        local = digits[area:]
        return digits[:area] + "-" + "*" * (len(local) - 2) + local[-2:]
    if kind is PiiKind.ID_NUMBER:
        return _keep(digits, 4, 4)
    if kind is PiiKind.BANK_CARD:
        hidden = len(digits) - 4
        stars = ["*" * min(4, hidden - at) for at in range(0, hidden, 4)]
        return " ".join([*stars, digits[-4:]])
    return "*" * len(digits)


def mask_text(text: str) -> str:
    """``text`` with everything ``detect`` finds masked (for a finding's quote, an alert's reason)."""
    return _apply(text, [(d.start, d.end, d.kind, True) for d in detect(text)])


def mask_transcript(transcript: Transcript, words: bool = True) -> tuple[dict[str, Any], list[PiiSpan]]:
    """``transcript.to_dict(words=words)`` with every utterance's ``text`` and ``raw_text`` masked (each
    searched on its own, numbers split across utterances included) and the text of every word a span
    covers replaced by stars (times kept); with the spans of ``text``."""
    data = transcript.to_dict(words=words)
    spans = transcript_spans(transcript)
    # The recognizer's own text is searched only where it differs from the display text (mostly it does not).
    differs = any(u.raw_text and u.raw_text != u.text for u in transcript.utterances)
    raw_pieces = transcript_pieces(transcript, "raw_text") if differs else []
    for i, (utterance, out) in enumerate(zip(transcript.utterances, data["utterances"], strict=True)):
        own = [s for s in spans if s.utterance == i]
        out["text"] = _apply(utterance.text, [(s.start, s.end, s.kind, not s.fragment) for s in own])
        if utterance.raw_text == utterance.text:
            out["raw_text"] = out["text"]
        elif utterance.raw_text:
            raw = [(p.start, p.end, p.kind, not p.fragment) for p in raw_pieces if p.utterance == i]
            out["raw_text"] = _apply(utterance.raw_text, raw)
        if words:
            for k in _covered_words(transcript, own):
                out["words"][k]["text"] = "".join(c if c.isspace() else "*" for c in out["words"][k]["text"])
    return data, spans


def masked_kinds(spans: Iterable[_HasKind]) -> list[str]:
    """The kinds found in ``spans`` (or detections), each once, in ``PiiKind`` order."""
    found = {s.kind for s in spans}
    return [str(kind) for kind in PiiKind if kind in found]


def _covered_words(transcript: Transcript, spans: list[PiiSpan]) -> set[int]:
    out: set[int] = set()
    for s in spans:
        utterance = transcript.utterances[s.utterance]
        indices = word_indices(utterance, s.start, s.end)
        if indices is None:  # the words do not spell the text: by time
            indices = [k for k, w in enumerate(utterance.words) if w.start < s.end_s and w.end > s.start_s]
        out.update(indices)
    return out


def _apply(text: str, masks: list[tuple[int, int, PiiKind, bool]]) -> str:
    for start, end, kind, whole in sorted(masks, key=lambda m: m[0], reverse=True):
        text = text[:start] + mask_value(kind, text[start:end], whole) + text[end:]
    return text


def _keep(digits: str, head: int, tail: int) -> str:
    """``digits`` with all but the first ``head`` and last ``tail`` hidden, at least 4 hidden."""
    tail = max(0, min(tail, len(digits) - head - 4))
    head = max(0, min(head, len(digits) - tail - 4))
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[len(digits) - tail :]


def _hide_all(piece: str) -> str:
    return "".join("*" if is_digit_char(c) or c in _X_CHARS or c.isalnum() else c for c in piece)
