"""Calls: registration (deduplicated by audio hash), the status machine, results and the daily rollup.

Status machine (``CallStatus``)::

    queued ──claim──▶ processing ──store_result──▶ done
       ▲                  │  lease runs out (worker died) → reclaimable
       └──── requeue ◀── failed ◀──mark_failed──┘

Every write is idempotent: a result for the same (call, rule set) replaces the earlier one, utterances
are replaced as a whole, and the rollup is recomputed from the analyses, never incremented.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from inspector.errors import ErrorKind, InspectorError
from inspector.qa.analysis import CallAnalysis
from inspector.qa.analysis import to_dict as analysis_to_dict
from inspector.qa.deductions import pattern_of
from inspector.speech.transcript import Transcript
from inspector.store import memberships
from inspector.store.db import chunks, utcnow
from inspector.store.schema import (
    Agent,
    AgentDay,
    Analysis,
    Call,
    HitVerdict,
    Team,
    TranscriptRecord,
    UtteranceRecord,
)
from inspector.vocab import CallStatus


class CallConflict(InspectorError):
    """A call id already used by a different recording."""

    code = "call_id_conflict"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True)
class NewCall:
    audio_sha256: str
    audio_bytes: int
    audio_name: str
    source: str  # "upload" | "import"
    agent_id: str
    call_id: str | None = None
    started_at: datetime | None = None  # aware, or naive UTC
    direction: str | None = None
    caller: str | None = None
    duration_s: float | None = None
    team_id: str | None = None
    agent_name: str | None = None
    # Where the call is about, already normalized (inspector.intake.location); source "metadata" or "transcript".
    project: str | None = None
    building: str | None = None
    unit: str | None = None
    location_source: str | None = None
    location_confidence: float | None = None


@dataclass(frozen=True)
class Registered:
    call_id: str
    created: bool  # False: the same recording was already a call (returned as is)
    status: str
    error: str | None = None  # set when the call could not be registered (e.g. call id conflict)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def local_day(started_at_utc: datetime | None, tz: tzinfo) -> date | None:
    if started_at_utc is None:
        return None
    return started_at_utc.replace(tzinfo=UTC).astimezone(tz).date()



def ensure_agents(
    session: Session, agents: dict[str, tuple[str | None, str | None]], today: date | None = None
) -> None:
    """Create missing agents (id → (name, team)); fill in the team/name of known ones when given.

    A known agent whose metadata names another team is moved to it from ``today`` (the local date; the UTC
    date when not given), so its figures before stay with the team it was in (``memberships.move_agent``)."""
    if not agents:
        return
    ids = list(agents)
    known: dict[str, Agent] = {}
    for chunk in chunks(ids):
        known.update({a.id: a for a in session.scalars(select(Agent).where(Agent.id.in_(chunk)))})
    teams = {team for _, team in agents.values() if team}
    if teams:
        have = set(session.scalars(select(Team.id).where(Team.id.in_(list(teams)))))
        session.add_all(Team(id=t, name=t) for t in sorted(teams - have))
        session.flush()
    now = utcnow()
    for agent_id, (name, team) in agents.items():
        agent = known.get(agent_id)
        if agent is None:
            session.add(Agent(id=agent_id, name=name or "", team_id=team, created_at=now))
        else:
            if team and agent.team_id != team:
                day = today or now.date()
                memberships.move_agent(session, agent_id, team, day, day, actor="metadata")
            if name and agent.name != name:
                agent.name = name
    session.flush()


def register_calls(session: Session, new_calls: Sequence[NewCall], tz: tzinfo) -> list[Registered]:
    """Register recordings as queued calls. The same audio (sha256) already stored is returned as is."""
    by_sha: dict[str, Call] = {}
    shas = list({c.audio_sha256 for c in new_calls})
    for chunk in chunks(shas):
        by_sha.update({c.audio_sha256: c for c in session.scalars(select(Call).where(Call.audio_sha256.in_(chunk)))})
    wanted_ids = [c.call_id for c in new_calls if c.call_id]
    taken: set[str] = set()
    for chunk in chunks(wanted_ids):
        taken.update(session.scalars(select(Call.id).where(Call.id.in_(chunk))))

    now = utcnow()
    results: list[Registered] = []
    rows: list[dict[str, Any]] = []
    agents: dict[str, tuple[str | None, str | None]] = {}
    for new in new_calls:
        existing = by_sha.get(new.audio_sha256)
        if existing is not None:
            results.append(Registered(existing.id, False, existing.status))
            continue
        call_id = new.call_id or uuid.uuid4().hex
        if call_id in taken:
            results.append(Registered(call_id, False, "", f"通话编号 {call_id} 已被另一段录音使用"))
            continue
        taken.add(call_id)
        started = _naive_utc(new.started_at)
        row = {
            "id": call_id,
            "agent_id": new.agent_id,
            "started_at": started,
            "day": local_day(started or now, tz),  # no start time from the PBX: the day it arrived
            "direction": new.direction,
            "caller": new.caller,
            "duration_s": new.duration_s,
            "audio_sha256": new.audio_sha256,
            "audio_bytes": new.audio_bytes,
            "audio_name": new.audio_name[:500],
            "source": new.source,
            "status": CallStatus.QUEUED.value,
            "error": None,
            "attempts": 0,
            "job_id": None,
            "lease_until": None,
            "created_at": now,
            "updated_at": now,
            "finished_at": None,
            "analysis_id": None,
            "score": None,
            "alert": None,
            "fatal": None,
            "project": new.project,
            "building": new.building,
            "unit": new.unit,
            "location_source": new.location_source,
            "location_confidence": new.location_confidence,
        }
        rows.append(row)
        placeholder = Call(**row)
        by_sha[new.audio_sha256] = placeholder  # the same audio twice in one batch is one call
        agents.setdefault(new.agent_id, (new.agent_name, new.team_id))
        results.append(Registered(call_id, True, CallStatus.QUEUED.value))
    if rows:
        ensure_agents(session, agents, today=local_day(now, tz))
        session.execute(Call.__table__.insert(), rows)
    return results


def get_call(session: Session, call_id: str) -> Call | None:
    return session.get(Call, call_id)


def claim(session: Session, call_id: str, lease_s: float) -> Call | None:
    """Take a queued call (or one whose worker's lease ran out) for processing; None if not claimable."""
    now = utcnow()
    claimable = or_(
        Call.status == CallStatus.QUEUED.value,
        and_(Call.status == CallStatus.PROCESSING.value, or_(Call.lease_until.is_(None), Call.lease_until < now)),
    )
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, claimable)
        .values(
            status=CallStatus.PROCESSING.value,
            lease_until=now + timedelta(seconds=lease_s),
            attempts=Call.attempts + 1,
            updated_at=now,
            error=None,
        )
    )
    if result.rowcount != 1:
        return None
    call = session.get(Call, call_id)
    if call is not None:
        session.refresh(call)
    return call


def _analysis_row(analysis: CallAnalysis) -> dict[str, Any]:
    data = analysis_to_dict(analysis)
    score = data["score"]
    return {
        "total": float(score["total"]),
        "alert": score["alert"],
        "fatal": bool(score["fatal"]),
        "score": score,
        "checks": data["checks"],
        "hits": data["hits"],
        "deducted": pattern_of(data["hits"]),
        "emotion": data["emotion"],
        "topics": data["topics"],
        "metrics": data["metrics"],
    }


def save_transcript(session: Session, call_id: str, transcript: Transcript) -> None:
    """Store (or replace) a call's transcript and its utterance rows."""
    now = utcnow()
    session.execute(delete(UtteranceRecord).where(UtteranceRecord.call_id == call_id))
    record = session.get(TranscriptRecord, call_id)
    data = transcript.to_dict(words=True)
    if record is None:
        session.add(TranscriptRecord(call_id=call_id, data=data, created_at=now))
    else:
        record.data = data
        record.created_at = now
    session.add_all(
        UtteranceRecord(
            call_id=call_id,
            idx=i,
            start=u.start,
            end=u.end,
            speaker=u.speaker,
            role=u.role,
            text=u.text,
            confidence=u.confidence,
        )
        for i, u in enumerate(transcript.utterances)
    )
    session.flush()


def load_transcript(session: Session, call_id: str) -> Transcript | None:
    record = session.get(TranscriptRecord, call_id)
    return None if record is None else Transcript.from_dict(record.data)


def save_analysis(session: Session, call: Call, analysis: CallAnalysis, rule_set_id: int, current: bool) -> Analysis:
    """Store the analysis of ``call`` by rule set ``rule_set_id`` (replacing an earlier one of the same pair).

    ``current``: make it the call's current analysis (score/alert copied onto the call, rollup refreshed).
    """
    row = _analysis_row(analysis)
    existing = session.scalars(
        select(Analysis).where(Analysis.call_id == call.id, Analysis.rule_set_id == rule_set_id)
    ).one_or_none()
    if existing is None:
        existing = Analysis(call_id=call.id, rule_set_id=rule_set_id, created_at=utcnow(), **row)
        session.add(existing)
    else:
        for key, value in row.items():
            setattr(existing, key, value)
        existing.created_at = utcnow()
    session.flush()
    if current:
        call.analysis_id = existing.id
        call.score = effective_score(existing)
        call.alert = existing.alert
        call.fatal = existing.fatal
        call.updated_at = utcnow()
        session.flush()
        refresh_agent_days(session, {(call.agent_id, call.day)})
    return existing


def effective_score(analysis: Analysis) -> float:
    """The score that counts: a reviewer's (复核/申诉) when there is one, else the machine's."""
    return analysis.reviewed_total if analysis.reviewed_total is not None else analysis.total


def finish(session: Session, call: Call) -> None:
    now = utcnow()
    call.status = CallStatus.DONE.value
    call.error = None
    call.lease_until = None
    call.finished_at = now
    call.updated_at = now
    session.flush()


def mark_failed(session: Session, call_id: str, error: str) -> None:
    now = utcnow()
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status != CallStatus.DONE.value)
        .values(status=CallStatus.FAILED.value, error=error[:4000], lease_until=None, updated_at=now, finished_at=now)
    )


def requeue(session: Session, call_ids: Sequence[str], reset_attempts: bool = False) -> list[str]:
    """Put calls back to queued (failed ones, or stuck ones found by the reconciler); returns those changed."""
    changed: list[str] = []
    now = utcnow()
    for chunk in chunks(list(call_ids)):
        values: dict[str, Any] = {
            "status": CallStatus.QUEUED.value,
            "lease_until": None,
            "updated_at": now,
            "job_id": None,
        }
        if reset_attempts:
            values["attempts"] = 0
        # A call whose recording the retention policy purged cannot be processed again.
        query = select(Call.id).where(Call.id.in_(chunk), Call.status != CallStatus.DONE.value,
                                      Call.audio_purged_at.is_(None))  # fmt: skip
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(Call).where(Call.id.in_(ids)).values(**values))
            changed.extend(ids)
    return changed


# --- rollup --------------------------------------------------------------------------------------


def refresh_agent_days(session: Session, keys: set[tuple[str, date | None]]) -> None:
    """Recompute ``agent_days`` rows for (agent, day) pairs from the calls' current analyses."""
    keys = {k for k in keys if k[1] is not None}
    if not keys:
        return
    by_agent: dict[str, list[date]] = {}
    for agent_id, day in sorted(keys):  # type: ignore[arg-type]
        by_agent.setdefault(agent_id, []).append(day)  # type: ignore[arg-type]
    spans = memberships.spans_of(session, by_agent)  # each day's rows carry the team of that day
    # One agent at a time, so both SQLite and PostgreSQL use ix_calls_agent_day (a row-value IN over many
    # pairs makes SQLite scan every call).
    for agent_id, agent_days in by_agent.items():
        session.execute(delete(AgentDay).where(AgentDay.agent_id == agent_id, AgentDay.day.in_(agent_days)))
        rows = session.execute(
            select(
                Analysis.id,
                Call.agent_id,
                Call.day,
                func.coalesce(Analysis.reviewed_total, Analysis.total),
                Analysis.alert,
                Analysis.fatal,
                Analysis.score,
                Analysis.checks,
                Analysis.hits,
                Call.repeated,
            )
            .join(Analysis, Analysis.id == Call.analysis_id)
            .where(Call.agent_id == agent_id, Call.day.in_(agent_days))
        ).all()
        # Findings a reviewer rejected (复核驳回 / accepted appeals) are not counted as missed rules; an
        # uncertain finding counts as missed once confirmed, and until a verdict as uncertain.
        verdicts: dict[tuple[int, int], str] = {}
        if rows:
            verdicts = {(a, i): v for a, i, v in session.execute(
                select(HitVerdict.analysis_id, HitVerdict.hit_index, HitVerdict.verdict).where(
                    HitVerdict.analysis_id.in_([r[0] for r in rows]))
            )}  # fmt: skip
        days: dict[tuple[str, date], dict[str, Any]] = {}
        for analysis_id, agent, day, total, alert, fatal, score, checks, hits, repeated in rows:
            acc = days.setdefault(
                (agent, day),
                {
                    "calls": 0,
                    "score_sum": 0.0,
                    "red": 0,
                    "yellow": 0,
                    "blue": 0,
                    "fatal": 0,
                    "uncertain": 0,
                    "dimensions": {},
                    "checks": {},
                    "missed": {},
                    "repeated": 0,
                },
            )
            acc["calls"] += 1
            acc["repeated"] += int(bool(repeated))
            acc["score_sum"] += total
            if alert in ("red", "yellow", "blue"):
                acc[alert] += 1
            acc["fatal"] += int(bool(fatal))
            for dim, value in (score.get("dimensions") or {}).items():
                acc["dimensions"][dim] = acc["dimensions"].get(dim, 0.0) + float(value.get("score", 0.0))
            for category, happened in (checks or {}).items():
                acc["checks"][category] = acc["checks"].get(category, 0) + int(bool(happened))
            deducted: set[str] = set()
            pending = False
            for i, h in enumerate(hits or ()):
                verdict = verdicts.get((analysis_id, i))
                if verdict == "rejected":
                    continue
                if h.get("uncertain") and verdict != "confirmed":
                    pending = True
                elif h.get("points", 0) < 0:
                    deducted.add(h["rule_id"])
            acc["uncertain"] += int(pending)
            for rule_id in deducted:
                acc["missed"][rule_id] = acc["missed"].get(rule_id, 0) + 1
        session.add_all(
            AgentDay(agent_id=a, day=d, team_id=memberships.team_on(spans.get(a, []), d), **acc)
            for (a, d), acc in days.items()
        )
    session.flush()


def count_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Call.status, func.count()).group_by(Call.status)).all())  # type: ignore[arg-type]
