#!/usr/bin/env bash
# Creates .venv and installs glassarena with the extras named in $GLASSARENA_EXTRAS.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${GLASSARENA_EXTRAS:-local}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
echo "Installing glassarena[$extras] into .venv (llama-cpp-python compiles once, ~5 min on 2 cores)…"
.venv/bin/python -m pip install --quiet --editable ".[$extras]"
