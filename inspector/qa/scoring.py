"""Turn a call's findings into a score out of 100, a fatal flag and an alert level.

Scoring design (``score_call``):

- **Dimensions.** A rule set's dimensions (服务规范, 沟通技巧, 情绪管理, 问题解决, 合规 in the default
  pack) share 100 points in proportion to their ``weight``: weights are normalized to sum to 100,
  so a pack may write 3/2/1 or 30/20/10 alike. Each dimension starts full, at its normalized weight.
  If every weight is 0 the dimensions share 100 equally (there is nothing else to go by).
- **Deductions.** A finding with ``points < 0`` deducts ``|points|`` from its rule's dimension.
  Points are on the 100-point scale of the total (a 5-point rule costs 5 of the 100), whatever the
  dimension's weight. The engine already makes a rule deduct at most once per call (the first
  forbid hit, or the one "missing" finding of a require rule), so summing findings is the rule
  count, not the occurrence count. A dimension is floored at 0: a call that fails every greeting
  rule loses its 服务规范 points and no more, so one bad habit cannot eat the other dimensions.
  A dimension of weight 0 is informational: its rules' deductions have nothing to take away.
- **Total** = the sum of the dimension scores, 0..100, rounded to one decimal.
- **一票否决 (fatal).** A finding with ``fatal`` and ``violation`` (a fatal rule broken) sets the
  total to 0 and lists the rule in ``fatal_rules``. The dimension scores are kept as computed, so
  the agent still sees where else points were lost (coaching); only the total is vetoed.
- **Uncertain findings** (``Finding.uncertain``: the words behind them were heard with less confidence
  than the rule's ``min_confidence``) deduct nothing, veto nothing and raise no alert; their rules are
  listed in ``uncertain_rules`` and the call goes to the review queue, where a reviewer's verdict
  makes them count (confirmed) or drops them (rejected).
- **Alert.** The call's alert is the highest ``alert`` among its findings, red > yellow > blue >
  none, and a fatal violation makes it red whatever its rule says. ``alert_reasons`` has one
  Chinese line per rule that raised an alert (or broke a fatal rule), highest level first, naming
  the rule and quoting up to three of the words heard (long utterances cut), so a supervisor
  knows why the call was flagged.

What the levels mean is the rule pack's choice. In the default pack (rules/property-default.yaml):

- red: the customer threatens to escalate (我要投诉, 12345 / 市长热线, 曝光, 媒体, 律师, 起诉,
  打官司) — rule ``escalation``; and, by the rule above, any fatal violation (the default pack
  has no fatal rule; a pack that adds one gets red alerts for it).
- yellow: a service taboo by the agent (``prohibited``: 不归我们管, 我也没办法 ...), strong
  customer emotion (``customer_emotion``: 生气, 太过分 ...), and an emotional customer the agent
  did not calm down within two turns (``no_empathy_after_emotion``).
- blue: softer signals worth a look — the customer interrupting the agent (``customer_interrupts``)
  and the customer repeating the same request (``repeated_request``).

The agent's own dead air, interruptions, speech rate and slow replies cost points in 沟通技巧 /
问题解决 but raise no alert in the default pack: they are coaching material, not incidents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspector.qa.rules.engine import CompiledRuleSet, Finding
from inspector.vocab import LABELS, AlertLevel, values

ALERT_LEVELS = values(AlertLevel)  # lowest to highest
# The vocabulary's labels, except that reports and exports say 无 where a call raised no alert.
ALERT_NAMES_ZH = {**LABELS[AlertLevel], AlertLevel.NONE.value: "无"}
_MAX_QUOTES = 3  # words quoted per alert reason
_MAX_QUOTE_CHARS = 12  # a whole utterance (an interruption's evidence) is cut to its start


@dataclass(frozen=True)
class DimensionScore:
    """One dimension's share of the total: ``score`` is 0..``weight`` (the normalized weight)."""

    id: str
    name: str
    weight: float
    score: float


@dataclass(frozen=True)
class CallScore:
    """The score of one call. ``deductions`` are (rule id, points deducted > 0), in finding order."""

    total: float
    dimensions: dict[str, DimensionScore]
    fatal: bool
    fatal_rules: list[str]
    alert: str
    alert_reasons: list[str]
    deductions: list[tuple[str, int]]
    # Rules with uncertain findings that would have deducted, vetoed or alerted (see engine.Finding).
    uncertain_rules: list[str] = field(default_factory=list)


def _normalized_weights(compiled: CompiledRuleSet) -> dict[str, float]:
    dims = compiled.ruleset.dimensions
    total = sum(d.weight for d in dims)
    if total == 0:
        return {d.id: 100.0 / len(dims) for d in dims}
    return {d.id: d.weight * 100.0 / total for d in dims}


def _level(alert: str) -> int:
    return ALERT_LEVELS.index(alert) if alert in ALERT_LEVELS else 0


def _reason(level: str, name: str, quotes: list[str], fatal: bool) -> str:
    label = ALERT_NAMES_ZH[level]
    what = f"一票否决：{name}" if fatal else name
    shown = "、".join(f"「{q}」" for q in quotes[:_MAX_QUOTES])
    return f"{label}：{what}（{shown}）" if shown else f"{label}：{what}"


def _alerts(findings: list[Finding]) -> tuple[str, list[str]]:
    """The call's alert level and one reason per alerting rule, highest level first."""
    per_rule: dict[str, tuple[int, str, list[str], bool]] = {}  # rule id → (level, name, quotes, fatal)
    for f in findings:
        if not f.counts:
            continue
        fatal = f.fatal and f.violation
        level = max(_level(f.alert), _level("red") if fatal else 0)
        if level == 0:
            continue
        old_level, name, quotes, old_fatal = per_rule.get(f.rule_id, (0, f.name, [], False))
        quote = f.text if len(f.text) <= _MAX_QUOTE_CHARS else f.text[:_MAX_QUOTE_CHARS] + "…"
        if quote and quote not in quotes:
            quotes.append(quote)
        per_rule[f.rule_id] = (max(old_level, level), name, quotes, old_fatal or fatal)
    if not per_rule:
        return "none", []
    ordered = sorted(per_rule.values(), key=lambda item: -item[0])  # stable: rule order within a level
    reasons = [_reason(ALERT_LEVELS[level], name, quotes, fatal) for level, name, quotes, fatal in ordered]
    return ALERT_LEVELS[ordered[0][0]], reasons


def score_call(compiled: CompiledRuleSet, findings: list[Finding]) -> CallScore:
    """Score one call from its findings (see the module docstring for the design)."""
    weights = _normalized_weights(compiled)
    lost = dict.fromkeys(weights, 0.0)
    deductions: list[tuple[str, int]] = []
    fatal_rules: list[str] = []
    uncertain_rules: list[str] = []
    for f in findings:
        if f.dimension not in weights:
            raise ValueError(f"规则 {f.rule_id} 的维度 {f.dimension} 不在规则集 {compiled.ruleset.id} 中")
        if not f.counts:
            if f.rule_id not in uncertain_rules:
                uncertain_rules.append(f.rule_id)
            continue
        if f.points < 0:
            lost[f.dimension] += -f.points
            deductions.append((f.rule_id, -f.points))
        if f.fatal and f.violation and f.rule_id not in fatal_rules:
            fatal_rules.append(f.rule_id)
    dimensions = {
        d.id: DimensionScore(d.id, d.name, weights[d.id], max(0.0, weights[d.id] - lost[d.id]))
        for d in compiled.ruleset.dimensions
    }
    total = 0.0 if fatal_rules else round(min(100.0, sum(d.score for d in dimensions.values())), 1)
    alert, alert_reasons = _alerts(findings)
    return CallScore(
        total=total, dimensions=dimensions, fatal=bool(fatal_rules), fatal_rules=fatal_rules,
        alert=alert, alert_reasons=alert_reasons, deductions=deductions, uncertain_rules=uncertain_rules,
    )  # fmt: skip


def to_dict(score: CallScore) -> dict[str, Any]:
    """The JSON shape printed under ``score`` (weights and dimension scores rounded to 1 decimal)."""
    return {
        "total": score.total,
        "dimensions": {
            d.id: {"name": d.name, "weight": round(d.weight, 1), "score": round(d.score, 1)}
            for d in score.dimensions.values()
        },
        "fatal": score.fatal,
        "fatal_rules": list(score.fatal_rules),
        "alert": score.alert,
        "alert_reasons": list(score.alert_reasons),
        "uncertain_rules": list(score.uncertain_rules),
    }
