"""Which cameras there are, by name: `--list-cameras` and the window's camera key.

A camera index means nothing to people ("camera 2"); the name the driver gives it ("Logitech
BRIO", "Integrated Camera") does. On Linux the name is in sysfs; elsewhere OpenCV offers none,
so the index is all there is. Virtual cameras are told apart so that arfilter never offers its
own output (`--virtual-camera`, a v4l2loopback device) as an input: picking it would film
the lens's own picture in a loop.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from arfilter.io.sources.base import FrameSource

SYSFS_VIDEO = Path("/sys/class/video4linux")
# sysfs puts devices without hardware behind them (v4l2loopback) under /sys/devices/virtual/.
SYSFS_VIRTUAL = "/devices/virtual/"


@dataclass(frozen=True)
class CameraInfo:
    """One camera: its index (what `--source` takes), its name for people, whether it is virtual."""

    index: int
    name: str
    virtual: bool = False

    def describe(self) -> str:
        """e.g. "camera 0: Integrated Camera" (just "camera 0" when the platform names none)."""
        return f"camera {self.index}" + (f": {self.name}" if self.name else "")


def camera_info(index: int, sysfs: Path = SYSFS_VIDEO) -> CameraInfo:
    """The name and kind of camera `index`, from sysfs where there is one."""
    folder = sysfs / f"video{index}"
    try:
        name = (folder / "name").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return CameraInfo(index, "")
    virtual = SYSFS_VIRTUAL in os.path.realpath(folder) and not (folder / "device").exists()
    return CameraInfo(index, name, virtual)


def real_cameras(indices: Sequence[int], sysfs: Path = SYSFS_VIDEO) -> list[CameraInfo]:
    """`indices` (cameras that open, from `list_cameras`) with their names, virtual cameras left out."""
    return [info for info in (camera_info(index, sysfs) for index in indices) if not info.virtual]


def current_camera_index(source: FrameSource) -> int | None:
    """The camera index `source` reads (from an index or a /dev/videoN path); None for anything else."""
    target = getattr(source, "target", None)
    if isinstance(target, int):
        return target
    match = re.fullmatch(r"/dev/video(\d+)", target) if isinstance(target, str) else None
    return int(match[1]) if match else None


class CameraCycle:
    """The window's camera key: the camera after the current one, found when first asked.

    `lister` finds the cameras that open (slow: it opens each one), so it runs once and its
    answer is kept; `refresh()` forgets it, for a camera plugged in later.
    """

    def __init__(self, lister: Callable[[], Sequence[int]], sysfs: Path = SYSFS_VIDEO) -> None:
        self._lister = lister
        self._sysfs = sysfs
        self._cameras: list[CameraInfo] | None = None

    def refresh(self) -> None:
        self._cameras = None

    def cameras(self) -> list[CameraInfo]:
        if self._cameras is None:
            self._cameras = real_cameras(self._lister(), self._sysfs)
        return self._cameras

    def after(self, current: int | None) -> CameraInfo | None:
        """The camera to switch to from `current` (None: not a camera now); None when there is no other."""
        cameras = self.cameras()
        others = [info for info in cameras if info.index != current]
        if not others:
            return None
        later = [info for info in others if current is not None and info.index > current]
        return later[0] if later else others[0]
