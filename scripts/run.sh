#!/usr/bin/env bash
# Sets up glassarena with its embedded local models and serves the arena on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
GLASSARENA_EXTRAS=local bash scripts/setup.sh
exec .venv/bin/glassarena serve "$@"
