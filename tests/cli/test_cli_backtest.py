"""``inspector rules backtest``, run in-process against a real database (SQLite file in a temp data dir)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fakecalls import four_turn_transcript
from sqlalchemy import func, select

from inspector.cli.main import main
from inspector.qa.analysis import Analyzer
from inspector.settings import Settings
from inspector.store import calls as store
from inspector.store import rulesets
from inspector.store.db import Database
from inspector.store.schema import Analysis, RuleSetRecord

TZ = ZoneInfo("Asia/Shanghai")
GREETING = "您好，物业客服中心，工号三一五七，请问有什么可以帮您？"
ASK = "我家厨房漏水了，麻烦派人来看看。"
CARING = "非常抱歉给您带来不便，我理解您的心情，马上安排师傅上门。"
WITH_CLOSING = four_turn_transcript((GREETING, ASK, CARING, "感谢您的来电，再见。"))
NO_CLOSING = four_turn_transcript((GREETING, ASK, CARING, "好的。"))


def _seed(env: Path) -> None:
    """Two done calls scored with the default rules: 8001's says the closing, 8002's does not (day 15, 16)."""
    settings = Settings()
    db = Database(settings.database)
    db.upgrade()
    analyzer = Analyzer(settings)
    for n, (call_id, agent, day, transcript) in enumerate((("a", "8001", 15, WITH_CLOSING),
                                                            ("b", "8002", 16, NO_CLOSING))):  # fmt: skip
        started = datetime(2024, 3, day, 10, tzinfo=TZ)
        new = store.NewCall(audio_sha256=f"{n:064d}", audio_bytes=10, audio_name=f"{call_id}.wav", source="import",
                            agent_id=agent, call_id=call_id, started_at=started)  # fmt: skip
        with db.session() as s:
            rule_set_id = rulesets.ensure_default(s, settings.rules_dir).id
            store.register_calls(s, [new], TZ)
            call = store.claim(s, call_id, lease_s=600)
            assert call is not None
            store.save_transcript(s, call_id, transcript)
            store.save_analysis(s, call, analyzer.analyze_transcript(transcript, agent), rule_set_id, True)
            store.finish(s, call)
    db.dispose()


def _pack_without_closing(env: Path) -> Path:
    folder = env / "candidate"
    for name, text in rulesets.read_bundle(Settings().rules_dir).items():
        if name == "property-default.yaml":
            start = text.index("  - id: closing\n")
            text = text[:start] + text[text.index("  # ----", start) :]
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _stored_rows() -> tuple[int, int]:
    db = Database(Settings().database)
    with db.session() as s:
        counts = (s.scalar(select(func.count()).select_from(RuleSetRecord)) or 0,
                  s.scalar(select(func.count()).select_from(Analysis)) or 0)  # fmt: skip
    db.dispose()
    return counts


def test_backtest_json_has_the_documented_shape_and_figures(env: Path, capsys) -> None:
    _seed(env)
    pack = _pack_without_closing(env)
    assert main(["rules", "backtest", str(pack), "--format", "json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1  # one JSON object
    data = json.loads(lines[0])
    assert {"rules", "agents", "calls_changed"} <= set(data) and data["calls"] == 2
    rules = {r["rule_id"]: r for r in data["rules"]}
    assert {"rule_id", "hits_before", "hits_after", "precision_estimate"} <= set(rules["closing"])
    assert (rules["closing"]["hits_before"], rules["closing"]["hits_after"]) == (1, 0)
    assert rules["greeting"]["hits_before"] == rules["greeting"]["hits_after"] == 0
    (changed,) = data["calls_changed"]
    assert {"call_id", "score_before", "score_after", "alert_before", "alert_after"} <= set(changed)
    assert changed["call_id"] == "b" and changed["score_after"] - changed["score_before"] == 5
    agents = {a["agent_id"]: (a["score_before"], a["score_after"]) for a in data["agents"]}
    assert agents["8001"][0] == agents["8001"][1] and agents["8002"][1] - agents["8002"][0] == 5
    assert _stored_rows() == (1, 2)  # the candidate is not stored, nothing rescored

    assert main(["rules", "backtest", str(pack), "--from", "2024-03-16", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["calls"] == 1
    assert main(["rules", "backtest", str(pack), "--to", "2024-03-15", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["calls_changed"] == []

    assert main(["rules", "backtest", str(pack)]) == 0
    table = capsys.readouterr().out
    assert "回测规则集 property-default v1" in table and "得分或预警等级会变化的通话：1 通" in table
    assert "closing\t规范结束语（已删除）\t1\t0\t" in table


def test_backtest_refuses_an_invalid_pack_naming_file_and_line(env: Path, capsys) -> None:
    _seed(env)
    pack = _pack_without_closing(env)
    target = pack / "property-default.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("    mode: forbid\n", "    mode: sometimes\n", 1), encoding="utf-8")
    line = text[: text.index("    mode: forbid\n")].count("\n") + 1
    assert main(["rules", "backtest", str(pack), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"错误：property-default.yaml:{line}:"), err
    assert "规则 " in err

    assert main(["rules", "backtest", str(env / "missing.yaml")]) == 2
    assert "文件或目录不存在" in capsys.readouterr().err
    assert main(["rules", "backtest", str(pack), "--from", "2024-13-01"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert _stored_rows() == (1, 2)
