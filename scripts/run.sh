#!/usr/bin/env bash
# Set up (first time only) and run arfilter; arguments go to main.py (try --help).
# With no camera it runs the built-in demo; with no display it runs headless and says where its output went.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh app
exec .venv/bin/python main.py "$@"
