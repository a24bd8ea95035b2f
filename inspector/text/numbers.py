"""Numbers as the rules see them: each spoken or written number one run of Arabic digits, and where two
numbers meet. ``normalize_for_match`` is ``normalize_for_cer`` (一二三四五 ≡ 幺二三四五 ≡ 12345, 三百五十元 ≡
350元) after ``unify_numbers`` has rewritten, with the maintained ``cn2an`` parser, the forms it leaves
apart (百分之五十 ≡ 50% → 百分之50, 一点五万 ≡ 1.5万 ≡ 15000). Removing punctuation glues numbers together (12345，110 →
12345110), so ``number_breaks`` says where one number ends and the next begins; ``inside_number`` and
``whole_numbers`` then tell a match that starts, ends or reaches across the middle of a number (12345 in
13912345678) from one that covers whole numbers. ASR spacing (1 2 3 4 5, 139 1234 5678) joins digits into
one number; other punctuation, a range hyphen (3-5), a change of script (12345一下) and the 一 of a word
after digits (一二三四五一直) separate them.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from types import ModuleType

from inspector.text.normalize import normalize_for_cer, normalize_width

DIGITS = frozenset("0123456789")
# Stands where two numbers meet in the text a rule regex searches (not a word character, not a space).
BREAK_MARK = "\u2063"

_CN_DIGITS = "零〇一幺二两三四五六七八九"
_NUMERAL = f"0-9{_CN_DIGITS}十百千万亿"
# 一 of a word (一直, 一起, 一下...) right after a number said digit by digit: 一二三四五一直打不通.
_WORD_YI = "一[直起样定下次些点会个遍趟共般切旦致再边天句步声]"
# Between two numeral characters: a run of separators, or nothing where the script changes or a word starts.
_GAP = re.compile(
    rf"(?<=[{_NUMERAL}])[\W_]+(?=[{_NUMERAL}])|(?<=[0-9])(?=[{_CN_DIGITS}])|(?<=[{_CN_DIGITS}])(?=[0-9])"
    rf"|(?<=[{_CN_DIGITS}])(?={_WORD_YI})"
)
_SPACES = frozenset(" \t\n\r\u3000")
_HYPHENS = frozenset("-－‐‑–")
_THOUSANDS = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9]|[.,][0-9])")
_DIGIT_RUN = re.compile(r"[0-9]+")
_HAS_DIGIT = re.compile(r"[0-9]")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
# Cuts checked one by one (each normalizes the whole text again) when the quick check fails.
_MAX_CHECKED_CUTS = 32

_PERCENT = re.compile(rf"百分之([{_NUMERAL}]+(?:[点.][0-9{_CN_DIGITS}]+)?)")
_PERCENT_SIGN = re.compile(r"([0-9０-９]+(?:\.[0-9０-９]+)?)\s*[%％]")
_BIG_DECIMAL = re.compile(rf"([0-9{_CN_DIGITS}十]+)[点.]([0-9{_CN_DIGITS}]+)([万亿])")
_DIGIT_TABLE = str.maketrans({**{c: str(i) for i, c in enumerate("零一二三四五六七八九")}, "〇": "0", "幺": "1",
                              "两": "2"})  # fmt: skip


@cache
def _cn2an() -> ModuleType:
    import cn2an  # imported on first use: it takes a third of a second to load

    return cn2an


@lru_cache(maxsize=4096)
def _value(numeral: str) -> str | None:
    """Arabic form of a numeral (五十 → 50, 1.5万 → 15000, 三点五 → 3.5), None if cn2an rejects it."""
    try:
        value = _cn2an().cn2an(numeral if numeral[0] not in "百千" else "一" + numeral, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _percent(m: re.Match[str]) -> str:
    value = _value(m.group(1).replace(".", "点"))
    return f"百分之{value}" if value is not None else m.group()


def _big_decimal(m: re.Match[str]) -> str:
    whole = m.group(1) if m.group(1).isascii() else _value(m.group(1))
    if whole is None:
        return m.group()
    value = _value(f"{whole}.{m.group(2).translate(_DIGIT_TABLE)}{m.group(3)}")
    return value if value is not None else m.group()


def unify_numbers(text: str) -> str:
    """Percentages and decimal amounts of 万 / 亿 with Arabic numbers (百分之五十 and 50% → 百分之50,
    一点五万 → 15000); everything else unchanged. ``normalize_for_cer`` reads the other numerals itself."""
    if "%" in text or "％" in text:
        text = _PERCENT_SIGN.sub(lambda m: f"百分之{normalize_width(m.group(1))}", text)
    if "百分之" in text:
        text = _PERCENT.sub(_percent, text)
    if "万" in text or "亿" in text:
        text = _BIG_DECIMAL.sub(_big_decimal, text)
    return text


def normalize_for_match(text: str) -> str:
    """The text keywords, regexes and phrases are matched on: ``normalize_for_cer(unify_numbers(text))``."""
    return normalize_for_cer(unify_numbers(text))


def has_digit(text: str) -> bool:
    return _HAS_DIGIT.search(text) is not None


def _run_length(text: str, at: int, step: int) -> int:
    n = 0
    while 0 <= at < len(text) and text[at] in DIGITS:
        n, at = n + 1, at + step
    return n


def _joins(wide: str, start: int, end: int, thousands: list[tuple[int, int]]) -> bool:
    """Whether the gap ``wide[start:end]`` between two numeral characters is inside one number."""
    gap, left, right = wide[start:end], wide[start - 1], wide[end]
    ascii_both = left in DIGITS and right in DIGITS
    if not gap:
        return False  # 12345一下: a change of script ends a number
    if set(gap) <= _SPACES:
        return ascii_both or (left not in DIGITS and right not in DIGITS)  # 1 2 3 4 5, 一 二 三
    if not ascii_both or len(gap) != 1:
        return False
    if gap in _HYPHENS:  # 139-1234-5678 is one number, 3-5 (a range) two
        return _run_length(wide, start - 1, -1) >= 3 and _run_length(wide, end, 1) >= 3
    if gap == ".":
        return True  # a decimal point: normalize_for_cer writes 点
    return gap == "," and any(a < start < b for a, b in thousands)  # 1,260


def number_breaks(text: str, norm: str) -> frozenset[int]:
    """Offsets ``p`` of ``norm`` (``normalize_for_match(text)``) where ``norm[p - 1]`` and ``norm[p]`` are
    digits of two different numbers (12345，110 → {5})."""
    if not _TWO_DIGITS.search(norm):
        return frozenset()  # numbers meet only where two digits touch
    wide = normalize_width(unify_numbers(text))
    thousands = [m.span() for m in _THOUSANDS.finditer(wide)] if "," in wide else []
    cuts = [g.span() for g in _GAP.finditer(wide) if not _joins(wide, *g.span(), thousands)]
    if not cuts:
        return frozenset()
    # Numerals convert run by run, so the pieces between the cuts normalize apart, unless a run
    # straddles a cut (3一百): then each cut is checked on its own.
    bounds = [0, *(x for cut in cuts for x in cut), len(wide)]
    pieces = [normalize_for_cer(wide[a:b]) for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    offsets: list[int] = []
    if "".join(pieces) == norm:
        for piece in pieces[:-1]:
            offsets.append(len(piece) + (offsets[-1] if offsets else 0))
    else:
        for start, end in cuts[:_MAX_CHECKED_CUTS]:
            left = normalize_for_cer(wide[:start])
            if left + normalize_for_cer(wide[end:]) == norm:
                offsets.append(len(left))
    return frozenset(p for p in offsets if 0 < p < len(norm) and norm[p - 1] in DIGITS and norm[p] in DIGITS)


def inside_number(norm: str, breaks: frozenset[int], pos: int) -> bool:
    """Whether offset ``pos`` falls between two digits of one number."""
    return 0 < pos < len(norm) and norm[pos - 1] in DIGITS and norm[pos] in DIGITS and pos not in breaks


def whole_numbers(norm: str, breaks: frozenset[int], start: int, end: int) -> bool:
    """Whether ``norm[start:end]`` covers whole numbers: it neither starts nor ends inside a number, nor
    joins two (12345 is whole in 打12345热线, not in 13912345678 nor in 12，345)."""
    if inside_number(norm, breaks, start) or inside_number(norm, breaks, end):
        return False
    return not any(start < b < end for b in breaks)


def mark_breaks(norm: str, breaks: frozenset[int]) -> str:
    """``norm`` with ``BREAK_MARK`` where two numbers meet: the text a rule regex searches."""
    out, at = [], 0
    for b in sorted(breaks):
        out += [norm[at:b], BREAK_MARK]
        at = b
    return "".join([*out, norm[at:]])


def unmark(pos: int, marked: str) -> int:
    """The ``norm`` offset of offset ``pos`` of ``mark_breaks(norm, ...)``."""
    return pos - marked.count(BREAK_MARK, 0, pos)


def bounded_pattern(pattern: str, verbose: bool = False) -> str:
    """A regex that matches what ``pattern`` does, but never from or to the middle of a run of digits.
    ``verbose``: the pattern turns on ``(?x)``, so a trailing ``# comment`` must end before the wrapper."""
    edge = "(?:(?<![0-9])|(?![0-9]))"
    return f"{edge}(?:{pattern}{chr(10) if verbose else ''}){edge}"


def digit_runs(norm: str, breaks: frozenset[int]) -> list[str]:
    """The numbers of ``norm``, in order (for tests and diagnostics)."""
    out: list[str] = []
    for m in _DIGIT_RUN.finditer(norm):
        at = m.start()
        for b in sorted(b for b in breaks if m.start() < b < m.end()):
            out.append(norm[at:b])
            at = b
        out.append(norm[at : m.end()])
    return out
