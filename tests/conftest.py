"""Shared test set-up: no display, no camera, no GPU, and the repository on sys.path."""

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # damaged test videos make FFmpeg chatty

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

SHARED_FER2013 = PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013"
