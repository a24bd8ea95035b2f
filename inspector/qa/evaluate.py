"""Accuracy of the speech layer against hand-checked references (``inspector eval``).

A reference is a JSON file next to the recording, same stem (``call01.json`` for ``call01.wav``),
with ``utterances: [{start, end, role, text}]`` as in the transcript JSON (see ``transcript.py``);
other keys (``labels`` …) are ignored.

Metrics, all on ``normalize_for_cer`` text:

* CER — all utterances in time order, roles ignored.
* role CER — the same per role (agent text vs agent text, customer vs customer), summed: words
  credited to the wrong party count twice, once missing and once inserted.
* DER — pyannote.metrics with roles as speaker labels; pooled DER is the sum of error seconds over
  the sum of reference seconds (what pyannote's accumulated ``abs(metric)`` gives).
* dropped utterances — reference utterances whose words the hypothesis around them mostly lacks.
* role correct — the DER optimal mapping sends each hypothesis role to the same reference role
  (so a call with agent and customer swapped is wrong even though its DER can be 0).
* phrase recall — how often the domain phrases said in the call are recognized, and how often the
  recognizer produces one that was not said (the cost of biasing towards them).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate
from rapidfuzz.distance import LCSseq, Levenshtein

from inspector.errors import EvaluationError
from inspector.speech.audio import AUDIO_SUFFIXES
from inspector.speech.transcript import ROLES, Transcript, Utterance, format_time
from inspector.text.normalize import normalize_for_cer

STAGES = ("decode", "vad", "diarize", "asr", "total")
STAGE_NAMES_ZH = {"decode": "解码", "vad": "VAD", "diarize": "说话人分离", "asr": "识别", "total": "全流程"}
DROP_WINDOW_S = 1.0
DROP_RECOVERED_MIN = 0.3


# --- text metrics -------------------------------------------------------------------------------


def _errors(ref_norm: str, hyp_norm: str) -> tuple[int, int]:
    return Levenshtein.distance(ref_norm, hyp_norm), len(ref_norm)


def cer_counts(ref: str, hyp: str) -> tuple[int, int]:
    """(edit errors, reference length) between the normalized texts."""
    return _errors(normalize_for_cer(ref), normalize_for_cer(hyp))


def _joined(utterances: Sequence[Utterance]) -> str:
    """Normalized texts in time order; each utterance alone, so numerals never join across them."""
    ordered = sorted(utterances, key=lambda u: (u.start, u.end))
    return "".join(normalize_for_cer(u.text) for u in ordered)


def plain_cer(ref: Sequence[Utterance], hyp: Sequence[Utterance]) -> tuple[int, int]:
    """(errors, reference length) over all utterances in time order, roles ignored."""
    return _errors(_joined(ref), _joined(hyp))


def role_attributed_cer(ref: Sequence[Utterance], hyp: Sequence[Utterance]) -> tuple[int, int]:
    """(errors, reference length) summed over roles, each role's text compared with itself."""
    errors = length = 0
    for role in ROLES:
        ref_text = _joined([u for u in ref if u.role == role])
        e, n = _errors(ref_text, _joined([u for u in hyp if u.role == role]))
        errors += e
        length += n
    return errors, length


def _rate(errors: float, length: float) -> float:
    if length:
        return errors / length
    return 0.0 if not errors else math.inf


# --- diarization --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DerResult:
    """DER and its parts in seconds (``total`` = scored reference speech)."""

    der: float = 0.0
    confusion: float = 0.0
    missed: float = 0.0
    false_alarm: float = 0.0
    total: float = 0.0

    @property
    def error(self) -> float:
        return self.confusion + self.missed + self.false_alarm


def _annotation(utterances: Sequence[Utterance]) -> Annotation:
    annotation = Annotation()
    for i, u in enumerate(utterances):
        if u.end > u.start:
            annotation[Segment(u.start, u.end), i] = u.role
    return annotation


def _der_inputs(
    ref: Sequence[Utterance], hyp: Sequence[Utterance]
) -> tuple[Annotation, Annotation, Timeline]:
    end = max((u.end for u in (*ref, *hyp)), default=0.0)
    return _annotation(ref), _annotation(hyp), Timeline([Segment(0.0, end)] if end > 0 else [])


def diarization_error_rate(
    ref: Sequence[Utterance], hyp: Sequence[Utterance], collar: float = 0.25
) -> DerResult:
    """DER with roles as labels, ``collar`` seconds around reference boundaries not scored."""
    reference, hypothesis, uem = _der_inputs(ref, hyp)
    if not uem:
        return DerResult()
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    d = metric(reference, hypothesis, uem=uem, detailed=True)
    return DerResult(
        der=float(d["diarization error rate"]),
        confusion=float(d["confusion"]),
        missed=float(d["missed detection"]),
        false_alarm=float(d["false alarm"]),
        total=float(d["total"]),
    )


def roles_agree(ref: Sequence[Utterance], hyp: Sequence[Utterance]) -> bool:
    """True when the DER optimal mapping sends every hypothesis role to the same reference role
    (False when nothing could be mapped)."""
    reference, hypothesis, uem = _der_inputs(ref, hyp)
    if not uem:
        return False
    mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis, uem=uem)
    return bool(mapping) and all(h == r for h, r in mapping.items())


# --- dropped utterances -------------------------------------------------------------------------


def dropped_utterances(ref: Sequence[Utterance], hyp: Sequence[Utterance]) -> list[Utterance]:
    """Reference utterances of which the hypothesis within ±1 s recovers < 30 % of the characters.

    Recovered characters are the longest common subsequence of the reference utterance and the
    overlapping hypothesis text (= the matches of the best alignment). Utterances whose normalized
    text is empty are never dropped.
    """
    ordered_hyp = sorted(hyp, key=lambda u: (u.start, u.end))
    dropped: list[Utterance] = []
    for r in ref:
        ref_norm = normalize_for_cer(r.text)
        if not ref_norm:
            continue
        lo, hi = r.start - DROP_WINDOW_S, r.end + DROP_WINDOW_S
        near = "".join(normalize_for_cer(h.text) for h in ordered_hyp if h.start < hi and h.end > lo)
        if LCSseq.similarity(ref_norm, near) < DROP_RECOVERED_MIN * len(ref_norm):
            dropped.append(r)
    return dropped


# --- domain phrases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PhraseCounts:
    """Domain phrases: occurrences said (reference), recalled (≤ said), invented (found − said)."""

    said: int = 0
    recalled: int = 0
    invented: int = 0

    def __add__(self, other: PhraseCounts) -> PhraseCounts:
        return PhraseCounts(
            self.said + other.said, self.recalled + other.recalled, self.invented + other.invented
        )

    @property
    def recall(self) -> float | None:
        return self.recalled / self.said if self.said else None


def phrase_report(ref_text: str, hyp_text: str, phrases: Sequence[str]) -> PhraseCounts:
    """Count each (normalized, distinct) phrase in both texts (non-overlapping occurrences)."""
    ref_norm, hyp_norm = normalize_for_cer(ref_text), normalize_for_cer(hyp_text)
    said = recalled = invented = 0
    for phrase in dict.fromkeys(normalize_for_cer(p) for p in phrases):
        if not phrase:
            continue
        n_said, n_found = ref_norm.count(phrase), hyp_norm.count(phrase)
        said += n_said
        recalled += min(n_said, n_found)
        invented += max(0, n_found - n_said)
    return PhraseCounts(said, recalled, invented)


# --- references ---------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def load_reference(path: Path) -> Transcript:
    """Read and check a reference JSON; raise EvaluationError naming the file and the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvaluationError(f"{path}: 无法读取参考文件（{exc.strerror}）") from exc
    except UnicodeDecodeError as exc:
        raise EvaluationError(f"{path}: 参考文件不是 UTF-8 编码") from exc
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"{path}: JSON 语法错误（第 {exc.lineno} 行：{exc.msg}）") from exc
    if not isinstance(data, dict):
        raise EvaluationError(f"{path}: 顶层必须是对象")
    utterances = data.get("utterances")
    if not isinstance(utterances, list):
        raise EvaluationError(f"{path}: utterances 必须是列表")
    if "duration_s" in data and not (_number(data["duration_s"]) and data["duration_s"] >= 0):
        raise EvaluationError(f"{path}: duration_s 必须是非负数")
    for i, u in enumerate(utterances):
        where = f"{path}: utterances[{i}]"
        if not isinstance(u, dict):
            raise EvaluationError(f"{where} 必须是对象")
        for key in ("start", "end"):
            if not _number(u.get(key)) or u[key] < 0:
                raise EvaluationError(f"{where}.{key} 必须是非负数")
        if u["start"] > u["end"]:
            raise EvaluationError(f"{where}: start 不能大于 end")
        if u.get("role") not in ROLES:
            raise EvaluationError(f"{where}.role 必须是 agent 或 customer")
        if not isinstance(u.get("text"), str):
            raise EvaluationError(f"{where}.text 必须是字符串")
        if not isinstance(u.get("speaker", ""), str):
            raise EvaluationError(f"{where}.speaker 必须是字符串")
    return Transcript.from_dict(
        {
            "file": data.get("file", path.name),
            "duration_s": data.get("duration_s", 0.0),
            "utterances": [{k: u[k] for k in ("start", "end", "speaker", "role", "text") if k in u}
                           for u in utterances],
        }
    )


# --- running over a directory -------------------------------------------------------------------


@dataclass
class FileResult:
    file: str
    duration_s: float
    channels: int
    cer: float
    cer_errors: int
    ref_chars: int
    role_cer: float
    role_cer_errors: int
    der: DerResult
    n_ref_utterances: int
    n_dropped: int
    dropped_texts: list[str]
    role_correct: bool
    timings: dict[str, float]
    rtf: dict[str, float]  # stage seconds / duration, per stage in STAGES
    phrases: PhraseCounts


@dataclass
class EvalReport:
    files: list[FileResult]
    cer: float
    role_cer: float
    der: float  # pooled over all files
    der_mono: float | None  # pooled over mono files, None when there are none
    n_ref_utterances: int
    n_dropped: int
    rtf: dict[str, float]  # sum of stage seconds / sum of durations
    phrases: PhraseCounts = field(default_factory=PhraseCounts)


def evaluate_file(reference: Transcript, hypothesis: Transcript, phrases: Sequence[str] = ()) -> FileResult:
    """Score one transcript against its reference."""
    ref, hyp = reference.utterances, hypothesis.utterances
    errors, length = plain_cer(ref, hyp)
    role_errors, _ = role_attributed_cer(ref, hyp)
    dropped = dropped_utterances(ref, hyp)
    duration = reference.duration_s or hypothesis.duration_s
    timings = {stage: getattr(hypothesis.timings, f"{stage}_s") for stage in STAGES}
    return FileResult(
        file=hypothesis.file or reference.file,
        duration_s=duration,
        channels=hypothesis.channels,
        cer=_rate(errors, length),
        cer_errors=errors,
        ref_chars=length,
        role_cer=_rate(role_errors, length),
        role_cer_errors=role_errors,
        der=diarization_error_rate(ref, hyp),
        n_ref_utterances=len(ref),
        n_dropped=len(dropped),
        dropped_texts=[u.text for u in dropped],
        role_correct=roles_agree(ref, hyp),
        timings=timings,
        rtf={stage: _rate(seconds, duration) for stage, seconds in timings.items()},
        phrases=phrase_report("\n".join(u.text for u in ref), "\n".join(u.text for u in hyp), phrases),
    )


def _pooled_der(files: Sequence[FileResult]) -> float:
    return _rate(sum(f.der.error for f in files), sum(f.der.total for f in files))


def summarize(files: list[FileResult]) -> EvalReport:
    """Overall numbers: error sums over reference sums, stage seconds over total duration."""
    ref_chars = sum(f.ref_chars for f in files)
    duration = sum(f.duration_s for f in files)
    mono = [f for f in files if f.channels == 1]
    return EvalReport(
        files=files,
        cer=_rate(sum(f.cer_errors for f in files), ref_chars),
        role_cer=_rate(sum(f.role_cer_errors for f in files), ref_chars),
        der=_pooled_der(files),
        der_mono=_pooled_der(mono) if mono else None,
        n_ref_utterances=sum(f.n_ref_utterances for f in files),
        n_dropped=sum(f.n_dropped for f in files),
        rtf={s: _rate(sum(f.timings[s] for f in files), duration) for s in STAGES},
        phrases=sum((f.phrases for f in files), PhraseCounts()),
    )


def find_pairs(directory: Path) -> list[tuple[Path, Path]]:
    """(audio, reference) for each audio file in ``directory`` with a sibling ``.json``."""
    if not directory.is_dir():
        raise EvaluationError(f"{directory}: 评测目录不存在")
    pairs = [
        (p, p.with_suffix(".json"))
        for p in sorted(directory.iterdir())
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and p.with_suffix(".json").is_file()
    ]
    if not pairs:
        raise EvaluationError(f"{directory}: 没有带参考文件（同名 .json）的录音")
    return pairs


def evaluate_dir(
    directory: Path, transcribe: Callable[[Path], Transcript], phrases: Sequence[str] = ()
) -> EvalReport:
    """Transcribe every referenced recording in ``directory`` and score it.

    All references are checked before the first (slow) transcription.
    """
    pairs = find_pairs(directory)
    references = [load_reference(ref_path) for _, ref_path in pairs]
    files = [
        evaluate_file(reference, transcribe(audio), phrases)
        for (audio, _), reference in zip(pairs, references, strict=True)
    ]
    return summarize(files)


# --- output -------------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int, left: bool = False) -> str:
    pad = " " * max(0, width - _width(text))
    return text + pad if left else pad + text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def format_report(report: EvalReport) -> str:
    """A fixed-width table for people: one row per file, the overall row, then RTF per stage."""
    name_w = max(_width("总体"), *(_width(f.file) for f in report.files))
    widths = (name_w, 9, 7, 8, 7, 14, 9, 7)
    headers = ("文件", "时长", "CER", "角色CER", "DER", "丢失/参考句数", "角色正确", "RTF")

    def row(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(_cell(c, w, left=(i == 0)) for i, (c, w) in pairs)

    lines = [row(headers), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    for f in report.files:
        lines.append(row((
            f.file, format_time(f.duration_s), _pct(f.cer), _pct(f.role_cer), _pct(f.der.der),
            f"{f.n_dropped}/{f.n_ref_utterances}", "是" if f.role_correct else "否", f"{f.rtf['total']:.3f}",
        )))
    n_correct = sum(f.role_correct for f in report.files)
    lines.append("-" * len(lines[1]))
    lines.append(row((
        "总体", format_time(sum(f.duration_s for f in report.files)), _pct(report.cer), _pct(report.role_cer),
        _pct(report.der), f"{report.n_dropped}/{report.n_ref_utterances}",
        f"{n_correct}/{len(report.files)}", f"{report.rtf['total']:.3f}",
    )))
    lines.append("")
    lines.append(f"DER（单声道文件）：{_pct(report.der_mono)}")
    lines.append("各阶段 RTF：" + "　".join(f"{STAGE_NAMES_ZH[s]} {report.rtf[s]:.3f}" for s in STAGES))
    p = report.phrases
    if p.said or p.invented:
        lines.append(f"领域词召回：{p.recalled}/{p.said}（{_pct(p.recall)}）　误识别出的领域词：{p.invented}")
    dropped = [(f.file, t) for f in report.files for t in f.dropped_texts]
    if dropped:
        lines.append("")
        lines.append("丢失的参考句：")
        lines += [f"  {file}：{text}" for file, text in dropped]
    return "\n".join(lines)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def report_to_dict(report: EvalReport) -> dict[str, Any]:
    """The report as JSON-ready data (``inspector eval --format json``); floats rounded to 4 places."""
    data = asdict(report)
    data["phrases"]["recall"] = report.phrases.recall
    for f, d in zip(report.files, data["files"], strict=True):
        d["phrases"]["recall"] = f.phrases.recall
    return _rounded(data)
