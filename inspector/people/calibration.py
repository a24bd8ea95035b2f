"""Reviewer calibration (校准): several reviewers judge the same calls' hits blind, and how far they agree.

A round holds calls (by id, or a seeded random sample of done calls in a date range), each with the
analysis whose hits are judged frozen at creation, and at least two reviewers (users with role reviewer
or admin). While the round is open an assigned reviewer records confirmed/rejected per hit (the latest
word wins) and sees only their own verdicts; closing it makes the figures final. Calibration verdicts
are kept apart from ``HitVerdict``: they never change a score, queue a review or touch the rollup.

Agreement (``agreement``), per rule, over the hits of that rule judged by every reviewer of the round:

- ``percent``: the share of those hits on which all reviewers gave the same verdict;
- ``cohen``: Cohen's kappa (two reviewers only), ``fleiss``: Fleiss' kappa (two or more), both from
  ``statsmodels.stats.inter_rater``; None when undefined (no hits, or one verdict category only, where
  chance agreement is 1 and kappa divides by zero);
- the disagreements: each hit where the reviewers differ, with every reviewer's verdict.

Creating, each verdict and closing are audit-logged on entity ``calibration``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from inspector.people.errors import (
    CalibrationClosed,
    CalibrationNotFound,
    HitNotFound,
    InvalidCalibration,
    NotAssigned,
    checked_text,
)
from inspector.people.reading import hit_at
from inspector.people.rulesets import rule_names
from inspector.store import audit
from inspector.store.db import utcnow
from inspector.store.schema import (
    Analysis,
    CalibrationCall,
    CalibrationReviewer,
    CalibrationRound,
    CalibrationVerdict,
    Call,
    User,
)
from inspector.store.users import normalize_username
from inspector.vocab import CalibrationStatus, CallStatus, Verdict, values

ENTITY = "calibration"
REVIEWER_ROLES = ("reviewer", "admin")
MAX_CALLS = 200  # calls in one round
CATEGORIES = values(Verdict)  # the verdict categories kappa is computed over, in this order


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundHit:
    """One hit of a round's call, with the verdicts it may show (only the asker's own while open)."""

    index: int
    hit: dict[str, Any]
    name: str  # the rule's Chinese name
    verdicts: dict[str, str]  # reviewer → verdict


@dataclass(frozen=True)
class RoundCall:
    call: Call
    analysis_id: int
    hits: list[RoundHit]


@dataclass(frozen=True)
class Progress:
    reviewer: str
    judged: int  # hits this reviewer has judged
    total: int  # hits of the round


@dataclass(frozen=True)
class RoundView:
    round: CalibrationRound
    reviewers: list[str]
    calls: list[RoundCall]
    progress: list[Progress]


@dataclass(frozen=True)
class Disagreement:
    call_id: str
    hit_index: int
    rule_id: str
    text: str | None
    verdicts: dict[str, str]  # reviewer → verdict


@dataclass(frozen=True)
class RuleAgreement:
    rule_id: str
    name: str
    hits: int  # hits of the rule judged by every reviewer
    agreed: int  # of them, hits all reviewers gave the same verdict
    percent: float | None  # agreed / hits
    cohen: float | None
    fleiss: float | None
    disagreements: list[Disagreement] = field(default_factory=list)


@dataclass(frozen=True)
class Agreement:
    round: CalibrationRound
    reviewers: list[str]
    calls: int  # calls in the round
    rules: list[RuleAgreement]
    overall: RuleAgreement  # every rule together (rule_id "*")


# --- creating ------------------------------------------------------------------------------------


def _reviewers(session: Session, usernames: Sequence[str]) -> list[str]:
    names = sorted({normalize_username(name) for name in usernames if name.strip()})
    if len(names) < 2:
        raise InvalidCalibration("校准至少需要 2 名质检员", "reviewers")
    found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    for name in names:
        user = found.get(name)
        if user is None or not user.active:
            raise InvalidCalibration(f"用户 {name} 不存在或已停用", "reviewers")
        if user.role not in REVIEWER_ROLES:
            raise InvalidCalibration(f"用户 {name} 不是质检员或管理员，不能参加校准", "reviewers")
    return names


def calls_by_id(session: Session, call_ids: Sequence[str]) -> list[Call]:
    ids = list(dict.fromkeys(call_ids))
    calls = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(ids)))}
    for call_id in ids:
        call = calls.get(call_id)
        if call is None:
            raise InvalidCalibration(f"通话 {call_id} 不存在", "call_ids")
        if call.status != CallStatus.DONE or call.analysis_id is None:
            raise InvalidCalibration(f"通话 {call_id} 尚未完成分析，不能用于校准", "call_ids")
    return [calls[call_id] for call_id in ids]


def sample_calls(session: Session, start: date, end: date, count: int, seed: str = "") -> list[Call]:
    """``count`` done calls of local days ``start``..``end``, picked at random (the same seed, the same pick)."""
    if start > end:
        raise InvalidCalibration("起始日期不能晚于结束日期", "date_from")
    if not 1 <= count <= MAX_CALLS:
        raise InvalidCalibration(f"抽样通话数必须在 1 到 {MAX_CALLS} 之间", "sample")
    pool = list(
        session.scalars(
            select(Call)
            .where(Call.day >= start, Call.day <= end, Call.status == CallStatus.DONE, Call.analysis_id.is_not(None))
            .order_by(Call.id)
        )
    )
    if not pool:
        raise InvalidCalibration(f"{start} 至 {end} 没有已完成分析的通话", "date_from")
    rng = random.Random(f"{seed}|{start.isoformat()}|{end.isoformat()}")
    return sorted(rng.sample(pool, min(count, len(pool))), key=lambda c: c.id)


def create_round(
    session: Session, actor: str, role: str, name: str, reviewers: Sequence[str], calls: Sequence[Call]
) -> CalibrationRound:
    """A new open round over ``calls`` (their current analyses, frozen) for ``reviewers`` (user names)."""
    title = checked_text(name, "校准名称", required=True)
    assert title is not None
    if len(title) > 200:
        raise InvalidCalibration("校准名称不能超过 200 个字", "name")
    names = _reviewers(session, reviewers)
    if not calls:
        raise InvalidCalibration("请至少选择 1 通通话", "call_ids")
    if len(calls) > MAX_CALLS:
        raise InvalidCalibration(f"一轮校准最多 {MAX_CALLS} 通通话", "call_ids")
    chosen = calls_by_id(session, [c.id for c in calls])
    row = CalibrationRound(name=title, created_by=actor, created_at=utcnow(), status=CalibrationStatus.OPEN)
    session.add(row)
    session.flush()
    for call in chosen:
        assert call.analysis_id is not None
        session.add(CalibrationCall(round_id=row.id, call_id=call.id, analysis_id=call.analysis_id))
    session.add_all(CalibrationReviewer(round_id=row.id, username=n) for n in names)
    session.flush()
    after = {"name": title, "status": row.status, "reviewers": names, "call_ids": [c.id for c in chosen]}
    audit.record(session, actor=actor, role=role, action="calibration.create", entity=ENTITY, entity_id=row.id,
                 after=after)  # fmt: skip
    return row


# --- reading -------------------------------------------------------------------------------------


def get_round(session: Session, round_id: int, lock: bool = False) -> CalibrationRound:
    row = session.get(CalibrationRound, round_id, with_for_update=lock or None)
    if row is None:
        raise CalibrationNotFound(f"校准 {round_id} 不存在")
    return row


def round_reviewers(session: Session, round_id: int) -> list[str]:
    query = select(CalibrationReviewer.username).where(CalibrationReviewer.round_id == round_id)
    return sorted(session.scalars(query))


def list_rounds(session: Session) -> list[tuple[CalibrationRound, int, list[str]]]:
    """Every round, newest first, with its number of calls and its reviewers."""
    rounds = list(session.scalars(select(CalibrationRound).order_by(CalibrationRound.id.desc())))
    query = select(CalibrationCall.round_id, func.count()).group_by(CalibrationCall.round_id)
    counts: dict[int, int] = {round_id: count for round_id, count in session.execute(query)}
    reviewers: dict[int, list[str]] = {}
    for round_id, username in session.execute(select(CalibrationReviewer.round_id, CalibrationReviewer.username)):
        reviewers.setdefault(round_id, []).append(username)
    return [(r, int(counts.get(r.id, 0)), sorted(reviewers.get(r.id, []))) for r in rounds]


def _round_calls(session: Session, round_id: int) -> list[tuple[Call, Analysis]]:
    query = (
        select(Call, Analysis)
        .join(CalibrationCall, CalibrationCall.call_id == Call.id)
        .join(Analysis, Analysis.id == CalibrationCall.analysis_id)
        .where(CalibrationCall.round_id == round_id)
        .order_by(Call.id)
    )
    return [(c, a) for c, a in session.execute(query)]


def _verdicts(session: Session, round_id: int, reviewer: str | None = None) -> dict[tuple[str, int], dict[str, str]]:
    """(call id, hit index) → {reviewer: verdict}; only ``reviewer``'s when given."""
    query = select(CalibrationVerdict).where(CalibrationVerdict.round_id == round_id)
    if reviewer is not None:
        query = query.where(CalibrationVerdict.reviewer == reviewer)
    found: dict[tuple[str, int], dict[str, str]] = {}
    for v in session.scalars(query):
        found.setdefault((v.call_id, v.hit_index), {})[v.reviewer] = v.verdict
    return found


def round_view(session: Session, round_id: int, viewer: str | None) -> RoundView:
    """The round's calls and hits. ``viewer`` (a reviewer's user name): only their own verdicts while the
    round is open (blind); None (an admin): every verdict. Progress counts judged hits per reviewer."""
    row = get_round(session, round_id)
    reviewers = round_reviewers(session, round_id)
    everyone = _verdicts(session, round_id)
    blind = viewer is not None and row.status == CalibrationStatus.OPEN
    shown = _verdicts(session, round_id, viewer) if blind else everyone
    calls: list[RoundCall] = []
    names_by_set: dict[int, dict[str, str]] = {}
    for call, analysis in _round_calls(session, round_id):
        if analysis.rule_set_id not in names_by_set:
            names_by_set[analysis.rule_set_id] = rule_names(session, analysis.rule_set_id)
        names = names_by_set[analysis.rule_set_id]
        hits = [
            RoundHit(i, hit, names.get(hit["rule_id"], hit["rule_id"]), dict(shown.get((call.id, i), {})))
            for i, hit in enumerate(analysis.hits or [])
        ]
        calls.append(RoundCall(call, analysis.id, hits))
    total = sum(len(c.hits) for c in calls)
    judged = {name: 0 for name in reviewers}
    for by_reviewer in everyone.values():
        for name in by_reviewer:
            if name in judged:
                judged[name] += 1
    progress = [Progress(name, judged[name], total) for name in reviewers]
    return RoundView(row, reviewers, calls, progress)


# --- judging and closing -------------------------------------------------------------------------


def record_verdict(
    session: Session, actor: str, role: str, round_id: int, reviewer: str | None, call_id: str, hit_index: int,
    verdict: str,
) -> CalibrationVerdict:  # fmt: skip
    """``reviewer`` (the asking user's name) confirms or rejects one hit of the round (the latest word wins)."""
    row = get_round(session, round_id, lock=True)
    if row.status != CalibrationStatus.OPEN:
        raise CalibrationClosed(f"校准 {round_id} 已结束，不能再提交结论")
    if reviewer is None or reviewer not in round_reviewers(session, round_id):
        raise NotAssigned(f"你不是校准 {round_id} 的指派质检员")
    if verdict not in values(Verdict):
        raise InvalidCalibration(f"结论必须是 {' 或 '.join(values(Verdict))}，不能是 {verdict!r}", "verdict")
    member = session.get(CalibrationCall, (round_id, call_id))
    if member is None:
        raise InvalidCalibration(f"通话 {call_id} 不在校准 {round_id} 中", "call_id")
    analysis = session.get(Analysis, member.analysis_id)
    assert analysis is not None
    try:
        hit = hit_at(analysis, hit_index)
    except HitNotFound as err:
        raise InvalidCalibration(str(err), "hit_index") from err
    mine = (CalibrationVerdict.round_id == round_id, CalibrationVerdict.call_id == call_id,
            CalibrationVerdict.hit_index == hit_index, CalibrationVerdict.reviewer == reviewer)  # fmt: skip
    existing = session.scalars(select(CalibrationVerdict).where(*mine)).one_or_none()
    before = {"verdict": existing.verdict if existing else None}
    if existing is None:
        existing = CalibrationVerdict(round_id=round_id, call_id=call_id, hit_index=hit_index, rule_id=hit["rule_id"],
                                      reviewer=reviewer, verdict=verdict, at=utcnow())  # fmt: skip
        session.add(existing)
    else:
        existing.verdict, existing.at = verdict, utcnow()
    session.flush()
    after = {"call_id": call_id, "hit_index": hit_index, "rule_id": hit["rule_id"], "verdict": verdict}
    audit.record(session, actor=actor, role=role, action="calibration.verdict", entity=ENTITY, entity_id=round_id,
                 before=before, after=after)  # fmt: skip
    return existing


def close_round(session: Session, actor: str, role: str, round_id: int) -> CalibrationRound:
    row = get_round(session, round_id, lock=True)
    if row.status != CalibrationStatus.OPEN:
        raise CalibrationClosed(f"校准 {round_id} 已结束")
    row.status, row.closed_by, row.closed_at = CalibrationStatus.CLOSED, actor, utcnow()
    session.flush()
    audit.record(session, actor=actor, role=role, action="calibration.close", entity=ENTITY, entity_id=round_id,
                 before={"status": CalibrationStatus.OPEN}, after={"status": row.status})  # fmt: skip
    return row


# --- agreement -----------------------------------------------------------------------------------


def _kappa(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(float(value), 4)


def rule_agreement(rule_id: str, name: str, items: list[tuple[str, int, str | None, dict[str, str]]],
                   reviewers: list[str]) -> RuleAgreement:  # fmt: skip
    """The figures of one rule over ``items`` (call id, hit index, text, verdicts) judged by all ``reviewers``."""
    table = np.array([[CATEGORIES.index(v[r]) for r in reviewers] for _, _, _, v in items], dtype=int)
    agreed = sum(1 for row in table if len(set(row.tolist())) == 1)
    disagreements = [
        Disagreement(call_id, index, rule_id, text, {r: v[r] for r in reviewers})
        for call_id, index, text, v in items
        if len({v[r] for r in reviewers}) > 1
    ]
    n = len(items)
    cohen = fleiss = None
    if n and len(set(table.ravel().tolist())) > 1:  # one category only: chance agreement 1, kappa undefined
        counts, _ = aggregate_raters(table, n_cat=len(CATEGORIES))
        fleiss = _kappa(fleiss_kappa(counts, method="fleiss"))
        if len(reviewers) == 2:
            square = np.zeros((len(CATEGORIES), len(CATEGORIES)), dtype=int)
            for a, b in table:
                square[a, b] += 1
            cohen = _kappa(cohens_kappa(square, return_results=False))
    percent = round(agreed / n, 4) if n else None
    return RuleAgreement(rule_id, name, n, agreed, percent, cohen, fleiss, disagreements)


def agreement(session: Session, round_id: int) -> Agreement:
    """Per rule (and overall) agreement of the round's reviewers over the hits every one of them judged."""
    row = get_round(session, round_id)
    reviewers = round_reviewers(session, round_id)
    verdicts = _verdicts(session, round_id)
    by_rule: dict[str, list[tuple[str, int, str | None, dict[str, str]]]] = {}
    names: dict[str, str] = {}
    members = _round_calls(session, round_id)
    for call, analysis in members:
        set_names = rule_names(session, analysis.rule_set_id)
        for i, hit in enumerate(analysis.hits or []):
            rule_id = hit["rule_id"]
            names.setdefault(rule_id, set_names.get(rule_id, rule_id))
            judged = verdicts.get((call.id, i), {})
            if all(r in judged for r in reviewers):
                by_rule.setdefault(rule_id, []).append((call.id, i, hit.get("text"), judged))
            else:
                by_rule.setdefault(rule_id, [])
    rules = [rule_agreement(rule_id, names[rule_id], items, reviewers) for rule_id, items in sorted(by_rule.items())]
    everything = [item for items in by_rule.values() for item in items]
    overall = rule_agreement("*", "全部规则", everything, reviewers)
    return Agreement(row, reviewers, len(members), rules, overall)
