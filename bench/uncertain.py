"""What confidence-aware findings change: wrong deductions removed against right ones deferred.

    .venv/bin/python bench/uncertain.py [--thresholds 0,0.3,0.4,0.5,0.6,0.7] [--snr 10]

For each labelled sample call (``samples/calls``) the default pack scores the reference transcript (what
was said: the truth) and the pipeline's transcript of the recording, once as recorded and once with
white noise mixed in at ``--snr`` dB (sox; a harder copy the speech layer was never tuned on; the copies
go to the git-ignored ``out/bench-audio/``). A machine finding that deducts, vetoes or alerts is
**right** when the reference's analysis has the same rule acting, **wrong** otherwise. For every pack
threshold (``min_confidence``) it prints how many wrong ones become ``uncertain`` (removed from the
automatic score and alerts, sent to review) and how many right ones do (deferred to a reviewer).

Not a test: figures for README. Real recordings with labelled rule outcomes are what this needs next.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from inspector.qa.rules.engine import CompiledRuleSet, Finding, compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.qa.rules.schema import RuleSet
from inspector.settings import PROJECT_ROOT, Settings
from inspector.speech.pipeline import SpeechPipeline
from inspector.speech.transcript import Transcript

OUT = PROJECT_ROOT / "out" / "bench-audio" / "noisy"


def acting(findings: list[Finding]) -> list[Finding]:
    """The findings that act on the score or alerts when they count."""
    return [f for f in findings if f.points < 0 or (f.fatal and f.violation) or f.alert != "none"]


def noisy_copy(path: Path, snr_db: float) -> Path:
    """``path`` with white noise at ``snr_db`` below the recording's RMS level (sox)."""
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{path.stem}_snr{snr_db:g}.wav"
    if target.exists():
        return target
    stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    rms = next(float(line.split()[-1]) for line in stat.splitlines() if line.startswith("RMS     amplitude"))
    noise = rms * 10 ** (-snr_db / 20)
    subprocess.run(
        ["sox", "-m", str(path), "|sox " + str(path) + f" -p synth whitenoise vol {noise:.5f}", str(target)],
        check=True,
    )
    return target


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0
    right_deferred: int = 0
    wrong_removed: int = 0


def tally(compiled: CompiledRuleSet, truth: Transcript, heard: Transcript, into: Tally) -> list[str]:
    """Counts one call into ``into``; returns a line per wrong finding and per deferred right one."""
    true_rules = {f.rule_id for f in acting(evaluate(compiled, truth))}
    seen: set[str] = set()
    notes: list[str] = []
    for f in acting(evaluate(compiled, heard)):
        if f.rule_id in seen:  # one decision per rule and call
            continue
        seen.add(f.rule_id)
        if f.rule_id in true_rules:
            into.right += 1
            into.right_deferred += f.uncertain
            if f.uncertain:
                notes.append(f"right, deferred: {f.rule_id} {f.outcome} 「{f.text}」 confidence {f.confidence:.2f}")
        else:
            into.wrong += 1
            into.wrong_removed += f.uncertain
            notes.append(f"wrong{', removed' if f.uncertain else ''}: {f.rule_id} {f.outcome} 「{f.text}」 "
                         f"confidence {f.confidence:.2f}")  # fmt: skip
    return notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--thresholds", default="0,0.3,0.4,0.5,0.6,0.7")
    parser.add_argument("--snr", type=float, default=10.0)
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]

    settings = Settings()
    pack = load_ruleset(PROJECT_ROOT / "rules" / "property-default.yaml")
    packs = {t: compile_ruleset(replace_threshold(pack, t)) for t in thresholds}
    pipeline = SpeechPipeline(settings)
    calls = sorted((PROJECT_ROOT / "samples" / "calls").glob("*.wav"))
    conditions = {"as recorded": lambda p: p, f"noise {args.snr:g} dB SNR": lambda p: noisy_copy(p, args.snr)}
    print(f"default pack {pack.id} v{pack.version} (its own min_confidence: {pack.min_confidence:g}); "
          f"{len(calls)} sample calls")  # fmt: skip
    for name, audio_of in conditions.items():
        tallies = {t: Tally() for t in thresholds}
        notes: list[str] = []
        for path in calls:
            truth = Transcript.from_dict(json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))
            heard = pipeline.transcribe(audio_of(path))
            for t, compiled in packs.items():
                said = tally(compiled, truth, heard, tallies[t])
                if t == max(thresholds):
                    notes += [f"  {path.stem}: {line}" for line in said]
        print(f"\n== {name} ==")
        print(f"{'min_confidence':>14s} {'right':>6s} {'wrong':>6s} {'wrong removed':>14s} {'right deferred':>15s}")
        for t, x in tallies.items():
            print(f"{t:14.2f} {x.right:6d} {x.wrong:6d} {x.wrong_removed:8d} / {x.wrong:<4d} "
                  f"{x.right_deferred:9d} / {x.right}")  # fmt: skip
        print(f"at min_confidence {max(thresholds):g}:", *notes, sep="\n")
    return 0


def replace_threshold(pack: RuleSet, threshold: float) -> RuleSet:
    """The pack with every rule on the pack default ``threshold`` (rules' own values dropped)."""
    rules = [rule.model_copy(update={"min_confidence": None}) for rule in pack.rules]
    return pack.model_copy(update={"min_confidence": threshold, "rules": rules})


if __name__ == "__main__":
    sys.exit(main())
