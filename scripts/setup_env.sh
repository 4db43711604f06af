#!/usr/bin/env bash
# Create or update ./.venv for arfilter. Usage: scripts/setup_env.sh app|test
#   app:  what the live app needs (no TensorFlow)
#   test: the app plus TensorFlow and pytest, for training and the test suite
# Every model and asset is package data (see arfilter/models/mediapipe/NOTICE for the face
# models), so installing the package is the whole set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-app}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: error: arfilter needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 2
fi
marker=".venv/.installed-$profile"
if [ -f "$marker" ] && [ "$marker" -nt pyproject.toml ]; then
    exit 0
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=""
[ "$profile" = test ] && extras="[train,test]"
echo "setup: installing arfilter$extras into .venv (first run only; a few minutes)..." >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extras"
touch "$marker"
