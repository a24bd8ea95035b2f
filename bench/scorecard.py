"""Scorecard benchmark: synthetic stored analyses, then the latency of scorecards and team leaderboards.

    .venv/bin/python bench/scorecard.py [--db URL] [--analyses 1000000] [--agents 400] [--teams 20]
                                        [--days 365] [--queries 200] [--reuse] [--create] [--drop] [--explain]

    # SQLite (default: a file under /tmp)
    .venv/bin/python bench/scorecard.py
    # PostgreSQL: a dedicated database, created when missing (--create), dropped afterwards with --drop
    .venv/bin/python bench/scorecard.py --db postgresql+psycopg://postgres@127.0.0.1/inspector_bench --create

Generation writes real rows: one ``calls`` row and one current ``analyses`` row per call (score with
dimensions, checks and hits built from the real rules of rules/ by ``inspector.qa.scoring.score_call`` on
synthetic findings, so the JSON is what a worker stores), inserted in batches of 10,000 (COPY on
PostgreSQL, executemany on SQLite). The ``agent_days`` rollup is summed in Python from the same rows,
then checked: for a few random agents ``refresh_agent_days`` (the production path) must rebuild
exactly the same rows. Without ``--reuse`` the database starts empty (a SQLite file is deleted, the
PostgreSQL tables are truncated); with it, a populated database is used as it is.

Then it times ``inspector.reports.scorecards.scorecard`` for random agents and ``leaderboard`` for random teams
over random 30-day, 90-day and whole-period ranges (each query in its own session, as an API request), then the
org-node scorecards (``inspector.reports.org_scorecard``) of the group, a region and a project of an org tree
built over the teams, and prints p50 / p95 / max in milliseconds, plus a few ``agents_summary`` exports of every
agent.
``--explain`` prints the query plans of one scorecard and one leaderboard. Not a test: run it on an
otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from inspector.people.org import apply_org, parse_org
from inspector.qa.deductions import pattern_of
from inspector.qa.rules.engine import CHECK_CATEGORIES, CompiledRuleSet, Finding, checks, compile_ruleset
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.scoring import score_call
from inspector.qa.scoring import to_dict as score_to_dict
from inspector.reports.agent_summary import agents_summary
from inspector.reports.leaderboards import leaderboard
from inspector.reports.org_scorecard import node_scorecard
from inspector.reports.scorecards import scorecard
from inspector.settings import Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.db import Database, utcnow
from inspector.store.org import load_tree
from inspector.store.schema import Agent, AgentDay, Analysis, Call, Team

DEFAULT_DB = "sqlite:////tmp/inspector-bench/scorecard.db"
BATCH = 10_000
LAST_DAY = date(2024, 12, 31)
TEMPLATES_PER_LEVEL = 256
SKILL_LEVELS = (0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.9)  # how often an agent's calls break rules
BENCH_TABLES = (
    "alert_calls", "alerts", "call_topics", "agent_days", "utterances", "transcripts", "analyses", "calls", "agents",
    "teams", "rule_sets",
)  # fmt: skip

# Per call, for an average agent: how likely each rule fires (require: is missed; forbid/detect: is found).
RULE_ODDS = {
    "greeting": 0.08, "self_id": 0.25, "closing": 0.15, "empathy": 0.35, "apology": 0.3, "customer_emotion": 0.2,
    "prohibited": 0.05, "escalation": 0.04, "silence": 0.12, "agent_interrupts": 0.1, "customer_interrupts": 0.15,
    "speech_rate": 0.08, "slow_reply": 0.1, "repeated_request": 0.1,
}  # fmt: skip
EVIDENCE = {
    "greeting": "您好物业客服中心", "self_id": "工号3157", "closing": "感谢您的来电再见", "empathy": "理解您的心情",
    "apology": "给您带来不便", "customer_emotion": "太过分了", "prohibited": "不归我们管", "escalation": "我要投诉",
    "repeated_request": "什么时候来修", "topic_leak": "漏水", "topic_noise": "噪音", "topic_parking": "车位",
    "topic_fee": "物业费", "topic_garbage": "垃圾", "topic_elevator": "电梯", "topic_security": "门禁",
    "topic_greening": "绿化",
}  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
)


@dataclass(frozen=True)
class Template:
    """One synthetic analysis: the stored JSON (serialized once) and what the rollup sums."""

    total: float
    alert: str
    fatal: bool
    score_json: str
    checks_json: str
    hits_json: str
    deducted: str  # inspector.qa.deductions.pattern_of, as the worker stores it
    emotion_json: str
    topics_json: str
    metrics_json: str
    dimensions: dict[str, float]
    checks: dict[str, bool]
    missed: frozenset[str]


# --- synthetic analyses --------------------------------------------------------------------------


def _finding(rule: Any, outcome: str, points: int, violation: bool, start: float, end: float) -> Finding:
    text_ = "" if outcome == "missing" else EVIDENCE.get(rule.id, "")
    role = rule.role if rule.role in ("agent", "customer") else "agent"
    return Finding(
        rule_id=rule.id, name=rule.name, category=rule.category, dimension=rule.dimension, mode=rule.mode,
        outcome=outcome, role=role, start=start, end=end, text=text_, utterance=text_, points=points,
        violation=violation, fatal=rule.fatal and violation,
        alert=rule.alert if violation or rule.mode == "detect" else "none",
        reason=f"未做到：{rule.name}" if outcome == "missing" else "",
    )  # fmt: skip


def _template(compiled: CompiledRuleSet, rng: random.Random, skill: float) -> Template:
    duration = round(rng.uniform(60, 480), 1)
    topic = rng.choice([c.rule for c in compiled.rules if c.rule.category == "topic"])
    emotional = rng.random() < RULE_ODDS["customer_emotion"] * skill
    findings: list[Finding] = []
    for compiled_rule in compiled.rules:
        rule = compiled_rule.rule
        start = round(rng.uniform(0, duration - 5), 3)
        span = (start, round(start + rng.uniform(1, 5), 3))
        if rule.category == "topic":
            if rule.id == topic.id:
                findings.append(_finding(rule, "hit", 0, False, *span))
            continue
        if rule.id == "customer_emotion":
            fires = emotional
        elif rule.id == "no_empathy_after_emotion":
            fires = emotional and rng.random() < 0.4 * skill
        elif rule.id == "escalation":
            fires = rng.random() < RULE_ODDS["escalation"] * skill * (4 if emotional else 1)
        else:
            fires = rng.random() < min(0.95, RULE_ODDS.get(rule.id, 0.1) * skill)
        if rule.mode == "require":
            if fires:
                findings.append(_finding(rule, "missing", -rule.points, True, 0.0, duration))
            else:
                findings.append(_finding(rule, "hit", 0, False, *span))
        elif fires:
            points = -rule.points if rule.mode == "forbid" else 0
            findings.append(_finding(rule, "hit", points, rule.mode == "forbid", *span))
    score = score_to_dict(score_call(compiled, findings))
    happened = checks(findings, CHECK_CATEGORIES)
    hits = [
        {"rule_id": f.rule_id, "category": f.category, "role": f.role, "start": f.start, "end": f.end, "text": f.text,
         "points": f.points, "dimension": f.dimension}
        for f in findings
    ]  # fmt: skip
    emotion = {
        "customer_negative": emotional,
        "peak": {"start": 12.0, "end": 15.5, "score": -0.8, "label": "negative", "text": "太过分了"}
        if emotional
        else None,
        "start": -0.4 if emotional else 0.1,
        "end": round(rng.uniform(-0.3, 0.5), 2),
        "trajectory": rng.choice(["improved", "stable", "worsened"]),
        "utterances": [],
    }
    metrics = {"talk_ratio": round(rng.uniform(0.3, 0.7), 3), "silence_max_s": round(rng.uniform(0.5, 15), 2),
               "overlaps": rng.randint(0, 4), "agent_cpm": round(rng.uniform(180, 320), 1)}  # fmt: skip
    return Template(
        total=float(score["total"]),
        alert=score["alert"],
        fatal=bool(score["fatal"]),
        score_json=json.dumps(score),
        checks_json=json.dumps(happened),
        hits_json=json.dumps(hits),
        deducted=pattern_of(hits),
        emotion_json=json.dumps(emotion),
        topics_json=json.dumps([topic.name]),
        metrics_json=json.dumps(metrics),
        dimensions={dim: float(value["score"]) for dim, value in score["dimensions"].items()},
        checks=happened,
        missed=frozenset(h["rule_id"] for h in hits if h["points"] < 0),
    )


# --- bulk writes ---------------------------------------------------------------------------------

CALL_COLUMNS = (
    "id", "agent_id", "started_at", "day", "direction", "caller", "duration_s", "audio_sha256", "audio_bytes",
    "audio_name", "source", "status", "error", "attempts", "job_id", "lease_until", "created_at", "updated_at",
    "finished_at", "analysis_id", "score", "alert", "fatal",
)  # fmt: skip
ANALYSIS_COLUMNS = (
    "id", "call_id", "rule_set_id", "created_at", "total", "alert", "fatal", "score", "checks", "hits", "emotion",
    "topics", "metrics", "deducted",
)  # fmt: skip
AGENT_DAY_COLUMNS = (
    "agent_id", "day", "team_id", "calls", "score_sum", "red", "yellow", "blue", "fatal", "dimensions", "checks",
    "missed",
)  # fmt: skip


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite types store (DateTime / Date as ISO text, Boolean as 0/1)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _bulk(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows whose JSON columns are already serialized: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [tuple(_sqlite_value(v) for v in row) for row in rows],
    )


def _empty(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(BENCH_TABLES)} RESTART IDENTITY CASCADE")
        else:
            for table in BENCH_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")


def _agent_name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + ("" if i < 400 else str(i // 400))


# Per call (its number and naive-UTC start): values of call columns to set (``calls`` columns, possibly beyond
# CALL_COLUMNS) and the topics of its analysis. bench/insights.py places calls in projects with it.
CallExtra = Callable[[int, datetime], tuple[dict[str, Any], list[str]]]


def generate(
    db: Database, args: argparse.Namespace, rng: random.Random, call_extra: CallExtra | None = None,
    extra_columns: Sequence[str] = (),
) -> dict[str, float]:  # fmt: skip
    timings: dict[str, float] = {}
    columns = CALL_COLUMNS + tuple(c for c in extra_columns if c not in CALL_COLUMNS)
    t0 = time.perf_counter()
    settings = Settings()
    tz = ZoneInfo(settings.timezone)
    compiled = compile_ruleset(load_ruleset(settings.rules_dir))
    teams = [f"T{i + 1:02d}" for i in range(args.teams)]
    agents = [f"{1000 + i}" for i in range(args.agents)]
    team_of = {a: teams[i % len(teams)] for i, a in enumerate(agents)}
    with db.session() as s:
        rule_set_id = rulesets.ensure_default(s, settings.rules_dir).id
        s.add_all(Team(id=t, name=f"客服{i + 1}组") for i, t in enumerate(teams))
        s.flush()
        now = utcnow()
        s.add_all(Agent(id=a, name=_agent_name(i), team_id=team_of[a], created_at=now) for i, a in enumerate(agents))

    levels = [[_template(compiled, rng, skill) for _ in range(TEMPLATES_PER_LEVEL)] for skill in SKILL_LEVELS]
    level_of = {a: rng.randrange(len(SKILL_LEVELS)) for a in agents}
    weights = [rng.uniform(0.5, 1.5) for _ in agents]  # some agents take more calls
    days = [LAST_DAY - timedelta(days=args.days - 1 - i) for i in range(args.days)]
    day_weights = [0.45 if d.weekday() >= 5 else 1.0 for d in days]  # quieter weekends
    timings["templates_s"] = time.perf_counter() - t0

    rollup: dict[tuple[str, date], dict[str, Any]] = {}
    t1 = time.perf_counter()
    written = 0
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.commit()
        while written < args.analyses:
            n = min(BATCH, args.analyses - written)
            picked_agents = rng.choices(agents, weights=weights, k=n)
            picked_days = rng.choices(days, weights=day_weights, k=n)
            call_rows: list[tuple[Any, ...]] = []
            analysis_rows: list[tuple[Any, ...]] = []
            for k in range(n):
                number = written + k + 1
                agent, day = picked_agents[k], picked_days[k]
                tpl = rng.choice(levels[level_of[agent]])
                local = datetime.combine(day, dtime(8), tz) + timedelta(seconds=rng.randrange(12 * 3600))
                started = local.astimezone(UTC).replace(tzinfo=None)
                finished = started + timedelta(minutes=10)
                call_id = f"bench-{number:08d}"
                row = (
                    call_id, agent, started, day, rng.choice(("inbound", "outbound")), f"1380000{number % 10000:04d}",
                    rng.uniform(60, 480), f"{number:064x}", 960_000, f"{call_id}.wav", "import", "done", None, 1,
                    None, None, started, finished, finished, number, tpl.total, tpl.alert, tpl.fatal,
                )  # fmt: skip
                topics_json = tpl.topics_json
                if call_extra is not None:
                    values, topics = call_extra(number, started)
                    named = dict(zip(CALL_COLUMNS, row, strict=True)) | values
                    row = tuple(named.get(c) for c in columns)
                    topics_json = json.dumps(topics, ensure_ascii=False)
                call_rows.append(row)
                analysis_rows.append((
                    number, call_id, rule_set_id, finished, tpl.total, tpl.alert, tpl.fatal, tpl.score_json,
                    tpl.checks_json, tpl.hits_json, tpl.emotion_json, topics_json, tpl.metrics_json, tpl.deducted,
                ))  # fmt: skip
                acc = rollup.get((agent, day))
                if acc is None:
                    acc = rollup[(agent, day)] = {"calls": 0, "score_sum": 0.0, "red": 0, "yellow": 0, "blue": 0,
                                                  "fatal": 0, "dimensions": {}, "checks": {}, "missed": {}}  # fmt: skip
                acc["calls"] += 1
                acc["score_sum"] += tpl.total
                if tpl.alert in ("red", "yellow", "blue"):
                    acc[tpl.alert] += 1
                acc["fatal"] += int(tpl.fatal)
                for dim, value in tpl.dimensions.items():
                    acc["dimensions"][dim] = acc["dimensions"].get(dim, 0.0) + value
                for category, happened in tpl.checks.items():
                    acc["checks"][category] = acc["checks"].get(category, 0) + int(happened)
                for rule_id in tpl.missed:
                    acc["missed"][rule_id] = acc["missed"].get(rule_id, 0) + 1
            with conn.begin():  # commits on the DBAPI connection even when only the raw cursor wrote
                _bulk(conn, "calls", columns, call_rows)
                _bulk(conn, "analyses", ANALYSIS_COLUMNS, analysis_rows)
            written += n
            if written % 100_000 == 0 or written == args.analyses:
                rate = written / (time.perf_counter() - t1)
                print(f"  {written:,} calls + analyses written ({rate:,.0f}/s)", file=sys.stderr)
    timings["calls_analyses_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    with db.engine.connect() as conn, conn.begin():
        if db.dialect == "postgresql":  # the explicit ids above bypassed the sequence
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('analyses', 'id'), (SELECT max(id) FROM analyses))"
            )
        rows = [
            (agent, day, team_of[agent], acc["calls"], acc["score_sum"], acc["red"], acc["yellow"], acc["blue"],
             acc["fatal"], json.dumps(acc["dimensions"]), json.dumps(acc["checks"]), json.dumps(acc["missed"]))
            for (agent, day), acc in sorted(rollup.items())
        ]  # fmt: skip
        for i in range(0, len(rows), BATCH):
            _bulk(conn, "agent_days", AGENT_DAY_COLUMNS, rows[i : i + BATCH])
    timings["agent_days_s"] = time.perf_counter() - t2
    if db.dialect == "postgresql":  # what autovacuum does after a bulk load: statistics, visibility map
        t3 = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0
    return timings


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _same_row(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for key in ("calls", "red", "yellow", "blue", "fatal", "team_id"):
        if a[key] != b[key]:
            return False
    if not _close(a["score_sum"], b["score_sum"]):
        return False
    for key in ("dimensions", "checks", "missed"):
        if set(a[key]) != set(b[key]) or not all(_close(a[key][k], b[key][k]) for k in a[key]):
            return False
    return True


def _agent_days(session: Any, agent_id: str) -> dict[date, dict[str, Any]]:
    fields = ("team_id", "calls", "score_sum", "red", "yellow", "blue", "fatal", "dimensions", "checks", "missed")
    result = session.execute(select(AgentDay).where(AgentDay.agent_id == agent_id)).scalars()
    return {r.day: {f: getattr(r, f) for f in fields} for r in result}


def verify_rollup(db: Database, rng: random.Random, agents: int = 3) -> str:
    """Rebuild a few random agents' rollup rows with ``refresh_agent_days``: they must not change."""
    with db.session() as s:
        ids = sorted(s.scalars(select(Agent.id)))
    checked = 0
    t = time.perf_counter()
    for agent_id in rng.sample(ids, min(agents, len(ids))):
        with db.sessions() as s:
            before = _agent_days(s, agent_id)
            store.refresh_agent_days(s, {(agent_id, day) for day in before})
            s.expire_all()
            after = _agent_days(s, agent_id)
            s.rollback()
        if set(before) != set(after) or not all(_same_row(before[d], after[d]) for d in before):
            bad = next(d for d in before if d not in after or not _same_row(before[d], after[d]))
            raise SystemExit(f"rollup mismatch for agent {agent_id} on {bad}: {before.get(bad)} != {after.get(bad)}")
        checked += len(before)
    return f"rollup verified: refresh_agent_days rebuilt {checked} rows of {agents} agents identically" + (
        f" in {time.perf_counter() - t:.1f} s"
    )


# --- timing --------------------------------------------------------------------------------------


@dataclass
class Timed:
    label: str
    ms: list[float]

    def row(self) -> str:
        ms = sorted(self.ms)
        p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
        return f"{self.label:<24}{len(ms):>6}{statistics.median(ms):>10.1f}{p95:>10.1f}{ms[-1]:>10.1f}"


def _ranges(rng: random.Random, first: date, last: date, span: int | None) -> tuple[date, date]:
    if span is None:
        return first, last
    start = first + timedelta(days=rng.randrange(max(1, (last - first).days - span + 2)))
    return start, start + timedelta(days=span - 1)


def bench(db: Database, queries: int, rng: random.Random) -> list[Timed]:
    with db.session() as s:
        agents = sorted(s.scalars(select(Agent.id)))
        teams = sorted(s.scalars(select(Team.id)))
        first, last = s.execute(select(func.min(AgentDay.day), func.max(AgentDay.day))).one()
    names = {c.rule.id: c.rule.name for c in compile_ruleset(load_ruleset(Settings().rules_dir)).rules}
    spans: list[tuple[str, int | None]] = [("30 days", 30), ("90 days", 90), (f"{(last - first).days + 1} days", None)]
    results: list[Timed] = []
    for kind in ("scorecard", "leaderboard"):
        for label, span in spans:
            timed = Timed(f"{kind} {label}", [])
            for i in range(queries + 5):  # the first 5 warm up, uncounted
                date_from, date_to = _ranges(rng, first, last, span)
                t = time.perf_counter()
                with db.sessions() as s:
                    if kind == "scorecard":
                        card = scorecard(s, rng.choice(agents), date_from, date_to, rule_names=names)
                        assert card is not None
                    else:
                        leaderboard(s, rng.choice(teams), date_from, date_to)
                elapsed = (time.perf_counter() - t) * 1000
                if i >= 5:
                    timed.ms.append(elapsed)
            results.append(timed)
    results.extend(bench_org(db, teams, spans, queries, rng, first, last))
    export = Timed("agents_summary, all", [])  # the CSV/XLSX export of every agent over the whole period
    for _ in range(max(3, queries // 40)):
        t = time.perf_counter()
        with db.sessions() as s:
            agents_summary(s, first, last)
        export.ms.append((time.perf_counter() - t) * 1000)
    results.append(export)
    return results


def bench_org(
    db: Database,
    teams: list[str],
    spans: list[tuple[str, int | None]],
    queries: int,
    rng: random.Random,
    first: date,
    last: date,
) -> list[Timed]:
    """Node scorecards (``inspector.reports.org_scorecard``) of an org tree over the generated teams: two teams a
    project, five projects a region, one group; the group (every team), a random region and a random project."""
    projects = [teams[i:i + 2] for i in range(0, len(teams), 2)]
    regions = [projects[i:i + 5] for i in range(0, len(projects), 5)]
    spec = {"id": "group", "name": "集团", "regions": [
        {"id": f"R{r + 1}", "projects": [{"id": f"P{r + 1}-{p + 1}", "teams": list(ts)} for p, ts in enumerate(ps)]}
        for r, ps in enumerate(regions)]}  # fmt: skip
    with db.session() as s:
        apply_org(s, parse_org(spec))
    region_ids = [f"R{r + 1}" for r in range(len(regions))]
    project_ids = [f"P{r + 1}-{p + 1}" for r, ps in enumerate(regions) for p in range(len(ps))]
    results: list[Timed] = []
    for level, pick in (("group", lambda: "group"), ("region", lambda: rng.choice(region_ids)),
                        ("project", lambda: rng.choice(project_ids))):  # fmt: skip
        for label, span in spans:
            timed = Timed(f"org {level} {label}", [])
            for i in range(queries + 5):
                date_from, date_to = _ranges(rng, first, last, span)
                t = time.perf_counter()
                with db.sessions() as s:
                    card = node_scorecard(s, load_tree(s), pick(), date_from, date_to)
                    assert card is not None and card.node.calls > 0
                elapsed = (time.perf_counter() - t) * 1000
                if i >= 5:
                    timed.ms.append(elapsed)
            results.append(timed)
    return results


def explain(db: Database, rng: random.Random) -> None:
    """The plans of the statements one scorecard and one leaderboard run (captured as they execute)."""
    with db.session() as s:
        agent_id = rng.choice(sorted(s.scalars(select(Agent.id))))
        team_id = rng.choice(sorted(s.scalars(select(Team.id))))
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    with db.sessions() as s:
        scorecard(s, agent_id, LAST_DAY - timedelta(days=364), LAST_DAY)
        leaderboard(s, team_id, LAST_DAY - timedelta(days=364), LAST_DAY)
    event.remove(db.engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if db.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            print("\n" + " ".join(statement.split()))
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("   ", " | ".join(str(v) for v in row))
            cursor.close()


# --- main ----------------------------------------------------------------------------------------


def fresh_sqlite(db_url: str) -> None:
    """A SQLite database starts as a new file (no free pages left by a DELETE); other backends are left alone."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)


def _create_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            print(f"created database {parsed.database}", file=sys.stderr)
    admin.dispose()


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()
    print(f"dropped database {parsed.database}", file=sys.stderr)


def _size(db: Database) -> str:
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
    else:
        path = Path(make_url(db.url).database or "")
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return f"{size / 2**30:.2f} GiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLAlchemy URL (default {DEFAULT_DB})")
    parser.add_argument("--analyses", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--queries", type=int, default=200, help="timed queries per kind and range")
    parser.add_argument("--seed", type=int, default=20240311)
    parser.add_argument("--reuse", action="store_true", help="skip generation when the database is populated")
    parser.add_argument("--create", action="store_true", help="PostgreSQL: create the database when missing")
    parser.add_argument("--drop", action="store_true", help="PostgreSQL: drop the database at the end")
    parser.add_argument("--explain", action="store_true", help="print the query plans of a scorecard and leaderboard")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    url = make_url(args.db)
    backend = url.get_backend_name()
    if backend == "postgresql" and args.create:
        _create_database(args.db)
    if not args.reuse:
        fresh_sqlite(args.db)
    db = Database(args.db)
    try:
        db.upgrade()
        with db.session() as s:
            stored = s.scalar(select(func.count()).select_from(Analysis)) or 0
        if args.reuse and stored:
            print(f"reusing {stored:,} stored analyses", file=sys.stderr)
        else:
            _empty(db)
            print(f"generating {args.analyses:,} analyses for {args.agents} agents in {args.teams} teams over "
                  f"{args.days} days ...", file=sys.stderr)  # fmt: skip
            timings = generate(db, args, rng)
            print("generation: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        with db.session() as s:
            tables = (("calls", Call), ("analyses", Analysis), ("agent_days", AgentDay), ("agents", Agent))
            counts = {name: s.scalar(select(func.count()).select_from(model)) for name, model in tables}
        print(f"{db.dialect}: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()) + f"; size {_size(db)}")
        print(verify_rollup(db, rng))
        if args.explain:
            explain(db, rng)
        results = bench(db, args.queries, rng)
        print(f"\n{'query (ms)':<24}{'n':>6}{'p50':>10}{'p95':>10}{'max':>10}")
        for timed in results:
            print(timed.row())
    finally:
        db.dispose()
        if backend == "postgresql" and args.drop:
            _drop_database(args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
