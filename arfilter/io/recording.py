"""Writing annotated video: one MP4 writer for the window app (R) and the headless runner (--record)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from arfilter.errors import OutputError
from arfilter.io.paths import prepare_folder

# The codec works on 2x2 blocks of chroma; sizes are rounded down to even.
MIN_FRAME_SIDE_PX = 2


def letterbox_box(inner: tuple[int, int], outer: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the largest box of `inner`'s aspect ratio centred in `outer` (both
    (width, height)): where a frame goes in a recording of another size, or in a resized window."""
    scale = min(outer[0] / inner[0], outer[1] / inner[1])
    width, height = max(1, round(inner[0] * scale)), max(1, round(inner[1] * scale))
    return (outer[0] - width) // 2, (outer[1] - height) // 2, width, height


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled to fit (width, height) without distortion, centred on black."""
    left, top, width, height = letterbox_box((image.shape[1], image.shape[0]), size)
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    canvas[top:top + height, left:left + width] = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return canvas


class Recorder:
    """Writes frames to an MP4 (mp4v) in real time: a frame is repeated when the app is
    slower than `fps`, so the video plays at the speed it was recorded."""

    def __init__(self, path: Path, fps: float, frame_size: tuple[int, int]) -> None:
        if min(frame_size) < MIN_FRAME_SIDE_PX:
            raise OutputError(f"cannot record {path}: the frames are {frame_size[0]}x{frame_size[1]} px and MP4 needs "
                              f"at least {MIN_FRAME_SIDE_PX}x{MIN_FRAME_SIDE_PX}; use --out-dir or --json for images this small")
        prepare_folder(path.parent, "recording")
        self.path = path
        self.fps = fps
        # (width, height), rounded down to even sides: codecs want them; frames are letterboxed to it.
        frame_size = (frame_size[0] - frame_size[0] % 2, frame_size[1] - frame_size[1] % 2)
        self.frame_size = frame_size
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, frame_size)
        if not self._writer.isOpened():
            raise OutputError(f"cannot write recording {path}: OpenCV could not open an mp4v writer for "
                              f"{frame_size[0]}x{frame_size[1]} px at {fps:g} frames/s there; choose a writable folder")
        self.frames_written = 0
        self._start_s: float | None = None

    def _frames_due(self, timestamp_s: float) -> int:
        start = timestamp_s if self._start_s is None else self._start_s
        return int((timestamp_s - start) * self.fps + 1e-6) + 1  # 1e-6: 9/30 s * 30 is frame 9, not 8.999

    def wants_frame(self, timestamp_s: float) -> bool:
        """Whether a frame shown at `timestamp_s` would be written (lets callers skip converting)."""
        return self._frames_due(timestamp_s) > self.frames_written

    def write(self, image_rgb: np.ndarray, timestamp_s: float) -> None:
        """Add `image_rgb` as the frame shown at `timestamp_s` (any clock, seconds)."""
        due = self._frames_due(timestamp_s)
        if self._start_s is None:
            self._start_s = timestamp_s
        # After a long stall (a dragged window, a suspended laptop) skip ahead instead of
        # writing seconds of copies of one frame.
        copies = min(due - self.frames_written, max(1, round(self.fps)))
        if copies <= 0:
            return
        if (image_rgb.shape[1], image_rgb.shape[0]) != self.frame_size:
            image_rgb = letterbox(image_rgb, self.frame_size)
        image_bgr = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
        for _ in range(copies):
            self._writer.write(image_bgr)
        self.frames_written = max(due, self.frames_written + copies)

    def close(self) -> Path:
        self._writer.release()
        return self.path
