"""Number normalization for matching: numbers unified, and where one number ends and the next begins."""

import pytest
import regex

from inspector.text.numbers import (
    BREAK_MARK,
    bounded_pattern,
    digit_runs,
    inside_number,
    mark_breaks,
    normalize_for_match,
    number_breaks,
    unify_numbers,
    unmark,
    whole_numbers,
)


def numbers(text: str) -> list[str]:
    norm = normalize_for_match(text)
    return digit_runs(norm, number_breaks(text, norm))


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("一二三四五", "12345"),
        ("幺二三四五", "12345"),
        ("1 2 3 4 5", "12345"),
        ("工号一零二三", "工号1023"),
        ("三百五十元", "350元"),
        ("一千二百六十元", "1,260元"),
        ("一万五", "15000"),
        ("一点五万", "1.5万"),
        ("两点三五亿", "2.35亿"),
        ("百分之五十", "50%"),
        ("百分之三点五", "3.5%"),
        ("百分之百", "100%"),
        ("幺三九 一二三四 五六七八", "139-1234-5678"),
    ],
)
def test_spoken_and_written_numbers_match_alike(spoken: str, written: str) -> None:
    assert normalize_for_match(spoken) == normalize_for_match(written)


def test_unify_numbers_leaves_other_text_alone() -> None:
    assert unify_numbers("您好，百分之百满意吗？") == "您好，百分之100满意吗？"
    assert unify_numbers("涨了3.5%，还是百分之三点五") == "涨了百分之3.5，还是百分之3.5"
    assert normalize_for_match("50%") == "百分之50" != normalize_for_match("50元")  # a percentage stays one
    assert unify_numbers("一下子万一") == "一下子万一"  # cn2an rejects nothing here: nothing to rewrite
    assert unify_numbers("快一点万事大吉") == "快一点万事大吉"  # 点 without a decimal digit
    assert unify_numbers("百分之几") == "百分之几"
    assert normalize_for_match("请稍等，我帮您查一下。") == "请稍等我帮您查1下"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13912345678", ["13912345678"]),
        ("139 1234 5678", ["13912345678"]),  # ASR spacing joins
        ("139-1234-5678", ["13912345678"]),
        ("1 2 3 4 5", ["12345"]),
        ("一 二 三 四 五", ["12345"]),
        ("打12345，电话13912345678", ["12345", "13912345678"]),
        ("12345，110", ["12345", "110"]),  # punctuation separates
        ("12345、110", ["12345", "110"]),
        ("1、2、3、4、5", ["1", "2", "3", "4", "5"]),
        ("10:30", ["10", "30"]),
        ("3-5天", ["3", "5"]),  # a range
        ("1,260元", ["1260"]),  # a thousands separator
        ("12,345,678", ["12345678"]),
        ("12345,110", ["12345", "110"]),  # not thousands: five digits before the comma
        ("12345一下", ["12345", "1"]),  # a change of script
        ("我打了12345 一次", ["12345", "1"]),
        ("一百，二十", ["100", "20"]),
        ("一二三四五一直打不通", ["12345", "1"]),  # the 一 of 一直 is a word
        ("幺幺零一下", ["110", "1"]),
        ("三十一个人", ["31"]),  # 一 of a number with units stays in it
        ("一零一一", ["1011"]),
        ("三号楼二单元五零二", ["3", "2", "502"]),
        ("３２，１", ["32", "1"]),  # full-width digits
        ("三点五", ["3", "5"]),  # 点 is a character: 3 and 5 are apart already
        ("没有数字", []),
    ],
)
def test_numbers_and_where_they_meet(text: str, expected: list[str]) -> None:
    assert numbers(text) == expected


def test_breaks_are_offsets_of_the_normalized_text() -> None:
    norm = normalize_for_match("我打12345，13912345678")
    assert norm == "我打1234513912345678"
    breaks = number_breaks("我打12345，13912345678", norm)
    assert breaks == {7}
    assert not inside_number(norm, breaks, 7) and inside_number(norm, breaks, 6) and not inside_number(norm, breaks, 2)
    assert whole_numbers(norm, breaks, 2, 7)  # 12345
    assert not whole_numbers(norm, breaks, 10, 15)  # the 12345 inside the phone number
    assert not whole_numbers(norm, breaks, 2, 10)  # 12345 + 139: two numbers joined
    assert whole_numbers(norm, breaks, 0, 2) and whole_numbers(norm, breaks, 7, len(norm))
    assert not whole_numbers(norm, breaks, 0, len(norm))  # its 5 and 1 are digits of two numbers


def test_marked_text_maps_back() -> None:
    norm, breaks = "12345110", frozenset({5})
    marked = mark_breaks(norm, breaks)
    assert marked == "12345" + BREAK_MARK + "110"
    assert [unmark(i, marked) for i in (0, 5, 6, 9)] == [0, 5, 5, 8]
    assert mark_breaks(norm, frozenset()) == norm


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (r"工号\d{4}", "工号1023号", ["工号1023"]),
        (r"工号\d{4}", "工号10234", []),
        ("12345", "13912345678", []),
        ("12345", "1" + "12345", []),
        ("12345", "打12345", ["12345"]),
        (r"\d{3,5}", "123" + BREAK_MARK + "45678", ["123", "45678"]),
        (r"a\d{0,2}", "a123", ["a"]),  # backtracks to a whole-number end
        ("(?i)abc", "xABCx", ["ABC"]),
        ("您好|你好", "你好", ["你好"]),
    ],
)
def test_bounded_pattern(pattern: str, text: str, found: list[str]) -> None:
    assert [m.group() for m in regex.finditer(bounded_pattern(pattern), text)] == found


def test_bounded_pattern_keeps_a_verbose_comment_inside() -> None:
    pattern = bounded_pattern(r"(?x) 工号 \d{4}  # 四位工号", verbose=True)
    assert [m.group() for m in regex.finditer(pattern, "工号1023，工号10234")] == ["工号1023"]
