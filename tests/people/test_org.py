"""The organization hierarchy file (YAML) and body (JSON): what is accepted, what is refused with file and line
or field, and what importing it stores (on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from inspector.errors import RuleFileError
from inspector.people.org import OrgError, apply_org, load_org, parse_org
from inspector.store.org import load_tree
from inspector.store.schema import OrgUnit, Team
from inspector.vocab import OrgLevel

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
      - id: jinxiu
        name: 锦绣华庭
        teams: [{id: C组, name: 锦绣客服组}]
  - id: south
    name: 华南区域
    projects:
      - id: lvyuan
        teams: [D组]
teams: [热线中心]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_becomes_a_tree_with_levels_names_and_order(tmp_path) -> None:
    spec = load_org(write(tmp_path, ORG))
    nodes = [node for _, node in spec.nodes()]
    assert [(n.id, n.level, n.parent_id) for n in nodes] == [
        ("huaxia", OrgLevel.GROUP, None),
        ("east", OrgLevel.REGION, "huaxia"),
        ("yangguang", OrgLevel.PROJECT, "east"),
        ("A组", OrgLevel.TEAM, "yangguang"),
        ("B组", OrgLevel.TEAM, "yangguang"),
        ("jinxiu", OrgLevel.PROJECT, "east"),
        ("C组", OrgLevel.TEAM, "jinxiu"),
        ("south", OrgLevel.REGION, "huaxia"),
        ("lvyuan", OrgLevel.PROJECT, "south"),
        ("D组", OrgLevel.TEAM, "lvyuan"),
        ("热线中心", OrgLevel.TEAM, "huaxia"),
    ]
    names = {n.id: n.name for n in nodes}
    assert names["C组"] == "锦绣客服组" and names["lvyuan"] == "lvyuan"  # a missing name is the id


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (ORG.replace("      - id: jinxiu", "      - id: yangguang"), 10, "编号 yangguang 重复"),
        (ORG.replace("teams: [D组]", "teams: [A组]"), 17, "编号 A组 重复"),
        (ORG.replace("    name: 华南区域\n", "    name: 华南区域\n    manager: 张三\n"), 15,
         "不支持的字段 regions[1].manager"),
        (ORG.replace("  - id: south\n", "  - name_: x\n"), 13, "缺少字段 regions[1].id"),
        (ORG.replace("id: huaxia", "id: 华夏 集团"), 1, "id"),
        (ORG.replace("id: huaxia", "id: a/b"), 1, "id"),
        ("- a\n- b\n", 1, "顶层必须是映射"),
        (ORG + "id: again\n", 19, "字段 id 重复"),
    ],
)
def test_a_bad_file_is_refused_with_its_line(tmp_path, text, line, words) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RuleFileError) as raised:
        load_org(path)
    message = str(raised.value)
    assert str(path) in message and f":{line}:" in message and words in message, message


def test_a_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(RuleFileError, match="组织架构文件不存在"):
        load_org(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"id": "g", "regions": [{"id": "r", "projects": [{"id": "r"}]}]}, "regions[0].projects[0].id", "重复"),
        ({"id": "g", "regions": [{"id": "r", "projects": [{"id": "p", "teams": [{"id": ""}]}]}]},
         "regions[0].projects[0].teams[0].id", ""),
        ({"id": "g", "teams": [{"id": "t", "size": 3}]}, "teams[0].size", "不支持的字段"),
        ({"name": "无编号"}, "id", "缺少字段"),
        ([], "（顶层）", "必须是对象"),
    ],
)  # fmt: skip
def test_a_bad_body_names_the_field(data, field, words) -> None:
    with pytest.raises(OrgError) as raised:
        parse_org(data)
    assert raised.value.field == field and words in raised.value.reason, (raised.value.field, raised.value.reason)


def test_importing_stores_the_tree_creates_teams_and_replaces_the_old_one(tmp_path, database) -> None:
    with database.session() as s:
        s.add(Team(id="A组", name="旧名"))
        s.add(Team(id="X组", name="X组"))
    with database.session() as s:
        apply_org(s, load_org(write(tmp_path, ORG)))
    with database.session() as s:
        tree = load_tree(s)
        assert tree.teams_under("east") == {"A组", "B组", "C组"}
        assert tree.teams_under("huaxia") == {"A组", "B组", "C组", "D组", "热线中心"}
        assert tree.teams_under("yangguang") == {"A组", "B组"}
        assert tree.teams_under("X组") == {"X组"}  # a team outside the tree is itself
        assert [n.id for n in tree.path("C组")] == ["huaxia", "east", "jinxiu", "C组"]
        teams = dict(s.execute(select(Team.id, Team.name)).all())
        assert teams["A组"] == "A组" and teams["C组"] == "锦绣客服组" and teams["X组"] == "X组"
    smaller = parse_org({"id": "huaxia", "name": "华夏", "regions": [{"id": "east", "projects": [
        {"id": "yangguang", "teams": ["A组"]}]}]})  # fmt: skip
    with database.session() as s:
        apply_org(s, smaller)
    with database.session() as s:
        assert sorted(s.scalars(select(OrgUnit.id))) == ["A组", "east", "huaxia", "yangguang"]
        assert load_tree(s).teams_under("huaxia") == {"A组"}
        assert s.get(Team, "B组") is not None  # teams are kept: their agents and history stay
