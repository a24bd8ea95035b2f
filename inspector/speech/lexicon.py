"""The domain vocabulary the speech layer takes from the rule files: a recognition prompt, hotwords,
and the phrases that mark a speaker as the agent (坐席) or the customer (客户).

Every ``*.yaml`` in the rules directory is read. A file with ``kind: vocabulary`` contributes its
``vocabulary`` and ``roles`` sections; rules (``rules:`` list) whose ``category`` is ``greeting`` or
``self_id`` contribute their phrases as agent cues, so the phrases QA checks for and the phrases
that identify the agent never drift apart. In a rule set (``kind: ruleset``, see
``inspector.qa.rules.schema``) those are the ``phrase: {phrases: [...]}`` lists anywhere in the rule's
``when`` (outside ``not``); ``keywords`` are not cues, because generic words such as 你好 or 物业
are said by customers too. Rule files are not validated here (``inspector.qa.rules.loader`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.errors import RuleFileError
from inspector.yamlfile import read_yaml

AGENT_CUE_CATEGORIES = {"greeting", "self_id"}


@dataclass(frozen=True)
class Vocabulary:
    prompt: str = ""
    hotwords: tuple[str, ...] = ()
    agent_cues: tuple[str, ...] = ()
    customer_cues: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every domain phrase the recognizer is biased towards (for measuring the bias)."""
        return tuple(dict.fromkeys((*self.hotwords, *self.agent_cues)))


def _strings(value: Any, path: Path, field_name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RuleFileError(path, f"字段 {field_name} 必须是非空字符串列表")
    return [v.strip() for v in value]


def _condition_phrases(cond: Any) -> list[Any]:
    """The ``phrase.phrases`` lists of a ``when`` condition tree (not under ``not``), unvalidated."""
    if isinstance(cond, list):
        return [p for c in cond for p in _condition_phrases(c)]
    if not isinstance(cond, dict):
        return []
    found: list[Any] = []
    phrase = cond.get("phrase")
    if isinstance(phrase, dict) and phrase.get("phrases") is not None:
        found.append(phrase["phrases"])
    for key in ("all", "any"):
        found += _condition_phrases(cond.get(key))
    after = cond.get("after")
    if isinstance(after, dict):
        found += _condition_phrases(after.get("then"))
    return found


def load_vocabulary(rules_dir: Path) -> Vocabulary:
    """Collect the vocabulary from every rule file under ``rules_dir`` (recursively, sorted)."""
    if not rules_dir.is_dir():
        raise RuleFileError(rules_dir, "规则目录不存在")
    prompt_parts: list[str] = []
    hotwords: list[str] = []
    agent: list[str] = []
    customer: list[str] = []
    sources: list[str] = []
    for path in sorted(rules_dir.rglob("*.yaml")):
        doc, _node = read_yaml(path)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise RuleFileError(path, "顶层必须是映射（key: value）")
        sources.append(str(path))
        vocab = doc.get("vocabulary") or {}
        roles = doc.get("roles") or {}
        if not isinstance(vocab, dict) or not isinstance(roles, dict):
            raise RuleFileError(path, "vocabulary 和 roles 必须是映射")
        if isinstance(vocab.get("prompt"), str) and vocab["prompt"].strip():
            prompt_parts.append(vocab["prompt"].strip())
        hotwords += _strings(vocab.get("hotwords"), path, "vocabulary.hotwords")
        agent += _strings(roles.get("agent_cues"), path, "roles.agent_cues")
        customer += _strings(roles.get("customer_cues"), path, "roles.customer_cues")
        rules = doc.get("rules") or []
        if not isinstance(rules, list):
            raise RuleFileError(path, "rules 必须是列表")
        for index, rule in enumerate(rules):
            if isinstance(rule, dict) and rule.get("category") in AGENT_CUE_CATEGORIES:
                rule_id = str(rule.get("id", f"rules[{index}]"))
                match = rule.get("match") if isinstance(rule.get("match"), dict) else rule
                agent += _strings(match.get("phrases"), path, f"{rule_id}.phrases")
                for phrases in _condition_phrases(rule.get("when")):
                    agent += _strings(phrases, path, f"{rule_id}.when.phrase.phrases")
    return Vocabulary(
        prompt="".join(prompt_parts),
        hotwords=tuple(dict.fromkeys(hotwords)),
        agent_cues=tuple(dict.fromkeys(agent)),
        customer_cues=tuple(dict.fromkeys(customer)),
        sources=tuple(sources),
    )
