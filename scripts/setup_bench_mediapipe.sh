#!/usr/bin/env bash
# The MediaPipe reference for `python -m bench.pipeline --mediapipe` (benchmark only: the app and the
# tests never need it). MediaPipe 0.10.21 pins NumPy < 2 and protobuf < 5, which the app's own
# environment does not have, so it gets its own venv: .venv-mediapipe. Its jax, jaxlib, sentencepiece
# and sounddevice dependencies serve other MediaPipe tasks, not the legacy face mesh, and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
[ -x .venv-mediapipe/bin/python ] || "$python" -m venv .venv-mediapipe
.venv-mediapipe/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "mediapipe==0.10.21"
.venv-mediapipe/bin/python -m pip install --quiet --disable-pip-version-check \
    "numpy<2" "protobuf>=4.25.3,<5" absl-py "attrs>=19.1.0" "flatbuffers>=2.0" opencv-contrib-python matplotlib
.venv-mediapipe/bin/python -c "import mediapipe as mp; mp.solutions.face_mesh.FaceMesh" && echo "setup: .venv-mediapipe ready" >&2
