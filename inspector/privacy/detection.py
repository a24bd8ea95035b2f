"""Personal data in text as a hotline recognizer writes it: numbers (mobile, landline, ID, bank card),
licence plates and addresses down to the room. Pure functions over one string; ``spans`` does the same
over a whole transcript.

Numbers. A *group* is a run of digit characters: Arabic (half- or full-width), Chinese digits read one
by one (零〇一幺二两三四五六七八九) or both mixed (幺三九1234); an ID's last character may be X/x/叉.
Groups are *tight*-joined into a *block* by spaces, a hyphen between two groups of 3+ digits
(139-1234-5678, 0755-12345678, not the range 3-5 or the date 2024-03-05) or the ``)`` after an area
code in parentheses ((010)8888 6666); blocks are *loose*-joined by commas, 、, full stops, semicolons or
an ellipsis (a pause: 一三九，一二三四，五六七八) when every block has 3+ digits. A number is whole groups:
nothing is ever cut out of the middle of a group. Each run of blocks is read as the number with the
highest confidence (then the longest): mobile (11 digits, 1[3-9]; a 10- or 12-digit one, a digit lost
or doubled by ASR, at lower confidence; +86 allowed), landline (0 + area code + 7-8 digits), ID (18
characters; high with a valid checksum, ``stdnum.cn.ric``; lower when only the region and birth date
are plausible: a misheard digit), bank card (16-19 digits; high with a valid Luhn checksum,
``stdnum.luhn``, and a card prefix; lower with a failing checksum and prefix 62/4/5).

Not personal, and never joined to a neighbour: a group next to a positional numeral (一千二百, 3万),
followed by a unit, date, time or counter (3500元, 2024年3月5日, 三点, 两个, 8023号, 85%), after 工号 / 第 /
百分之 / 尾号, or glued to Latin letters or to ``:`` / ``/`` (14:30, 2024/3/5). 一 and 两 of a word (一直,
一下, 两个, 统一) are not digits. Such a group is still read alone: one that is by itself a number of 7+
digits is still reported.

Fallback (``PiiKind.NUMBER``, label 数字串, confidence 0.5): any run of 7+ digits in one block that no kind
claimed, so that no 7-digit piece of a phone or ID number reaches a reader; and what is left next to a
number found: digits in its block (13912345678 123: the 123) and blocks of 3+ digits after a pause
(…，001，010): the digits a mask leaves visible would otherwise join them into a new number when the text
is read again (masking is idempotent). Left out: a standalone 8-digit date (20240305) and 10-digit
400/800 service numbers.

Addresses (read by the parser in ``inspector.privacy.address``): a building (3号楼, 五号楼, 3栋, 12幢, B座,
C栋; optionally after 二期 / 5号院; or 楼号是九), an optional unit (1单元, 单元是二) and floor (15层), then a room of
3-4 digits (601, 一零二室, 一 零 一) or, after them, a room said as a number (两千零三), with the community name
before it when it has one (阳光花园, 万科城); fillers may stand between the parts (六号楼二单元，呃，五零一; 七号楼二
单元的住户七零一), and a room introduced as one's own may come before its building (我家三零二，三号楼的). The value
keeps the building word as said (12栋3单元1502, B座1203). Decided: a room alone (502室, 我家502) and a building
without a room (三号楼的电梯, 3号楼1单元的门禁) are not addresses: they name no household, and rooms of offices
and equipment (会议室301) would be masked; nor is a count of buildings (两栋楼, 这三栋).

A mobile read out in pairs or single digits, each after a pause (电话是13，58，74，80，26，0), is read only right
after a word that announces a phone number (电话, 手机, 号码, 联系方式, 打): without it such a run is a list of
small numbers.

Numbers split by pauses after 分别(是) / 各, or followed by 加起来 / 一共 / 合计, are a list of quantities
(这三个月分别是130，1608，1968，加起来不对): each is read alone, never joined into one number.

Plates: province + letter + 5 characters (粤B12345), or 6 for new energy (京A·D12345, 粤B12345F), with spaces,
a middle dot or Chinese digits as ASR writes them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from stdnum import luhn
from stdnum.cn import ric

from inspector.privacy.address import find_addresses
from inspector.text.normalize import normalize_width
from inspector.vocab import LABELS, PiiKind

# PiiKind lives with the product's other vocabulary (stored values, API names, labels); re-exported here.
PII_LABELS_ZH: dict[PiiKind, str] = {PiiKind(k): v for k, v in LABELS[PiiKind].items()}


@dataclass(frozen=True)
class Detection:
    kind: PiiKind
    start: int  # character offsets into the text searched, end exclusive
    end: int
    value: str  # canonical: digits only (an ID may end in X), 粤B12345, 3号楼1单元601
    confidence: float


# Confidence of each reading.
MOBILE_CONFIDENCE = 0.95
MOBILE_NEAR_CONFIDENCE = 0.6  # 10 or 12 digits: one lost or doubled
LANDLINE_CONFIDENCE = 0.9
ID_VALID_CONFIDENCE = 0.98  # checksum, birth date and region code valid
ID_CHECKSUM_CONFIDENCE = 0.9  # checksum valid, region code unknown to stdnum
ID_PLAUSIBLE_CONFIDENCE = 0.75  # checksum fails (a misheard digit), region and birth date plausible
ID_NEAR_CONFIDENCE = 0.6  # 17 characters: one lost
CARD_VALID_CONFIDENCE = 0.95
CARD_PREFIX_CONFIDENCE = 0.6
PLATE_CONFIDENCE = 0.9
ADDRESS_CONFIDENCE = 0.9
ADDRESS_BARE_CONFIDENCE = 0.8  # building + room, no unit and no community name
NUMBER_CONFIDENCE = 0.5


class _DigitTable(dict[int, str | None]):
    """A translate table that drops every character it does not name."""

    def __missing__(self, key: int) -> None:
        return None


_CN_DIGITS = "零〇一幺二两三四五六七八九"
_DIGIT_OF: dict[str, str] = {
    **{str(i): str(i) for i in range(10)},
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    **{c: str(i) for i, c in enumerate("零一二三四五六七八九")},
    "〇": "0",
    "幺": "1",
    "两": "2",
}
_X_CHARS = "Xx叉"
# str.translate table of digits_of: digit characters → 0-9, X/x/叉 → X, every other character dropped.
_DIGIT_TABLE = _DigitTable({**{ord(c): d for c, d in _DIGIT_OF.items()}, **{ord(c): "X" for c in _X_CHARS}})
_GROUP = re.compile(rf"[0-9０-９{_CN_DIGITS}]+(?:[{_X_CHARS}](?![A-Za-z]))?")
_POSITIONAL = frozenset("十百千万亿")
# 一 / 两 that start or end a word, not a digit: 一直, 一下, 两个 / 统一, 唯一, 星期一.
_WORD_AFTER = {
    "一": frozenset("直起样定下次些点会个遍趟共般切旦致再边天句步声把位件块张就"),
    "两": frozenset("个位次天年月点块把件张遍趟"),
}
_WORD_BEFORE = {"一": frozenset("统唯之万第同单专逐划初周期星"), "两": frozenset()}
# After the group: a unit, date, time, counter or percentage (号 unless 号码).
_SUFFIX = re.compile(
    r"\s?(?:[元块毛角分点年月日时秒天周个次岁台辆户人位件张平米斤克度层楼栋幢座期届倍%％折份遍趟声号](?!码)|单元|小时|钟|公里)"
)
_PREFIX = re.compile(r"(?:工号|第|百分之|尾号|星期|周)(?:是|为|[:：])?\s?$")
# Quick checks before the regexes: the characters a suffix starts with and a prefix ends with.
_SUFFIX_FIRST = frozenset(
    "元块毛角分点年月日时秒天周个次岁台辆户人位件张平米斤克度层楼栋幢座期届倍%％折份遍趟声号单小钟公"
)
_PREFIX_LAST = frozenset("号第之期周是为:：")
# Next to a positional numeral (一千二, 3万) or a clock / date mark (14:30, 2024/3/5).
_STICKY = frozenset("十百千万亿:：/")

_TIGHT_SPACE = re.compile(r"\s{1,3}")
_HYPHEN = re.compile(r"\s?(?:[-－‐‑–—]|杠)\s?")
_CLOSE_PAREN = re.compile(r"[)）]\s?")
# A pause: comma, 、, full stop, semicolon or ellipsis, with spaces and one filler (嗯, 呃) allowed.
_LOOSE = re.compile(r"\s*[，,、；;。．.…]+\s*(?:[嗯呃啊额]\s*[，,、；;。．.…]*\s*)?")
_MAX_GAP = 6
# One character between two runs of 3+ digits, where the recognizer misheard a digit (幺 as 雕:
# 雕三九二八四六，雕七五三): the runs are read as one number, so the digits on either side are not left readable.
_MISHEARD = re.compile(r"[，,、]?\s?(?!转)[\u4e00-\u9fff]\s?")  # 转: a landline's extension follows
_MAX_DIGITS = 21  # the longest number (19-digit card) plus +86

_PROVINCE_CODES = frozenset(
    ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
     "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82")
)  # fmt: skip
_CARD_PREFIXES = ("62", "60", "4", "5", "35", "37", "9")
_CARD_WEAK_PREFIXES = ("62", "4", "5")
_SERVICE_PREFIXES = ("400", "800")

# --- plates and addresses ------------------------------------------------------------------------------------

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Za-hj-np-z"
_PLATE_CHAR = rf"[{_PLATE_LETTER}0-9{_CN_DIGITS}]"
_PLATE = re.compile(
    rf"(?P<prov>[{_PROVINCES}])\s?(?P<letter>[{_PLATE_LETTER}])\s?[·•・.\-]?\s?"
    rf"(?P<tail>(?:{_PLATE_CHAR}\s?){{4,5}}{_PLATE_CHAR})"
)
_NEW_ENERGY = re.compile(r"[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]")



@dataclass
class _Group:
    start: int
    end: int  # end of the digits
    digits: str
    x_end: int | None  # end including a trailing X/x/叉
    fixed: bool  # next to a unit, prefix or letter: never joined to a neighbour
    plus: bool  # after "+" (country code)
    paren: bool  # after "(" (area code)
    claimed: bool = False


@dataclass
class _Block:
    groups: list[_Group]

    @property
    def digits(self) -> str:
        return "".join(g.digits for g in self.groups)

    @property
    def has_x(self) -> bool:
        return self.groups[-1].x_end is not None


def digits_of(text: str) -> str:
    """The digits of ``text`` in order, Chinese digits converted (幺三九-1234 → 1391234); X/叉 kept as X."""
    return text.translate(_DIGIT_TABLE)


def is_digit_char(char: str) -> bool:
    """A character that stands for a digit in ASR text (Arabic, full-width, Chinese digit)."""
    return char in _DIGIT_OF


def detect(text: str) -> list[Detection]:
    """Personal data in ``text``, sorted by start, non-overlapping (see the module docstring)."""
    text = normalize_width(text)  # full-width letters and digits (raw ASR text): same length, same offsets
    found = _plates(text) + _addresses(text) + _paired_mobiles(text)
    found = _without_overlaps(found)
    found += _numbers(text, [(d.start, d.end) for d in found])
    return sorted(found, key=lambda d: d.start)


# A mobile read out in pairs (电话是13，58，74，80，26，0): groups of one or two digits, each after a pause, right
# after a word that announces a phone number. Without the cue such a run is a list of small numbers.
_PHONE_CUE = re.compile(r"(?:电话|手机|手机号|号码|联系方式|打)(?:号码|号)?(?:是|为|[:：])?\s?$")
_PAIR_DIGIT = f"[0-9{_CN_DIGITS}]"
_PAIRED = re.compile(rf"{_PAIR_DIGIT}{{1,2}}(?:[，,、\s]{{1,2}}{_PAIR_DIGIT}{{1,2}}){{5,10}}(?!{_PAIR_DIGIT})")
PAIRED_CONFIDENCE = 0.8


def _paired_mobiles(text: str) -> list[Detection]:
    out = []
    for m in _PAIRED.finditer(text):
        digits = digits_of(m.group())
        if _is_mobile(digits) and _PHONE_CUE.search(text, max(0, m.start() - 8), m.start()):
            out.append(Detection(PiiKind.MOBILE, m.start(), m.end(), digits, PAIRED_CONFIDENCE))
    return out


def _without_overlaps(found: list[Detection]) -> list[Detection]:
    kept: list[Detection] = []
    for d in sorted(found, key=lambda d: (-d.confidence, -(d.end - d.start), d.start)):
        if all(d.end <= k.start or d.start >= k.end for k in kept):
            kept.append(d)
    return kept


# --- numbers -------------------------------------------------------------------------------------------------


def _numbers(text: str, taken: list[tuple[int, int]]) -> list[Detection]:
    groups = _groups(text, taken)
    if not groups:
        return []
    out: list[Detection] = []
    for chain in _chains(text, groups):
        if sum(len(g.digits) for b in chain for g in b.groups) < 7:
            continue  # the shortest thing reported is a 7-digit fallback
        if len(chain) > 1 and _is_list(text, chain):
            for block in chain:  # 分别是130，1608，1968: several quantities, each read alone
                out += _read_chain(text, [block])
        else:
            out += _read_chain(text, chain)
        claimed = any(g.claimed for b in chain for g in b.groups)
        for block in chain:
            out += _fallback(text, block, standalone=len(chain) == 1, chain_claimed=claimed)
    return out


# Words that make a run of numbers split by pauses a list of quantities, not one number read in pieces.
_LIST_BEFORE = re.compile(r"(?:分别|各)(?:是|为|有)?[:：]?\s?$")
_LIST_AFTER = re.compile(r"\s?[，,、。]?\s?(?:加起来|加在一起|一共|总共|合计|总计)")


def _is_list(text: str, chain: list[_Block]) -> bool:
    start, end = chain[0].groups[0].start, chain[-1].groups[-1].end
    return bool(_LIST_BEFORE.search(text, max(0, start - 6), start) or _LIST_AFTER.match(text, end))


def _clusters(text: str) -> list[list[re.Match[str]]]:
    """Digit runs close enough to join, in clusters of 7+ digit characters: nothing shorter can be a
    number this module reports (most runs are the 一 of a word)."""
    clusters: list[list[re.Match[str]]] = []
    run: list[re.Match[str]] = []
    size = 0
    for m in _GROUP.finditer(text):
        if run and m.start() - run[-1].end() > _MAX_GAP:
            if size >= 7:
                clusters.append(run)
            run, size = [], 0
        run.append(m)
        size += m.end() - m.start()
    if size >= 7:
        clusters.append(run)
    return clusters


def _groups(text: str, taken: list[tuple[int, int]]) -> list[_Group]:
    out: list[_Group] = []
    taken = sorted(taken)
    for m in (m for cluster in _clusters(text) for m in cluster):
        start, end = m.start(), m.end()
        x_end = None
        if text[end - 1] in _X_CHARS:
            x_end, end = end, end - 1
        if x_end is None:
            last = text[end - 1]
            if last in _WORD_AFTER and end < len(text) and text[end] in _WORD_AFTER[last]:
                end -= 1  # 一直, 两个
        if end > start and text[start] in _WORD_BEFORE and start > 0 and text[start - 1] in _WORD_BEFORE[text[start]]:
            start += 1  # 统一, 星期一
        if end <= start:
            continue
        stop = x_end or end
        while taken and taken[0][1] <= start:
            taken.pop(0)  # spans that end before this group (groups come in order)
        if taken and taken[0][0] < stop:
            continue
        out.append(
            _Group(
                start=start,
                end=end,
                digits=digits_of(text[start:end]),
                x_end=x_end,
                fixed=_is_fixed(text, start, stop),
                plus=start > 0 and text[start - 1] == "+",
                paren=start > 0 and text[start - 1] in "(（",
            )
        )
    return out


def _is_fixed(text: str, start: int, end: int) -> bool:
    """Whether the group at ``text[start:end]`` is an amount, date, time, counter or code."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before in _STICKY or after in _STICKY:
        return True
    if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
        return True
    if (after in _SUFFIX_FIRST or after.isspace()) and _SUFFIX.match(text, end):
        return True
    return (before in _PREFIX_LAST or before.isspace()) and _PREFIX.search(text, max(0, start - 6), start) is not None


def _gap(text: str, left: _Group, right: _Group) -> str | None:
    """How two neighbouring groups join: "tight", "loose" or None (they are two numbers)."""
    if left.fixed or right.fixed or left.x_end is not None:
        return None
    gap = text[left.end : right.start]
    if len(gap) > _MAX_GAP:
        return None
    if _TIGHT_SPACE.fullmatch(gap):
        return "tight"
    if _HYPHEN.fullmatch(gap):
        return "tight" if len(left.digits) >= 3 and len(right.digits) >= 3 else None
    if left.paren and _CLOSE_PAREN.fullmatch(gap):
        return "tight"
    if _LOOSE.fullmatch(gap):
        return "loose"
    if _MISHEARD.fullmatch(gap) and len(left.digits) >= 3 and len(right.digits) >= 3:
        return "tight"
    return None


def _chains(text: str, groups: list[_Group]) -> list[list[_Block]]:
    """Groups → blocks (tight) → chains of blocks (loose)."""
    chains: list[list[_Block]] = [[_Block([groups[0]])]]
    for left, right in itertools.pairwise(groups):
        join = _gap(text, left, right)
        if join == "tight":
            chains[-1][-1].groups.append(right)
        elif join == "loose":
            chains[-1].append(_Block([right]))
        else:
            chains.append([_Block([right])])
    return chains


@dataclass(frozen=True)
class _Reading:
    kind: PiiKind
    confidence: float
    value: str


def _read_chain(text: str, chain: list[_Block]) -> list[Detection]:
    out: list[Detection] = []
    block_digits = [b.digits for b in chain]
    i = 0
    while i < len(chain):
        best: tuple[_Reading, int, bool] | None = None  # reading, last block, X used
        digits = ""
        for j in range(i, len(chain)):
            if j > i and (len(block_digits[i]) < 3 or len(block_digits[j]) < 3 or chain[j - 1].has_x):
                break
            digits += block_digits[j]
            if len(digits) > _MAX_DIGITS:
                break
            if len(digits) < 10:
                continue  # no reading is shorter
            plus = chain[i].groups[0].plus
            for use_x in (True, False) if chain[j].has_x else (False,):
                reading = _classify(digits, use_x, plus, len(block_digits[i]) if j > i else 0)
                if reading and (best is None or (reading.confidence, j) > (best[0].confidence, best[1])):
                    best = (reading, j, use_x)
        if best is None:
            out += _read_block_parts(text, chain[i])
            i += 1
            continue
        reading, j, use_x = best
        groups = [g for b in chain[i : j + 1] for g in b.groups]
        out.append(_detection(text, reading, groups, use_x))
        i = j + 1
    return out


def _read_block_parts(text: str, block: _Block) -> list[Detection]:
    """Numbers inside a block that is not one number as a whole (two mobiles with a space between)."""
    groups = block.groups
    if len(groups) < 2:
        return []
    out: list[Detection] = []
    k = 0
    while k < len(groups):
        best: tuple[_Reading, int, bool] | None = None
        for m in range(k, len(groups)):
            digits = "".join(g.digits for g in groups[k : m + 1])
            if len(digits) > _MAX_DIGITS:
                break
            options = (True, False) if groups[m].x_end is not None else (False,)
            for use_x in options:
                reading = _classify(digits, use_x, groups[k].plus, 0)
                if reading and (best is None or (reading.confidence, m) > (best[0].confidence, best[1])):
                    best = (reading, m, use_x)
        if best is None:
            k += 1
            continue
        reading, m, use_x = best
        out.append(_detection(text, reading, groups[k : m + 1], use_x))
        k = m + 1
    return out


def _detection(text: str, reading: _Reading, groups: list[_Group], use_x: bool) -> Detection:
    for g in groups:
        g.claimed = True
    first, last = groups[0], groups[-1]
    start = first.start - 1 if first.plus or first.paren else first.start
    end = last.x_end if use_x and last.x_end is not None else last.end
    return Detection(reading.kind, start, end, reading.value, reading.confidence)


def _classify(digits: str, x: bool, plus: bool, loose_first: int) -> _Reading | None:
    """The reading of ``digits`` (+ X when ``x``); ``loose_first`` is the first block's length when the
    digits span pauses (0 when they do not)."""
    if x:
        return _id(digits + "X") if len(digits) in (16, 17) else None  # X is only ever an ID's last character
    if plus and digits.startswith("86") and len(digits) == 13 and _is_mobile(digits[2:]):
        return _Reading(PiiKind.MOBILE, MOBILE_CONFIDENCE, digits[2:])
    n = len(digits)
    if n == 11:
        if _is_mobile(digits):
            return _Reading(PiiKind.MOBILE, MOBILE_CONFIDENCE, digits)
        return _landline(digits)
    if n in (10, 12):
        if digits[0] == "0":
            return _landline(digits)
        near = digits[0] == "1" and digits[1] in "3456789"
        if near and (loose_first == 0 or loose_first in (3, 4)):
            return _Reading(PiiKind.MOBILE, MOBILE_NEAR_CONFIDENCE, digits)
        return None
    if 16 <= n <= 19:
        return _id_or_card(digits)
    return None


def _is_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"


def _landline(digits: str) -> _Reading | None:
    if digits[0] != "0" or digits[1] == "0":
        return None
    local = digits[3:] if digits[1] in "12" else digits[4:]
    if len(local) in (7, 8) and local[0] != "0":
        return _Reading(PiiKind.LANDLINE, LANDLINE_CONFIDENCE, digits)
    return None


def _id_or_card(digits: str) -> _Reading | None:
    """An ID when region and birth date are plausible (digits of a card make a birth date about once in
    2000), else a card."""
    ident = _id(digits) if len(digits) in (17, 18) else None
    return ident or _card(digits)


def _id(value: str) -> _Reading | None:
    """An 18-character ID (17 digits + digit or X), or a 17-character one with a digit lost: after the birth
    date (region and birth date where an ID has them), or within the region code (birth date one place early)."""
    if len(value) == 17:
        region_kept = value[:2] in _PROVINCE_CODES and _plausible_birth(value[6:14])
        if region_kept or _plausible_birth(value[5:13]):
            return _Reading(PiiKind.ID_NUMBER, ID_NEAR_CONFIDENCE, value)
        return None
    if value[:2] not in _PROVINCE_CODES or not _plausible_birth(value[6:14]):
        return None
    if ric.calc_check_digit(value) != value[-1]:
        return _Reading(PiiKind.ID_NUMBER, ID_PLAUSIBLE_CONFIDENCE, value)
    confidence = ID_VALID_CONFIDENCE if _known_region(value[:6], value[6:10]) else ID_CHECKSUM_CONFIDENCE
    return _Reading(PiiKind.ID_NUMBER, confidence, value)


@lru_cache(maxsize=4096)
def _known_region(region: str, year: str) -> bool:
    """Whether ``stdnum`` knows the region code as a county in that year (its look-up is slow: cached)."""
    body = f"{region}{year}0101001"
    return ric.is_valid(body + ric.calc_check_digit(body + "0"))


def _plausible_birth(yyyymmdd: str) -> bool:
    if not yyyymmdd.isdigit():
        return False
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    if not 1900 <= year <= date.today().year:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _card(digits: str) -> _Reading | None:
    if luhn.is_valid(digits) and digits.startswith(_CARD_PREFIXES):
        return _Reading(PiiKind.BANK_CARD, CARD_VALID_CONFIDENCE, digits)
    if digits.startswith(_CARD_WEAK_PREFIXES):
        return _Reading(PiiKind.BANK_CARD, CARD_PREFIX_CONFIDENCE, digits)
    return None


def _fallback(text: str, block: _Block, standalone: bool, chain_claimed: bool) -> list[Detection]:
    """Runs of 7+ digits in ``block`` that no kind claimed; the digits left next to a number found in the
    block, and blocks of 3+ digits after a pause next to one found in the chain."""
    out: list[Detection] = []
    least = 1 if any(g.claimed for g in block.groups) else 3 if chain_claimed else 7
    run: list[_Group] = []
    for g in [*block.groups, None]:
        if g is not None and not g.claimed:
            run.append(g)
            continue
        digits = "".join(r.digits for r in run)
        whole = standalone and len(run) == len(block.groups)
        if digits and len(digits) >= least and not _not_personal(digits, whole):
            start = run[0].start - 1 if run[0].plus else run[0].start
            out.append(Detection(PiiKind.NUMBER, start, run[-1].end, digits, NUMBER_CONFIDENCE))
        run = []
    return out


def _not_personal(digits: str, whole: bool) -> bool:
    if len(digits) == 10 and digits.startswith(_SERVICE_PREFIXES):
        return True  # 400-800-8888: a company's service number
    return whole and len(digits) == 8 and digits[:2] in ("19", "20") and _plausible_birth(digits)


# --- plates and addresses ------------------------------------------------------------------------------------


def _plates(text: str) -> list[Detection]:
    out: list[Detection] = []
    for m in _PLATE.finditer(text):
        chars = [(i, c) for i, c in enumerate(m.group("tail"), m.start("tail")) if not c.isspace()]
        for size in (6, 5):
            if len(chars) < size:
                continue
            end = chars[size - 1][0] + 1
            if end < len(text) and re.match(r"[A-Za-z0-9]", text[end]):
                continue
            tail = "".join(_DIGIT_OF.get(c, c.upper()) for _, c in chars[:size])
            if size == 6 and not _NEW_ENERGY.fullmatch(tail):
                continue
            if size == 5 and sum(c.isdigit() for c in tail) < 3:
                continue
            value = m.group("prov") + m.group("letter").upper() + tail
            out.append(Detection(PiiKind.PLATE, m.start(), end, value, PLATE_CONFIDENCE))
            break
    return out


def _addresses(text: str) -> list[Detection]:
    return [
        Detection(
            PiiKind.ADDRESS, a.start, a.end, a.value, ADDRESS_CONFIDENCE if a.full else ADDRESS_BARE_CONFIDENCE
        )
        for a in find_addresses(text)
    ]
