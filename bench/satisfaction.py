"""Satisfaction benchmark: importing survey CSV files (满意度导入) and the rule-effect analysis over stored calls.

    .venv/bin/python bench/satisfaction.py [--db URL] [--analyses 1000000] [--import-rows 100000] [--reuse]

Generation reuses bench/scorecard.py (real ``calls`` and ``analyses`` rows whose hits come from the real rule
pack). Each call then gets a survey whose CSAT falls with the call's QA score (CSAT = 4.6 − 0.04 × (100 − score)
+ noise, clipped to 1–5) and an NPS drawn around it; the rows are written as a CSV file with the default
columns (UTF-8 with BOM, as Excel writes it) in random order.

Timed:
- ``read + import``: ``inspector.intake.survey.read_surveys`` and ``inspector.people.satisfaction.import_surveys``
  of ``--import-rows`` rows (the target: 100,000 rows within 10 s), then of every call (so every call has one);
- ``rule_effects``: the regression over every surveyed call (target: 1,000,000 calls within 5 s), three runs.
Not a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from scorecard import _empty, fresh_sqlite, generate
from sqlalchemy import delete, func, select

from inspector.intake.survey import read_surveys
from inspector.people.satisfaction import import_surveys, rule_effects
from inspector.settings import Settings
from inspector.store.db import Database, utcnow
from inspector.store.schema import Analysis, Call, Survey

DEFAULT_DB = "sqlite:////tmp/inspector-bench/satisfaction.db"


def write_csv(path: Path, rows: list[tuple[str, float]], rng: np.random.Generator) -> None:
    scores = np.array([s for _, s in rows])
    csat = np.clip(np.rint(4.6 - 0.04 * (100 - scores) + rng.normal(0, 0.8, len(rows))), 1, 5).astype(int)
    nps = np.clip(np.rint(2 * csat + rng.normal(0, 1.5, len(rows))), 0, 10).astype(int)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(("call_id", "csat", "nps", "comment"))
        for (call_id, _), c, n in zip(rows, csat, nps, strict=True):
            out.writerow((call_id, int(c), int(n), "等待时间太长" if c <= 2 else ""))


def timed_import(db: Database, settings: Settings, path: Path) -> tuple[int, int, float]:
    t = time.perf_counter()
    found = read_surveys(path, ZoneInfo(settings.timezone))
    with db.session() as session:
        result = import_surveys(session, found.rows, settings.satisfaction, source="csv", now=utcnow(),
                                errors=found.errors)  # fmt: skip
    return result.imported, len(result.errors), time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--analyses", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=20241203)
    parser.add_argument("--reuse", action="store_true", help="skip generating calls when the database has them")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    if not args.reuse:
        fresh_sqlite(args.db)
    db = Database(args.db)
    settings = Settings()
    try:
        db.upgrade()
        with db.session() as s:
            stored = s.scalar(select(func.count()).select_from(Analysis)) or 0
        if not (args.reuse and stored):
            _empty(db)
            print(f"generating {args.analyses:,} calls ...", file=sys.stderr)
            generate(db, args, rng)
        with db.session() as s:
            s.execute(delete(Survey))
            calls = [(c, float(score)) for c, score in s.execute(select(Call.id, Call.score))]
        rng.shuffle(calls)
        print(f"{db.dialect}: {len(calls):,} calls")
        folder = Path("/tmp/inspector-bench")
        folder.mkdir(exist_ok=True)
        part, whole = folder / "surveys-part.csv", folder / "surveys-all.csv"
        write_csv(part, calls[: args.import_rows], nrng)
        write_csv(whole, calls, nrng)

        imported, errors, seconds = timed_import(db, settings, part)
        print(f"read + import {imported:,} rows ({errors} errors): {seconds:.2f} s (target 10 s for 100,000)")
        imported, errors, seconds = timed_import(db, settings, whole)
        print(f"read + import {imported:,} rows, replacing {args.import_rows:,} ({errors} errors): {seconds:.2f} s")

        runs = []
        for _ in range(3):
            with db.session() as s:
                t = time.perf_counter()
                found = rule_effects(s, settings.satisfaction, None, None)
                runs.append(time.perf_counter() - t)
        print(f"rule_effects over {found.responses:,} surveyed calls: "
              + ", ".join(f"{r:.2f}" for r in runs) + " s (target 5 s for 1,000,000)")  # fmt: skip
        slope = found.per_10_points.effect if found.per_10_points else None
        print(f"mean CSAT {found.mean_csat}; CSAT per 10 QA points {slope}")
        print(f"{'rule':<28}{'deducted on':>12}{'CSAT with':>11}{'without':>9}{'effect':>9}{'interval':>20}")
        for e in found.rules:
            interval = f"[{e.low:+.3f}, {e.high:+.3f}]" if e.enough else "样本不足"
            effect = f"{e.effect:+.3f}" if e.enough else "—"
            means = f"{e.csat_with or 0:>11.2f}{e.csat_without or 0:>9.2f}"
            print(f"{e.key:<28}{e.with_calls:>12,}{means}{effect:>9}{interval:>20}")
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
