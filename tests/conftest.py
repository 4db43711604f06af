"""Test set-up shared by every test: no display, no camera, no GPU, no user configuration.

Fixtures only; the shared fakes are in tests/fakes.py and the fault-suite staging in tests/faults.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # damaged test videos make FFmpeg chatty
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"


@pytest.fixture(autouse=True)
def no_user_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs without the user's own packs and settings (~/.config/arfilter)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def locked_folder(tmp_path: Path):
    """A folder with a file inside that its owner (and an unprivileged root) cannot enter."""
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copy(ASTRONAUT, folder / "photo.png")
    folder.chmod(0o000)
    yield folder
    folder.chmod(0o755)


@pytest.fixture
def fake_backend():
    """A pyvirtualcam backend named "arfilter-fake" that keeps what it is sent (tests.fakes.FakeVirtualCameraBackend)."""
    import pyvirtualcam

    from tests.fakes import FakeVirtualCameraBackend

    pyvirtualcam.register_backend("arfilter-fake", FakeVirtualCameraBackend)
    FakeVirtualCameraBackend.opened = []
    FakeVirtualCameraBackend.fail_open = FakeVirtualCameraBackend.fail_send = None
    yield FakeVirtualCameraBackend
    pyvirtualcam.camera.BACKENDS.pop("arfilter-fake", None)
