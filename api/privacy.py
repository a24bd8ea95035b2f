"""Personal data on the API's surfaces: masked for every reader by default, revealed on request and audited.

Who may reveal is decided in ``api.deps`` (``pii_revealed``); this module only applies the decision:

- ``mask_tree`` masks the words heard on a call wherever a response quotes them (finding quotes, emotion
  peaks, alert reasons), with ``inspector.privacy.masking.mask_text``.
- ``transcript_view`` gives a stored transcript masked (text, raw text and the words under each detected span)
  or, for a reveal, as stored, with the kinds of personal data it holds.
- ``audit_reveal`` writes one audit entry per reveal: who, when, which call, which surface, which kinds.

The stored analysis and transcript are never changed: rules match the original text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import Principal
from api.errors import ApiError
from api.state import AppState
from inspector.privacy import recording
from inspector.privacy.masking import mask_text, mask_transcript
from inspector.privacy.spans import PiiSpan, transcript_spans
from inspector.speech.transcript import Transcript
from inspector.store import audit
from inspector.store.calls import load_transcript
from inspector.store.schema import AuditEntry, Call

REVEAL_ACTION = "pii.reveal"

# Keys whose string values (or lists of strings) quote what was said on a call.
_QUOTED_KEYS = frozenset(
    {"text", "raw_text", "quote", "alert_reasons", "reasons", "description", "comment", "reason", "note", "resolution"}
)


def mask_tree(value: Any, quoted: bool = False) -> Any:
    """A copy of a JSON-like value with every quoted string (``_QUOTED_KEYS``) masked."""
    if isinstance(value, dict):
        return {k: mask_tree(v, quoted=k in _QUOTED_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_tree(v, quoted) for v in value]
    if quoted and isinstance(value, str):
        return mask_text(value)
    return value


def mask_strings(values: list[str]) -> list[str]:
    return [mask_text(v) for v in values]


def kinds_of(spans: list[PiiSpan]) -> list[str]:
    return sorted({str(s.kind) for s in spans})


def transcript_view(transcript: Transcript, words: bool, reveal: bool) -> tuple[dict[str, Any], list[str]]:
    """The transcript as the API returns it (masked unless ``reveal``) and the kinds of personal data in it."""
    if reveal:
        return transcript.to_dict(words=words), kinds_of(transcript_spans(transcript))
    data, spans = mask_transcript(transcript, words=words)
    return data, kinds_of(spans)


def audit_reveal(
    session: Session, principal: Principal, call_id: str, surface: str, kinds: list[str], entity: str = "call"
) -> None:
    """Record that ``principal`` saw ``call_id``'s personal data unmasked on ``surface`` (``entity``: what
    ``call_id`` names; a list of several calls' data names its query instead, e.g. ``owners``)."""
    audit.record(session, actor=principal.actor, role=principal.role, action=REVEAL_ACTION, entity=entity,
                 entity_id=call_id, after={"surface": surface, "kinds": kinds})  # fmt: skip


def reveals(session: Session, limit: int, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """The reveal entries of the audit log, newest first, and their number."""
    where = AuditEntry.action == REVEAL_ACTION
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
    query = select(AuditEntry).where(where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(session.scalars(query.offset(offset).limit(limit))), total


def stored_transcript(session: Session, call: Call) -> Transcript:
    """The call's stored transcript, or 404 (not ready yet, or purged by the retention policy)."""
    if call.transcript_purged_at is not None:
        raise ApiError(410, "transcript_purged", f"通话 {call.id} 的转写已按保留期限删除（评分与检查结果仍保留）",
                       call_id=call.id)  # fmt: skip
    transcript = load_transcript(session, call.id)
    if transcript is None:
        raise ApiError(404, "transcript_not_ready", f"通话 {call.id} 尚无转写结果（状态：{call.status}）",
                       call_id=call.id, status=call.status)  # fmt: skip
    return transcript


def first_bytes(range_header: str | None) -> bool:
    """Whether a request reads the recording from its start (a player's later Range requests are not)."""
    return range_header is None or range_header.replace(" ", "").startswith("bytes=0-")


def recording_for(
    state: AppState, session: Session, principal: Principal, call: Call, revealed: bool, first_request: bool = True
) -> tuple[Path, str]:
    """The recording this reader gets and its ETag: the original for a reveal (audited once per playback),
    else the masked recording (personal-data spans replaced by a tone), produced on first request and cached."""
    try:
        if revealed and call.audio_purged_at is None:
            path = state.audio.local_path(call.audio_sha256)
            if first_request:
                transcript = load_transcript(session, call.id)
                kinds = [] if transcript is None else kinds_of(transcript_spans(transcript))
                audit_reveal(session, principal, call.id, "audio", kinds)
            return path, call.audio_sha256
        masked = recording.masked_recording_of(session, state.audio, call)
    except FileNotFoundError:
        raise ApiError(404, "audio_not_found", f"通话 {call.id} 的录音文件不在录音库中", call_id=call.id) from None
    except recording.RecordingPurged:
        raise ApiError(410, "audio_purged", f"通话 {call.id} 的录音已按保留期限删除（评分与检查结果仍保留）",
                       call_id=call.id) from None  # fmt: skip
    except recording.NotMaskable as e:
        raise ApiError(409, "audio_not_maskable", f"通话 {call.id} 的录音暂不能提供：{e.reason}",
                       call_id=call.id, status=call.status) from None  # fmt: skip
    return masked.path, masked.sha256
