"""Service commands, run in-process against a real database (SQLite file in a temp data dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.settings import Settings
from inspector.store.db import Database
from inspector.store.tokens import verify_token


def test_db_upgrade_is_idempotent_and_registers_the_default_rules(env: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "当前生效规则集：#1 " in out and (env / "data" / "inspector.db").is_file()
    assert main(["rules", "list"]) == 0
    assert capsys.readouterr().out.startswith("* #1\t")


def test_token_create_prints_the_token_last(env: Path, capsys) -> None:
    assert main(["token", "create", "--role", "admin"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    db = Database(Settings().database)
    with db.session() as session:
        record = verify_token(session, token)
        assert record is not None and record.role == "admin"
        assert verify_token(session, token + "x") is None
    assert main(["token", "create", "--role", "agent"]) == 2  # an agent token needs --agent-id
    assert "--agent-id" in capsys.readouterr().err


def test_token_expiry_list_and_revoke(env: Path, capsys) -> None:
    assert main(["token", "create", "--role", "admin", "--name", "对接脚本", "--expires", "90d"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip().splitlines()[-1]
    assert "有效期至" in captured.err
    assert main(["token", "create", "--role", "agent", "--agent-id", "8001"]) == 0
    other = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["token", "create", "--role", "admin", "--expires", "3 months"]) == 2
    assert "有效期" in capsys.readouterr().err

    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    lines = listing.strip().splitlines()
    assert lines[0].split("\t")[:4] == ["编号", "角色", "创建时间", "到期时间"] and len(lines) == 3
    assert lines[1].startswith("1\tadmin\t") and "对接脚本" in lines[1] and "永不过期" in lines[2]
    assert token not in listing and other not in listing and token[5:12] not in listing

    assert main(["token", "revoke", "1"]) == 0
    assert "已吊销令牌 #1" in capsys.readouterr().out
    db = Database(Settings().database)
    with db.session() as session:
        assert verify_token(session, token) is None and verify_token(session, other) is not None
    assert main(["token", "list"]) == 0
    assert "已吊销" in capsys.readouterr().out.splitlines()[1]
    assert main(["token", "revoke", "42"]) == 2
    assert "令牌 #42 不存在" in capsys.readouterr().err


def test_invalid_rule_file_is_refused_with_its_line(env: Path, capsys) -> None:
    bad = env / "bad.yaml"
    bad.write_text("kind: ruleset\nid: x\nversion: 1\nrules:\n  - id: r1\n    name: 坏规则\n    mode: nonsense\n",
                   encoding="utf-8")
    assert main(["rules", "add", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：bad.yaml") and len(err.splitlines()) == 1


def test_import_without_queue_registers_and_reports(env: Path, samples_dir: Path, capsys) -> None:
    pbx = env / "pbx"
    pbx.mkdir()
    sample = sorted(samples_dir.glob("*.wav"))[0]
    (pbx / "in-8001-13812345678-20240315-093012-1710466212.42.wav").write_bytes(sample.read_bytes())
    (pbx / "notes.txt").write_text("x")
    assert main(["import", str(pbx), "--no-enqueue", "-q"]) == 1  # one file skipped → exit 1
    out = capsys.readouterr().out
    assert "新增 1 通" in out and "跳过 1 个文件" in out and "notes.txt" in out
    assert main(["import", str(pbx), "--no-enqueue", "-q"]) == 1
    assert "新增 0 通，重复 1 通" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "排队中\t1" in capsys.readouterr().out


def test_import_of_a_missing_folder_is_one_line(env: Path, capsys) -> None:
    assert main(["import", str(env / "nope"), "--no-enqueue"]) == 2
    assert "目录不存在" in capsys.readouterr().err


def test_review_sample_runs_for_a_given_week(env: Path, capsys) -> None:
    assert main(["review", "sample", "--week", "2024-03-13"]) == 0
    assert "2024-03-11" in capsys.readouterr().out  # the Monday of that week
    assert main(["review", "sample", "--week", "13/03/2024"]) == 2
    assert "--week" in capsys.readouterr().err


@pytest.mark.slow
def test_inline_import_processes_in_process_and_scorecards_read_the_database(env: Path, samples_dir: Path,
                                                                             capsys) -> None:  # fmt: skip
    pbx = env / "pbx"
    pbx.mkdir()
    sample = samples_dir / "call01_leak_stereo.wav"
    (pbx / sample.name).write_bytes(sample.read_bytes())
    assert main(["import", str(pbx), "--agent-id", "3157", "--team", "A组", "--inline", "-q"]) == 0
    assert "新增 1 通" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "已完成\t1" in capsys.readouterr().out
    assert main(["scorecards", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("坐席,姓名,班组,通话数,平均分") and lines[1].startswith("3157,,A组,1,")
    assert main(["scorecards"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "共情话术使用率" in table[0] and table[1].split()[0] == "3157" and "%" in table[1]
    assert main(["import", str(pbx), "--agent-id", "3157", "--inline", "-q"]) == 0  # again: nothing new
    assert "新增 0 通，重复 1 通" in capsys.readouterr().out
    assert main(["report"]) == 0  # the quickstart's next step: the stored call's QA report
    report = capsys.readouterr().out.splitlines()
    assert report[0] == "文件：call01_leak_stereo.wav" and report[1].startswith("坐席：3157　")
    assert "扣分明细：" in report and report[-3] == "坐席汇总：" and report[-1].split()[:2] == ["3157", "1"]


def test_serve_with_two_worker_processes_answers_healthz(env: Path, redis_url: str) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environ = {**os.environ, "INSPECTOR_REDIS_URL": redis_url}  # INSPECTOR_DATA_DIR: the env fixture's
    command = [str(Path(sys.executable).parent / "inspector"), "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode(errors="replace") if server.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "inspector serve --workers 2 did not answer"
                time.sleep(0.2)
        workers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == server.pid]
        assert len(workers) >= 2  # uvicorn's supervisor and its worker processes
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


def _ppid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_satisfaction_import_reports_bad_rows_and_exits_1(env: Path, samples_dir: Path, capsys) -> None:
    pbx = env / "pbx"
    pbx.mkdir()
    sample = sorted(samples_dir.glob("*.wav"))[0]
    (pbx / "in-8001-13812345678-20240315-093012-1710466212.42.wav").write_bytes(sample.read_bytes())
    assert main(["import", str(pbx), "--no-enqueue", "-q"]) == 0
    with Database(Settings().database).session() as session:
        from sqlalchemy import select

        from inspector.store.schema import Call, Survey

        call_id = session.scalar(select(Call.id))
    good = env / "回访.csv"
    good.write_bytes(f"通话编号,满意度,推荐值\n{call_id},4,9\nnone,5,\n{call_id}x,7,\n".encode("gbk"))
    args = ["satisfaction", "import", str(good), "--columns", "call_id=通话编号,csat=满意度,nps=推荐值"]
    assert main(args) == 1  # two rows not imported
    out = capsys.readouterr().out
    assert "导入 1 条" in out and "未导入 2 行" in out
    assert f"{good}:3: 通话 none 不存在" in out and f"{good}:4: 满意度 '7' 无效" in out
    with Database(Settings().database).session() as session:
        survey = session.get(Survey, call_id)
        assert survey.csat == 4 and survey.nps == 9
    clean = env / "ok.csv"
    clean.write_text(f"call_id,csat\n{call_id},5\n", encoding="utf-8-sig")
    assert main(["satisfaction", "import", str(clean), "--format", "json"]) == 0
    assert '"imported": 1, "replaced": 1' in capsys.readouterr().out
    assert main(["satisfaction", "import", str(env / "none.csv")]) == 2
    assert "满意度 文件不存在" in capsys.readouterr().err
