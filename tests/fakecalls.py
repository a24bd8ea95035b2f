"""Hand-made transcripts for tests that score calls without audio (imported by test modules in tests/)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from inspector.speech.transcript import Diarization, Transcript, Utterance

TZ = ZoneInfo("Asia/Shanghai")


def four_turn_transcript(lines: tuple[str, ...]) -> Transcript:
    """Agent, customer, agent, agent; durations at about 240 characters a minute (no speech-rate hit)."""
    roles = ("agent", "customer", "agent", "agent")
    utterances, start = [], 0.0
    for role, text in zip(roles, lines, strict=True):
        length = max(2.0, len(text) / 4)
        utterances.append(Utterance(start, start + length, "S0" if role == "agent" else "S1", role, text))
        start += length + 0.5
    return Transcript("x.wav", start, 1, 8000, utterances, Diarization("channels", 1.0, "S0", ["S0", "S1"]))


def store_scored_calls(
    database: Any, agent: str, team: str | None, days: list[date], total: float = 80.0, red: bool = False
) -> None:
    """One scored call per day for the agent, with a hand-made analysis (``total``; a red alert with ``red``),
    registered and rolled up through the production path (``register_calls``, ``refresh_agent_days``)."""
    with database.session() as s:
        from sqlalchemy import select

        from inspector.store import calls as store
        from inspector.store.db import utcnow
        from inspector.store.schema import Analysis, Call, RuleSetRecord

        record = s.scalars(select(RuleSetRecord)).first()
        if record is None:
            record = RuleSetRecord(name="t", version="1", sha256="0" * 64, files={}, rule_count=0, active=True,
                                   created_at=utcnow(), activated_at=None)  # fmt: skip
            s.add(record)
            s.flush()
        new = [
            store.NewCall(audio_sha256=f"{agent}-{d.isoformat()}".encode().hex().ljust(64, "0")[:64], audio_bytes=1,
                          audio_name=f"{agent}-{d}.wav", source="import", agent_id=agent,
                          call_id=f"{agent}-{d.isoformat()}", started_at=datetime.combine(d, time(10), TZ),
                          team_id=team, agent_name=f"坐席{agent}")
            for d in days
        ]
        store.register_calls(s, new, TZ)
        for d in days:
            analysis = Analysis(call_id=f"{agent}-{d.isoformat()}", rule_set_id=record.id, created_at=utcnow(),
                                total=total, alert="red" if red else "none", fatal=False,
                                score={"total": total, "dimensions": {}}, checks={}, hits=[], emotion={}, topics=[],
                                metrics={})  # fmt: skip
            s.add(analysis)
            s.flush()
            call = s.get(Call, f"{agent}-{d.isoformat()}")
            assert call is not None
            call.analysis_id = analysis.id
        store.refresh_agent_days(s, {(agent, d) for d in days})
