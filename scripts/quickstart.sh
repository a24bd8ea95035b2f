#!/usr/bin/env bash
# One command on a fresh machine: install, then run the main job on the bundled sample calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Main job: transcribe + score every sample call; one report per call, then the per-agent summary.
# The samples carry no agent id, so the summary has one row, 未知 (pass --agent-id to set one).
.venv/bin/inspector analyze samples/calls/*.wav --format table
