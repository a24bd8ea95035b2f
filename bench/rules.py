"""Rule-engine benchmark: evaluate() of the default pack over the reference transcripts, one core.

    .venv/bin/python bench/rules.py [RULES] [--repeat N] [--analysis]

Prints transcripts per second (the 7 labeled samples/calls/*.json, each evaluated N times after one
warm-up pass) and the compile time of the rule set. Not a test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import time

from inspector.qa.rules.engine import compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.settings import PROJECT_ROOT
from inspector.speech.transcript import Transcript


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("rules", nargs="?", default=str(PROJECT_ROOT / "rules" / "property-default.yaml"))
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--analysis", action="store_true", help="also time the whole analysis (emotion included)")
    args = parser.parse_args()

    t = time.perf_counter()
    compiled = compile_ruleset(load_ruleset(args.rules))
    compile_s = time.perf_counter() - t
    files = sorted((PROJECT_ROOT / "samples" / "calls").glob("*.json"))
    transcripts = [Transcript.from_dict(json.loads(p.read_text(encoding="utf-8"))) for p in files]
    utterances = sum(len(tr.utterances) for tr in transcripts)
    for tr in transcripts:  # warm-up: pinyin and normalization caches
        evaluate(compiled, tr)

    t = time.perf_counter()
    findings = 0
    for _ in range(args.repeat):
        for tr in transcripts:
            findings += len(evaluate(compiled, tr))
    elapsed = time.perf_counter() - t
    n = args.repeat * len(transcripts)
    print(
        f"rules={len(compiled.rules)} load+compile {compile_s * 1000:.1f} ms; "
        f"{n} transcripts ({utterances / len(transcripts):.1f} utterances each) in {elapsed:.2f} s: "
        f"{n / elapsed:.0f} transcripts/s, {elapsed / n * 1000:.2f} ms each, {findings / n:.1f} findings each"
    )
    if args.analysis:
        # The whole analysis of a stored transcript (what ``inspector score`` and a rescore run): rules,
        # scoring, customer emotion with and without the sentiment model, metrics.
        from inspector.qa.analysis import Analyzer
        from inspector.settings import EmotionSettings, Settings

        variants = (("lexicon+model", Settings()), ("lexicon only", Settings(emotion=EmotionSettings(model=False))))
        for name, settings in variants:
            analyzer = Analyzer(settings, args.rules)
            for tr in transcripts:
                analyzer.analyze_transcript(tr)
            t = time.perf_counter()
            for _ in range(args.repeat):
                for tr in transcripts:
                    analyzer.analyze_transcript(tr)
            elapsed = time.perf_counter() - t
            print(f"analysis, emotion {name}: {n / elapsed:.0f} transcripts/s, {elapsed / n * 1000:.2f} ms each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
