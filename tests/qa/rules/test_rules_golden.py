"""The default rule pack against the labeled reference transcripts of samples/calls."""

from __future__ import annotations

import json
from pathlib import Path

from inspector.qa.rules.engine import checks, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.settings import PROJECT_ROOT
from inspector.speech.transcript import Transcript


def test_default_pack_agrees_with_reference_labels(samples_dir: Path):
    compiled = compile_ruleset(load_ruleset(PROJECT_ROOT / "rules" / "property-default.yaml"))
    files = sorted(samples_dir.glob("*.json"))
    assert len(files) == 7
    agree = total = 0
    mismatches: list[str] = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        findings = evaluate(compiled, Transcript.from_dict(data))
        got = checks(findings)
        for check, expected in data["labels"]["checks"].items():
            total += 1
            if got[check] == expected:
                agree += 1
            else:
                evidence = [f"{f.rule_id}:{f.text or f.reason}" for f in findings if f.category == check]
                mismatches.append(f"{path.stem} {check}: 标注 {expected}，规则 {got[check]} {evidence}")
        assert all(f.end >= f.start for f in findings)
    assert agree / total >= 0.95, f"{agree}/{total}\n" + "\n".join(mismatches)


def test_findings_carry_evidence(samples_dir: Path):
    compiled = compile_ruleset(load_ruleset(PROJECT_ROOT / "rules" / "property-default.yaml"))
    data = json.loads((samples_dir / "call02_angry_stereo.json").read_text(encoding="utf-8"))
    findings = evaluate(compiled, Transcript.from_dict(data))
    taboo = [f for f in findings if f.rule_id == "prohibited"]
    assert taboo[0].text == "不归我们管" and taboo[0].start == 21.32 and taboo[0].points == -10
    assert {f.text for f in findings if f.rule_id == "escalation"} >= {"12345", "曝光"}
    assert all(f.alert == "red" for f in findings if f.rule_id == "escalation")
    missing = [f for f in findings if f.outcome == "missing"]
    assert {f.rule_id for f in missing} == {"self_id", "closing", "empathy", "apology"}
