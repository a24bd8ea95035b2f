"""Emerging-phrases benchmark (新出现的说法): one request over a full window and baseline, with the phrase sets
stored when calls are scored against cutting every transcript on request (the path before sets were stored).

    .venv/bin/python bench/emerging.py [--db URL] [--calls-per-day 700] [--days 58] [--queries 5] [--reuse]

Generation writes ``--calls-per-day`` calls a day for ``--days`` days over 10 projects, each with two agent
turns and three or four customer turns from sentence patterns written for this bench (property-hotline
complaints, with varying buildings, times and amounts), and one new complaint (a water tank that smells) that
owners of one project start making in the last ten days. 700 calls a day fills the default cap
(``insights.emerging_max_calls``, 20,000) of a 30-day window and nearly fills its 28-day baseline. Each call's
phrase set is then cut and stored by the production functions (``emerging.phrases_of_call``,
``store.phrases.save_phrases``), which is timed per call: the cost moved from the request to scoring.

Timed: ``emerging_phrases`` for the last 30 days, every project, each query in its own session as an API
request: with the stored sets, then with them deleted inside the same transaction (rolled back after), so that
every call is cut on read. p50 / max in ms. Not a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta

from scorecard import Timed, fresh_sqlite
from sqlalchemy import delete, func, insert, select

from inspector.reports import emerging
from inspector.settings import Settings
from inspector.store.db import Database
from inspector.store.phrases import save_phrases
from inspector.store.schema import Agent, Call, CallPhrases, UtteranceRecord

DEFAULT_DB = "sqlite:////tmp/inspector-bench/emerging.db"
LAST_DAY = date(2024, 6, 30)
PROJECTS = [f"P{i:02d}" for i in range(1, 11)]
AGENT_TURNS = ("您好，这里是物业客服中心，请问有什么可以帮您？", "好的，我这边给您登记一下，稍后安排师傅联系您。")
CUSTOMER = (
    "我家{b}号楼的电梯又坏了，{t}停在{f}楼不动",
    "楼上{b}号楼那家一直在装修，{t}还在电钻，吵得孩子没法睡觉",
    "地下车库{b}号车位被别人占了，打了好几次电话都没人管",
    "厨房的水管漏水了，已经漏了{n}天，楼下邻居都找上门了",
    "物业费我上个月交过了，怎么系统里还显示欠费{n}百块",
    "小区门口的垃圾{n}天没人清运了，味道特别大",
    "{b}号楼门禁卡刷不开，我们老人进不去门",
    "绿化带的树枝挡住了窗户，能不能派人修剪一下",
    "晚上{t}有人在小区里放音乐跳广场舞，声音太大了",
    "快递柜一直满着，我的快递放不进去被退回了",
    "楼道里的灯坏了{n}个星期了，晚上黑乎乎的很危险",
    "你们的保安{t}不在岗，外面的人随便就进来了",
    "暖气片不热，家里才{n}度，老人受不了",
    "上次报修的师傅说今天{t}过来，到现在还没来",
    "停车费怎么又涨了，也没有提前通知我们业主",
    "就是这个情况，你们尽快处理一下吧",
    "好的，那我等你们电话",
    "麻烦快一点，已经等了很久了",
)
NEW = "我们楼顶的水箱有异味，自来水放出来都是臭的"  # what owners of one project start saying
TIMES = ("早上", "中午", "晚上十点", "半夜", "下午三点", "今天上午")


def _customer_turns(rng: random.Random, new: bool) -> list[str]:
    turns = []
    for _ in range(rng.choice((3, 4))):
        slots = {"b": rng.randint(1, 30), "f": rng.randint(2, 30), "n": rng.randint(2, 9), "t": rng.choice(TIMES)}
        turns.append(rng.choice(CUSTOMER).format(**slots))
    if new:
        turns[0] = NEW
    return turns


def generate(db: Database, rng: random.Random, per_day: int, days: int) -> float:
    """Calls and utterances by bulk insert, then every call's phrase set by the production path; returns the
    milliseconds of cutting and storing one call's set."""
    first = LAST_DAY - timedelta(days=days - 1)
    now = datetime(2024, 1, 1)
    with db.engine.begin() as conn:
        conn.execute(insert(Agent), [{"id": f"80{i:02d}", "name": f"坐席{i}", "created_at": now} for i in range(20)])
    ids: list[str] = []
    for d in range(days):
        day = first + timedelta(days=d)
        calls, utterances = [], []
        for n in range(per_day):
            call_id = f"e{day:%Y%m%d}-{n:04d}"
            at = datetime.combine(day, datetime.min.time()) + timedelta(seconds=30 * n)
            project = rng.choice(PROJECTS)
            calls.append({"id": call_id, "agent_id": f"80{rng.randrange(20):02d}", "started_at": at, "day": day,
                          "audio_sha256": call_id.encode().hex()[:64].ljust(64, "0"), "audio_bytes": 1,
                          "audio_name": f"{call_id}.wav", "source": "import", "status": "done", "attempts": 1,
                          "created_at": at, "updated_at": at, "project": project})  # fmt: skip
            new = project == "P03" and (LAST_DAY - day).days < 10 and rng.random() < 0.3
            turns = [("agent", AGENT_TURNS[0])] + [("customer", t) for t in _customer_turns(rng, new)]
            turns.append(("agent", AGENT_TURNS[1]))
            utterances += [{"call_id": call_id, "idx": i, "start": 5.0 * i, "end": 5.0 * i + 4, "speaker": role,
                            "role": role, "text": text, "confidence": 0.9}
                           for i, (role, text) in enumerate(turns)]  # fmt: skip
            ids.append(call_id)
        with db.engine.begin() as conn:
            conn.execute(insert(Call), calls)
            conn.execute(insert(UtteranceRecord), utterances)
    t = time.perf_counter()
    for i in range(0, len(ids), 1000):
        with db.session() as session:
            for call_id in ids[i : i + 1000]:
                save_phrases(session, call_id, emerging.phrases_of_call(session, call_id), emerging.PHRASES_VERSION)
    return (time.perf_counter() - t) * 1000 / len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--calls-per-day", type=int, default=700)
    parser.add_argument("--days", type=int, default=58, help="the window's 30 days and the 28 before")
    parser.add_argument("--queries", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20241204)
    parser.add_argument("--reuse", action="store_true", help="skip generation when the database is populated")
    args = parser.parse_args()
    settings = Settings().insights
    if not args.reuse:
        fresh_sqlite(args.db)
    db = Database(args.db)
    try:
        db.upgrade()
        with db.session() as s:
            stored = s.scalar(select(func.count()).select_from(CallPhrases)) or 0
        if not (args.reuse and stored):
            ms = generate(db, random.Random(args.seed), args.calls_per_day, args.days)
            print(f"generated {args.calls_per_day * args.days:,} calls; cutting and storing one call's phrases: "
                  f"{ms:.2f} ms")  # fmt: skip
        start, end = LAST_DAY - timedelta(days=29), LAST_DAY
        results = []
        for label, cut_on_read in (("stored sets", False), ("cut on read", True)):
            timed = Timed(label, [])
            for i in range(args.queries + 1):  # the first warms up, uncounted
                with db.sessions() as session, session.begin():
                    if cut_on_read:
                        session.execute(delete(CallPhrases))
                    t = time.perf_counter()
                    found = emerging.emerging_phrases(session, settings, start, end)
                    elapsed = (time.perf_counter() - t) * 1000
                    session.rollback()
                if i:
                    timed.ms.append(elapsed)
            results.append(timed)
            top = ", ".join(f"{e.phrase} {e.calls}" for e in found.items[:5])
            print(f"{label}: {found.window_calls:,} calls in the window, {found.baseline_calls:,} in the baseline, "
                  f"capped {found.capped}; first phrases: {top}")  # fmt: skip
        print(f"\n{'query (ms)':<24}{'n':>6}{'p50':>10}{'p95':>10}{'max':>10}")
        for timed in results:
            print(timed.row())
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
