"""Rule backtesting (规则回测): what a candidate rule set would do to past calls, before it is activated.

``backtest`` re-analyzes the stored transcripts of the done calls (optionally of a range of local days,
``calls.day``) with a candidate compiled rule set and compares the result with each call's current
analysis. Nothing is written: it only reads, in one streamed query (transcript, current analysis and
call row together), so memory stays flat however many calls there are.

The candidate's side is the same pure evaluation a worker runs (``evaluate`` then ``score_call``, the two
steps of ``inspector.qa.analysis.Analyzer.analyze_transcript`` that decide findings, score and alert; the
emotion, topics and metrics it also computes change no score and are skipped). The current side is read
as stored.

Figures:

- per rule: on how many calls it fires before and after. A rule *fires* on a call when a ``require`` rule
  deducted its points (it was not met) and when a ``forbid`` or ``detect`` rule has any finding (a
  finding heard too unsurely to count, ``uncertain``, fires nothing). Before:
  from the stored findings of the current analysis, read with the modes of the rule set that made it;
  after: from the candidate's findings. Hit rates are per call of the backtest; the precision estimate is
  ``inspector.people.precision``'s confirmed / (confirmed + rejected) of reviewers' verdicts on the rule's
  findings on calls of the same days (None without verdicts).
- per agent: the mean score of their calls, before (the effective score that counts today, ``calls.score``:
  a reviewer's when there is one) and after (the candidate's machine score, as activating it would store:
  a reviewed score is kept only when the candidate is the very rule set the current analysis was made with).
- per call, the calls whose score or alert level would change (largest change first).

Scoring is the cost (about a millisecond a call): with ``workers`` > 1 and enough calls, chunks of
transcripts (JSON text, straight from the query) are scored in spawned worker processes, at most two
chunks each in flight; the figures are the same. A script calling it so needs the usual
``if __name__ == "__main__":`` guard of ``multiprocessing``'s spawn start.

``candidate_from_files`` builds a candidate from a bundle of YAML files validated exactly as ``rules add``
validates an upload (a broken bundle is refused whole, naming file, line and rule), without storing it.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from inspector.people.errors import InvalidReviewInput
from inspector.people.precision import rule_precision
from inspector.qa.rules.engine import CompiledRuleSet, RuleEvaluationError, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.rules.schema import RuleSet
from inspector.qa.scoring import score_call
from inspector.speech.transcript import Transcript
from inspector.store import rulesets
from inspector.store.ruleset_cache import RULESETS
from inspector.store.schema import Analysis, Call, RuleSetRecord, TranscriptRecord
from inspector.vocab import CallStatus

STREAM_CHUNK = 500  # rows fetched at a time from the one streamed query (and scored as one chunk)
PARALLEL_FROM = 5_000  # calls from which worker processes pay for their start (about a second)
_EPSILON = 1e-6  # scores are rounded to 0.1: anything smaller is no change


@dataclass(frozen=True)
class Candidate:
    """The rule set to try: compiled, with the id it is stored under (None: not stored)."""

    compiled: CompiledRuleSet
    rule_set_id: int | None = None

    @property
    def name(self) -> str:
        return self.compiled.ruleset.id

    @property
    def version(self) -> str:
        return str(self.compiled.ruleset.version)


@dataclass(frozen=True)
class RuleBacktest:
    rule_id: str
    name: str
    in_candidate: bool  # False: the candidate drops this rule (it fired before)
    hits_before: int  # calls it fires on now
    hits_after: int  # calls it would fire on with the candidate
    hit_rate_before: float  # per call of the backtest
    hit_rate_after: float
    confirmed: int  # reviewers' verdicts on its findings (calls of the same days)
    rejected: int
    precision_estimate: float | None  # confirmed / (confirmed + rejected); None: no verdicts


@dataclass(frozen=True)
class AgentBacktest:
    agent_id: str
    calls: int
    score_before: float  # mean effective score now (calls.score)
    score_after: float  # mean score with the candidate


@dataclass(frozen=True)
class CallChange:
    call_id: str
    agent_id: str
    day: date | None
    score_before: float
    score_after: float
    alert_before: str
    alert_after: str


@dataclass
class BacktestResult:
    candidate: str  # rule set id (YAML ``id``) of the candidate
    candidate_version: str
    date_from: date | None
    date_to: date | None
    calls: int  # done calls re-analyzed
    skipped: int  # done calls of the range without a stored transcript or current analysis
    seconds: float
    rules: list[RuleBacktest] = field(default_factory=list)
    agents: list[AgentBacktest] = field(default_factory=list)
    calls_changed: list[CallChange] = field(default_factory=list)  # largest change first (maybe limited)
    calls_changed_total: int = 0  # how many calls change (whatever the limit)


# --- the candidate -------------------------------------------------------------------------------


def candidate_from_files(session: Session, files: dict[str, str]) -> Candidate:
    """A candidate from a bundle of YAML files ({name: text}), validated as ``rules add`` validates
    (``RuleFileError`` naming file, line and rule for a broken one); it is not stored. The same bundle
    already stored keeps its id (a reviewed score made with it then still counts, as on activation)."""
    rulesets.validate_bundle(files)
    with tempfile.TemporaryDirectory(prefix="inspector-backtest-") as tmp:
        compiled = compile_ruleset(load_ruleset(rulesets.write_bundle(files, Path(tmp))))
    digest = rulesets.bundle_sha256(files)
    stored = session.scalar(select(RuleSetRecord.id).where(RuleSetRecord.sha256 == digest))
    return Candidate(compiled, stored)


def stored_candidate(session: Session, rule_set_id: int) -> Candidate | None:
    """A stored rule set (active or not) as the candidate; None when there is none with that id."""
    loaded = RULESETS.by_id(session, rule_set_id)
    return None if loaded is None else Candidate(loaded.compiled, rule_set_id)


# --- firing ----------------------------------------------------------------------------------------


def _fired(findings: Iterable[tuple[str, float, bool]], modes: dict[str, str]) -> set[str]:
    """Rule ids that fire among (rule id, points, uncertain) findings: a ``require`` rule when it deducted
    (not met), any other rule when it has a finding at all; a finding heard too unsurely to count
    (``uncertain``) does not fire its rule (see the module docstring)."""
    fired: set[str] = set()
    for rule_id, points, uncertain in findings:
        if not uncertain and (modes.get(rule_id, "require") != "require" or points < 0):
            fired.add(rule_id)
    return fired


@dataclass
class _StoredRules:
    """What the rule sets that made current analyses say about their rules, by rule set id."""

    modes: dict[int, dict[str, str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def modes_of(self, session: Session, rule_set_id: int) -> dict[str, str]:
        modes = self.modes.get(rule_set_id)
        if modes is None:
            loaded = RULESETS.by_id(session, rule_set_id)
            rules = loaded.ruleset.rules if loaded is not None else []
            modes = {rule.id: rule.mode for rule in rules}
            for rule in rules:
                self.names.setdefault(rule.id, rule.name)
            self.modes[rule_set_id] = modes
        return modes


# --- scoring the candidate (in this process, or in worker processes) ---------------------------

Scored = tuple[tuple[str, ...], float, str]  # (rule ids that fire, total, alert) of one call
_worker_compiled: CompiledRuleSet | None = None  # a worker process's candidate


def weighs_words(compiled: CompiledRuleSet) -> bool:
    """Whether word timings can change what a rule set decides: only through the confidence of the words
    behind a finding, for rules with a ``min_confidence``. Otherwise words only place evidence in time,
    which a backtest does not report, so it scores without them (a third less work)."""
    return any(c.min_confidence > 0 for c in compiled.rules)


def score_transcripts(compiled: CompiledRuleSet, transcripts: Sequence[str]) -> list[Scored]:
    """The candidate's verdict on stored transcripts (JSON text): what fires, the total and the alert."""
    modes = {c.rule.id: c.rule.mode for c in compiled.rules}
    keep_words = weighs_words(compiled)
    out: list[Scored] = []
    for text in transcripts:
        data = json.loads(text)
        if not keep_words:
            for utterance in data.get("utterances") or ():
                utterance.pop("words", None)
        findings = evaluate(compiled, Transcript.from_dict(data))
        score = score_call(compiled, findings)
        fired = _fired(((f.rule_id, f.points, f.uncertain) for f in findings), modes)
        out.append((tuple(sorted(fired)), score.total, score.alert))
    return out


def _init_worker(ruleset: RuleSet) -> None:
    global _worker_compiled
    _worker_compiled = compile_ruleset(ruleset)


def _score_in_worker(transcripts: Sequence[str]) -> list[Scored] | tuple[str, str]:
    """``score_transcripts`` with the worker's candidate; a rule that cannot be evaluated comes back as
    (rule id, reason), raised again in the parent (exceptions with arguments do not always unpickle)."""
    assert _worker_compiled is not None
    try:
        return score_transcripts(_worker_compiled, transcripts)
    except RuleEvaluationError as err:
        return (err.rule_id, err.reason)


class _Scorer:
    """Scores chunks of transcripts in order: in this process, or in ``workers`` spawned processes with
    at most two chunks each in flight (so memory stays bounded)."""

    def __init__(self, compiled: CompiledRuleSet, workers: int) -> None:
        self.compiled = compiled
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                            initargs=(compiled.ruleset,))  # fmt: skip
        self.pending: deque[tuple[Any, Future[Any]]] = deque()

    def submit(self, context: Any, transcripts: Sequence[str]) -> Iterator[tuple[Any, list[Scored]]]:
        """Queue a chunk; yields (context, scores) of the chunks that are done, oldest first."""
        if self.pool is None:
            yield context, score_transcripts(self.compiled, transcripts)
            return
        self.pending.append((context, self.pool.submit(_score_in_worker, transcripts)))
        while len(self.pending) > 2 * self.workers:
            yield self._next()

    def drain(self) -> Iterator[tuple[Any, list[Scored]]]:
        while self.pending:
            yield self._next()

    def _next(self) -> tuple[Any, list[Scored]]:
        context, future = self.pending.popleft()
        scored = future.result()
        if isinstance(scored, tuple):
            raise RuleEvaluationError(*scored)
        return context, scored

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


# --- the backtest --------------------------------------------------------------------------------


def _range(query: Any, date_from: date | None, date_to: date | None) -> Any:
    if date_from is not None:
        query = query.where(Call.day >= date_from)
    if date_to is not None:
        query = query.where(Call.day <= date_to)
    return query


def _largest(changes: list[CallChange], limit: int | None) -> list[CallChange]:
    """The ``limit`` largest score changes (all with None), largest first, then by call id."""
    ordered = sorted(changes, key=lambda c: (-abs(c.score_after - c.score_before), c.call_id))
    return ordered if limit is None else ordered[:limit]


@dataclass
class _Tally:
    """The running figures of a backtest."""

    candidate_id: int | None
    limit: int | None
    calls: int = 0
    hits_before: Counter[str] = field(default_factory=Counter)
    hits_after: Counter[str] = field(default_factory=Counter)
    agents: dict[str, list[float]] = field(default_factory=dict)  # agent id → [calls, sum before, sum after]
    changed: list[CallChange] = field(default_factory=list)
    changed_total: int = 0

    def add(self, before: Sequence[Any], fired_before: set[str], scored: Scored) -> None:
        call_id, agent_id, day, score, alert, rule_set_id, reviewed_total = before
        fired_after, total, alert_after = scored
        self.hits_before.update(fired_before)
        self.hits_after.update(fired_after)
        keeps_review = reviewed_total is not None and rule_set_id == self.candidate_id
        score_after = float(reviewed_total) if keeps_review else total
        score_before = float(score) if score is not None else total
        alert_before = alert or "none"
        acc = self.agents.setdefault(agent_id, [0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += score_before
        acc[2] += score_after
        self.calls += 1
        if abs(score_after - score_before) > _EPSILON or alert_before != alert_after:
            self.changed_total += 1
            self.changed.append(CallChange(call_id, agent_id, day, score_before, score_after, alert_before,
                                           alert_after))  # fmt: skip
            if self.limit is not None and len(self.changed) > 2 * self.limit + STREAM_CHUNK:
                self.changed = _largest(self.changed, self.limit)  # bounded memory


def backtest(
    session: Session,
    candidate: Candidate,
    date_from: date | None = None,
    date_to: date | None = None,
    limit_calls_changed: int | None = None,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM,
) -> BacktestResult:
    """Re-analyze the stored transcripts of the done calls of [date_from, date_to] (local days, inclusive;
    None: open) with ``candidate`` and compare with their current analyses. Reads only.

    ``limit_calls_changed``: keep only that many changed calls (the largest changes); the count of all
    of them is ``calls_changed_total``. ``workers`` > 1: score in that many worker processes when there
    are at least ``parallel_from`` calls (the figures are the same).
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidReviewInput(f"开始日期 {date_from} 晚于结束日期 {date_to}")
    if limit_calls_changed is not None and limit_calls_changed < 0:
        raise InvalidReviewInput("limit_calls_changed 不能为负数")
    started = time.perf_counter()
    done = Call.status == CallStatus.DONE.value
    all_done = session.scalar(_range(select(func.count()).select_from(Call).where(done), date_from, date_to)) or 0
    stored = _StoredRules()
    tally = _Tally(candidate.rule_set_id, limit_calls_changed)

    # One streamed query: the call row, its current analysis and its transcript (as JSON text: parsed
    # where it is scored, in a worker process when there are several).
    columns = (Call.id, Call.agent_id, Call.day, Call.score, Call.alert, Analysis.rule_set_id,
               Analysis.reviewed_total, Analysis.hits, cast(TranscriptRecord.data, Text))  # fmt: skip
    query = _range(
        select(*columns)
        .join(Analysis, Analysis.id == Call.analysis_id)
        .join(TranscriptRecord, TranscriptRecord.call_id == Call.id)
        .where(done),
        date_from,
        date_to,
    )
    scorer = _Scorer(candidate.compiled, workers if all_done >= parallel_from else 1)
    try:
        result = session.execute(query.execution_options(yield_per=STREAM_CHUNK))
        for rows in result.partitions():
            befores = []
            for row in rows:
                modes = stored.modes_of(session, row[5])
                fired = _fired(((h["rule_id"], h.get("points", 0), h.get("uncertain", False)) for h in row[7] or ()),
                               modes)  # fmt: skip
                befores.append((row[:7], fired))
            for chunk, scored in scorer.submit(befores, [row[8] for row in rows]):
                for (before, fired), one in zip(chunk, scored, strict=True):
                    tally.add(before, fired, one)
        for chunk, scored in scorer.drain():
            for (before, fired), one in zip(chunk, scored, strict=True):
                tally.add(before, fired, one)
        result.close()
    finally:
        scorer.close()

    compiled = candidate.compiled
    rules = _rules(session, compiled, stored.names, tally.hits_before, tally.hits_after, tally.calls, date_from,
                   date_to)  # fmt: skip
    return BacktestResult(
        candidate=candidate.name,
        candidate_version=candidate.version,
        date_from=date_from,
        date_to=date_to,
        calls=tally.calls,
        skipped=int(all_done) - tally.calls,
        seconds=round(time.perf_counter() - started, 3),
        rules=rules,
        agents=[
            AgentBacktest(agent_id, int(n), round(before / n, 2), round(after / n, 2))
            for agent_id, (n, before, after) in sorted(tally.agents.items())
        ],
        calls_changed=_largest(tally.changed, limit_calls_changed),
        calls_changed_total=tally.changed_total,
    )


def _rules(
    session: Session,
    compiled: CompiledRuleSet,
    stored_names: dict[str, str],
    hits_before: Counter[str],
    hits_after: Counter[str],
    calls: int,
    date_from: date | None,
    date_to: date | None,
) -> list[RuleBacktest]:
    """The candidate's rules in its order, then the rules it drops that fire now."""
    verdicts = {p.rule_id: p for p in rule_precision(session, date_from, date_to)}
    names = {c.rule.id: c.rule.name for c in compiled.rules}
    dropped: Sequence[str] = sorted(set(hits_before) - set(names))
    out = []
    for rule_id in [*names, *dropped]:
        p = verdicts.get(rule_id)
        before, after = hits_before[rule_id], hits_after[rule_id]
        out.append(RuleBacktest(
            rule_id=rule_id, name=names.get(rule_id) or stored_names.get(rule_id, rule_id),
            in_candidate=rule_id in names, hits_before=before, hits_after=after,
            hit_rate_before=round(before / calls, 4) if calls else 0.0,
            hit_rate_after=round(after / calls, 4) if calls else 0.0,
            confirmed=p.confirmed if p else 0, rejected=p.rejected if p else 0,
            precision_estimate=p.precision if p else None,
        ))  # fmt: skip
    return out


def to_dict(result: BacktestResult) -> dict[str, Any]:
    """The JSON shape of ``inspector rules backtest --format json``."""
    return {
        "candidate": {"id": result.candidate, "version": result.candidate_version},
        "date_from": result.date_from.isoformat() if result.date_from else None,
        "date_to": result.date_to.isoformat() if result.date_to else None,
        "calls": result.calls,
        "skipped": result.skipped,
        "seconds": result.seconds,
        "rules": [vars(r) for r in result.rules],
        "agents": [vars(a) for a in result.agents],
        "calls_changed": [{**vars(c), "day": c.day.isoformat() if c.day else None} for c in result.calls_changed],
        "calls_changed_total": result.calls_changed_total,
    }
