"""Masked values, texts and transcripts: the formats, fragments, idempotence, and no 7-digit run left."""

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from inspector.privacy.detection import PiiKind, detect, digits_of
from inspector.privacy.masking import mask_text, mask_transcript, mask_value, masked_kinds
from inspector.privacy.spans import transcript_spans
from inspector.speech.transcript import Transcript

CN_DIGITS = "零一二三四五六七八九"
RUN_OF_SEVEN = re.compile(r"[0-9]{7,}")


def longest_digit_run(text: str) -> int:
    """Longest run of digit characters (Arabic or Chinese) in ``text``."""
    converted = "".join(digits_of(c) or "_" for c in text)
    return max((len(m) for m in re.findall(r"[0-9]+", converted)), default=0)


@pytest.mark.parametrize(
    ("kind", "piece", "masked"),
    [
        (PiiKind.MOBILE, "13912345678", "139****5678"),
        (PiiKind.MOBILE, "幺三九-1234 五六七八", "139****5678"),
        (PiiKind.MOBILE, "+86 139 1234 5678", "139****5678"),
        (PiiKind.MOBILE, "1391234567", "139****567"),
        (PiiKind.MOBILE, "139123456789", "139*****6789"),
        (PiiKind.LANDLINE, "0755-12345678", "0755-******78"),
        (PiiKind.LANDLINE, "(010)8888 6666", "010-******66"),
        (PiiKind.ID_NUMBER, "440305199001013521", "4403**********3521"),
        (PiiKind.ID_NUMBER, "44030519900101123叉", "4403**********123X"),
        (PiiKind.BANK_CARD, "6222 0212 3456 7890", "**** **** **** 7890"),
        (PiiKind.BANK_CARD, "6212261102001234567", "**** **** **** *** 4567"),
        (PiiKind.PLATE, "粤B12345", "粤B*****"),
        (PiiKind.PLATE, "京A·D12345", "京A******"),
        (PiiKind.PLATE, "粤 b 12345", "粤B*****"),
        (PiiKind.ADDRESS, "阳光花园3号楼1单元601", "[地址]"),
        (PiiKind.NUMBER, "12345678", "********"),
        (PiiKind.NUMBER, "八八八八 六六六六", "********"),
    ],
)
def test_mask_formats(kind: PiiKind, piece: str, masked: str) -> None:
    assert mask_value(kind, piece) == masked


@pytest.mark.parametrize(
    ("kind", "piece", "masked"),
    [
        (PiiKind.MOBILE, "幺三九", "***"),
        (PiiKind.MOBILE, "一二三四", "****"),
        (PiiKind.ID_NUMBER, "1990 0101", "**** ****"),
        (PiiKind.ID_NUMBER, "352X", "****"),
        (PiiKind.ADDRESS, "三号楼", "[地址]"),
    ],
)
def test_a_fragment_shows_nothing(kind: PiiKind, piece: str, masked: str) -> None:
    assert mask_value(kind, piece, whole=False) == masked


def test_mask_text_masks_every_kind_and_keeps_the_rest() -> None:
    text = "我住阳光花园3号楼1单元601，电话139 1234 5678，物业费3500元，车牌粤B12345。"
    assert mask_text(text) == "我住[地址]，电话139****5678，物业费3500元，车牌粤B*****。"


def test_masked_kinds_in_enum_order() -> None:
    found = detect("车牌粤B12345，电话13912345678，电话13812345678")
    assert masked_kinds(found) == ["mobile", "plate"]
    assert masked_kinds([]) == []


def utterance(speaker: str, start: float, text: str, raw: str | None = None) -> dict:
    words = [{"start": start + i * 0.2, "end": start + (i + 1) * 0.2, "text": c, "probability": 0.9}
             for i, c in enumerate(text)]  # fmt: skip
    return {"start": start, "end": start + 0.2 * len(text), "speaker": speaker, "role": speaker, "text": text,
            "raw_text": raw if raw is not None else text, "words": words}  # fmt: skip


def test_mask_transcript_masks_text_raw_text_and_words() -> None:
    transcript = Transcript.from_dict(
        {
            "utterances": [
                utterance("customer", 0.0, "我的电话是幺三九。", raw="我的电话是 139。"),
                utterance("agent", 2.0, "嗯。"),
                utterance("customer", 2.6, "一二三四，", raw="1234，"),
                utterance("customer", 4.0, "五六七八。", raw="5678。"),
                utterance("customer", 6.0, "身份证号440305199001013521", raw="身份证号 440305 19900101 3521"),
            ]
        }
    )
    before = copy.deepcopy(transcript.to_dict())
    data, spans = mask_transcript(transcript)
    assert transcript.to_dict() == before  # the transcript itself is left alone
    assert spans == transcript_spans(transcript)
    texts = [u["text"] for u in data["utterances"]]
    assert texts == ["我的电话是***。", "嗯。", "****，", "****。", "身份证号4403**********3521"]
    raws = [u["raw_text"] for u in data["utterances"]]
    assert raws == ["我的电话是 ***。", "嗯。", "****，", "****。", "身份证号 4403**********3521"]
    first_words = data["utterances"][0]["words"]
    assert "".join(w["text"] for w in first_words) == "我的电话是***。"
    assert [w["start"] for w in first_words] == [w["start"] for w in before["utterances"][0]["words"]]
    for u in data["utterances"]:
        assert longest_digit_run(u["text"]) < 7 and longest_digit_run(u["raw_text"]) < 7
        assert longest_digit_run("".join(w["text"] for w in u["words"])) < 7
    # The reader sees none of the split number's digits.
    assert not any(c in CN_DIGITS for u in data["utterances"][:4] for c in u["text"])


def test_mask_transcript_without_words() -> None:
    transcript = Transcript.from_dict({"utterances": [utterance("customer", 0.0, "电话13912345678")]})
    data, spans = mask_transcript(transcript, words=False)
    assert "words" not in data["utterances"][0]
    assert data["utterances"][0]["text"] == "电话139****5678"
    assert [s.kind for s in spans] == [PiiKind.MOBILE]


# --- properties ----------------------------------------------------------------------------------------------

FILLER = st.text(
    alphabet=st.sampled_from(list("的了是我你他电话号码请问楼上水管漏物业费元块号十百一二三的，。 ")), max_size=8
)


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    return "1" + draw(st.sampled_from("3456789")) + draw(st.text(alphabet="0123456789", min_size=9, max_size=9))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["440305", "110101", "310104", "510107"]))
    birth = f"{draw(st.integers(1940, 2010))}{draw(st.integers(1, 12)):02d}{draw(st.integers(1, 28)):02d}"
    body = region + birth + f"{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@st.composite
def spoken(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as ASR may write them: Arabic, Chinese (幺 or 一), in groups with a separator."""
    script = draw(st.sampled_from(["arabic", "chinese", "yao"]))
    table = {"chinese": dict(zip("0123456789", CN_DIGITS, strict=True)),
             "yao": dict(zip("0123456789", "零幺二三四五六七八九", strict=True))}  # fmt: skip
    text = "".join(table[script].get(c, c) for c in digits) if script != "arabic" else digits
    cut = draw(st.sampled_from([0, 3, 4, 6]))
    if cut:
        sep = draw(st.sampled_from([" ", "-", "，", "、"]))
        text = sep.join(text[i : i + cut] for i in range(0, len(text), cut))
    return text


@settings(max_examples=200, deadline=None)
@given(data=st.data(), before=FILLER, after=FILLER)
def test_no_run_of_seven_digits_survives_masking(data: st.DataObject, before: str, after: str) -> None:
    digits = data.draw(st.one_of(mobiles(), id_numbers()))
    text = before + data.draw(spoken(digits)) + after
    masked = mask_text(text)
    assert longest_digit_run(masked) < 7, (text, masked)
    assert mask_text(masked) == masked  # idempotent


# At least two characters: one character between two runs of 3+ digits is read as a misheard digit, so those
# runs are one number (test_a_misheard_digit_does_not_split_a_number).
SAFE_FILLER = st.text(
    alphabet=st.sampled_from(list("的了是我你他电话请问上水管漏物业费元块号吗呢啊好")), min_size=2, max_size=6
)
SHORT_NUMBER = st.text(alphabet=st.sampled_from(list("0123456789" + CN_DIGITS + "幺两")), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.tuples(SAFE_FILLER, SHORT_NUMBER), max_size=6), tail=SAFE_FILLER)
def test_text_without_a_long_number_address_or_plate_is_unchanged(parts: list[tuple[str, str]], tail: str) -> None:
    text = "".join(f + n for f, n in parts) + tail
    assert longest_digit_run(text) < 7
    assert mask_text(text) == text


def test_a_misheard_digit_does_not_split_a_number() -> None:
    # The recognizer wrote 雕 for 幺 (13928461753): nine of eleven digits would otherwise stay readable.
    assert longest_digit_run(mask_text("雕三九二八四六，雕七五三")) == 0
    assert mask_text("我家三号楼一单元六零一") != "我家三号楼一单元六零一"  # still an address, not a number
    assert mask_text("二零二三年三月十五号来修的") == "二零二三年三月十五号来修的"  # a date stays
