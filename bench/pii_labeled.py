"""Write the labeled personal-data set ``bench/data/pii-labeled.jsonl`` (read by ``bench/pii.py``).

    .venv/bin/python bench/pii_labeled.py [--seed 14] [--out bench/data/pii-labeled.jsonl]

Sentences as a hotline recognizer writes them, made from phrase templates written for this set (no
transcript text is taken from elsewhere): owners giving mobile and landline numbers, ID numbers, bank
cards, plates and addresses in Arabic digits, Chinese numerals (幺, 两, 零), mixtures, split by spaces,
commas, 、, full stops or hyphens; misheard numbers (an ID with one digit substituted, so its checksum
fails; a mobile with a digit lost or doubled); and negatives from the property domain (fees, dates,
times, durations, counts, 工号, short order numbers, hotlines, rooms and buildings without a household);
and ``hard-*`` lines near or past what the detector reads (a mobile read in pairs, bare amounts shaped
like a mobile), kept to measure it honestly.
Every line: ``{"text", "spans": [{"kind", "start", "end"}], "tag"}``; ``kind`` is a ``PiiKind`` value
(``number``: what only the 7+ digit fallback can find: a QQ number, a local number without area code).
Deterministic: the same seed writes the same file.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stdnum import luhn
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "data" / "pii-labeled.jsonl"

CN = "零一二三四五六七八九"
REGIONS = ["440305", "110101", "310104", "330106", "510107", "420106", "320102", "370202", "610113", "440106"]
CARD_BINS = ["622202", "621700", "622848", "623668", "621226", "436742", "524094", "622588"]
MOBILE_PREFIXES = ["139", "138", "137", "135", "150", "152", "158", "186", "188", "177", "199", "131", "166"]
AREAS = ["010", "020", "021", "0755", "0571", "028", "0512", "0731"]
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
COMMUNITIES = [
    "阳光花园",
    "万科城",
    "碧桂园",
    "绿地新村",
    "翠湖小区",
    "金色家园",
    "华润公馆",
    "星河湾",
    "锦绣华庭",
    "紫荆苑",
]
SURNAMES = "王李张刘陈杨黄赵吴周"


@dataclass
class Line:
    parts: list[tuple[str, str | None]] = field(default_factory=list)
    tag: str = ""

    def add(self, text: str, kind: str | None = None) -> Line:
        self.parts.append((text, kind))
        return self

    def record(self) -> dict:
        text, spans = "", []
        for piece, kind in self.parts:
            if kind is not None:
                spans.append({"kind": kind, "start": len(text), "end": len(text) + len(piece)})
            text += piece
        return {"text": text, "spans": spans, "tag": self.tag}


# --- numbers as ASR writes them ------------------------------------------------------------------------------


def chinese(digits: str, rng: random.Random) -> str:
    """Digit by digit in Chinese numerals: 1 as 幺 or 一, 0 as 零 (sometimes 〇), 2 sometimes 两."""
    yao = rng.random() < 0.5
    out = []
    for d in digits:
        if d == "1":
            out.append("幺" if yao else "一")
        elif d == "0":
            out.append("〇" if rng.random() < 0.1 else "零")
        elif d == "2" and rng.random() < 0.05:
            out.append("两")
        elif d in "Xx":
            out.append(rng.choice(["X", "x", "叉"]))
        else:
            out.append(CN[int(d)])
    return "".join(out)


def cut(digits: str, sizes: list[int]) -> list[str]:
    out, at = [], 0
    for size in sizes:
        out.append(digits[at : at + size])
        at += size
    if at < len(digits):
        out.append(digits[at:])
    return [p for p in out if p]


def render(digits: str, sizes: list[int], rng: random.Random, seps: list[str]) -> str:
    """``digits`` in groups of ``sizes``, each group Arabic, Chinese or (whole number) one script."""
    groups = cut(digits, sizes)
    style = rng.choice(["arabic", "arabic", "chinese", "chinese", "mixed"])
    sep = rng.choice(seps)
    if style == "arabic":
        rendered = groups
    elif style == "chinese":
        rendered = [chinese(g, rng) for g in groups]
    else:
        rendered = [g if rng.random() < 0.5 else chinese(g, rng) for g in groups]
    if style == "chinese" and sep == " ":
        sep = rng.choice(["，", "", " "])  # clean_text drops a space between Chinese characters
    return sep.join(rendered)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def id_number(rng: random.Random) -> str:
    birth = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = rng.choice(REGIONS) + birth + f"{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def misheard_id(rng: random.Random) -> str:
    """A valid ID with one digit of the sequence number or region replaced: the checksum fails."""
    value = id_number(rng)
    while True:
        at = rng.choice([2, 3, 4, 5, 14, 15, 16])
        wrong = value[:at] + rng.choice([d for d in "0123456789" if d != value[at]]) + value[at + 1 :]
        if wrong[:2] == value[:2] and ric.calc_check_digit(wrong) != wrong[-1]:
            return wrong


def card(rng: random.Random, valid: bool = True) -> str:
    length = rng.choice([16, 19, 19])
    body = rng.choice(CARD_BINS) + "".join(rng.choice("0123456789") for _ in range(length - 7))
    check = luhn.calc_check_digit(body)
    if not valid:
        check = rng.choice([d for d in "0123456789" if d != check])
    return body + check


def landline(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(AREAS)
    size = 8 if len(area) == 3 else rng.choice([7, 8])
    local = str(rng.randint(2, 8)) + "".join(rng.choice("0123456789") for _ in range(size - 1))
    return area, local


def positional(n: int) -> str:
    """An amount in Chinese with units (三千五百, 一千二百, 两百, 三十五)."""
    if n == 0:
        return "零"
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for size, unit in units:
        q, n = divmod(n, size)
        if q:
            if zero:
                out += "零"
            out += ("两" if q == 2 and size >= 100 else CN[q]) + unit
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero else "") + CN[n]
    return out[1:] if out.startswith("一十") else out


# --- positives -----------------------------------------------------------------------------------------------

MOBILE_TEMPLATES = [
    ("我的电话是", "。"),
    ("手机号", "，你记一下。"),
    ("您打这个号码", "就行。"),
    ("联系电话", "，姓{s}。"),
    ("你打我手机", "吧，白天都在。"),
    ("我老公的手机是", "，有事找他。"),
    ("号码是", "，麻烦师傅来之前打个电话。"),
    ("好的，您的联系方式是", "对吧？"),
    ("我再说一遍，", "。"),
    ("师傅的电话", "，您直接联系他。"),
    ("嗯，", "，这个是我本人的。"),
    ("留个电话吧，", "。"),
]
ID_TEMPLATES = [
    ("身份证号是", "。"),
    ("我的身份证号码", "，名字是{s}女士。"),
    ("证件号", "，您核对一下。"),
    ("业主身份证", "，房产证上写的是他。"),
    ("身份证号码是", "，要不要再念一遍？"),
]
CARD_TEMPLATES = [
    ("银行卡号", "。"),
    ("退款打到这张卡上，卡号是", "，工商银行的。"),
    ("我的卡号是", "，开户行是建设银行。"),
    ("扣款的那张卡", "，你们查一下。"),
]
LANDLINE_TEMPLATES = [
    ("家里座机", "。"),
    ("办公室电话", "，上班时间打。"),
    ("固定电话是", "。"),
    ("你打", "也可以找到我。"),
]
PLATE_TEMPLATES = [
    ("我的车牌是", "。"),
    ("车牌号", "的车挡住了我的车位。"),
    ("", "这辆车天天停在消防通道上。"),
    ("登记一下，车牌", "，白色的轿车。"),
    ("月卡绑定的是", "，帮我改一下。"),
]
ADDRESS_TEMPLATES = [
    ("我住在", "。"),
    ("", "的业主，家里漏水了。"),
    ("我家是", "，楼上一直在装修。"),
    ("地址是", "，师傅上门直接来。"),
    ("我是", "的，暖气不热。"),
    ("房号是", "。"),
    ("好的，", "，我给您登记上。"),
]


def filled(template: tuple[str, str], rng: random.Random) -> tuple[str, str]:
    s = rng.choice(SURNAMES)
    return template[0].replace("{s}", s), template[1].replace("{s}", s)


def mobile_text(rng: random.Random, digits: str) -> str:
    form = rng.random()
    if form < 0.12:
        return "+86 " + render(digits, [3, 4, 4], rng, [" ", ""])
    if form < 0.2:
        return "-".join(cut(digits, [3, 4, 4]))
    sizes = rng.choice([[3, 4, 4], [3, 4, 4], [11], [3, 8], [4, 3, 4]])
    return render(digits, sizes, rng, [" ", "，", "", "、", "。", ", "])


def positive_mobile(rng: random.Random) -> Line:
    before, after = filled(rng.choice(MOBILE_TEMPLATES), rng)
    return Line(tag="mobile").add(before).add(mobile_text(rng, mobile(rng)), "mobile").add(after)


def misheard_mobile(rng: random.Random) -> Line:
    digits = mobile(rng)
    at = rng.randint(3, 10)
    if rng.random() < 0.5:
        digits, tag = digits[:at] + digits[at + 1 :], "mobile-lost-digit"
    else:
        digits, tag = digits[:at] + digits[at] + digits[at:], "mobile-doubled-digit"
    before, after = filled(rng.choice(MOBILE_TEMPLATES), rng)
    text = render(digits, rng.choice([[3, 4, 4], [len(digits)]]), rng, [" ", "", "，"])
    return Line(tag=tag).add(before).add(text, "mobile").add(after)


def positive_id(rng: random.Random, misheard: bool = False) -> Line:
    digits = misheard_id(rng) if misheard else id_number(rng)
    sizes = rng.choice([[18], [18], [6, 8, 4], [6, 4, 4, 4], [3, 3, 4, 4, 4]])
    text = render(digits, sizes, rng, [" ", "，", "", "、"])
    before, after = filled(rng.choice(ID_TEMPLATES), rng)
    return Line(tag="id-misheard" if misheard else "id").add(before).add(text, "id_number").add(after)


def positive_card(rng: random.Random, valid: bool = True) -> Line:
    digits = card(rng, valid)
    text = render(digits, rng.choice([[4, 4, 4, 4, 3], [len(digits)], [4, 4, 4, 4, 3]]), rng, [" ", "，", " "])
    before, after = filled(rng.choice(CARD_TEMPLATES), rng)
    return Line(tag="card" if valid else "card-luhn-fails").add(before).add(text, "bank_card").add(after)


def positive_landline(rng: random.Random) -> Line:
    area, local = landline(rng)
    form = rng.random()
    if form < 0.3:
        text = f"{area}-{local}"
    elif form < 0.5:
        text = f"({area}){local[:4]} {local[4:]}"
    elif form < 0.75:
        text = render(area + local, [len(area), len(local)], rng, [" ", "，"])
    else:
        text = render(area + local, [len(area), 4, len(local) - 4], rng, [" ", "，", ""])
    before, after = filled(rng.choice(LANDLINE_TEMPLATES), rng)
    return Line(tag="landline").add(before).add(text, "landline").add(after)


def plate_text(rng: random.Random) -> str:
    prov, letter = rng.choice(PROVINCES), rng.choice(PLATE_LETTERS)
    if rng.random() < 0.25:
        tail = rng.choice(["D", "F"]) + "".join(rng.choice("0123456789") for _ in range(5))
    else:
        chars = [rng.choice("0123456789") for _ in range(5)]
        if rng.random() < 0.3:
            chars[rng.randint(0, 4)] = rng.choice(PLATE_LETTERS)
        tail = "".join(chars)
    form = rng.random()
    if form < 0.4:
        return prov + letter + tail
    if form < 0.55:
        return f"{prov}{letter}·{tail}"
    if form < 0.7:
        return f"{prov} {letter} {tail}"
    if form < 0.85:
        return prov + letter.lower() + tail
    return prov + letter + "".join(chinese(c, rng) if c.isdigit() else c for c in tail)


def positive_plate(rng: random.Random) -> Line:
    before, after = filled(rng.choice(PLATE_TEMPLATES), rng)
    return Line(tag="plate").add(before).add(plate_text(rng), "plate").add(after)


def address_text(rng: random.Random) -> str:
    building_n, unit_n = rng.randint(1, 28), rng.randint(1, 6)
    floor = rng.randint(1, 33)
    room = f"{floor}{rng.randint(1, 4):02d}"
    cn = rng.random() < 0.45

    def num(n: int) -> str:
        return positional(n) if cn else str(n)

    room_text = chinese(room, rng) if cn else room
    building = rng.choice(
        [f"{num(building_n)}号楼", f"{num(building_n)}栋", f"{num(building_n)}幢", f"{num(building_n)}号楼"]
    )
    if rng.random() < 0.12:
        building = rng.choice("ABCDE") + "座"
    unit = f"{num(unit_n)}单元" if rng.random() < 0.7 else ""
    suffix = rng.choice(["", "", "", "室"])
    community = rng.choice(COMMUNITIES) if rng.random() < 0.4 else ""
    return community + building + unit + room_text + suffix


def positive_address(rng: random.Random) -> Line:
    before, after = filled(rng.choice(ADDRESS_TEMPLATES), rng)
    return Line(tag="address").add(before).add(address_text(rng), "address").add(after)


def positive_number(rng: random.Random) -> Line:
    """What only the fallback catches: a QQ number, a local number without its area code."""
    form = rng.random()
    if form < 0.4:
        digits = str(rng.randint(2, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 9)))
        return Line(tag="number-qq").add("我的QQ号是").add(digits, "number").add("，加我一下。")
    local = str(rng.randint(2, 8)) + "".join(rng.choice("0123456789") for _ in range(7))
    text = chinese(local, rng) if rng.random() < 0.4 else rng.choice([local, f"{local[:4]} {local[4:]}"])
    return Line(tag="number-local").add("家里电话").add(text, "number").add("，晚上打。")


def long_number(rng: random.Random) -> Line:
    """Negatives the fallback masks anyway: long numbers that are not personal (reported apart)."""
    n = rng.randint
    text = rng.choice(
        [
            f"电表号是{n(10**11, 10**12 - 1)}，您帮我查一下电费。",
            f"发票号码{n(10**7, 10**8 - 1)}，开的是物业费。",
            f"快递单号{n(7 * 10**11, 8 * 10**11)}，放在驿站了。",
        ]
    )
    return Line(tag="negative-long-number").add(text)


def positive_combined(rng: random.Random) -> Line:
    line = Line(tag="combined").add("我住").add(address_text(rng), "address").add("，电话")
    line.add(mobile_text(rng, mobile(rng)), "mobile").add(f"，物业费上个月交了{rng.randint(200, 3000)}元。")
    return line


# --- negatives -----------------------------------------------------------------------------------------------


def negative(rng: random.Random) -> Line:
    n = rng.randint
    y, m, d = n(2019, 2025), n(1, 12), n(1, 28)
    choices: list[Callable[[], str]] = [
        lambda: f"物业费每个月{n(100, 5000)}元，您这边欠了三个月。",
        lambda: f"这个月的物业费是{positional(n(100, 5000))}块。",
        lambda: f"停车费一年{n(1200, 6000)}元，每个月{n(100, 500)}块。",
        lambda: f"一共{positional(n(1000, 9999))}块钱，可以分两次交。",
        lambda: f"维修基金交了{n(2, 9)}万，还有{n(1, 9)}.{n(1, 9)}万没退。",
        lambda: f"{y}年{m}月{d}日之前交清就可以。",
        lambda: f"{chinese(str(y), rng)}年{positional(m)}月{positional(d)}号停水。",
        lambda: f"通知上写的是{y}-{m:02d}-{d:02d}开始施工。",
        lambda: f"缴费截止日期{y}.{m:02d}.{d:02d}。",
        lambda: f"合同是{y}/{m}/{d}签的。",
        lambda: f"缴费日期是{y}{m:02d}{d:02d}，您看一下。",
        lambda: f"师傅下午{positional(n(1, 6))}点上门。",
        lambda: f"约的是{n(8, 18)}:{rng.choice(['00', '30', '15'])}，到现在还没来。",
        lambda: f"我都等了{rng.choice(['两', '三', '四'])}个小时了。",
        lambda: f"这个问题反映了{positional(n(2, 9))}次了，{positional(n(2, 30))}天都没人管。",
        lambda: f"您好，工号{n(8000, 8999)}，很高兴为您服务。",
        lambda: f"您好，这里是阳光物业，工号{chinese(str(n(1000, 9999)), rng)}。",
        lambda: f"我是{n(8001, 8099)}号客服，请问有什么可以帮您？",
        lambda: f"我是{chinese(str(n(100, 999)), rng)}号，很高兴为您服务。",
        lambda: f"订单号{n(100000, 999999)}，您记一下。",
        lambda: f"您的工单号是{n(100000, 999999)}，师傅会联系您。",
        lambda: f"报修单号{chinese(str(n(100000, 999999)), rng)}。",
        lambda: f"物业费涨了百分之{positional(n(5, 30))}，太不合理了。",
        lambda: f"收缴率才{n(60, 99)}%。",
        lambda: f"再不处理我就打{rng.choice(['12345', '一二三四五', '幺二三四五'])}投诉你们。",
        lambda: f"小区门口出事了，我已经打了{rng.choice(['110', '119', '120', '幺幺零', '一一九'])}。",
        lambda: "拨打12345、110或者119都可以。",
        lambda: f"{positional(n(1, 20))}号楼的电梯又坏了。",
        lambda: f"{n(1, 20)}号楼{n(1, 6)}单元的门禁坏了。",
        lambda: f"{n(1, 30)}栋楼下的垃圾没人清。",
        lambda: f"{n(101, 2802)}室的邻居天天半夜装修。",
        lambda: f"会议室{n(101, 909)}在二楼。",
        lambda: f"我家{n(101, 2802)}漏水了，楼上不开门。",
        lambda: f"车位是地下{positional(n(1, 3))}层{positional(n(1, 300))}号。",
        lambda: f"我住{positional(n(2, 30))}楼，电梯停了只能爬楼。",
        lambda: "这电话一直打不通，统一回复都是一样的。",
        lambda: f"第{positional(n(1, 9))}次了，每次都说一样的话。",
        lambda: f"全小区{n(800, 3000)}户，就我们这栋没有热水。",
        lambda: f"暖气才{n(14, 19)}度，根本不热。",
        lambda: f"你们客服电话是400-{n(100, 999)}-{n(1000, 9999)}吗？",
        lambda: f"电费打{rng.choice(['95598', '九五五九八'])}问问。",
        lambda: f"分机{n(8000, 8999)}转一下维修部。",
        lambda: f"一共三笔，{n(100, 300)}、{n(100, 300)}、{n(1000, 3000)}块。",
        lambda: f"价格是{n(1, 9)}.{n(10, 99)}元一度。",
        lambda: f"我{n(60, 85)}岁了，爬不动楼。",
        lambda: f"一楼大堂的灯坏了，{positional(n(2, 5))}楼也是。",
        lambda: f"尾号{n(1000, 9999)}的那个电话是我。",
        lambda: f"快递柜{n(1, 30)}号格子打不开。",
        lambda: "好的，三号楼的事情我记下了。",
        lambda: f"{y}年的账单我看了，{positional(n(100, 999))}块是对的。",
    ]
    return Line(tag="negative").add(rng.choice(choices)())


def hard(rng: random.Random) -> Line:
    """Forms near or past what the detector reads, kept to measure it honestly."""
    digits = mobile(rng)
    form = rng.randrange(7)
    if form == 0:  # read in pairs with pauses: groups of 2 never join (a list of small numbers looks alike)
        pairs = "，".join(digits[i : i + 2] for i in range(0, 11, 2))
        return Line(tag="hard-mobile-pairs").add("电话是").add(pairs, "mobile").add("。")
    if form == 1:  # a filler inside the number
        text = f"{chinese(digits[:3], rng)}，嗯，{chinese(digits[3:7], rng)}，{chinese(digits[7:], rng)}"
        return Line(tag="hard-mobile-filler").add("我的手机").add(text, "mobile").add("。")
    if form == 2:  # an ID with a digit lost
        value = id_number(rng)
        return Line(tag="hard-id-17").add("身份证号").add(value[:16] + value[17:], "id_number").add("。")
    if form == 3:  # full-width digits, as raw recognizer text may have them
        wide = "".join(chr(0xFF10 + int(c)) for c in digits)
        return Line(tag="hard-mobile-fullwidth").add("电话").add(wide, "mobile").add("，谢谢。")
    if form == 4:  # a landline with an extension
        area, local = landline(rng)
        line = Line(tag="hard-landline-extension").add("打").add(f"{area}-{local}", "landline")
        return line.add(f"转{rng.randint(800, 899)}。")
    if form == 5:  # negative: three bare amounts shaped like a mobile (3-4-4, no unit)
        text = f"这三个月分别是130，{rng.randint(1000, 2999)}，{rng.randint(1000, 2999)}，加起来不对。"
        return Line(tag="hard-negative-amounts").add(text)
    return Line(tag="hard-negative-unit").add(f"我住{rng.randint(1, 20)}号楼{rng.randint(1, 6)}单元，电梯坏了。")


MAKERS: list[tuple[int, Callable[[random.Random], Line]]] = [
    (70, positive_mobile),
    (16, misheard_mobile),
    (40, lambda rng: positive_id(rng)),
    (16, lambda rng: positive_id(rng, misheard=True)),
    (22, lambda rng: positive_card(rng)),
    (8, lambda rng: positive_card(rng, valid=False)),
    (22, positive_landline),
    (26, positive_plate),
    (40, positive_address),
    (12, positive_number),
    (14, positive_combined),
    (200, negative),
    (10, long_number),
    (28, hard),
]


def build(seed: int) -> list[dict]:
    rng = random.Random(seed)
    lines = [maker(rng).record() for count, maker in MAKERS for _ in range(count)]
    rng.shuffle(lines)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    lines = build(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{len(lines)} lines → {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
