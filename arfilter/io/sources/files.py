"""File sources: a single image, a folder of images, and video files.

Images and folders share one source, a list of still frames; a video is read in order with
damaged frames skipped and counted.
"""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import cv2
import numpy as np

from arfilter.bounded import ImageRefusedError, read_image_file
from arfilter.core.types import Frame
from arfilter.errors import SourceError, os_reason
from arfilter.io.sources.base import WHAT_TO_PASS, FrameSource, VideoCaptureLike, capture_fps, quiet_opencv

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# A video read that fails before the container's frame count is a damaged frame and is
# skipped: FFmpeg resumes decoding after a damaged stretch of any length (a failed read costs
# microseconds), so reading goes on to the announced end. Only a video that announces no
# frame count ends after this many failures in a row.
MAX_CONSECUTIVE_BAD_FRAMES = 30
# Stills have no natural rate; the app shows one per second when it plays a folder.
STILL_FPS = 1.0


def _decode_image(path: Path) -> np.ndarray | None:
    """Read an image file as BGR, upright by its EXIF orientation; None when it is not a regular
    file of a sane size holding a decodable image of a sane size (see `arfilter.bounded`: a 3 GB
    sparse file named like a photo is refused by its size, a decompression bomb by its header)."""
    try:
        return read_image_file(path)
    except ImageRefusedError:
        return None


class ImageListSource(FrameSource):
    """One frame per image file, in the given order; undecodable files are skipped and counted.

    Used for a single image and for a folder. Frames are `is_still`: consecutive images are
    unrelated, so nothing is tracked or smoothed across them.
    """

    is_live = False
    can_seek = True
    fps = STILL_FPS

    def __init__(self, name: str, paths: list[Path], *, mirror: bool = False) -> None:
        super().__init__(mirror=mirror)
        self.name = name
        self.paths = list(paths)
        self.frame_count = len(self.paths)
        self._next = 0

    def _read_frame(self) -> Frame | None:
        while self._next < len(self.paths):
            index = self._next
            path = self.paths[index]
            self._next += 1
            image = _decode_image(path)
            if image is None:
                self._skipped(str(path), str(path))
                continue
            return Frame(image=self._to_rgb(image), index=index, source=str(path),
                         timestamp_s=index / self.fps, is_still=True)
        return None

    def seek(self, index: int) -> int:
        self._next = min(max(0, index), len(self.paths) - 1)
        return self._next


class VideoFileSource(FrameSource):
    """Frames of a video file in order; `Frame.index` is the frame's position in the file.

    A frame that fails to decode before the container's frame count is skipped and counted,
    and reading goes on to that count, so a damaged stretch does not cut a long video short.
    Failures at the very end mean the file ended early (`ended_early`). Positions count read
    attempts: FFmpeg consumes one packet per attempt, good or bad, while OpenCV's own
    CAP_PROP_POS_FRAMES stops counting at the first bad packet.
    """

    is_live = False
    can_seek = True

    def __init__(self, path: Path, capture: VideoCaptureLike, *, mirror: bool = False) -> None:
        super().__init__(mirror=mirror)
        self.name = str(path)
        self._capture = capture
        self.fps = capture_fps(capture)
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if count and count > 0 else None
        self._position = 0  # read attempts so far == index of the next frame in the file
        self._last_s: float | None = None  # timestamp of the last frame returned

    def _read_frame(self) -> Frame | None:
        failures = 0
        while True:
            index = self._position
            ok, image = self._capture.read()
            self._position += 1
            if ok and image is not None and image.size:
                if failures:
                    self._skip_stretch(index - failures, failures)
                return Frame(image=self._to_rgb(image), index=index, source=self.name,
                             timestamp_s=self._timestamp_s(index))
            failures += 1
            if self.frame_count is None:
                if failures >= MAX_CONSECUTIVE_BAD_FRAMES:
                    return None
            elif self._position >= self.frame_count:
                first_unread = index - failures + 1
                missing = self.frame_count - first_unread
                # One frame short is within what some containers' counts are off by; it is
                # still reported, as a skipped frame.
                if missing >= 2:
                    self.ended_early = (first_unread, self.frame_count)
                elif missing == 1:
                    self._skip_stretch(first_unread, 1)
                return None

    def seek(self, index: int) -> int:
        index = max(0, index if self.frame_count is None else min(index, self.frame_count - 1))
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        self._position = index
        return index

    def _timestamp_s(self, index: int) -> float:
        """When the frame just read is shown: the container's own timestamp (phones record at a
        variable rate, where index / average rate is off by seconds), else one frame period
        after the previous frame when the container gives none or goes backwards."""
        fallback = index / self.fps if self._last_s is None else self._last_s + 1.0 / self.fps
        position_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        seconds = position_ms / 1000.0 if position_ms is not None and math.isfinite(position_ms) else -1.0
        if seconds < 0 or (self._last_s is not None and seconds <= self._last_s) or (index > 0 and seconds == 0):
            seconds = fallback
        self._last_s = seconds
        return seconds

    def _skip_stretch(self, first: int, count: int) -> None:
        last = first + count - 1
        self._skipped(f"frame {first} ({first / self.fps:.2f} s)", f"frame {last} ({last / self.fps:.2f} s)", count)

    def close(self) -> None:
        if not self.closed:
            self._capture.release()
        super().close()


# --------------------------------------------------------------------------- table rows


def _path(spec: str) -> Path:
    return Path(spec).expanduser()


def is_folder(spec: str) -> bool:
    return _path(spec).is_dir()


def is_image(spec: str) -> bool:
    path = _path(spec)
    return path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()


def is_video(spec: str) -> bool:
    """Any other regular file: OpenCV/FFmpeg decides whether it is a video it can read."""
    return _path(spec).is_file()


def unopenable(spec: str, error: OSError | ValueError) -> str:
    """Why the path `spec` cannot be opened as a source, in one line with what to do."""
    shown = spec if len(spec) <= 80 else f"{spec[:60]}...{spec[-16:]}"
    code = getattr(error, "errno", None)
    if code == errno.ENOENT and os.path.islink(spec):
        return f"{shown} is a symlink to {os.readlink(spec)}, which does not exist; {WHAT_TO_PASS}"
    if code == errno.ENOENT:
        return f"no such file or folder: {shown}; {WHAT_TO_PASS}"
    remedy = {errno.ENAMETOOLONG: "rename or move the file",
              errno.EACCES: "fix the permissions (of the file or a folder on the way) or copy it somewhere readable",
              errno.EPERM: "fix the permissions (of the file or a folder on the way) or copy it somewhere readable",
              }.get(code or 0, WHAT_TO_PASS)
    return f"cannot open {shown}: {os_reason(error)}; {remedy}"


def not_a_source(spec: str) -> str:
    """Why a path that no row of the source table took is not a source."""
    try:
        os.stat(_path(spec))
    except (OSError, ValueError) as error:
        return unopenable(spec, error)
    return f"{spec} is not a regular file; {WHAT_TO_PASS}"


def _readable(path: Path) -> Path:
    """`path`, or a SourceError when this user may not read it (before a decoder guesses why)."""
    if not os.access(path, os.R_OK):
        raise SourceError(unopenable(str(path), PermissionError(errno.EACCES, "Permission denied")))
    return path


def open_folder(spec: str, mirror: bool | None) -> ImageListSource:
    path = _path(spec)
    try:
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    except OSError as error:
        raise SourceError(unopenable(spec, error)) from None
    if not images:
        raise SourceError(f"folder {path}/ has no images ({'/'.join(IMAGE_EXTENSIONS)}); "
                          f"add some or {WHAT_TO_PASS}")
    return ImageListSource(f"{path}/", images, mirror=bool(mirror))


def open_image(spec: str, mirror: bool | None) -> ImageListSource:
    path = _readable(_path(spec))
    try:
        read_image_file(path)
    except ImageRefusedError as refused:
        raise SourceError(f"{refused.message}: not a readable image; pass a complete .jpg/.png/.bmp/.webp/.tif file") from None
    return ImageListSource(str(path), [path], mirror=bool(mirror))


def open_video(spec: str, mirror: bool | None) -> VideoFileSource:
    path = _readable(_path(spec))
    with quiet_opencv():
        capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"video {path} is not a readable video: OpenCV/FFmpeg could not open it "
                          f"(corrupt or unsupported codec); re-encode it as H.264 .mp4 or {WHAT_TO_PASS}")
    return VideoFileSource(path, capture, mirror=bool(mirror))
