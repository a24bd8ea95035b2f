"""Insights benchmark: hot issues (热点问题) and repeat contacts (重复来电) over 1,000,000 stored calls.

    .venv/bin/python bench/insights.py [--db URL] [--analyses 1000000] [--projects 50] [--owners 200000]
                                       [--queries 100] [--reuse] [--create] [--drop]

    .venv/bin/python bench/insights.py
    .venv/bin/python bench/insights.py --db postgresql+psycopg://postgres@127.0.0.1/inspector_bench --create --drop

Generation reuses bench/scorecard.py (real ``calls`` and ``analyses`` rows), placing every call in one of
``--projects`` projects with an owner (业主: phone number and unit) drawn from ``--owners`` with a heavy-tailed
call rate (a few owners call very often), and 0–2 topics of the rule pack per call, with project-specific topic
mixes and a few injected waves (one project's elevator, another's leaks, for a week). ``call_topics`` is then
filled from the current analyses by the same statements the migrations use (rows, then contact chains), and the
repeat-contact links (``calls.repeat_of``, ``chain_id``, ``repeated``; ``agent_days.repeated``) are computed in
Python by the rule ``inspector.people.repeats`` applies as calls are scored; a sample of calls is then relinked
by the production path and must come out the same.

Timed, each query in its own session as an API request: ``hot_issues`` (every project, and one project) and
``repeat_chains`` (every project, one project, one agent) over random 30-day windows; p50 / p95 / max in ms.
Not a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any

from scorecard import (
    DEFAULT_DB,
    LAST_DAY,
    Timed,
    _create_database,
    _drop_database,
    _empty,
    fresh_sqlite,
    generate,
)
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.engine import make_url

from inspector.people import repeats
from inspector.reports.hot_issues import hot_issues
from inspector.settings import Settings
from inspector.store.db import Database
from inspector.store.schema import AgentDay, Analysis, Call, CallTopic
from inspector.store.topics import relink_all

TOPICS = ("漏水/维修", "噪音", "停车", "物业费", "垃圾清运", "电梯", "安保", "绿化")
TOPIC_COUNTS = (0, 1, 1, 1, 1, 1, 1, 2)  # topics per call: mostly one, some none, some two
WAVES = 6  # injected one-week waves of one topic in one project


class Placing:
    """Where each generated call is about and who called (``scorecard.generate``'s ``call_extra``)."""

    def __init__(self, rng: random.Random, projects: int, owners: int, first_day: date) -> None:
        self.rng = rng
        self.projects = [f"P{i + 1:02d}" for i in range(projects)]
        self.mix = {p: [rng.uniform(0.2, 3.0) for _ in TOPICS] for p in self.projects}
        self.owner_project = [rng.choice(self.projects) for _ in range(owners)]
        self.owner_unit = [
            f"{rng.randint(1, 30)}号楼{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}"
            for _ in range(owners)
        ]
        self.owner_phone = [f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" for _ in range(owners)]
        weights = [rng.paretovariate(1.3) for _ in range(owners)]  # a few owners call very often
        self.cum = list(itertools.accumulate(weights))
        self.waves = [
            (rng.choice(self.projects), rng.choice(TOPICS), first_day + timedelta(days=rng.randrange(300)))
            for _ in range(WAVES)
        ]

    def __call__(self, number: int, started: datetime) -> tuple[dict[str, Any], list[str]]:
        rng = self.rng
        owner = bisect.bisect_left(self.cum, rng.random() * self.cum[-1])
        project = self.owner_project[owner]
        topics = set(rng.choices(TOPICS, weights=self.mix[project], k=rng.choice(TOPIC_COUNTS)))
        for wave_project, topic, day in self.waves:
            if project == wave_project and day <= started.date() < day + timedelta(days=7) and rng.random() < 0.5:
                topics.add(topic)
        unit = self.owner_unit[owner]
        values = {"project": project, "building": unit.split("号楼")[0] + "号楼", "unit": unit,
                  "caller": self.owner_phone[owner], "location_source": "metadata",
                  "location_confidence": 1.0}  # fmt: skip
        return values, sorted(topics)


EXTRA_COLUMNS = ("project", "building", "unit", "caller", "location_source", "location_confidence")

FILL_TOPICS = """
INSERT INTO call_topics (call_id, topic, project, day, at, agent_id, caller, unit, contact)
SELECT DISTINCT c.id, t.value, c.project, c.day, COALESCE(c.started_at, c.created_at), c.agent_id, c.caller, c.unit,
       COALESCE(c.caller, CASE WHEN c.unit IS NULL THEN 'call:' || c.id
                               ELSE 'unit:' || COALESCE(c.project, '') || '/' || c.unit END)
FROM calls c JOIN analyses a ON a.id = c.analysis_id, {each}
"""


def fill_topics(db: Database) -> float:
    t = time.perf_counter()
    each = "json_each(a.topics) t" if db.dialect == "sqlite" else "json_array_elements_text(a.topics::json) AS t(value)"
    with db.engine.begin() as conn:
        conn.execute(text(FILL_TOPICS.format(each=each)))
        relink_all(conn)  # the contact chains (prev_day) that inspector.store.topics keeps as calls are scored
    return time.perf_counter() - t


def link_repeats(db: Database, days: int) -> tuple[float, int]:
    """The repeat links of every call by the rule of ``inspector.people.repeats``: a call repeats the latest
    earlier call sharing a topic with it, from the same number or the same unit of the same project, within
    ``days``; its chain is that call's chain. Returns the seconds taken and the calls linked."""
    t = time.perf_counter()
    window = timedelta(days=days)
    with db.session() as s:
        c = CallTopic
        columns = (c.call_id, c.at, c.topic, c.caller, c.project, c.unit)
        rows = s.execute(select(*columns).order_by(CallTopic.at, CallTopic.call_id)).all()
        agent_day = {c: (a, d) for c, a, d in s.execute(select(CallTopic.call_id, CallTopic.agent_id, CallTopic.day))}
    last: dict[tuple[Any, ...], tuple[datetime, str]] = {}
    chain: dict[str, str] = {}
    links: dict[str, str] = {}
    for call_id, group in itertools.groupby(rows, key=lambda r: r[0]):
        items = list(group)
        at = items[0][1]
        keys = [("c", r[3], r[2]) for r in items if r[3]] + [("u", r[4], r[5], r[2]) for r in items if r[5]]
        found = [last[k] for k in keys if k in last and last[k][1] != call_id and last[k][0] >= at - window]
        if found:
            _, previous = max(found)
            links[call_id] = previous
            chain[call_id] = chain.get(previous, previous)
        for k in keys:
            last[k] = (at, call_id)
    repeated = set(links.values())
    call_rows = [{"cid": c, "rep": links.get(c), "chain": chain.get(c, c), "flag": c in repeated}
                 for c in sorted(set(links) | repeated)]  # fmt: skip
    per_day: dict[tuple[str, date], int] = {}
    for c in repeated:
        per_day[agent_day[c]] = per_day.get(agent_day[c], 0) + 1
    set_call = (
        update(Call.__table__)
        .where(Call.__table__.c.id == bindparam("cid"))
        .values(repeat_of=bindparam("rep"), chain_id=bindparam("chain"), repeated=bindparam("flag"))
    )
    set_day = (
        update(AgentDay.__table__)
        .where(AgentDay.__table__.c.agent_id == bindparam("a"), AgentDay.__table__.c.day == bindparam("d"))
        .values(repeated=bindparam("n"))
    )
    with db.engine.begin() as conn:
        for i in range(0, len(call_rows), 10_000):
            conn.execute(set_call, call_rows[i : i + 10_000])
        days = [{"a": a, "d": d, "n": n} for (a, d), n in sorted(per_day.items())]
        for i in range(0, len(days), 10_000):
            conn.execute(set_day, days[i : i + 10_000])
    return time.perf_counter() - t, len(links)


def verify_links(db: Database, rng: random.Random, settings: Settings, sample: int = 30) -> str:
    """Relink a sample of linked and unlinked calls with the production path; nothing may change."""
    with db.session() as s:
        linked = list(s.scalars(select(Call.id).where(Call.repeat_of.is_not(None)).limit(5000)))
        plain = list(s.scalars(select(Call.id).where(Call.repeat_of.is_(None)).limit(5000)))
    picked = rng.sample(linked, min(sample, len(linked))) + rng.sample(plain, min(sample, len(plain)))
    for call_id in picked:
        with db.sessions() as s:
            call = s.get(Call, call_id)
            assert call is not None
            before = (call.repeat_of, call.chain_id)
            call.repeat_of, call.chain_id = None, None
            s.flush()
            repeats.on_analysis(s, settings, call, s.get(Analysis, call.analysis_id))
            after = (call.repeat_of, call.chain_id)
            s.rollback()
        if before[0] != after[0] or (before[0] is not None and before[1] != after[1]):
            raise SystemExit(f"repeat link mismatch for {call_id}: generated {before}, production path {after}")
    return f"repeat links verified: the production path relinked {len(picked)} calls identically"


def _window(rng: random.Random, first: date, last: date, span: int = 30) -> tuple[date, date]:
    start = first + timedelta(days=rng.randrange((last - first).days - span + 2))
    return start, start + timedelta(days=span - 1)


def bench(db: Database, settings: Settings, queries: int, rng: random.Random) -> list[Timed]:
    with db.session() as s:
        projects = sorted(p for p in s.scalars(select(CallTopic.project).distinct()) if p)
        agents = sorted(s.scalars(select(Call.agent_id).distinct()))
        first, last = s.execute(select(func.min(Call.day), func.max(Call.day))).one()
    first = max(first, first + timedelta(days=settings.insights.baseline_days))  # windows with a whole baseline
    kinds: list[tuple[str, Any]] = [
        ("hot issues, all", lambda s, a, b: hot_issues(s, settings.insights, a, b)),
        ("hot issues, project", lambda s, a, b: hot_issues(s, settings.insights, a, b, project=rng.choice(projects))),
        ("repeats, all", lambda s, a, b: repeats.repeat_chains(s, a, b)),
        ("repeats, project", lambda s, a, b: repeats.repeat_chains(s, a, b, project=rng.choice(projects))),
        ("repeats, agent", lambda s, a, b: repeats.repeat_chains(s, a, b, agent_id=rng.choice(agents))),
    ]
    results = []
    for label, query in kinds:
        timed = Timed(f"{label} 30d", [])
        for i in range(queries + 5):  # the first 5 warm up, uncounted
            date_from, date_to = _window(rng, first, last)
            t = time.perf_counter()
            with db.sessions() as s:
                query(s, date_from, date_to)
            if i >= 5:
                timed.ms.append((time.perf_counter() - t) * 1000)
        results.append(timed)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB.replace("scorecard.db", "insights.db"))
    parser.add_argument("--analyses", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--owners", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=100, help="timed queries per kind")
    parser.add_argument("--seed", type=int, default=20241202)
    parser.add_argument("--reuse", action="store_true", help="skip generation when the database is populated")
    parser.add_argument("--create", action="store_true", help="PostgreSQL: create the database when missing")
    parser.add_argument("--drop", action="store_true", help="PostgreSQL: drop the database at the end")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings = Settings()

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
            stored = s.scalar(select(func.count()).select_from(CallTopic)) or 0
        if args.reuse and stored:
            print(f"reusing {stored:,} stored call topics", file=sys.stderr)
        else:
            _empty(db)
            first_day = LAST_DAY - timedelta(days=args.days - 1)
            placing = Placing(rng, args.projects, args.owners, first_day)
            print(f"generating {args.analyses:,} calls in {args.projects} projects ...", file=sys.stderr)
            timings = generate(db, args, rng, call_extra=placing, extra_columns=EXTRA_COLUMNS)
            timings["call_topics_s"] = fill_topics(db)
            timings["repeat_links_s"], linked = link_repeats(db, settings.insights.repeat_days)
            if db.dialect == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM ANALYZE")
            print("generation: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()) + f"; {linked:,} repeats")
        with db.session() as s:
            counts = {
                "calls": s.scalar(select(func.count()).select_from(Call)),
                "call_topics": s.scalar(select(func.count()).select_from(CallTopic)),
                "repeat calls": s.scalar(select(func.count()).select_from(Call).where(Call.repeat_of.is_not(None))),
            }
        print(f"{db.dialect}: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
        print(verify_links(db, rng, settings))
        results = bench(db, settings, args.queries, rng)
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
