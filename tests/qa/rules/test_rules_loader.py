"""Rule files: the default pack loads; every invalid file is refused with file, line and rule id."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.errors import RuleFileError
from inspector.qa.rules.engine import compile_ruleset
from inspector.qa.rules.loader import load_ruleset
from inspector.settings import PROJECT_ROOT
from inspector.speech.lexicon import load_vocabulary

HEAD = """\
kind: ruleset
id: t
version: 1
name: 测试
dimensions:
  - {id: service, name: 服务规范, weight: 10}
rules:
"""  # the first rule starts on line 8

GOOD_RULE = """\
  - id: greeting
    name: 开场问候
    category: greeting
    dimension: service
    mode: require
    points: 5
    when:
      keywords: {any: [您好]}
"""


def write(tmp_path: Path, body: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def refused(path: Path) -> RuleFileError:
    with pytest.raises(RuleFileError) as info:
        load_ruleset(path)
    err = info.value
    assert path.name in str(err) and "\n" not in str(err)
    return err


def test_default_pack_loads_and_compiles():
    ruleset = load_ruleset(PROJECT_ROOT / "rules")  # the directory: vocabulary.yaml is skipped
    assert ruleset.id == "property-default"
    assert {d.name for d in ruleset.dimensions} == {"服务规范", "沟通技巧", "情绪管理", "问题解决", "合规"}
    categories = {r.category for r in ruleset.rules}
    assert {"greeting", "self_id", "empathy", "apology", "closing", "prohibited", "customer_emotion",
            "escalation", "silence", "interruption", "speech_rate"} <= categories  # fmt: skip
    assert next(r for r in ruleset.rules if r.id == "escalation").alert == "red"
    compile_ruleset(ruleset)


def test_good_file(tmp_path: Path):
    ruleset = load_ruleset(write(tmp_path, GOOD_RULE))
    assert [r.id for r in ruleset.rules] == ["greeting"]
    assert ruleset.rules[0].role == "agent"


def test_unknown_condition_type_names_file_line_rule_and_choices(tmp_path: Path):
    path = write(tmp_path, GOOD_RULE.replace("keywords: {any: [您好]}", "keyword: {any: [您好]}"))
    err = refused(path)
    assert err.line == 15 and err.rule_id == "greeting"
    assert str(err).startswith(f"{path}:15: 规则 greeting 未知的条件类型 keyword（可选：keywords, regex")


def test_nested_error_points_at_its_line(tmp_path: Path):
    body = GOOD_RULE.replace(
        "      keywords: {any: [您好]}\n",
        "      all:\n        - keywords: {any: [您好]}\n        - regex: {pattern: '工号('}\n",
    )
    err = refused(write(tmp_path, body))
    assert err.line == 17 and err.rule_id == "greeting"
    assert "正则表达式无效" in err.reason and "when.all[1].regex.pattern" in err.reason


def test_missing_field(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("    mode: require\n", "")))
    assert err.line == 8 and err.rule_id == "greeting" and "缺少字段 mode" in err.reason


def test_bad_enum_value_lists_choices(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("category: greeting", "category: greting")))
    assert err.line == 10 and "greting" in err.reason and "'greeting'" in err.reason


def test_wrong_type(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("keywords: {any: [您好]}", "keywords: {any: 您好}")))
    assert err.line == 15 and "必须是列表" in err.reason


def test_modifier_not_allowed_on_operator(tmp_path: Path):
    body = GOOD_RULE.replace("keywords: {any: [您好]}", "silence: {min_s: 10}\n      position: {first: 1}")
    err = refused(write(tmp_path, body))
    assert err.line == 16 and "position" in err.reason


def test_duplicate_rule_id(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE + GOOD_RULE))
    assert err.line == 16 and err.rule_id == "greeting" and "重复" in err.reason


def test_unknown_dimension(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("dimension: service", "dimension: quality")))
    assert err.line == 11 and err.rule_id == "greeting" and "未知的维度 quality" in err.reason


def test_detect_rule_cannot_deduct(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("mode: require", "mode: detect")))
    assert err.rule_id == "greeting" and "detect" in err.reason


def test_duplicate_yaml_key(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("    points: 5\n", "    points: 5\n    points: 3\n")))
    assert err.line == 14 and "points" in err.reason


def test_yaml_syntax_error(tmp_path: Path):
    err = refused(write(tmp_path, GOOD_RULE.replace("[您好]", "[您好")))
    assert err.line is not None and "YAML 语法错误" in err.reason


def test_non_utf8(tmp_path: Path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes((HEAD + GOOD_RULE).encode("gbk"))
    assert "UTF-8" in refused(path).reason


def test_wrong_kind(tmp_path: Path):
    path = tmp_path / "v.yaml"
    path.write_text("kind: vocabulary\nvocabulary: {}\n", encoding="utf-8")
    err = refused(path)
    assert err.line == 1 and "ruleset" in err.reason


def test_directory_merges_and_refuses_cross_file_duplicates(tmp_path: Path):
    write(tmp_path, GOOD_RULE, "a.yaml")
    write(tmp_path, GOOD_RULE.replace("id: greeting", "id: greeting2"), "b.yaml")
    (tmp_path / "vocab.yaml").write_text("kind: vocabulary\nvocabulary: {prompt: 物业}\n", encoding="utf-8")
    assert [r.id for r in load_ruleset(tmp_path).rules] == ["greeting", "greeting2"]
    write(tmp_path, GOOD_RULE, "c.yaml")
    with pytest.raises(RuleFileError) as info:
        load_ruleset(tmp_path)
    assert "c.yaml:8:" in str(info.value) and info.value.rule_id == "greeting"


def test_missing_path(tmp_path: Path):
    with pytest.raises(RuleFileError, match="不存在"):
        load_ruleset(tmp_path / "nope")


def test_greeting_phrases_of_a_ruleset_are_agent_cues(tmp_path: Path):
    body = GOOD_RULE.replace("keywords: {any: [您好]}", "phrase: {phrases: [很高兴为您服务]}")
    write(tmp_path, body)
    assert load_vocabulary(tmp_path).agent_cues == ("很高兴为您服务",)
