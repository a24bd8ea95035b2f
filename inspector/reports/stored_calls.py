"""The QA analysis of calls already processed, read back from the database for their report: each done
call's stored transcript scored again by the rule set of its current analysis (the same bundle, the same
code, so the same findings the worker stored, with their names and reasons, which the stored hits do
not keep). Nothing is transcribed: speech recognition ran once, in the worker or ``import --inline``.
The report names a call by the file name it arrived with and its agent, not by the audio store's path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspector.errors import ErrorKind, InspectorError
from inspector.qa.analysis import Analyzer, CallAnalysis
from inspector.settings import Settings
from inspector.store import rulesets
from inspector.store.calls import load_transcript
from inspector.store.db import Database
from inspector.store.schema import Analysis, Call, RuleSetRecord
from inspector.vocab import CallStatus, label

BATCH = 200  # calls read per database session


class CallNotFound(InspectorError):
    """A call id that names no call."""

    code = "call_not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, call_id: str) -> None:
        super().__init__(f"通话 {call_id} 不存在")


class CallNotAnalyzed(InspectorError):
    """A call without a QA result yet (queued, processing or failed)."""

    code = "call_not_analyzed"
    kind = ErrorKind.CONFLICT

    def __init__(self, call_id: str, status: str) -> None:
        super().__init__(f"通话 {call_id} 尚无质检结果（状态：{label(status, CallStatus)}）")


class TranscriptPurged(InspectorError):
    """A call whose transcript the retention policy removed: its stored score stands, no report can be rebuilt."""

    code = "transcript_purged"
    kind = ErrorKind.CONFLICT

    def __init__(self, call_id: str) -> None:
        super().__init__(f"通话 {call_id} 的转写已按保留期限删除（评分与检查结果仍保留），无法重新生成报告")


def done_call_ids(session: Session) -> list[str]:
    """Every call with a QA result and its transcript (not purged), by start time (arrival time when the PBX
    gave none), then file name."""
    when = func.coalesce(Call.started_at, Call.created_at)
    query = select(Call.id).where(
        Call.status == CallStatus.DONE, Call.analysis_id.is_not(None), Call.transcript_purged_at.is_(None)
    )
    return list(session.scalars(query.order_by(when, Call.audio_name, Call.id)))


def stored_analyses(
    db: Database, settings: Settings, call_ids: Sequence[str] | None = None
) -> Iterator[tuple[str, CallAnalysis | InspectorError]]:
    """(call id, its analysis, or why there is none) for ``call_ids`` in order, or for every done call."""
    analyzers = _Analyzers(settings)
    if call_ids is None:
        with db.session() as session:
            call_ids = done_call_ids(session)
    for start in range(0, len(call_ids), BATCH):
        with db.session() as session:
            batch = [(call_id, _analysis(session, analyzers, call_id)) for call_id in call_ids[start : start + BATCH]]
        yield from batch


class _Analyzers:
    """One ``Analyzer`` per stored rule set, materialized where the workers materialize them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_id: dict[int, Analyzer] = {}

    def get(self, record: RuleSetRecord) -> Analyzer:
        analyzer = self._by_id.get(record.id)
        if analyzer is None:
            folder = rulesets.materialize(record, self.settings.data_dir / "rulesets")
            analyzer = self._by_id[record.id] = Analyzer(self.settings, folder)
        return analyzer


def _analysis(session: Session, analyzers: _Analyzers, call_id: str) -> CallAnalysis | InspectorError:
    call = session.get(Call, call_id)
    if call is None:
        return CallNotFound(call_id)
    stored = session.get(Analysis, call.analysis_id) if call.analysis_id is not None else None
    if call.transcript_purged_at is not None:
        return TranscriptPurged(call.id)
    transcript = load_transcript(session, call.id)
    if call.status != CallStatus.DONE or stored is None or transcript is None:
        return CallNotAnalyzed(call.id, call.status)
    record = session.get(RuleSetRecord, stored.rule_set_id)
    if record is None:  # the foreign key keeps it; a database edited by hand may not
        return CallNotAnalyzed(call.id, call.status)
    transcript.file = call.audio_name  # not the audio store's path
    try:
        return analyzers.get(record).analyze_transcript(transcript, call.agent_id)
    except InspectorError as err:  # e.g. a rule regex that times out on this call
        return err
