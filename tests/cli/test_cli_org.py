"""``inspector org`` and ``inspector users scope``, in-process against a real SQLite database."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.settings import Settings
from inspector.store import memberships
from inspector.store.db import Database, utcnow
from inspector.store.schema import Agent
from inspector.store.users import get_user

ORG = """\
id: huaxia
name: 华夏物业集团
regions:
  - id: east
    name: 华东区域
    projects:
      - id: yangguang
        name: 阳光花园
        teams: [A组, B组]
"""


def test_org_import_show_and_a_bad_file(env: Path, capsys) -> None:
    path = env / "org.yaml"
    path.write_text(ORG, encoding="utf-8")
    assert main(["org", "show"]) == 0
    assert "尚未配置组织架构" in capsys.readouterr().out
    assert main(["org", "import", str(path)]) == 0
    assert "区域 1 个，项目 1 个，班组 2 个" in capsys.readouterr().out
    assert main(["org", "show"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "集团 华夏物业集团（huaxia）", "  区域 华东区域（east）", "    项目 阳光花园（yangguang）",
        "      班组 A组（A组）", "      班组 B组（B组）",
    ]  # fmt: skip
    path.write_text(ORG.replace("teams: [A组, B组]", "teams: [A组, east]"), encoding="utf-8")
    assert main(["org", "import", str(path)]) == 2
    assert f"{path}:9: 编号 east 重复" in capsys.readouterr().err
    assert main(["org", "show"]) == 0
    assert "班组 B组（B组）" in capsys.readouterr().out  # the refused file changed nothing


def test_org_move_and_users_scope(env: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    path = env / "org.yaml"
    path.write_text(ORG, encoding="utf-8")
    assert main(["org", "import", str(path)]) == 0
    db = Database(Settings().database)
    with db.session() as session:
        session.add(Agent(id="8001", name="张三", team_id="A组", created_at=utcnow()))
    assert main(["org", "move", "8001", "B组", "--from", "2024-03-10"]) == 0
    assert "坐席 8001 自 2024-03-10 起调入班组 B组" in capsys.readouterr().out
    with db.session() as session:
        spans = memberships.spans_of(session, ["8001"])["8001"]
        assert memberships.team_on(spans, date(2024, 3, 9)) == "A组"
        assert memberships.team_on(spans, date(2024, 3, 10)) == "B组"
    assert main(["org", "move", "8001", "Z组"]) == 2
    assert "班组 Z组 不存在" in capsys.readouterr().err
    assert main(["org", "move", "8001", "B组", "--from", "3/10"]) == 2
    assert "不是日期" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery\n"))
    assert main(["users", "create", "pm", "--role", "team_lead", "--scope", "yangguang", "--password-stdin"]) == 0
    assert main(["users", "scope", "pm", "east"]) == 0
    assert "管辖范围：east" in capsys.readouterr().out
    assert main(["users", "scope", "pm", "nowhere"]) == 2
    assert "nowhere 不是组织架构中的节点" in capsys.readouterr().err
    with db.session() as session:
        user = get_user(session, "pm")
        assert user is not None and user.scope == "east"
    assert main(["users", "scope", "pm", "-"]) == 2  # no team to fall back to
    assert "没有班组" in capsys.readouterr().err
