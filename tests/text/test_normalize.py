import pytest

from inspector.text.normalize import clean_text, normalize_for_cer, normalize_width, numeral, to_simplified


def test_traditional_to_simplified() -> None:
    assert to_simplified("請稍等") == "请稍等"
    assert to_simplified("謝謝您的來電") == "谢谢您的来电"
    assert to_simplified("阳光物业") == "阳光物业"
    assert to_simplified("") == ""


def test_width_keeps_chinese_punctuation() -> None:
    assert normalize_width("工号１０２３，ＡＢｃ　好") == "工号1023，ABc 好"


def test_clean_text() -> None:
    assert clean_text("  請 稍 等 ， 謝謝  ") == "请稍等，谢谢"
    assert clean_text("房号 ５０２  is   ok") == "房号 502 is ok"
    assert clean_text("\n") == ""


@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [
        ("工号一零二三，很高兴为您服务。", "工号1023 很高兴为您服务"),
        ("一二三四五", "12345"),
        ("电话幺三八零零", "电话13800"),
        ("三号楼二单元五零二", "3号楼2单元502"),
        ("二十三", "23"),
        ("一百零五块", "105块"),
        ("两万", "2万"),
        ("一千", "1,000"),
        ("三点五", "3.5"),
        ("我帮您查一下", "我帮您查一下。"),
        ("請稍等", "请稍等"),
    ],
)
def test_both_forms_normalize_alike(reference: str, hypothesis: str) -> None:
    assert normalize_for_cer(reference) == normalize_for_cer(hypothesis)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("工号一零二三", "工号1023"),
        ("十二", "12"),
        ("二十三", "23"),
        ("一百零五", "105"),
        ("一百五", "150"),
        ("三千", "3000"),
        ("两万", "20000"),
        ("一万五", "15000"),
        ("两千零二十", "2020"),
        ("一千零十", "1010"),  # 零十: ten
        ("一千零百", "1千0百"),  # malformed: digit by digit
        ("幺零〇", "100"),
        ("一下", "1下"),
        ("统一", "统1"),
        ("老百姓", "老百姓"),
        ("两三百", "23百"),
        ("Hello, World!", "helloworld"),
        ("您好？请问……「房号」是多少：", "您好请问房号是多少"),
    ],
)
def test_normalize_for_cer(text: str, expected: str) -> None:
    assert normalize_for_cer(text) == expected


@pytest.mark.parametrize(
    ("run", "expected"),
    [("幺三九", "139"), ("03", "03"), ("十二", "12"), ("两千零三", "2003"), ("一千五", "1500"), ("两三百", None)],
)
def test_numeral(run: str, expected: str | None) -> None:
    assert numeral(run) == expected
