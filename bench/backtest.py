"""Rule backtest benchmark: a database of stored calls (transcripts with word timings and their current
analyses), then the time of ``inspector.people.backtest.backtest`` with a changed rule pack.

    .venv/bin/python bench/backtest.py [--db URL] [--calls 100000] [--agents 200] [--days 90] [--reuse]
                                       [--workers 2]

Generation (SQLite file under /tmp by default; without ``--reuse`` it starts empty): 400 synthetic call
transcripts are assembled from property-hotline phrases (greeting with or without a staff number, the
customer's issue, follow-ups, empathy or a service taboo, emotion and escalation, closing or none; 10 to
24 utterances, words of one or two characters with timings, some slow replies, long silences and fast
speech), each analyzed once with the default rules (``rules/``) by the real ``Analyzer``. Every call
stores one of them with its own room number (same length, so its stored analysis is exactly what the
default rules give), one ``calls``, ``transcripts`` and ``analyses`` row each, inserted in batches
(``bench/scorecard.py``'s bulk writer); 1 % of the calls carry a reviewer's verdicts on their findings.
The ``agent_days`` rollup and the ``utterances`` rows are not written (the backtest reads neither).

Then: a check that the unchanged default pack changes nothing on one day's calls, and the timed backtest
of the changed pack (the default without 规范结束语, 服务禁语 at 8 points instead of 10, plus a new forbid
rule 承诺时限 on "马上"), printing calls, seconds, calls per second, peak memory and the figures.
Not a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scorecard import ANALYSIS_COLUMNS, CALL_COLUMNS, _bulk  # bench/scorecard.py (same folder)
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from inspector.people import backtest
from inspector.qa.analysis import Analyzer
from inspector.qa.analysis import to_dict as analysis_to_dict
from inspector.settings import Settings
from inspector.speech.transcript import Diarization, Transcript, Utterance, Word
from inspector.store import rulesets
from inspector.store.db import Database, utcnow
from inspector.store.schema import Agent, Call, Team

DEFAULT_DB = "sqlite:////tmp/inspector-bench/backtest.db"
BATCH = 5_000
TEMPLATES = 400
LAST_DAY = date(2024, 12, 31)
ROOM = "1357"  # the room number each template is analyzed with; every call gets its own 4 digits
TRANSCRIPT_COLUMNS = ("call_id", "data", "created_at")
VERDICT_COLUMNS = ("call_id", "analysis_id", "hit_index", "rule_id", "verdict", "reviewer", "at", "comment")
BENCH_TABLES = ("hit_verdicts", "transcripts", "analyses", "calls", "agents", "teams", "rule_sets")

GREETINGS = (
    "您好，物业客服中心，工号三一五七，请问有什么可以帮您？",
    "您好，这里是物业服务中心，我姓王，请问有什么可以帮您？",
    "您好，物业客服，请讲。",
    "喂，你好。",
)
ISSUES = (
    "我家厨房漏水了，麻烦派人来看看。",
    "楼上装修噪音太大了，晚上都睡不着。",
    "我的车位被别人占了，能不能处理一下？",
    "我想问一下物业费怎么交，这个月的账单好像不对。",
    "三号楼的电梯又坏了，困了好几个人。",
    "楼下垃圾好几天没人清运了，味道很大。",
    "小区门禁坏了，陌生人随便进出。",
    "楼下的草坪好久没修剪了。",
)
ASK_ROOM = ("请问您的房号是多少？", "麻烦您说一下具体的门牌号。")
ROOM_ANSWERS = (f"三栋二单元{ROOM}。", f"我是五栋{ROOM}的。")
CONFIRMS = (f"好的，{ROOM}，已经给您登记了。", f"好的，五栋{ROOM}，我记下了。")
RESPONSES = ("非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。", "好的，我这边给您登记一下，师傅今天下午过去。",
             "不好意思让您久等了，我帮您查一下处理进度。", "这个不归我们管，你自己去找开发商。",
             "我也没办法，你等着吧。", "非常理解您的心情，我们会尽快处理。")  # fmt: skip
FOLLOW_UPS = ("大概什么时候能到？", "好的，那我在家等着。", "上次也是这么说的，到现在都没人来。", "能不能快一点？")
EMOTIONS = ("你们这什么态度，太过分了！", "我真的受不了了，气死我了。")
ESCALATIONS = ("再不处理我就打12345投诉你们！", "我要投诉，找媒体曝光你们。")
MIDDLES = ("维修师傅会提前给您打电话。", "您放心，今天之内一定给您答复。", "我帮您备注加急处理。", "好的，稍等。")
CLOSINGS = ("请问还有其他可以帮您的吗？感谢您的来电，再见。", "感谢来电，再见。", "好的。", "嗯，那先这样。")

CHANGED_RULE = """
  - id: promise
    name: 承诺时限
    category: other
    dimension: service
    mode: forbid
    points: 4
    alert: blue
    role: agent
    when:
      keywords: {any: [马上]}
"""


def changed_pack(rules_dir: Path) -> dict[str, str]:
    """The default bundle without ``closing``, ``prohibited`` at 8 points, plus ``promise``."""
    files = rulesets.read_bundle(rules_dir)
    text = files["property-default.yaml"]
    start = text.index("  - id: closing\n")
    text = text[:start] + text[text.index("  # ----", start) :]
    old = "    points: 10\n    alert: yellow\n"
    assert text.count(old) == 1
    files["property-default.yaml"] = text.replace(old, "    points: 8\n    alert: yellow\n") + CHANGED_RULE
    return files


# --- synthetic transcripts -----------------------------------------------------------------------


def _words(text: str, start: float, end: float, rng: random.Random) -> list[Word]:
    """Words of one or two characters (punctuation stays with the word before), timed evenly."""
    pieces: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(ROOM, i):  # the room number is one word: calls swap it for their own
            pieces.append(ROOM)
            i += len(ROOM)
            continue
        size = 1 if rng.random() < 0.5 else 2
        piece = text[i : i + size]
        i += size
        while i < len(text) and text[i] in "，。？！、":
            piece += text[i]
            i += 1
        pieces.append(piece)
    step = (end - start) / max(1, len(pieces))
    return [Word(round(start + k * step, 3), round(start + (k + 1) * step, 3), p, round(rng.uniform(0.6, 0.99), 3))
            for k, p in enumerate(pieces)]  # fmt: skip


def _transcript(rng: random.Random) -> Transcript:
    turns: list[tuple[str, str]] = [("agent", rng.choice(GREETINGS)), ("customer", rng.choice(ISSUES))]
    if rng.random() < 0.7:
        turns += [("agent", rng.choice(ASK_ROOM)), ("customer", rng.choice(ROOM_ANSWERS)),
                  ("agent", rng.choice(CONFIRMS))]  # fmt: skip
    for _ in range(rng.randint(3, 9)):
        roll = rng.random()
        if roll < 0.08:
            turns.append(("customer", rng.choice(EMOTIONS)))
        elif roll < 0.12:
            turns.append(("customer", rng.choice(ESCALATIONS)))
        elif roll < 0.45:
            turns.append(("customer", rng.choice(FOLLOW_UPS)))
        elif roll < 0.75:
            turns.append(("agent", rng.choice(RESPONSES)))
        else:
            turns.append(("agent", rng.choice(MIDDLES)))
    if rng.random() < 0.4:
        turns.append(("customer", "好的，谢谢。"))
    turns.append(("agent", rng.choice(CLOSINGS)))
    rate = rng.uniform(3.2, 5.4)  # characters a second (fast speakers trip 语速过快)
    utterances, t = [], 0.0
    for role, text in turns:
        gap = rng.choice((0.3, 0.5, 0.8, 1.2)) if rng.random() > 0.05 else rng.uniform(6, 14)  # dead air
        if rng.random() < 0.04 and utterances:
            gap = -0.8  # talking over the other side
        start = max(0.0, t + gap)
        end = start + max(1.0, len(text) / rate)
        utterances.append(Utterance(round(start, 3), round(end, 3), "S0" if role == "agent" else "S1", role, text,
                                    text, round(rng.uniform(0.7, 0.98), 3), _words(text, start, end, rng)))  # fmt: skip
        t = max(t, end)
    return Transcript("bench.wav", round(t + 1.0, 3), 2, 8000, utterances,
                      Diarization("channels", 1.0, "S0", ["S0", "S1"]))  # fmt: skip


def _templates(settings: Settings, rng: random.Random) -> list[tuple[str, dict[str, Any], str]]:
    """(transcript JSON, analysis row fields, the JSON's room-number marker) per template."""
    analyzer = Analyzer(settings)
    out = []
    for _ in range(TEMPLATES):
        transcript = _transcript(rng)
        data = analysis_to_dict(analyzer.analyze_transcript(transcript, "bench"))
        score = data["score"]
        row: dict[str, Any] = {"total": float(score["total"]), "alert": score["alert"], "fatal": bool(score["fatal"])}
        for key in ("score", "checks", "hits", "emotion", "topics", "metrics"):
            row[key] = json.dumps(data[key], ensure_ascii=False)
        out.append((json.dumps(transcript.to_dict(words=True), ensure_ascii=False), row, ROOM))
    return out


# --- the database --------------------------------------------------------------------------------


def _empty(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(BENCH_TABLES)} RESTART IDENTITY CASCADE")
        else:
            for table in BENCH_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")


def generate(db: Database, args: argparse.Namespace, rng: random.Random) -> None:
    settings = Settings()
    tz = ZoneInfo(settings.timezone)
    t0 = time.perf_counter()
    agents = [f"{1000 + i}" for i in range(args.agents)]
    with db.session() as s:
        rule_set_id = rulesets.ensure_default(s, settings.rules_dir).id
        s.add_all(Team(id=f"T{i + 1:02d}", name=f"客服{i + 1}组") for i in range(10))
        s.flush()
        now = utcnow()
        teams = {a: f"T{i % 10 + 1:02d}" for i, a in enumerate(agents)}
        s.add_all(Agent(id=a, name=f"坐席{a}", team_id=teams[a], created_at=now) for a in agents)
    templates = _templates(settings, rng)
    print(f"{TEMPLATES} templates analyzed in {time.perf_counter() - t0:.1f} s", flush=True)
    days = [LAST_DAY - timedelta(days=args.days - 1 - i) for i in range(args.days)]

    t1 = time.perf_counter()
    written = 0
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.commit()
        while written < args.calls:
            n = min(BATCH, args.calls - written)
            calls, transcripts, analyses, verdicts = [], [], [], []
            for k in range(n):
                number = written + k + 1
                data, row, marker = rng.choice(templates)
                agent, day = rng.choice(agents), rng.choice(days)
                local = datetime.combine(day, dtime(8), tz) + timedelta(seconds=rng.randrange(12 * 3600))
                started = local.astimezone(UTC).replace(tzinfo=None)
                finished = started + timedelta(minutes=10)
                call_id = f"bt-{number:08d}"
                calls.append((
                    call_id, agent, started, day, "inbound", f"1380000{number % 10000:04d}", 180.0, f"{number:064x}",
                    960_000, f"{call_id}.wav", "import", "done", None, 1, None, None, started, finished, finished,
                    number, row["total"], row["alert"], row["fatal"],
                ))  # fmt: skip
                transcripts.append((call_id, data.replace(marker, str(rng.randint(1000, 9999))), finished))
                analyses.append((
                    number, call_id, rule_set_id, finished, row["total"], row["alert"], row["fatal"], row["score"],
                    row["checks"], row["hits"], row["emotion"], row["topics"], row["metrics"],
                ))  # fmt: skip
                if rng.random() < 0.01:  # reviewed: a verdict on each deduction
                    for index, hit in enumerate(json.loads(row["hits"])):
                        if hit["points"] < 0:
                            verdict = "rejected" if rng.random() < 0.25 else "confirmed"
                            verdicts.append((call_id, number, index, hit["rule_id"], verdict, "user:bench", finished,
                                             None))  # fmt: skip
            with conn.begin():
                _bulk(conn, "calls", CALL_COLUMNS, calls)
                _bulk(conn, "transcripts", TRANSCRIPT_COLUMNS, transcripts)
                _bulk(conn, "analyses", ANALYSIS_COLUMNS, analyses)
                _bulk(conn, "hit_verdicts", VERDICT_COLUMNS, verdicts)
            written += n
            if written % 20_000 == 0 or written == args.calls:
                rate = written / (time.perf_counter() - t1)
                print(f"  {written} calls written ({rate:.0f}/s)", flush=True)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('analyses_id_seq', (SELECT max(id) FROM analyses))")
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"generated {args.calls} calls in {time.perf_counter() - t0:.1f} s", flush=True)


def _peak_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--reuse", action="store_true", help="use the populated database as it is")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="scoring processes (as inspector rules backtest)")
    args = parser.parse_args()

    url = make_url(args.db)
    if url.get_backend_name() == "sqlite" and url.database and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    db = Database(args.db)
    db.upgrade()
    rng = random.Random(args.seed)
    with db.session() as s:
        stored = s.scalar(select(func.count()).select_from(Call)) or 0
    if not args.reuse or stored == 0:
        if stored:
            _empty(db)
        generate(db, args, rng)
    settings = Settings()

    with db.session() as s:  # sanity: the stored analyses are what the default rules give
        same = backtest.candidate_from_files(s, rulesets.read_bundle(settings.rules_dir))
        one_day = LAST_DAY
        check = backtest.backtest(s, same, one_day, one_day)
    if check.calls_changed_total or any(r.hits_before != r.hits_after for r in check.rules):
        print(f"error: the unchanged pack changes {check.calls_changed_total} of {check.calls} calls", file=sys.stderr)
        return 1
    print(f"unchanged pack on {one_day}: {check.calls} calls, nothing changes ({check.seconds:.2f} s)")

    memory_before = _peak_mib()
    with db.session() as s:
        candidate = backtest.candidate_from_files(s, changed_pack(settings.rules_dir))
        t = time.perf_counter()
        result = backtest.backtest(s, candidate, workers=args.workers)
        elapsed = time.perf_counter() - t
    rate = result.calls / elapsed if elapsed else 0.0
    print(f"backtest of the changed pack ({args.workers} workers): {result.calls} calls in {elapsed:.1f} s "
          f"({rate:.0f} calls/s, {elapsed / max(1, result.calls) * 1000:.2f} ms each); "
          f"peak RSS {memory_before:.0f} MiB before, {_peak_mib():.0f} MiB after, "
          f"{_peak_mib(resource.RUSAGE_CHILDREN):.0f} MiB the largest worker")  # fmt: skip
    print(f"calls changed: {result.calls_changed_total}; agents: {len(result.agents)}")
    for r in result.rules:
        if r.hits_before != r.hits_after or r.precision_estimate is not None:
            print(f"  {r.rule_id:<26} hits {r.hits_before:>6} -> {r.hits_after:>6}  precision {r.precision_estimate}")
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
