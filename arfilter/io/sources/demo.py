"""The built-in demo as a source: the frames `arfilter.io.sources.demo_scene.DemoRenderer` draws, endless, at 30 fps.

The imagery itself (what the faces are and how they move) lives in `arfilter.io.sources.demo_scene`; this
module only makes it a source, so neither module imports the other's dependencies.
"""

from __future__ import annotations

import cv2

from arfilter.core.types import Frame
from arfilter.io.sources.base import FrameSource
from arfilter.io.sources.demo_scene import DEMO_FPS, DemoRenderer


class DemoSource(FrameSource):
    """An endless, deterministic source of moving faces (`Frame.index` picks the picture)."""

    name = "demo"
    is_live = False
    can_seek = True
    fps = DEMO_FPS

    def __init__(self, *, mirror: bool = False) -> None:
        super().__init__(mirror=mirror)
        self._renderer = DemoRenderer()
        self._next = 0

    def seek(self, index: int) -> int:
        self._next = max(0, index)
        return self._next

    def _read_frame(self) -> Frame:
        index = self._next
        self._next += 1
        image = self._renderer.render(index)
        if self.mirror:
            image = cv2.flip(image, 1)
        return Frame(image=image, index=index, source=self.name, timestamp_s=index / self.fps)


def is_demo(spec: str) -> bool:
    return spec.lower() == "demo"


def open_demo(spec: str, mirror: bool | None) -> DemoSource:
    return DemoSource(mirror=bool(mirror))
