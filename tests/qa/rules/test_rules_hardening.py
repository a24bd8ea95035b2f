"""Rule files that would stall the service: YAML alias bombs, huge or deeply nested documents,
catastrophic regexes. Each is refused fast with file, line (and rule id), or stopped at run time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from inspector.errors import RuleFileError
from inspector.qa.rules.engine import RuleEvaluationError, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.speech.transcript import Transcript
from inspector.store.rulesets import validate_bundle
from inspector.yamlfile import MAX_ALIASES, MAX_BYTES

HEAD = """\
kind: ruleset
id: t
version: 1
name: 测试
dimensions:
  - {id: service, name: 服务规范, weight: 10}
rules:
"""


def rule(when: str, rule_id: str = "r1") -> str:
    return f"""\
  - id: {rule_id}
    name: 规则
    category: other
    dimension: service
    mode: detect
    points: 0
    when:
      {when}
"""


def billion_laughs() -> str:
    lines = ["kind: ruleset", 'a: &a ["哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


def refused_fast(path: Path) -> RuleFileError:
    started = time.perf_counter()
    with pytest.raises(RuleFileError) as info:
        load_ruleset(path)
    assert time.perf_counter() - started < 1.0
    err = info.value
    assert str(path) in str(err) and "\n" not in str(err)
    return err


# --- YAML budgets ----------------------------------------------------------------------------------


def test_billion_laughs_is_refused_fast_with_its_line(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    err = refused_fast(path)
    assert err.line is not None and 2 <= err.line <= 10
    assert "别名" in err.reason or "节点" in err.reason


def test_billion_laughs_in_an_uploaded_bundle_is_refused_fast():
    started = time.perf_counter()
    with pytest.raises(RuleFileError) as info:
        validate_bundle({"bomb.yaml": billion_laughs()})
    assert time.perf_counter() - started < 1.0
    assert str(info.value).startswith("bomb.yaml:")


def test_too_many_aliases(tmp_path: Path):
    path = tmp_path / "aliases.yaml"
    refs = ", ".join(["*x"] * (MAX_ALIASES + 1))
    path.write_text(f"kind: ruleset\nx: &x 1\ny: [{refs}]\n", encoding="utf-8")
    err = refused_fast(path)
    assert err.line == 3 and f"{MAX_ALIASES}" in err.reason


def test_recursive_alias(tmp_path: Path):
    path = tmp_path / "loop.yaml"
    path.write_text("kind: ruleset\nx: &x [1, *x]\n", encoding="utf-8")
    err = refused_fast(path)
    assert err.line == 2 and "递归" in err.reason


def test_deep_nesting(tmp_path: Path):
    path = tmp_path / "deep.yaml"
    path.write_text("kind: ruleset\nx: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    err = refused_fast(path)
    assert err.line == 2 and "嵌套" in err.reason


def test_oversized_file(tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_text(HEAD + "# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
    err = refused_fast(path)
    assert err.line is None and "超过上限" in err.reason


def test_a_few_aliases_still_work(tmp_path: Path):
    path = tmp_path / "ok.yaml"
    body = rule("&greeting {keywords: {any: [您好]}}", "r1") + rule("*greeting", "r2")
    path.write_text(HEAD + body, encoding="utf-8")
    ruleset = load_ruleset(path)
    assert [r.id for r in ruleset.rules] == ["r1", "r2"] and ruleset.rules[0].when == ruleset.rules[1].when


# --- catastrophic regexes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "{pattern: '(.+)+X'}",
        "{pattern: '(a*)*b'}",
        r"{pattern: '工号(?:\d+\s?)+号'}",
        "{pattern: '(好|坏+)*X'}",
        "{pattern: '您好', exclude: '(x+)+y'}",
    ],
)
def test_nested_quantifiers_are_refused_at_load_with_the_rule_id(tmp_path: Path, spec: str):
    path = tmp_path / "re.yaml"
    path.write_text(HEAD + rule("regex: " + spec, rule_id="bad_re"), encoding="utf-8")
    err = refused_fast(path)
    assert err.rule_id == "bad_re" and err.line is not None and err.line >= 8
    assert "嵌套" in err.reason


@pytest.mark.parametrize("pattern", [r"工号\d{4}", r"(\d{4})+", "(您好|你好)+", r"(?:ab)+c", r"\d+号"])
def test_ordinary_regexes_are_accepted(tmp_path: Path, pattern: str):
    path = tmp_path / "re.yaml"
    path.write_text(HEAD + rule(f"regex: {{pattern: '{pattern}'}}"), encoding="utf-8")
    compile_ruleset(load_ruleset(path))


def test_a_catastrophic_regex_that_slips_through_is_an_error_for_its_rule(tmp_path: Path):
    # Overlapping alternatives under one quantifier: no nested quantifier, still exponential.
    path = tmp_path / "re.yaml"
    path.write_text(HEAD + rule("regex: {pattern: '(好|好)+X'}", rule_id="slow_re"), encoding="utf-8")
    compiled = compile_ruleset(load_ruleset(path))
    transcript = Transcript.from_dict(
        {"duration_s": 5.0, "utterances": [{"start": 0, "end": 5, "role": "agent", "text": "好" * 40}]}
    )
    started = time.perf_counter()
    with pytest.raises(RuleEvaluationError) as info:
        evaluate(compiled, transcript)
    assert time.perf_counter() - started < 5.0
    assert info.value.rule_id == "slow_re" and "slow_re" in str(info.value) and "超时" in str(info.value)
