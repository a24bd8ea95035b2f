"""Chinese text normalization: display text for transcripts and a canonical form for scoring.

``clean_text`` makes what users read: Simplified Chinese, half-width letters and digits, no stray
spaces between Chinese characters. ``normalize_for_cer`` makes what metrics compare: additionally
lowercase, numerals unified to Arabic digits, punctuation and whitespace removed.
"""

from __future__ import annotations

import re
from functools import cache

import opencc

# Full-width ASCII letters and digits (U+FF10..) and the ideographic space -> half-width.
# Full-width punctuation (，？！：；（）) is the normal Chinese punctuation and stays.
_WIDTH_TABLE = {
    **{cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)},
    0x3000: 0x20,
}

# CJK ideographs, CJK punctuation and full-width forms: a space between two of these is noise.
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")

_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_NUMERAL_CHARS = "".join((*_DIGITS, *_SMALL_UNITS, *_BIG_UNITS))
_NUMERAL_RUN = re.compile(rf"[0-9{_NUMERAL_CHARS}]+")
_TOKEN = re.compile(rf"[0-9]+|[{_NUMERAL_CHARS}]")
_UNIT_CHARS = frozenset((*_SMALL_UNITS, *_BIG_UNITS))
_DECIMAL_POINT = re.compile(r"(?<=[0-9])\.(?=[0-9])")
_NOT_WORD = re.compile(r"[\W_]+")
_DIGIT_TABLE = str.maketrans({k: str(v) for k, v in _DIGITS.items()})


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese (OpenCC ``t2s``); other text passes through."""
    return _t2s().convert(text) if text else text


def normalize_width(text: str) -> str:
    """Full-width ASCII letters, digits and the ideographic space -> half-width; punctuation kept."""
    return text.translate(_WIDTH_TABLE)


def clean_text(raw: str) -> str:
    """Display text: simplified, half-width, whitespace collapsed, no spaces between CJK characters."""
    text = _SPACES.sub(" ", to_simplified(normalize_width(raw))).strip()
    return _CJK_SPACE.sub("", text)


def _positional(run: str) -> int | None:
    """Value of a numeral run with units (二十三, 一百零五, 两万, 3千, 一万五), None if malformed."""
    total = section = 0
    number: int | None = None  # digit seen since the last unit
    last_unit = 0  # the unit just before ``number`` (0 when a 零 or nothing intervened)
    for tok in _TOKEN.findall(run):
        if tok in _SMALL_UNITS:
            if not number:  # no digit since the last unit, or only 零
                if tok != "十":
                    return None  # 百姓, 千万 (by all means), 一千零百
                number = 1  # 十二 = 12, 一百十 = 110, 一千零十 = 1010
            unit = _SMALL_UNITS[tok]
            section += (number or 0) * unit
            number, last_unit = None, unit
        elif tok in _BIG_UNITS:
            if number is None and not section and not total:
                return None  # 万一, 亿万
            unit = _BIG_UNITS[tok]
            section += number or 0
            total = (total + section) * unit if unit > 10_000 else total + section * unit
            section, number, last_unit = 0, None, unit
        else:
            value = int(tok) if tok.isascii() else _DIGITS[tok]
            if number not in (None, 0):
                return None  # 两三百 (two or three hundred) is not one number
            last_unit = 0 if value == 0 or number == 0 else last_unit
            number = value
    if number is not None and last_unit >= 100:
        number *= last_unit // 10  # abbreviated tail: 一百五 = 150, 三万五 = 35000
    return total + section + (number or 0)


def numeral(run: str) -> str | None:
    """One run of digits and Chinese numerals in Arabic digits, by ``normalize_for_cer``'s rule: digit by digit
    without a unit (幺三九 → 139, 03 → 03), by value with one (十二 → 12, 两千零三 → 2003, 一千五 → 1500); None
    when a run with a unit is malformed (两三百, 万一)."""
    if _UNIT_CHARS.isdisjoint(run):
        return run.translate(_DIGIT_TABLE)
    value = _positional(run)
    return None if value is None else str(value)


def _convert_run(match: re.Match[str]) -> str:
    run = match.group()
    converted = numeral(run)
    return converted if converted is not None else run.translate(_DIGIT_TABLE)


def normalize_for_cer(text: str) -> str:
    """Canonical text for scoring: ``clean_text``, lowercase, numerals as Arabic digits, then all
    punctuation and whitespace (Chinese and ASCII) removed.

    Numeral rule: every maximal run of numeral characters (零〇一幺二两三…九, 十百千万亿 and ASCII
    digits) not broken by punctuation or space is rewritten. A run with a unit is read positionally
    (二十三 → 23, 一百零五 → 105, 两万 → 20000, 2万 → 20000, 一万五 → 15000); a run without one digit
    by digit (一零二三 → 1023, 幺幺零 → 110). A decimal point between digits becomes 点 (3.5 ≡ 三点五).

    Known limits: the rule is lexical, so 一 and 两 in words become digits too (一下 → 1下,
    两个 → 2个); that is consistent on both sides of a comparison, but a word that the recognizer
    writes in another form will not match. Malformed unit runs (两三百, 万一) convert their digits
    only. Percentages (百分之五十 vs 50%), times (十点半 vs 10:30), dates, and formal numerals
    (壹贰叁) are not unified.
    """
    text = _DECIMAL_POINT.sub("点", clean_text(text).lower())
    text = _NUMERAL_RUN.sub(_convert_run, text)
    return _NOT_WORD.sub("", text)
