"""Addresses down to the room as a hotline recognizer writes them: a small parser over the parts of an address.

Parts (tokens), each one also spaced out as ASR may write it (一 号 楼 一 单 元 一 零 一):

- building: a number or a letter and 号楼 / 栋 / 幢 / 座 (3号楼, 十二栋, B座, C栋), optionally after 二期 / 5号院;
  or a label, 楼号是九 / 栋号9. A count is not a building: 两栋, 三栋楼 (but 三栋楼下, 第三栋楼), 这三栋, 有三座;
  nor is a number and 座 without a room (一座桥);
- unit: a number and 单元 (ASR's 单圆 too), or a label, 单元是二;
- floor: 15层, 七楼;
- room: 3-4 digits said one by one (601, 一零二, 幺幺零幺, 一 零 一) with 室 / 房 / 号 after it or not; after a
  building, unit or floor also a number (两千零三 → 2003, 一千一百零二 → 1102: a door number 01-40 on its floor).
  Not a room: digits next to more digits (138 1234 5678, but a 7+ digit number after a space is another one),
  the first piece of a phone number read out in pauses (幺三九，幺二三四，五六七八), digits before a unit, date
  or counter (3500元, 二零二三年, 100多户) or 车位 / 柜, or after 工号 / 尾号 / 编号 / 单号 / 车位 / 柜 / 第.

An address is a building, then its unit and floor when said, then the room (三号楼二单元五零二); or a room said
first and then its building (and unit), when the room is introduced as one's own or starts the turn (我家三零二，
三号楼的; 我是302的，3号楼; 房间号是1203，在B座; 五零一，六号楼二单元). Between two parts only fillers, at most
``MAX_FILLER`` characters: punctuation, spaces, 的 / 的住户 / 的业主, 那个, 就是, 然后, 呃, 嗯, 是, 在, 我家, 房号
(六号楼二单元，呃，五零一; 七号楼二单元的住户七零一). The community name right before a building (阳光花园,
万科城) is part of its address.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from inspector.text.normalize import numeral

_CN = "零〇一幺二两三四五六七八九"
_D = f"0-9{_CN}"  # a digit character, inside []
# A building or unit number: 12, 十二, 幺幺, 十 二 (spaced out).
_NUM = rf"(?:[0-9]{{1,4}}|[{_CN}十](?:\s?[{_CN}十]){{0,2}})"
_SMALL = rf"(?:[0-9]{{1,2}}|[{_CN}]{{1,2}}|[{_CN}]?十[{_CN}]?)"  # a unit or floor number
_S = r"\s?"
_COPULA = rf"{_S}(?:是|为|[:：])?{_S}"
# What may not follow a room: more digits, a unit, date, time or counter, a building word, a parking space.
_ROOM_END = (
    rf"(?![{_D}十百千万.%％]|\s?(?:[元块毛角分秒点年月日时天周个次岁台辆户人家位件张平米斤克度层期届倍折份遍趟多余来几号栋幢座]"
    r"|楼(?![上下])|单元|车位|柜|线|路))"
)
_TOKEN = re.compile(
    rf"(?=[楼栋单{_D}十A-Za-z])(?:"  # every part starts with one of these: a quick check at each position
    # 楼号是九, 栋号9号
    rf"(?P<blabel>(?:楼栋|楼|栋)号(?:码)?{_COPULA}(?P<bl>{_NUM}|[A-Za-z])(?![{_D}十])(?:{_S}(?P<bls>号楼|栋|幢|座|号))?)"
    # 二期5号院3号楼, 十二栋, B座, 一 号 楼
    rf"|(?<![{_D}十A-Za-z])(?P<building>(?:(?P<phase>{_NUM}){_S}期{_S})?(?:(?P<yard>{_NUM}){_S}号{_S}院{_S})?"
    rf"(?P<b>{_NUM}|[A-Za-z]){_S}(?P<bs>号{_S}楼|栋|幢|座))"
    # 单元是二
    rf"|(?P<ulabel>单元号?{_COPULA}(?P<ul>{_SMALL})(?![{_D}十])(?:{_S}单元)?)"
    rf"|(?<![{_D}十])(?P<unit>(?P<u>{_NUM}){_S}单{_S}[元圆])"
    # 两千零三, 一千一百零二: read (and checked) by _spoken_room
    rf"|(?<![{_D}十百千万])(?P<spoken>[一二两三四五六七八九]{_S}[千百][{_CN}十百\s]{{0,8}}?)(?<!\s)"
    rf"(?:{_S}(?P<ss>室|房|号(?![楼码院])))?{_ROOM_END}"
    # a room next to more digits is part of a number, not a room (138 1234 5678); a number of 7+ digits said
    # after it is another number (五零二 一三九一二三四五六七八), and so is a building's (三零二 三号楼)
    rf"|(?<![{_D}十百千万.])(?<![{_D}]\s)(?P<room>(?P<r>[{_D}]{{3,4}}(?![{_D}])(?!\s[{_D}]{{1,6}}(?![{_D}]|{_S}[号栋幢座单]))"
    rf"|[{_D}](?:\s[{_D}]){{2,3}}(?!\s?[{_D}]))"
    rf"(?:{_S}(?P<rs>室|房|号(?![楼码院])))?){_ROOM_END}"
    rf"|(?<![{_D}十])(?P<floor>(?P<f>{_SMALL}){_S}(?P<fs>[楼层]))"
    ")"
)
# Every address has a building: the text is parsed only when one of these is in it.
_HINT = re.compile(r"号\s?楼|栋|幢|座|楼号")
# How far from a building word the parts of its address are looked for (a room said first: before it).
_REACH_BACK = 32
_REACH = 64
# Numbers that are not rooms: 工号一零二三, 尾号, 编号, 车位二零八, 快递柜, 第.
_NOT_ROOM_BEFORE = re.compile(r"(?:工号|尾号|编号|单号|验证码|车位|柜|第|后[三四]位|密码)(?:是|为|[:：])?\s?$")
# A room said before its building is introduced as one's own: 我家三零二, 我是302的, 房间号是1203.
_OWN_ROOM_BEFORE = re.compile(
    r"(?:(?:家|住|我是|我在|房号|房间号?|房子|门牌号?|室号|户号)(?:是|在)?[:：]?|^(?:[\s，,嗯呃啊额哦]|那个|就是|对)*)\s?$"
)  # or the turn starts with it (五零二，三号楼的)
_FILLER = re.compile(
    r"(?:[\s，,、。．.…；;：:？?！!]|的住户|的业主|的户主|的|住户|业主|户主|房主|那个|这个|就是|然后|就|那|呢|吧|哈|呃|嗯|啊"
    r"|额|哦|是|在|我家|我们家|房号|房间号?|门牌号?|室号)*"
)
MAX_FILLER = 8
# A group of digits after a pause (the next piece of a number read out in pieces).
_PAUSED_GROUP = re.compile(rf"[\s，,、。．.…；;]{{1,3}}([{_D}]+)")
# Before a building with a number (not a letter) and 栋/幢/座: the number is a count (这三栋, 有三座楼).
_COUNT_BEFORE = frozenset("这那哪每各有共")
# After N栋楼 a place of that building, not a count: 七栋楼下, 三栋楼道, 五栋楼前.
_BUILDING_PLACES = frozenset("上下道顶门前后")
_ROOM_UNITS = {"千": 1000, "百": 100, "十": 10}

_COMMUNITY_SUFFIXES = (
    "小区", "花园", "家园", "公寓", "大厦", "广场", "社区", "新村", "公馆", "华庭", "山庄",
    "苑", "园", "城", "府", "湾", "庭", "里", "村",
)  # fmt: skip
# Characters that end a community name when reading back from its suffix (我住在|阳光花园).
_NAME_STOP = frozenset("我你他她您它们住在是的了家到去从和跟说这那个请问叫位于就还也都有给对把被门口前后旁边嗯啊呢吧吗")
_MAX_NAME = 6


@dataclass(frozen=True)
class Building:
    start: int  # character offsets into the text, end exclusive
    end: int
    number: str  # Arabic digits (十二 → 12) or an upper-case letter
    suffix: str  # 号楼, 栋, 幢 or 座 as said (号楼 for a label: 楼号是九)


@dataclass(frozen=True)
class Address:
    start: int
    end: int
    value: str  # canonical, the building word as said: 阳光花园2期3号楼1单元15层601室, 12栋3单元1502, B座1203
    full: bool  # with a community name or a unit (not only a building and a room)


@dataclass(frozen=True)
class _Token:
    kind: str  # building, unit, floor, room (said digit by digit), spoken (a room said as a number)
    start: int
    end: int
    value: str  # canonical piece: 2期5号院3号楼, 1单元, 15层, 601室
    building: Building | None = None


def find_buildings(text: str) -> list[Building]:
    """Every building said in ``text``, with or without a room, in order; counts left out (两栋楼), and a number
    with 座 (一座桥: a tower with a number is read only with its room)."""
    buildings = [t.building for t in _tokens(text) if t.building is not None]
    return [b for b in buildings if not (b.suffix == "座" and b.number.isdigit())]


def find_addresses(text: str) -> list[Address]:
    """Addresses down to the room in ``text``, in order, non-overlapping (see the module docstring)."""
    tokens = _tokens(text)
    out: list[Address] = []
    i = 0
    while i < len(tokens):
        read = _forward(text, tokens, i) or _backward(text, tokens, i)
        if read is None:
            i += 1
            continue
        address, i = read
        out.append(address)
    return out


def _tokens(text: str) -> list[_Token]:
    """The parts of addresses in ``text``, searched only near a building word."""
    out: list[_Token] = []
    done = 0
    for hint in _HINT.finditer(text):
        if hint.end() <= done:
            continue
        stop = hint.end() + _REACH
        for m in _TOKEN.finditer(text, max(done, hint.start() - _REACH_BACK)):
            if m.start() >= stop:
                break
            done = m.end()
            token = _token(text, m)
            if token is not None:
                out.append(token)
        done = max(done, min(stop, len(text)))
    return out


def _token(text: str, m: re.Match[str]) -> _Token | None:
    """The part of an address ``m`` matched; None for a count, a malformed number (十十栋), a number that is not a
    room (工号一零二三)."""
    if m.group("blabel") or m.group("building"):
        said = m.group("bl") or m.group("b")
        suffix = _compact(m.group("bls") or m.group("bs") or "号楼")
        suffix = "号楼" if suffix == "号" else suffix
        if m.group("building") and _is_count(text, m.start("b"), m.end(), said, suffix):
            return None
        phase, yard = _numbered(m.group("phase"), "期"), _numbered(m.group("yard"), "号院")
        building = Building(m.start(), m.end(), number(said).upper(), suffix)
        if phase is None or yard is None or not (building.number.isdigit() or (said.isascii() and said.isalpha())):
            return None
        return _Token("building", m.start(), m.end(), phase + yard + building.number + suffix, building)
    if m.group("ulabel") or m.group("unit"):
        unit = _numbered(m.group("ul") or m.group("u"), "单元")
        return _Token("unit", m.start(), m.end(), unit) if unit else None
    if m.group("floor"):
        floor = _numbered(m.group("f"), m.group("fs"))
        return _Token("floor", m.start(), m.end(), floor) if floor else None
    if _NOT_ROOM_BEFORE.search(text, max(0, m.start() - 6), m.start()):
        return None
    if m.group("spoken"):
        room = _spoken_room(m.group("spoken"))
        return _Token("spoken", m.start(), m.end(), room + (m.group("ss") or "")) if room else None
    digits = _digits(m.group("r"))
    if _begins_a_phone(text, m.end("r"), digits):
        return None
    return _Token("room", m.start(), m.end(), digits + (m.group("rs") or ""))


def _numbered(said: str | None, word: str) -> str | None:
    """``said`` in digits and ``word`` (二 单元 → 2单元); "" when nothing was said, None when it is no number."""
    if not said:
        return ""
    digits = number(said)
    return digits + word if digits.isdigit() else None


def _is_count(text: str, start: int, end: int, said: str, suffix: str) -> bool:
    """Whether 栋/幢/座 after a number counts buildings (两栋, 三栋楼停电了, 这三栋) rather than names one."""
    if suffix == "号楼" or (said.isascii() and said.isalpha()):
        return False
    if said == "两":
        return True
    before = text[start - 1] if start > 0 else ""
    if before in _COUNT_BEFORE:
        return True
    return text.startswith("楼", end) and text[end + 1 : end + 2] not in _BUILDING_PLACES and before != "第"


def _gap(text: str, left: _Token, right: _Token) -> bool:
    """Whether only fillers stand between two parts of an address."""
    return right.start - left.end <= MAX_FILLER and _FILLER.fullmatch(text, left.end, right.start) is not None


def _forward(text: str, tokens: list[_Token], i: int) -> tuple[Address, int] | None:
    """building [unit] [floor] room, starting at ``tokens[i]``."""
    if tokens[i].kind != "building":
        return None
    parts = [tokens[i]]
    j = i + 1
    for kind in ("unit", "floor"):
        if j < len(tokens) and tokens[j].kind == kind and _gap(text, parts[-1], tokens[j]):
            parts.append(tokens[j])
            j += 1
    if j == len(tokens) or tokens[j].kind not in ("room", "spoken") or not _gap(text, parts[-1], tokens[j]):
        return None
    parts.append(tokens[j])
    name = _community_before(text, parts[0].start)
    value = name + "".join(p.value for p in parts)
    full = bool(name) or any(p.kind == "unit" for p in parts)
    return Address(parts[0].start - len(name), parts[-1].end, value, full), j + 1


def _backward(text: str, tokens: list[_Token], i: int) -> tuple[Address, int] | None:
    """room building [unit], a room said first and introduced as one's own (我家三零二，三号楼的)."""
    room = tokens[i]
    if room.kind != "room" or i + 1 == len(tokens):
        return None
    if _OWN_ROOM_BEFORE.search(text, max(0, room.start - 6), room.start) is None:
        return None
    building = tokens[i + 1]
    if building.kind != "building" or not _gap(text, room, building) or _forward(text, tokens, i + 1):
        return None
    parts = [building]
    if i + 2 < len(tokens) and tokens[i + 2].kind == "unit" and _gap(text, building, tokens[i + 2]):
        parts.append(tokens[i + 2])
    value = "".join(p.value for p in parts) + room.value
    return Address(room.start, parts[-1].end, value, len(parts) > 1), i + 1 + len(parts)


def _community_before(text: str, start: int) -> str:
    """The community name (阳光花园) right before an address's building, or ""."""
    for suffix in _COMMUNITY_SUFFIXES:
        if text.endswith(suffix, 0, start):
            at = start - len(suffix)
            while at > 0 and start - len(suffix) - at < _MAX_NAME and _name_char(text[at - 1]):
                at -= 1
            if start - len(suffix) - at >= 2:
                return text[at:start]
            return ""
    return ""


def _name_char(char: str) -> bool:
    return ("\u4e00" <= char <= "\u9fff" or (char.isascii() and char.isalpha())) and char not in _NAME_STOP


def _compact(said: str) -> str:
    return "".join(said.split())


def _digits(said: str) -> str:
    """Digits said one by one (幺零幺 → 101)."""
    return numeral(_compact(said)) or ""


def _begins_a_phone(text: str, end: int, digits: str) -> bool:
    """Whether ``digits`` (ending at ``end``) are the first group of a phone number read out in pauses
    (幺三九，幺二三四，五六七八; 零七五五，八八八八六六六六): 10-12 digits in all, from a 1 or a 0."""
    if digits[0] not in "01":
        return False
    total = len(digits)
    while total < 10 and (m := _PAUSED_GROUP.match(text, end)) is not None:
        total += len(m.group(1))
        end = m.end()
    return 10 <= total <= 12


def number(token: str) -> str:
    """A building, unit or floor number in Arabic digits (十二 → 12, 五 → 5, 03 → 03); a letter as it is."""
    token = _compact(token)
    tens, ten, ones = token.partition("十")
    if ten and (len(tens) > 1 or len(ones) > 1 or "十" in ones):
        return token  # not one number of 1-99 (十二十)
    return numeral(token) or token


def _spoken_room(said: str) -> str | None:
    """A room said as a number (两千零三 → 2003, 三百零二 → 302, 一千一百零二 → 1102), or None when it is not
    one: malformed (units out of order, 两三百), or no door number 01-40 on its floor (一千五, 三百五十 are
    amounts)."""
    said = _compact(said)
    units = [_ROOM_UNITS[c] for c in said if c in _ROOM_UNITS]
    if not units or any(high <= low for high, low in itertools.pairwise(units)):
        return None  # digits said one by one are a room of another kind; 三百二百
    value = numeral(said)
    if value is None:
        return None
    total = int(value)
    return value if 100 < total < 10_000 and 1 <= total % 100 <= 40 else None
