"""File sources: a single image, a folder of images, and video files.

Images and folders share one source, a list of still frames; a video is read in order with
damaged frames skipped and counted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from arfilter.errors import SourceError
from arfilter.sources.base import WHAT_TO_PASS, FrameSource, VideoCaptureLike, capture_fps, quiet_opencv
from arfilter.types import Frame

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# A video read that fails before the container's frame count is a corrupt frame and is
# skipped; this many failures in a row means the rest of the file is unreadable.
MAX_CONSECUTIVE_BAD_FRAMES = 30
# Stills have no natural rate; the app shows one per second when it plays a folder.
STILL_FPS = 1.0


def _decode_image(path: Path) -> np.ndarray | None:
    """Read an image file as BGR; None when it is not a decodable image.

    Goes through `np.fromfile` + `imdecode` so that non-ASCII paths work on every platform.
    """
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


class ImageListSource(FrameSource):
    """One frame per image file, in the given order; undecodable files are skipped and counted.

    Used for a single image and for a folder. Frames are `is_still`: consecutive images are
    unrelated, so nothing is tracked or smoothed across them.
    """

    is_live = False
    fps = STILL_FPS

    def __init__(self, name: str, paths: list[Path], *, mirror: bool = False) -> None:
        super().__init__(mirror=mirror)
        self.name = name
        self.paths = list(paths)
        self._next = 0

    def _read_frame(self) -> Frame | None:
        while self._next < len(self.paths):
            index = self._next
            path = self.paths[index]
            self._next += 1
            image = _decode_image(path)
            if image is None:
                self.skipped_frames += 1
                log.warning("skipped %s: not a readable image", path)
                continue
            return Frame(image=self._to_rgb(image), index=index, source=str(path),
                         timestamp_s=index / self.fps, is_still=True)
        return None


class VideoFileSource(FrameSource):
    """Frames of a video file in order; `Frame.index` is the frame's position in the file.

    A frame that fails to decode before the container's frame count is skipped and counted,
    so one damaged frame does not cut a long video short.
    """

    is_live = False

    def __init__(self, path: Path, capture: VideoCaptureLike, *, mirror: bool = False) -> None:
        super().__init__(mirror=mirror)
        self.name = str(path)
        self._capture = capture
        self.fps = capture_fps(capture)
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if count and count > 0 else None
        self._position = 0  # read attempts so far == index of the next frame in the file

    def _read_frame(self) -> Frame | None:
        failures = 0
        while True:
            index = self._position
            ok, image = self._capture.read()
            self._position += 1
            if ok and image is not None and image.size:
                return Frame(image=self._to_rgb(image), index=index, source=self.name,
                             timestamp_s=index / self.fps)
            before_end = self.frame_count is not None and self._position < self.frame_count
            failures += 1
            if not before_end or failures >= MAX_CONSECUTIVE_BAD_FRAMES:
                return None
            self.skipped_frames += 1
            log.warning("skipped frame %d of %s: it could not be decoded", index, self.name)

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


def open_folder(spec: str, mirror: bool | None) -> ImageListSource:
    path = _path(spec)
    images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise SourceError(f"folder {path}/ has no images ({'/'.join(IMAGE_EXTENSIONS)}); "
                          f"add some or {WHAT_TO_PASS}")
    return ImageListSource(f"{path}/", images, mirror=bool(mirror))


def open_image(spec: str, mirror: bool | None) -> ImageListSource:
    path = _path(spec)
    if _decode_image(path) is None:
        raise SourceError(f"image {path} is not a readable image (corrupt or unsupported format); "
                          f"pass a .jpg/.png/.bmp/.webp/.tif file")
    return ImageListSource(str(path), [path], mirror=bool(mirror))


def open_video(spec: str, mirror: bool | None) -> VideoFileSource:
    path = _path(spec)
    with quiet_opencv():
        capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"video {path} is not a readable video: OpenCV/FFmpeg could not open it "
                          f"(corrupt or unsupported codec); re-encode it as H.264 .mp4 or {WHAT_TO_PASS}")
    return VideoFileSource(path, capture, mirror=bool(mirror))
