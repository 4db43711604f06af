"""The virtual camera as an output of a headless run (`--headless --source 0 --virtual-camera`).

Headless frames are the lens without HUD, as a call should see it; `mirrored` says whether the
source flipped them (a camera does, for the window's mirror view), so the call gets them the
right way round. The device is opened here, before the first frame: with no window to keep
open, a missing device is the run's one error line rather than a warning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from arfilter.core.types import FrameResult
from arfilter.io.virtual_camera import VirtualCamera, VirtualCameraOptions


class VirtualCameraSink:
    """Sends every drawn frame to the virtual camera (a Sink)."""

    needs_image = True

    def __init__(self, fps: float, options: VirtualCameraOptions, mirrored: Callable[[], bool],
                 say: Callable[[str], None]) -> None:
        self.camera = VirtualCamera(fps, options, say=say)
        self.device = self.camera.open()
        self._mirrored = mirrored

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        if image is None:
            raise ValueError("VirtualCameraSink needs the drawn image")
        self.camera.send(image, mirrored=self._mirrored())

    def close(self) -> None:
        self.camera.close()

    def describe(self) -> str:
        return f"virtual camera {self.device} ({self.camera.frames_sent} frames)"
