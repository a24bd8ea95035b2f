"""The recording a reader without the ``pii`` permission gets: the call's audio with its personal-data spans
(``spans``, from the stored transcript) replaced by a tone (``audio``), produced once and cached.

After the retention purge removed the original, the latest cached masked recording is what remains (for
every reader); with neither, the recording is gone (``RecordingPurged``). A call without a transcript (not
processed yet, failed, or its transcript purged before anything was masked) cannot be masked (``NotMaskable``):
nothing is served rather than unmasked audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.errors import InspectorError
from inspector.privacy.audio import masked_recording
from inspector.privacy.spans import audio_spans, transcript_spans
from inspector.store.blobs import AudioStore
from inspector.store.calls import load_transcript
from inspector.store.schema import Call, MaskedAudio


class RecordingPurged(InspectorError):
    """The call's original recording was purged and no masked copy is kept."""


class NotMaskable(InspectorError):
    """The recording cannot be masked (no transcript to find personal data in)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MaskedRecording:
    path: Path
    sha256: str
    spans: int


def _latest_masked(session: Session, store: AudioStore, call: Call) -> MaskedRecording | None:
    query = select(MaskedAudio).where(MaskedAudio.call_id == call.id).order_by(MaskedAudio.created_at.desc())
    for row in session.scalars(query):
        if store.exists(row.masked_sha256):
            return MaskedRecording(store.local_path(row.masked_sha256), row.masked_sha256, row.spans)
    return None


def masked_recording_of(session: Session, store: AudioStore, call: Call) -> MaskedRecording:
    """The masked recording of ``call`` (cached in the audio store and the ``masked_audio`` table)."""
    if call.audio_purged_at is not None:
        kept = _latest_masked(session, store, call)
        if kept is None:
            raise RecordingPurged(f"通话 {call.id} 的录音已按保留期限删除")
        return kept
    transcript = load_transcript(session, call.id)
    if transcript is None:
        kept = _latest_masked(session, store, call)
        if kept is not None:
            return kept
        reason = "转写已删除，无法脱敏" if call.transcript_purged_at is not None else "尚未完成识别，无法脱敏"
        raise NotMaskable(reason)
    intervals = audio_spans(transcript_spans(transcript))
    path = masked_recording(session, store, call, intervals)
    return MaskedRecording(path, path.name.split(".")[0], len(intervals))
