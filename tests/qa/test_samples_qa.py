"""The default rule pack on real ASR output of the bundled calls (not on reference transcripts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.qa.analysis import Analyzer
from inspector.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyses(sample_transcripts: dict) -> dict:
    analyzer = Analyzer(Settings())
    return {name: analyzer.analyze_transcript(tr) for name, tr in sample_transcripts.items()}


def _labels(samples_dir: Path, name: str) -> dict:
    return json.loads((samples_dir / name).with_suffix(".json").read_text(encoding="utf-8"))["labels"]


def test_checks_on_asr_output_match_the_labels(analyses: dict, samples_dir: Path):
    wrong = [
        (name, check, expected, analysis.checks.get(check))
        for name, analysis in analyses.items()
        for check, expected in _labels(samples_dir, name)["checks"].items()
        if analysis.checks.get(check) != expected
    ]
    total = sum(len(_labels(samples_dir, name)["checks"]) for name in analyses)
    assert total == 77
    assert len(wrong) <= 0.05 * total, wrong


def test_every_good_call_scores_above_every_bad_call(analyses: dict, samples_dir: Path):
    scores = {name: (a.score.total, _labels(samples_dir, name)["quality"]) for name, a in analyses.items()}
    good = [total for total, quality in scores.values() if quality == "good"]
    bad = [total for total, quality in scores.values() if quality == "bad"]
    assert good and bad
    assert min(good) > max(bad), scores


def test_escalation_calls_raise_red_alerts(analyses: dict, samples_dir: Path):
    for name, analysis in analyses.items():
        expected_red = _labels(samples_dir, name)["checks"]["escalation"]
        assert (analysis.score.alert == "red") == expected_red, (name, analysis.score.alert)
