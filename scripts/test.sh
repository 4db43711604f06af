#!/usr/bin/env bash
# Set up (first time only), then lint (ruff), type-check (mypy), check the layer contracts
# (import-linter) and run the test suite;
# arguments go to pytest. Settings for all three are in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh test
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache   # the architecture contracts in pyproject.toml
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy
exec .venv/bin/python -m pytest "$@"
