"""The deduction pattern of a call's hits (``inspector.qa.deductions``)."""

from __future__ import annotations

from inspector.qa.deductions import deducted_rules, parse_pattern, pattern_of


def test_only_deducting_certain_findings_count_once_each_sorted() -> None:
    hits = [
        {"rule_id": "self_id", "points": -5, "dimension": "service"},
        {"rule_id": "empathy", "points": 0, "dimension": "emotion"},  # detected, deducts nothing
        {"rule_id": "prohibited", "points": -20, "dimension": "compliance", "uncertain": True},  # not confirmed
        {"rule_id": "greeting", "points": -3, "dimension": "service"},
        {"rule_id": "self_id", "points": -5, "dimension": "service"},  # the same rule again
        {"rule_id": "silence", "points": -2, "dimension": None},
    ]
    assert deducted_rules(hits) == [("self_id", "service"), ("greeting", "service"), ("silence", None)]
    text = pattern_of(hits)
    assert text == "greeting:service,self_id:service,silence:"
    assert parse_pattern(text) == [("greeting", "service"), ("self_id", "service"), ("silence", None)]
    assert pattern_of([]) == "" and parse_pattern("") == []
