"""Personal data found in text as ASR writes it, and the property-domain numbers that are not."""

import itertools
import re

import pytest
from stdnum import luhn
from stdnum.cn import ric

from inspector.privacy.detection import PII_LABELS_ZH, Detection, PiiKind, detect, digits_of
from inspector.privacy.masking import mask_text


def valid_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


ID_VALID = valid_id("44030519900101352")  # Shenzhen Nanshan, born 1990-01-01
ID_MISHEARD = ID_VALID[:15] + str((int(ID_VALID[15]) + 1) % 10) + ID_VALID[16:]  # checksum now fails
ID_X = valid_id("44030519900101123")  # its check character is X
CARD_VALID = "622202123456789" + luhn.calc_check_digit("622202123456789")  # 16 digits
CARD_BAD = CARD_VALID[:-1] + str((int(CARD_VALID[-1]) + 1) % 10)


def only(text: str) -> Detection:
    found = detect(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "kind", "piece", "value"),
    [
        # mobile: digits, numerals, mixtures and every separator ASR writes
        ("我的电话是13912345678。", PiiKind.MOBILE, "13912345678", "13912345678"),
        ("号码139 1234 5678，记一下", PiiKind.MOBILE, "139 1234 5678", "13912345678"),
        ("一三九，一二三四，五六七八", PiiKind.MOBILE, "一三九，一二三四，五六七八", "13912345678"),
        ("幺三九幺二三四五六七八", PiiKind.MOBILE, "幺三九幺二三四五六七八", "13912345678"),
        ("幺三九 1234 五六七八", PiiKind.MOBILE, "幺三九 1234 五六七八", "13912345678"),
        ("打139-1234-5678找我", PiiKind.MOBILE, "139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", PiiKind.MOBILE, "+86 139 1234 5678", "13912345678"),
        ("电话一八八、六六六六、两三四五", PiiKind.MOBILE, "一八八、六六六六、两三四五", "18866662345"),
        ("手机号一三九。一二三四。五六七八。", PiiKind.MOBILE, "一三九。一二三四。五六七八", "13912345678"),
        ("手机一五零〇〇〇〇一二三四", PiiKind.MOBILE, "一五零〇〇〇〇一二三四", "15000001234"),
        ("号码是13912345678一直打不通", PiiKind.MOBILE, "13912345678", "13912345678"),
        ("电话13912345678两个都行", PiiKind.MOBILE, "13912345678", "13912345678"),
        ("打１３９１２３４５６７８", PiiKind.MOBILE, "１３９１２３４５６７８", "13912345678"),
        # landline
        ("家里座机0755-12345678。", PiiKind.LANDLINE, "0755-12345678", "075512345678"),
        ("(010)8888 6666", PiiKind.LANDLINE, "(010)8888 6666", "01088886666"),
        ("（020）87654321", PiiKind.LANDLINE, "（020）87654321", "02087654321"),
        ("零七五五，八八八八六六六六", PiiKind.LANDLINE, "零七五五，八八八八六六六六", "075588886666"),
        ("办公室0571 8765432", PiiKind.LANDLINE, "0571 8765432", "05718765432"),
        # ID
        (f"身份证号{ID_VALID}。", PiiKind.ID_NUMBER, ID_VALID, ID_VALID),
        (f"证件号{ID_X[:-1]}叉", PiiKind.ID_NUMBER, f"{ID_X[:-1]}叉", ID_X),
        (f"证件号{ID_X[:-1]}x，对吧", PiiKind.ID_NUMBER, f"{ID_X[:-1]}x", ID_X),
        (f"{ID_VALID[:6]}，{ID_VALID[6:14]}，{ID_VALID[14:]}", PiiKind.ID_NUMBER, None, ID_VALID),
        (f"{ID_VALID[:6]} {ID_VALID[6:10]} {ID_VALID[10:14]} {ID_VALID[14:]}", PiiKind.ID_NUMBER, None, ID_VALID),
        # bank card
        (f"卡号{CARD_VALID}", PiiKind.BANK_CARD, CARD_VALID, CARD_VALID),
        (f"卡号{CARD_VALID[:4]} {CARD_VALID[4:8]} {CARD_VALID[8:12]} {CARD_VALID[12:]}", PiiKind.BANK_CARD, None,
         CARD_VALID),
        # plates
        ("车牌粤B12345的车", PiiKind.PLATE, "粤B12345", "粤B12345"),
        ("京A·D12345", PiiKind.PLATE, "京A·D12345", "京AD12345"),
        ("粤B12345F停在消防通道", PiiKind.PLATE, "粤B12345F", "粤B12345F"),
        ("车牌是粤 b 12345", PiiKind.PLATE, "粤 b 12345", "粤B12345"),
        ("车牌沪A一二三四五", PiiKind.PLATE, "沪A一二三四五", "沪A12345"),
        ("苏E 7A123", PiiKind.PLATE, "苏E 7A123", "苏E7A123"),
        ("车牌粤Ｂ１２３４５", PiiKind.PLATE, "粤Ｂ１２３４５", "粤B12345"),
        # addresses down to the room
        ("我住3号楼1单元601。", PiiKind.ADDRESS, "3号楼1单元601", "3号楼1单元601"),
        ("五号楼二单元一零二室漏水", PiiKind.ADDRESS, "五号楼二单元一零二室", "5号楼2单元102室"),
        ("3栋2单元1502的业主", PiiKind.ADDRESS, "3栋2单元1502", "3栋2单元1502"),
        ("12幢301", PiiKind.ADDRESS, "12幢301", "12幢301"),
        ("B座1203", PiiKind.ADDRESS, "B座1203", "B座1203"),
        ("十二栋三单元一五零二", PiiKind.ADDRESS, "十二栋三单元一五零二", "12栋3单元1502"),
        ("我住在阳光花园3号楼1单元601", PiiKind.ADDRESS, "阳光花园3号楼1单元601", "阳光花园3号楼1单元601"),
        ("万科城二期5栋2单元15层1502", PiiKind.ADDRESS, "万科城二期5栋2单元15层1502", "万科城2期5栋2单元15层1502"),
        ("好的，三号楼五零二。", PiiKind.ADDRESS, "三号楼五零二", "3号楼502"),
    ],
)  # fmt: skip
def test_each_kind_and_form(text: str, kind: PiiKind, piece: str | None, value: str) -> None:
    d = only(text)
    assert d.kind is kind
    assert d.value == value
    if piece is not None:
        assert text[d.start : d.end] == piece
    else:
        assert digits_of(text[d.start : d.end]) == value


@pytest.mark.parametrize(
    "text",
    [
        "物业费每个月3500元，您这边欠了三个月。",
        "一共一千二百块，可以分两次交。",
        "停车费一年3600元，每个月300块。",
        "维修基金还有1.5万没退。",
        "2024年3月5日之前交清。",
        "二零二四年三月五号停水。",
        "通知上写的是2024-03-05开始施工。",
        "缴费截止日期2024.03.05。",
        "缴费日期是20240305，您看一下。",
        "合同是2024/3/5签的。",
        "师傅下午三点上门。",
        "约的是14:30，到现在还没来。",
        "我都等了两个小时了。",
        "您好，工号8001，很高兴为您服务。",
        "您好，这里是阳光物业，工号一零二三。",
        "我是8023号客服。",
        "订单号123456，您记一下。",
        "报修单号三四五六七八。",
        "物业费涨了百分之二十。",
        "收缴率才85%。",
        "再不处理我就打12345投诉你们。",
        "我要打一二三四五热线。",
        "拨打12345、110或者119都可以。",
        "三号楼的电梯坏了。",
        "3号楼1单元的门禁坏了。",
        "502室的邻居天天半夜装修。",
        "会议室301在二楼。",
        "我家502漏水了。",
        "车位是地下一层一百零八号。",
        "这电话一直打不通，统一回复都是一样的。",
        "全小区1200户，就我们这栋没有热水。",
        "你们客服电话是400-800-8888吗？",
        "电费打95598问问。",
        "一共三笔，130、200、3000块。",
        "尾号5678的那个电话是我。",
        "3号楼100多户都停水了。",
        "12345，110，119都打过了。",
    ],
)
def test_property_domain_numbers_are_not_personal(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    ("text", "piece", "value"),
    [
        ("我家是八号楼三单元，嗯，一二零二", "八号楼三单元，嗯，一二零二", "8号楼3单元1202"),
        ("九号楼一单元的业主一零零三，漏水了", "九号楼一单元的业主一零零三", "9号楼1单元1003"),
        ("我家一一零二，八号楼的", "一一零二，八号楼", "8号楼1102"),
        ("房间号是1203，在C座", "1203，在C座", "C座1203"),
        ("三号楼两千零五", "三号楼两千零五", "3号楼2005"),
        ("二 号 楼 三 单 元 五 零 二。", "二 号 楼 三 单 元 五 零 二", "2号楼3单元502"),
        ("楼号是十二，单元是三，房号一五零二", "楼号是十二，单元是三，房号一五零二", "12号楼3单元1502"),
        ("D栋一单元一零二", "D栋一单元一零二", "D栋1单元102"),
        ("翠湖苑十栋的，二单元，八零一", "翠湖苑十栋的，二单元，八零一", "翠湖苑10栋2单元801"),
    ],
)  # fmt: skip
def test_addresses_across_fillers_labels_and_word_order_are_masked(text: str, piece: str, value: str) -> None:
    d = only(text)
    assert (d.kind, d.value, text[d.start : d.end]) == (PiiKind.ADDRESS, value, piece)
    masked = mask_text(text)
    assert "[地址]" in masked and not any(c.isdigit() or c in "零一二三五八" for c in masked.replace("[地址]", ""))


@pytest.mark.parametrize(
    "text",
    ["有三栋楼没有水了。", "小区有两栋楼在装修。", "这三栋都停电了。", "三号楼的物业费一共两千四。",
     "五号楼，两千四百块。", "三号楼一单元，三百五十。", "车位二零八，在三号楼。", "快递柜三零五，五号楼。",
     "我打了一一零，三号楼有人打架。"],
)  # fmt: skip
def test_counts_and_numbers_near_a_building_are_not_addresses(text: str) -> None:
    assert detect(text) == []


def test_a_room_next_to_a_phone_number_keeps_both() -> None:
    found = detect("五号楼一单元三零三 一三八零零一三八零零零")
    assert [(d.kind, d.value) for d in found] == [(PiiKind.ADDRESS, "5号楼1单元303"), (PiiKind.MOBILE, "13800138000")]
    for text in ("五号楼 139 1234 5678", "五号楼，幺三九，幺二三四，五六七八"):  # a phone, not room 139
        assert [(d.kind, d.value) for d in detect(text)] == [(PiiKind.MOBILE, "13912345678")]


def test_id_x_is_a_valid_id_ending_in_x() -> None:
    assert ID_X.endswith("X") and ric.is_valid(ID_X)


def test_id_checksum_decides_the_confidence() -> None:
    valid, misheard = only(f"身份证{ID_VALID}"), only(f"身份证{ID_MISHEARD}")
    assert valid.kind is misheard.kind is PiiKind.ID_NUMBER
    assert misheard.value == ID_MISHEARD
    assert valid.confidence > misheard.confidence >= 0.7


def test_id_needs_a_plausible_birth_date_when_the_checksum_fails() -> None:
    # Same region, birth date 1990-13-45: not an ID, and not a card prefix either: only the fallback.
    body = "11010119901345352"
    d = only(f"号码{body}1")
    assert d.kind is PiiKind.NUMBER


@pytest.mark.parametrize("lost", [14, 15, 16])
def test_an_id_with_a_digit_lost_after_the_birth_date_is_still_an_id(lost: int) -> None:
    for value in (ID_VALID, ID_X):
        short = value[:lost] + value[lost + 1 :]
        d = only(f"身份证号{short}。")
        assert (d.kind, d.value) == (PiiKind.ID_NUMBER, short)
        assert d.confidence < only(f"身份证号{value}").confidence


def test_an_id_with_a_digit_lost_before_the_birth_date_is_still_found() -> None:
    # The birth date no longer sits where it should: not an ID, but still masked (a card by its prefix).
    short = ID_VALID[:3] + ID_VALID[4:]
    d = only(f"身份证号{short}。")
    assert (d.start, d.end) == (4, 4 + len(short))


def test_card_luhn_decides_the_confidence() -> None:
    good, bad = only(f"卡号{CARD_VALID}"), only(f"卡号{CARD_BAD}")
    assert good.kind is bad.kind is PiiKind.BANK_CARD
    assert good.confidence > bad.confidence


def test_card_without_a_known_prefix_is_only_a_number() -> None:
    body = "123456789012345"
    d = only(body + luhn.calc_check_digit(body))
    assert d.kind is PiiKind.NUMBER


@pytest.mark.parametrize("text", ["1391234567", "139 1234 567", "139123456789", "一三九，一二三，五六七八"])
def test_mobile_with_a_digit_lost_or_doubled_is_still_a_mobile(text: str) -> None:
    d = only(text)
    assert d.kind is PiiKind.MOBILE
    assert d.confidence < only("13912345678").confidence


@pytest.mark.parametrize(
    ("text", "value"),
    [("QQ号是12345678", "12345678"), ("家里电话88886666", "88886666"), ("电话八八八八 六六六六", "88886666")],
)
def test_fallback_number_for_other_runs_of_seven_digits(text: str, value: str) -> None:
    d = only(text)
    assert (d.kind, d.value, d.confidence) == (PiiKind.NUMBER, value, 0.5)


def test_a_long_amount_next_to_a_unit_is_still_masked_as_a_number() -> None:
    # Units keep a group from joining a neighbour, but 7+ digits are always reported.
    assert only("12000000元").kind is PiiKind.NUMBER


def test_digits_next_to_a_found_number_in_the_same_block_are_claimed() -> None:
    found = detect("13912345678 123")
    assert [(d.kind, d.value) for d in found] == [(PiiKind.MOBILE, "13912345678"), (PiiKind.NUMBER, "123")]


def test_two_numbers_with_a_space_or_comma_between_stay_two() -> None:
    for text in ("13912345678 13812345678", "13912345678，13812345678"):
        assert [d.value for d in detect(text)] == ["13912345678", "13812345678"]


def test_short_groups_do_not_join_across_commas() -> None:
    # Loose joins need 3+ digits on both sides: 1、2、3 … is a list, not a number.
    assert detect("1、3、9、1、2、3、4、5、6、7、8") == []


def test_results_are_sorted_and_do_not_overlap() -> None:
    text = f"我住阳光花园3号楼1单元601，电话13912345678，身份证{ID_VALID}，车牌粤B12345，卡号{CARD_VALID}。"
    found = detect(text)
    assert [d.kind for d in found] == [
        PiiKind.ADDRESS, PiiKind.MOBILE, PiiKind.ID_NUMBER, PiiKind.PLATE, PiiKind.BANK_CARD
    ]  # fmt: skip
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_every_kind_has_a_chinese_label() -> None:
    assert set(PII_LABELS_ZH) == set(PiiKind)
    assert PII_LABELS_ZH[PiiKind.NUMBER] == "数字串"
    assert PII_LABELS_ZH[PiiKind.ID_NUMBER] == "身份证号"


def test_digits_of_converts_every_script() -> None:
    assert digits_of("幺三九-１２３4 五六七八叉") == "13912345678X"
    assert digits_of("两〇零") == "200"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("我的手机号是15，93，62，08，47，1，您记一下", "15936208471"),
        ("联系方式：幺八，六六，零二，四七，九三，五", "18660247935"),
        ("打 17 70 35 26 88 4 就行", "17703526884"),
    ],
)
def test_a_mobile_read_in_pairs_after_a_phone_word_is_found_and_masked(text: str, value: str) -> None:
    [found] = detect(text)
    assert (found.kind, found.value) == (PiiKind.MOBILE, value)
    masked = mask_text(text)
    assert masked.count("****") == 1 and re.search(r"[0-9]{5}", masked) is None, masked


@pytest.mark.parametrize(
    "text",
    [
        "这几天的温度是15，18，20，21，23，19，17",  # no phone word: a list of small numbers
        "电话是15，93，62",  # too few digits for a mobile
        "三栋楼的电费分别是135，2650，1980，您核对一下",  # quantities, not one number in pieces
        "前三次读数139，2284，6017，加起来不对",
        "四个月各是158，3391，2047，是这样吗",
    ],
)
def test_lists_of_numbers_are_not_a_mobile(text: str) -> None:
    assert [d for d in detect(text) if d.kind is PiiKind.MOBILE] == []
