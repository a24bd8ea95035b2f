"""Load rule sets (``kind: ruleset``) from a YAML file or a directory of them.

Every problem becomes a ``RuleFileError`` naming the file, the line (from the YAML nodes PyYAML
composes, so the line is that of the offending rule or field), and the rule id when one is known.
A directory is read recursively in sorted order; ``kind: vocabulary`` files are skipped, and the
rule sets found are merged into one (same dimensions required, rule ids unique across files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from inspector.errors import RuleFileError
from inspector.qa.rules.schema import CONDITION_TAGS, RuleSet
from inspector.yamlfile import read_yaml

SKIPPED_KINDS = {"vocabulary", "emotion_lexicon", "training"}
KINDS = ("ruleset", "vocabulary", "emotion_lexicon", "training")


def _read(path: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data and node tree; duplicate keys are refused (PyYAML keeps the last silently)."""
    data, node = read_yaml(path)
    if node is not None:
        _refuse_duplicate_keys(path, node)
    return data, node


def _refuse_duplicate_keys(path: Path, node: yaml.Node) -> None:
    """YAML silently keeps the last of two equal keys; a rule file with one is almost surely a mistake."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen and key.value != "<<":
                    raise RuleFileError(path, f"字段 {key.value} 重复", line=key.start_mark.line + 1)
                seen.add(key.value)
            _refuse_duplicate_keys(path, value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(path, item)


_CONDITION_FIELDS = {"when", "not", "anchor", "then"}


def _strip_tags(loc: Sequence[int | str]) -> list[int | str]:
    """Drop the union tags pydantic puts into ``loc`` before a condition's own fields:
    ``(when, keywords, keywords, any)`` → ``(when, keywords, any)``."""
    out: list[int | str] = []
    expect_tag = False
    for part in loc:
        if expect_tag and part in CONDITION_TAGS:
            expect_tag = False
            continue
        expect_tag = part in _CONDITION_FIELDS or (isinstance(part, int) and bool(out) and out[-1] in ("all", "any"))
        out.append(part)
    return out


def _walk(node: yaml.Node | None, loc: Sequence[int | str]) -> tuple[int | None, list[str]]:
    """Follow ``loc`` down the node tree as far as it goes: (line of the deepest node, path walked).

    Elements of ``loc`` that are not in the tree (a missing field) are skipped.
    """
    if node is None:
        return None, []
    line = node.start_mark.line + 1
    walked: list[str] = []
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            continue
        node = child
        line = node.start_mark.line + 1
        walked.append(f"[{part}]" if isinstance(part, int) else part)
    return line, walked


def _field_name(walked: list[str]) -> str:
    return ".".join(walked).replace(".[", "[") or "（顶层）"


def _reason(error: ErrorDetails, field: str) -> str:
    """A pydantic error in Chinese."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"缺少字段 {field}"
    if kind == "extra_forbidden":
        return f"不支持的字段 {field}"
    if kind == "literal_error":
        return f"字段 {field} 的值 {error.get('input')!r} 无效（可选：{ctx.get('expected', '')}）"
    simple = {
        "int_type": "必须是整数", "int_parsing": "必须是整数", "int_from_float": "必须是整数",
        "float_type": "必须是数字", "float_parsing": "必须是数字",
        "bool_type": "必须是 true 或 false", "bool_parsing": "必须是 true 或 false",
        "string_type": "必须是字符串", "list_type": "必须是列表",
        "dict_type": "必须是映射", "model_type": "必须是映射", "model_attributes_type": "必须是映射",
        "string_too_short": "不能为空", "too_short": "不能为空",
    }  # fmt: skip
    if kind in simple:
        return f"字段 {field} {simple[kind]}"
    bounds = {"greater_than_equal": ("ge", "≥"), "greater_than": ("gt", ">"), "less_than_equal": ("le", "≤")}
    if kind in bounds:
        key, sign = bounds[kind]
        return f"字段 {field} 必须 {sign} {ctx.get(key)}"
    if kind == "string_pattern_mismatch":
        return f"字段 {field} 格式不对（只能用字母、数字、下划线，且以字母开头）"
    if kind.startswith("condition_"):
        return error["msg"]  # the line points at the condition already
    if kind.startswith(("keywords_", "bad_regex", "position", "duration", "detect_")):
        return error["msg"] if field == "（顶层）" else f"{field}：{error['msg']}"
    return f"字段 {field} 无效：{error['msg']}"


def _rule_id(data: Any, loc: Sequence[int | str]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and 0 <= loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
            return str(rule_id) if rule_id is not None else None
    return None


def _relative_loc(walked: list[str]) -> list[str]:
    """Drop the ``rules[i]`` prefix: the message names the rule by its id already."""
    return walked[2:] if len(walked) >= 2 and walked[0] == "rules" else walked


def validation_error(path: Path, node: yaml.Node | None, exc: ValidationError) -> RuleFileError:
    """The first problem of a validated YAML file (one without rules: training, org) with its file, line and field."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    line, walked = _walk(node, loc)
    if error["type"] == "missing":
        walked = [*walked, str(loc[-1])]
    return RuleFileError(path, _reason(error, _field_name(walked)), line=line)


def parse_ruleset(path: Path, data: Any, node: yaml.Node | None) -> RuleSet:
    """Validate one file's data into a ``RuleSet``; errors carry file, line and rule id."""
    if not isinstance(data, dict):
        raise RuleFileError(path, "顶层必须是映射（kind: ruleset ...）", line=1)
    try:
        ruleset = RuleSet.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = _strip_tags(error["loc"])
        line, walked = _walk(node, loc)
        if error["type"] == "missing":
            walked = [*walked, str(loc[-1])]
        rule_id = _rule_id(data, loc)
        field = _field_name(_relative_loc(walked) if rule_id else walked)
        raise RuleFileError(path, _reason(error, field), line=line, rule_id=rule_id) from exc
    for section, index, field_name, reason in ruleset.reference_problems():
        line, _ = _walk(node, [section, index, field_name])
        rule_id = ruleset.rules[index].id if section == "rules" else None
        raise RuleFileError(path, reason, line=line, rule_id=rule_id)
    return ruleset


def load_ruleset_file(path: Path) -> RuleSet:
    data, node = _read(path)
    if isinstance(data, dict) and data.get("kind") != "ruleset":
        line, _ = _walk(node, ["kind"])
        raise RuleFileError(path, f"不是规则集文件：kind 应为 ruleset，实际为 {data.get('kind')!r}", line=line)
    return parse_ruleset(path, data, node)


def _merge(rulesets: list[tuple[Path, RuleSet, yaml.Node | None]]) -> RuleSet:
    first_path, first, _ = rulesets[0]
    rules = list(first.rules)
    owner = {rule.id: first_path for rule in rules}
    for path, ruleset, node in rulesets[1:]:
        if ruleset.dimensions != first.dimensions:
            line, _ = _walk(node, ["dimensions"])
            reason = f"维度定义与 {first_path} 不一致，同一目录下的规则集必须使用相同的维度"
            raise RuleFileError(path, reason, line=line)
        for index, rule in enumerate(ruleset.rules):
            if rule.id in owner:
                line, _ = _walk(node, ["rules", index, "id"])
                raise RuleFileError(path, f"规则 id 与 {owner[rule.id]} 中的规则重复", line=line, rule_id=rule.id)
            owner[rule.id] = path
            rules.append(rule)
    return first.model_copy(update={"rules": rules})


def load_ruleset(path: str | Path) -> RuleSet:
    """Load a rule set from a ``.yaml`` file, or merge every rule set under a directory."""
    path = Path(path)
    if path.is_file():
        return load_ruleset_file(path)
    if not path.is_dir():
        raise RuleFileError(path, "规则文件或目录不存在")
    found: list[tuple[Path, RuleSet, yaml.Node | None]] = []
    for file in sorted(path.rglob("*.yaml")):
        data, node = _read(file)
        if data is None:
            continue
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind in SKIPPED_KINDS:
            continue
        if kind != "ruleset":
            line, _ = _walk(node, ["kind"])
            raise RuleFileError(file, f"未知的文件类型 kind={kind!r}（可选：{', '.join(KINDS)}）", line=line)
        found.append((file, parse_ruleset(file, data, node), node))
    if not found:
        raise RuleFileError(path, "目录中没有规则集文件（kind: ruleset）")
    return _merge(found)
