"""Database tables (SQLAlchemy 2). Alembic migrations in ``inspector/store/migrations`` create them.

Times are stored as naive UTC; ``calls.day`` is the call's local date (settings.timezone), which is what
scorecards group by (a call whose PBX gave no start time counts on the local day it was registered). A
call's status is an explicit state machine (see ``CallStatus``); its current analysis is the one of the
newest rule set it was scored with, and ``calls.score``/``alert``/``fatal`` copy that analysis so call
lists filter without a join.

``agent_days`` is a rollup of the current analyses per agent and local day. It is recomputed from the
analyses (never incremented), so rerunning a job or rescoring a call cannot double-count; scorecards and
leaderboards read it instead of scanning millions of analyses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLLUP_JSON = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # 工号 / extension
    name: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OrgUnit(Base):
    """A node of the organization hierarchy (集团 → 区域 → 项目 → 班组, ``inspector.people.org``).

    Ids share one namespace across levels; a team node's id is the team's id (``teams.id``), a project
    node's id the project's id (``calls.project``)."""

    __tablename__ = "org_units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))  # OrgLevel
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order among its siblings, as configured


class TeamMembership(Base):
    """An agent's team over a span of local days: ``valid_from`` (None: since always) up to, not including,
    ``valid_to`` (None: still). ``agents.team_id`` is the current team; the rollup and calls take the team of
    the day (``inspector.store.memberships``)."""

    __tablename__ = "team_memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"))  # None: in no team over the span
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (Index("ix_team_memberships_agent", "agent_id", "valid_from"),)


class RuleSetRecord(Base):
    """A rule-set bundle as uploaded: its YAML files, content-addressed."""

    __tablename__ = "rule_sets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))  # the rule set's own id (YAML ``id``)
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # {file name: YAML text}
    rule_count: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)


class Call(Base):
    __tablename__ = "calls"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    day: Mapped[date | None] = mapped_column(Date)
    direction: Mapped[str | None] = mapped_column(String(16))
    caller: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[float | None] = mapped_column(Float)
    audio_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    audio_bytes: Mapped[int] = mapped_column(BigInteger)
    audio_name: Mapped[str] = mapped_column(String(500))  # the file name it arrived with
    source: Mapped[str] = mapped_column(String(32))  # upload | import
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    analysis_id: Mapped[int | None] = mapped_column(Integer)  # current analysis (no FK: avoids a cycle)
    score: Mapped[float | None] = mapped_column(Float)
    alert: Mapped[str | None] = mapped_column(String(8))
    fatal: Mapped[bool | None] = mapped_column(Boolean)
    # Retention purge (inspector.privacy.retention): the original recording / the transcript text is gone.
    audio_purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    transcript_purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Where the call is about (inspector.intake.location): 项目/小区 id, building ("3号楼"), unit ("3号楼1单元601"),
    # from the PBX/upload metadata or heard in the transcript, with the source and its confidence.
    project: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(64))
    location_source: Mapped[str | None] = mapped_column(String(16))  # inspector.intake.location.LocationSource
    location_confidence: Mapped[float | None] = mapped_column(Float)
    # Repeat contacts (inspector.people.repeats): the earlier call this one repeats (same caller or unit, same
    # topic, within settings.insights.repeat_days), the first call of its chain, and whether a later call
    # repeats this one (the agent's 重复来电率 counts those).
    repeat_of: Mapped[str | None] = mapped_column(String(128))
    chain_id: Mapped[str | None] = mapped_column(String(128), index=True)
    repeated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    __table_args__ = (
        Index("ix_calls_agent_day", "agent_id", "day"),
        Index("ix_calls_project_day", "project", "day"),
        Index("ix_calls_day", "day"),
        # Repeat-contact chains with a call in a window (inspector.people.repeats.repeat_chains), from the index.
        Index("ix_calls_day_chain", "day", "chain_id", "project", "agent_id"),
        Index("ix_calls_status_updated", "status", "updated_at"),
        # The call list's order (api/queries.py): newest first, calls without a start time last. Without it
        # every page sorts the whole table (6.5 s a page at 1,000,000 calls on SQLite).
        Index(
            "ix_calls_list_order", text("(started_at IS NULL)"), text("started_at DESC"), text("created_at DESC"), "id"
        ),
    )


class TranscriptRecord(Base):
    """The full transcript (utterances with words, diarization, timings), reused by rescoring."""

    __tablename__ = "transcripts"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class MaskedAudio(Base):
    """A call's recording with its personal-data spans replaced by a tone (``inspector.privacy.audio``), kept in
    the audio store under ``masked_sha256``; ``fingerprint`` names the spans (and detector version) it masks."""

    __tablename__ = "masked_audio"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    source_sha256: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    masked_sha256: Mapped[str] = mapped_column(String(64), index=True)  # the purge asks "is this blob still used?"
    masked_bytes: Mapped[int] = mapped_column(BigInteger)
    spans: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    __table_args__ = (UniqueConstraint("call_id", "fingerprint", name="uq_masked_audio_call_fingerprint"),)


class UtteranceRecord(Base):
    __tablename__ = "utterances"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)


class Analysis(Base):
    """One call scored by one rule set (re-running the same pair replaces the row)."""

    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_sets.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    total: Mapped[float] = mapped_column(Float)
    alert: Mapped[str] = mapped_column(String(8))
    fatal: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[dict[str, Any]] = mapped_column(JSON)  # inspector.qa.scoring.to_dict
    checks: Mapped[dict[str, Any]] = mapped_column(JSON)
    hits: Mapped[list[Any]] = mapped_column(JSON)
    # The rules that deducted, as inspector.qa.deductions.pattern_of writes them (null: stored before 0013).
    deducted: Mapped[str | None] = mapped_column(Text)
    emotion: Mapped[dict[str, Any]] = mapped_column(JSON)
    topics: Mapped[list[Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    # After review (复核) or an accepted appeal: the score a person stands behind; ``total`` stays the
    # machine's. Effective score = reviewed_total if set, else total (calls.score and the rollup use it).
    reviewed_total: Mapped[float | None] = mapped_column(Float)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("call_id", "rule_set_id", name="uq_analyses_call_rule_set"),)


class AgentDay(Base):
    """Rollup of the current analyses of one agent on one local day (see module docstring)."""

    __tablename__ = "agent_days"
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(64))
    calls: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)
    red: Mapped[int] = mapped_column(Integer)
    yellow: Mapped[int] = mapped_column(Integer)
    blue: Mapped[int] = mapped_column(Integer)
    fatal: Mapped[int] = mapped_column(Integer)
    # Calls with a low-confidence finding that no reviewer has confirmed or rejected yet.
    uncertain: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON)  # {dimension id: sum of scores}, in the pack's order
    # Summed per category inside the database by scorecards of whole org nodes: binary jsonb on PostgreSQL
    # (json text would be parsed again for every key read; jsonb reorders keys, which CHECK_CATEGORIES fixes).
    checks: Mapped[dict[str, Any]] = mapped_column(ROLLUP_JSON)  # {check category: calls where it happened}
    missed: Mapped[dict[str, Any]] = mapped_column(JSON)  # {rule id: calls it deducted points on}
    repeated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # calls a later call repeats

    __table_args__ = (Index("ix_agent_days_team_day", "team_id", "day"),)


class ApiToken(Base):
    """A bearer token; only its sha256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: never expires


# --- people, review, appeals, training, alerts (issue 5) -------------------------------------------


class User(Base):
    """A person who logs in to the web UI (password) and may own API tokens."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(64))  # role agent: whose data this is
    team_id: Mapped[str | None] = mapped_column(String(64))  # role team_lead: which team
    # role team_lead: the org node it manages instead of one team (a project, a region: 项目经理, 区域经理)
    scope: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pii: Mapped[bool] = mapped_column(Boolean, default=False)  # may reveal masked personal data (admins: always)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A logged-in browser; the cookie holds a random value, the table only its sha256."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who changed what, when, from what to what, and why."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))  # "user:zhangsan" / "token:3"
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class Review(Base):
    """A call in the review queue (复核), put there by the sampling policy or by hand."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))  # inspector.vocab.ReviewReason
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | done
    created_at: Mapped[datetime] = mapped_column(DateTime)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("analysis_id", name="uq_reviews_analysis"),)


class HitVerdict(Base):
    """A reviewer's word on one machine finding: confirmed or rejected (a false alarm)."""

    __tablename__ = "hit_verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    hit_index: Mapped[int] = mapped_column(Integer)  # position in analyses.hits
    rule_id: Mapped[str] = mapped_column(String(128), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # confirmed | rejected
    reviewer: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("analysis_id", "hit_index", name="uq_hit_verdicts_hit"),)


class AddedFinding(Base):
    """A finding the machine missed, added by a reviewer (counts in the reviewed score)."""

    __tablename__ = "added_findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(128))
    dimension: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float)  # negative: deducted
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    reviewer: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)


class Appeal(Base):
    """An agent contesting one finding (申诉); a reviewer accepts (the hit is rejected) or rejects it."""

    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    hit_index: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(128))
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    comment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | accepted | rejected
    created_at: Mapped[datetime] = mapped_column(DateTime)
    resolver: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("analysis_id", "hit_index", name="uq_appeals_hit"),)


class CoachingAssignment(Base):
    """Coaching a trainer assigns to an agent for a weak competency, with evidence calls and a due date."""

    __tablename__ = "coaching"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    competency: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str | None] = mapped_column(String(64))  # the score dimension whose effect is measured
    course_id: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[list[Any]] = mapped_column(JSON)  # call ids
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)  # assigned | done | cancelled
    trainer: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


class AlertEvent(Base):
    """A red/yellow/blue alert in the alert queue until handled. ``kind`` (``inspector.vocab.AlertKind``): raised
    by one call's analysis (``call``), or by several calls: a cluster of callers reporting one topic in one
    project (``cluster``, 群体性投诉预警) or a chain of repeat contacts (``repeat``). For the last two,
    ``call_id``/``analysis_id`` name the call that raised it, ``alert_calls`` every call in it."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="call", server_default="call", index=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    project: Mapped[str | None] = mapped_column(String(64))  # cluster / repeat
    topic: Mapped[str | None] = mapped_column(String(64))  # cluster / repeat
    subject: Mapped[str | None] = mapped_column(String(128))  # call: its id; repeat: the chain; cluster: see clusters
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)  # a later call was added to it
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[str] = mapped_column(String(8), index=True)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | acknowledged | closed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    handled_by: Mapped[str | None] = mapped_column(String(200))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    delivery: Mapped[str] = mapped_column(String(16), default="none")  # none | pending | delivered | failed

    __table_args__ = (
        UniqueConstraint("analysis_id", "kind", "subject", name="uq_alerts_analysis_kind_subject"),
        Index("ix_alerts_subject", "kind", "subject", "status"),
    )


class AlertCall(Base):
    """A call of a cluster or repeat alert (the call that raised it included), with when it was added."""

    __tablename__ = "alert_calls"
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime)


class CallPhrases(Base):
    """The phrases of a call's customer turns (``inspector.reports.emerging``), stored when the call is scored
    so that emerging phrases never tokenize transcripts on request; deleted with the transcript by the
    retention purge. ``version``: the phrase rules they were cut by (other versions are cut again on read)."""

    __tablename__ = "call_phrases"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    phrases: Mapped[str] = mapped_column(Text)  # space-separated (a phrase is Han characters only)


class CallTopic(Base):
    """One topic (话题) of one call's current analysis, with where, when and who: what hot issues, cluster
    alerts and repeat contacts count (``inspector.store.topics`` keeps it equal to the current analyses).

    ``contact`` is who called, for counting distinct callers: the caller's number, else ``unit:<project>/<unit>``,
    else ``call:<id>`` (an unknown caller counts as one more)."""

    __tablename__ = "call_topics"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str | None] = mapped_column(String(64))
    day: Mapped[date | None] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime)  # the call's start (else when it was registered), naive UTC
    agent_id: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(200))
    # The day of the previous row of the same (project, topic, contact) in (day, at, call_id) order; None for the
    # first. A window's distinct callers are its rows whose prev_day is None or before the window.
    prev_day: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_call_topics_day", "day", "project", "topic", "prev_day", "contact"),
        Index("ix_call_topics_contact", "contact", "topic", "project", "day", "at", "call_id"),
        Index("ix_call_topics_project_topic_at", "project", "topic", "at"),
        Index("ix_call_topics_caller", "caller", "topic", "at"),
        Index("ix_call_topics_unit", "project", "unit", "topic", "at"),
    )


class AlertDelivery(Base):
    """One attempt to deliver an alert to the webhook (every attempt is kept)."""

    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    url: Mapped[str] = mapped_column(String(1000))
    status_code: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)


class Case(Base):
    """A complaint case (投诉工单) through 受理 → 核实 → 处理 → 反馈 → 回访 → 关闭 (``inspector.people.cases``;
    ``status`` is ``inspector.vocab.CaseStatus``). Opened by a red alert or by a person; linked to its calls
    (``case_calls``), to the repeat-contact chain and the cluster alert its first call belongs to. Deadlines are
    absolute (naive UTC), fixed when it opens, so its clocks survive restarts and do not depend on a time zone.
    Every change is in the audit log (entity ``case``)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # alert | person
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    project: Mapped[str | None] = mapped_column(String(64), index=True)
    topic: Mapped[str | None] = mapped_column(String(64))  # the cause (话题) statistics group by
    chain_id: Mapped[str | None] = mapped_column(String(128))
    cluster_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    respond_due: Mapped[datetime] = mapped_column(DateTime)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    close_due: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # ladder steps reached
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    reopened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revisit_outcome: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)  # the latest note

    __table_args__ = (
        UniqueConstraint("alert_id", name="uq_cases_alert_id"),  # one case per alert
        Index("ix_cases_open_due", "status", "respond_due", "close_due"),
    )


class CaseCall(Base):
    """A call of a complaint case (its first call included)."""

    __tablename__ = "case_calls"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True, index=True)


class Survey(Base):
    """A post-call satisfaction survey (满意度回访: IVR 1–5, NPS 0–10, a comment), matched to its call.
    One per call: importing the call's survey again replaces it. ``agent_id``, ``day``, ``score`` and
    ``deducted`` are copied from the call and its current analysis (``inspector.people.satisfaction``), so
    scorecards and the rule-effect analysis read one narrow table. ``deducted``: the rules that deducted
    points, sorted, as ``rule:dimension`` joined by commas ("" when none), so calls group by their pattern."""

    __tablename__ = "surveys"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date | None] = mapped_column(Date)
    csat: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    score: Mapped[float | None] = mapped_column(Float)  # the call's effective QA score
    deducted: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(16))  # csv | api
    imported_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_surveys_agent_day", "agent_id", "day"),
        # The rule-effect analysis groups a range of days by (pattern, CSAT) from this index alone.
        Index("ix_surveys_day_pattern", "day", "deducted", "csat", "score"),
    )


class CaseNotice(Base):
    """The webhook notice of one escalation step of a complaint case (超时升级通知): whom it went up to and
    whether the receiving system took it (``inspector.service.webhooks.deliver_case_notice``)."""

    __tablename__ = "case_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)  # 1-based step of cases.ladder
    role: Mapped[str] = mapped_column(String(32))  # 班组长 / 项目经理 / 区域 ...
    deadline: Mapped[str] = mapped_column(String(16))  # respond | close
    status: Mapped[str] = mapped_column(String(16))  # DeliveryStatus: pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


class CarryOverLoss(Base):
    """A reviewer's verdict or added finding that could not follow a call to the analysis of a new rule set
    (``inspector.people.carryover``): kept here so it is listed, never dropped silently."""

    __tablename__ = "carry_over_losses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    from_analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    to_analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # verdict | finding
    reason: Mapped[str] = mapped_column(String(32))  # rule_removed | finding_vanished | dimension_removed
    rule_id: Mapped[str | None] = mapped_column(String(128))
    hit_index: Mapped[int | None] = mapped_column(Integer)  # verdict: its hit in the old analysis
    verdict: Mapped[str | None] = mapped_column(String(16))
    item: Mapped[dict[str, Any]] = mapped_column(JSON)  # what was lost: the old hit, or the added finding
    reviewer: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)  # when the carry-over lost it


# --- reviewer calibration (issue 12): the same calls judged blind by several reviewers -------------


class CalibrationRound(Base):
    """A calibration round (校准): several reviewers judge the same calls' hits blind; their agreement is
    measured per rule (``inspector.people.calibration``). Its verdicts never change a score."""

    __tablename__ = "calibration_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)  # inspector.vocab.CalibrationStatus
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class CalibrationCall(Base):
    """A call of a round, with the analysis whose hits are judged (frozen when the round is created)."""

    __tablename__ = "calibration_calls"
    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))


class CalibrationReviewer(Base):
    """A reviewer (a user name) assigned to a round."""

    __tablename__ = "calibration_reviewers"
    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)


class CalibrationVerdict(Base):
    """One reviewer's verdict on one hit of a round's call; separate from ``HitVerdict``: it scores nothing."""

    __tablename__ = "calibration_verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    hit_index: Mapped[int] = mapped_column(Integer)  # position in the frozen analysis' hits
    rule_id: Mapped[str] = mapped_column(String(128))
    reviewer: Mapped[str] = mapped_column(String(64))  # the user name
    verdict: Mapped[str] = mapped_column(String(16))  # inspector.vocab.Verdict
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("round_id", "call_id", "hit_index", "reviewer", name="uq_calibration_verdicts_hit"),
    )
