#!/usr/bin/env bash
# One command on a fresh machine: install, then run the main job on the bundled sample calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# 1. Every sample call through the service's storage with the embedded defaults (SQLite in data/, the
#    audio store in data/audio/), transcribed and scored once, in this process instead of by RQ
#    workers. Re-running adds nothing (same recordings).
.venv/bin/inspector import samples/calls --glob '*.wav' --agent-id 3157 --team A组 --inline -q
# 2. One Chinese QA report per call, then the per-agent summary (as `inspector analyze --format table`
#    prints them), read back from the database: the stored transcripts are not recognized again.
.venv/bin/inspector report
# 3. The per-agent scorecards, read from the database.
.venv/bin/inspector scorecards
