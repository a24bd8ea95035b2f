"""Result types of the speech layer and their JSON form (documented once, here).

JSON of one transcribed file (``inspector transcribe --format json``, one object per line)::

    {"file", "duration_s", "channels", "sample_rate",
     "utterances": [{"start", "end", "speaker", "role", "text", "raw_text", "confidence", "flags",
                     "words": [{"start", "end", "text", "probability"}]}],
     "diarization": {"method", "role_confidence", "agent_speaker", "speakers", "evidence"},
     "timings": {"decode_s", "vad_s", "diarize_s", "asr_s", "total_s", "rtf"}}

``role`` is exactly ``"agent"`` or ``"customer"``. Times are seconds from the start of the file.
``confidence`` (0-1) comes from the recognizer's word probabilities (absent: 1, a transcript from
elsewhere is taken as certain; rules then find nothing uncertain); ``flags`` (``UtteranceFlag``)
say why an utterance deserves less trust: ``unheard`` = speech was detected but gave no text (the
utterance has empty text and confidence 0); ``overlap`` = on a mono recording both parties talked
at once over some of its words (``inspector.speech.overlap``: those words' probabilities are halved,
and at a change of speaker the two utterances are stretched to overlap in time as the voices did).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from inspector.vocab import LABELS, SpeakerRole, UtteranceFlag

Role = Literal["agent", "customer"]
ROLES: tuple[Role, Role] = ("agent", "customer")
ROLE_NAMES_ZH: dict[str, str] = LABELS[SpeakerRole]


FLAG_NAMES_ZH: dict[str, str] = LABELS[UtteranceFlag]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


@dataclass
class Utterance:
    start: float
    end: float
    speaker: str
    role: Role
    text: str
    raw_text: str = ""
    # 0-1 from the recognizer's word probabilities; an utterance that states none (hand-made, a
    # reference) is certain. Unheard speech is 0.
    confidence: float = 1.0
    words: list[Word] = field(default_factory=list)
    flags: list[UtteranceFlag] = field(default_factory=list)


def heard(utterances: Iterable[Utterance]) -> list[Utterance]:
    """The utterances with recognized text (not ``unheard``): what rules, metrics and role decisions
    read; an unheard stretch says nothing about what was said, or by whom."""
    return [u for u in utterances if UtteranceFlag.UNHEARD not in u.flags]


@dataclass
class Diarization:
    """How speakers were found and how sure we are which one is the agent."""

    method: Literal["channels", "embedding", "pyannote", "single"]
    role_confidence: float
    agent_speaker: str
    speakers: list[str]
    # Human-readable reasons for the role decision (phrases found, fallback used).
    evidence: list[str] = field(default_factory=list)


@dataclass
class Timings:
    decode_s: float = 0.0
    vad_s: float = 0.0
    diarize_s: float = 0.0
    asr_s: float = 0.0
    total_s: float = 0.0
    rtf: float = 0.0


@dataclass
class Transcript:
    file: str
    duration_s: float
    channels: int
    sample_rate: int
    utterances: list[Utterance]
    diarization: Diarization
    timings: Timings = field(default_factory=Timings)
    language: str = "zh"

    def recognized(self) -> list[Utterance]:
        """The utterances with recognized text. Rules and call metrics score only these: an
        ``unheard`` stretch (speech without text, or noise VAD took for speech) is shown to people,
        never scored as talk, silence or overlap."""
        return heard(self.utterances)

    def to_dict(self, words: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        for utt in data["utterances"]:
            utt["start"] = round(utt["start"], 3)
            utt["end"] = round(utt["end"], 3)
            utt["confidence"] = round(utt["confidence"], 3)
            utt["flags"] = [str(f) for f in utt["flags"]]
            if words:
                for w in utt["words"]:
                    w["start"] = round(w["start"], 3)
                    w["end"] = round(w["end"], 3)
                    w["probability"] = round(w["probability"], 3)
            else:
                del utt["words"]
        data["diarization"]["role_confidence"] = round(self.diarization.role_confidence, 3)
        data["timings"] = {k: round(v, 3) for k, v in data["timings"].items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        utterances = [
            Utterance(
                start=float(u["start"]),
                end=float(u["end"]),
                speaker=str(u.get("speaker", u["role"])),
                role=u["role"],
                text=u["text"],
                raw_text=u.get("raw_text", u["text"]),
                # A transcript from elsewhere (a reference, another recognizer) that states no confidence
                # is taken as certain: nothing says its words are doubtful.
                confidence=float(u.get("confidence", 1.0)),
                words=[Word(**w) for w in u.get("words", [])],
                flags=[UtteranceFlag(f) for f in u.get("flags", []) if f in UtteranceFlag._value2member_map_],
            )
            for u in data["utterances"]
        ]
        d = data.get("diarization") or {}
        diarization = Diarization(
            method=d.get("method", "channels"),
            role_confidence=float(d.get("role_confidence", 1.0)),
            agent_speaker=d.get("agent_speaker", "agent"),
            speakers=list(d.get("speakers", ["agent", "customer"])),
            evidence=list(d.get("evidence", [])),
        )
        return cls(
            file=data.get("file", ""),
            duration_s=float(data.get("duration_s", 0.0)),
            channels=int(data.get("channels", 1)),
            sample_rate=int(data.get("sample_rate", 8000)),
            utterances=utterances,
            diarization=diarization,
            timings=Timings(**data.get("timings", {})),
            language=data.get("language", "zh"),
        )


def format_time(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{secs:05.2f}"


def to_text(transcript: Transcript) -> str:
    """A readable transcript in Chinese: one line per utterance with time and role."""
    d = transcript.diarization
    method_zh = {"channels": "双声道分轨", "embedding": "声纹聚类", "pyannote": "pyannote", "single": "单一说话人"}
    lines = [
        f"文件：{transcript.file}",
        f"时长：{format_time(transcript.duration_s)}　声道：{transcript.channels}　采样率：{transcript.sample_rate} Hz",
        f"说话人分离：{method_zh.get(d.method, d.method)}　角色判定置信度：{d.role_confidence:.2f}",
        "",
    ]
    for u in transcript.utterances:
        note = "（" + "；".join(FLAG_NAMES_ZH[f] for f in u.flags) + "）" if u.flags else ""
        lines.append(
            f"[{format_time(u.start)} - {format_time(u.end)}] {ROLE_NAMES_ZH[u.role]}：{u.text}{note}"
        )
    return "\n".join(lines)
