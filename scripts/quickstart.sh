#!/usr/bin/env bash
# One command on a fresh machine: install, then run the main job on the bundled sample calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# 1. Transcribe + score every sample call; one Chinese QA report per call, then the per-agent summary.
#    The samples carry no agent id, so the summary has one row, 未知 (pass --agent-id to set one).
.venv/bin/inspector analyze samples/calls/*.wav --format table
# 2. The same calls through the service's storage with the embedded defaults (SQLite in data/, the
#    audio store in data/audio/), processed in this process instead of by RQ workers; then the
#    per-agent scorecards read back from the database. Re-running adds nothing (same recordings).
.venv/bin/inspector import samples/calls --glob '*.wav' --agent-id 3157 --team A组 --inline -q
.venv/bin/inspector scorecards
