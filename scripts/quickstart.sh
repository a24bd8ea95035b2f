#!/usr/bin/env bash
# One command on a fresh machine: install, then run the main job on the bundled sample calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/inspector transcribe samples/calls/*.wav --format text
