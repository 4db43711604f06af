"""Frame sources: cameras, video files, images, folders of images and the built-in demo.

Every source hands out `Frame`s with RGB images, so nothing downstream converts colours.
Sources flip their own frames when `mirror` is on (webcams are mirrored by default, like a
mirror; files never are), and the flag may change while a source runs.

Cameras are read on a background thread that always keeps only the newest frame, so a slow
consumer sees fresh frames instead of a growing backlog and a slow camera never stalls the
window. A camera that disappears is reopened every second; while it is gone `read()` and
`poll()` raise `CameraLostError`, which the app shows and waits out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

# FFmpeg's own log lines ("moov atom not found") would duplicate our one-line errors.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np

from arfilter.errors import SourceError
from arfilter.types import Frame

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
WHAT_TO_PASS = "pass --source demo, a camera index (0, 1, ...), a video file, an image or a folder of images"

# A video read that fails before the container's frame count is a corrupt frame and is
# skipped; this many failures in a row means the rest of the file is unreadable.
MAX_CONSECUTIVE_BAD_FRAMES = 30
# Stills have no natural rate; the app shows one per second when it plays a folder.
STILL_FPS = 1.0


class CameraUnavailableError(SourceError):
    """A camera could not be opened at all (the app then falls back to the demo).

    `detail` says what failed without the advice, for callers that act on it themselves.
    """

    def __init__(self, camera_name: str, why: str) -> None:
        self.detail = f"cannot open {camera_name} ({why})"
        super().__init__(f"{self.detail}: {WHAT_TO_PASS}")


class CameraLostError(SourceError):
    """A camera that was working stopped delivering frames; it is being reopened."""


class FrameSource:
    """Base class of all sources: iteration, context management and mirroring.

    Subclasses implement `_read_frame()`. `read()` returns the next `Frame` or None at a
    clean end (never for cameras and the demo, which do not end). `skipped_frames` counts
    frames that could not be decoded and were passed over instead of ending the run.
    """

    name: str = ""
    is_live: bool = False
    fps: float = 30.0

    def __init__(self, *, mirror: bool = False) -> None:
        self.mirror = mirror
        self.skipped_frames = 0
        self.closed = False

    def read(self) -> Frame | None:
        if self.closed:
            return None
        return self._read_frame()

    def _read_frame(self) -> Frame | None:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True

    def _to_rgb(self, image_bgr: np.ndarray) -> np.ndarray:
        """OpenCV's BGR (or gray/BGRA) to contiguous RGB, flipped when mirroring."""
        if image_bgr.ndim == 2:
            rgb = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2RGB)
        elif image_bgr.shape[2] == 4:
            rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2RGB)
        else:
            rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        return cv2.flip(rgb, 1) if self.mirror else rgb

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


# --------------------------------------------------------------------------- stills


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


def _open_image(path: Path, mirror: bool) -> ImageListSource:
    if _decode_image(path) is None:
        raise SourceError(f"image {path} is not a readable image (corrupt or unsupported format); "
                          f"pass a .jpg/.png/.bmp/.webp/.tif file")
    return ImageListSource(str(path), [path], mirror=mirror)


def _open_folder(path: Path, mirror: bool) -> ImageListSource:
    images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise SourceError(f"folder {path}/ has no images ({'/'.join(IMAGE_EXTENSIONS)}); "
                          f"add some or {WHAT_TO_PASS}")
    return ImageListSource(f"{path}/", images, mirror=mirror)


# --------------------------------------------------------------------------- video


class VideoCaptureLike(Protocol):
    """The part of `cv2.VideoCapture` the sources use, so tests can substitute fakes."""

    def isOpened(self) -> bool: ...  # noqa: N802 (OpenCV's name)
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop_id: int) -> float: ...
    def release(self) -> None: ...


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
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else 30.0
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


def _open_video(path: Path, mirror: bool) -> VideoFileSource:
    with _quiet_opencv():
        capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"video {path} is not a readable video: OpenCV/FFmpeg could not open it "
                          f"(corrupt or unsupported codec); re-encode it as H.264 .mp4 or {WHAT_TO_PASS}")
    return VideoFileSource(path, capture, mirror=mirror)


# --------------------------------------------------------------------------- cameras


CameraOpener = Callable[[int], VideoCaptureLike]


def _camera_device_path(index: int) -> str | None:
    """The device node OpenCV would use on Linux; None elsewhere (no cheap existence check)."""
    return f"/dev/video{index}" if sys.platform.startswith("linux") else None


def open_camera_device(index: int) -> VideoCaptureLike:
    """Default camera opener: `cv2.VideoCapture` with a one-frame buffer for low latency.

    On Linux a missing /dev/videoN is reported without asking OpenCV, which would print
    backend warnings for every index it cannot open.
    """
    device_path = _camera_device_path(index)
    if device_path is not None and not os.path.exists(device_path):
        return ClosedCapture()
    with _quiet_opencv():
        capture = cv2.VideoCapture(index)
    if capture.isOpened():
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return capture


class ClosedCapture:
    """Stands in for a camera that is not there."""

    def isOpened(self) -> bool:  # noqa: N802
        return False

    def read(self) -> tuple[bool, None]:
        return False, None

    def get(self, prop_id: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings while probing devices; our errors say what went wrong."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


def _open_first_frame(index: int, opener: CameraOpener, timeout_s: float) -> tuple[VideoCaptureLike, np.ndarray] | None:
    """Open camera `index` and wait for a first frame; None when either fails."""
    capture = opener(index)
    if not capture.isOpened():
        capture.release()
        return None
    deadline = time.monotonic() + timeout_s
    while True:
        ok, image = capture.read()
        if ok and image is not None and image.size:
            return capture, image
        if time.monotonic() >= deadline:
            capture.release()
            return None
        time.sleep(0.02)


class CameraSource(FrameSource):
    """A live camera read on a background thread that keeps only the newest frame.

    `status` is "live", "lost" (the camera failed or went silent for `lost_after_s`; it is
    reopened every `retry_interval_s`) or "closed". `Frame.index` counts captured frames,
    so a consumer that falls behind sees gaps rather than stale frames.
    """

    is_live = True

    def __init__(self, index: int, *, mirror: bool = True, opener: CameraOpener = open_camera_device,
                 retry_interval_s: float = 1.0, lost_after_s: float = 2.0, first_frame_timeout_s: float = 3.0) -> None:
        super().__init__(mirror=mirror)
        self.index = index
        self.name = f"camera {index}"
        self.retry_interval_s = retry_interval_s
        self.lost_after_s = lost_after_s
        self._opener = opener
        opened = _open_first_frame(index, opener, first_frame_timeout_s)
        if opened is None:
            raise CameraUnavailableError(self.name, self._why_unavailable())
        capture, first_image = opened
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else 30.0
        self._start = time.monotonic()
        self._condition = threading.Condition()
        self._latest: Frame | None = None
        self._latest_time = self._start
        self._last_returned_index = -1
        self._captured = 0
        self._lost = False
        self._stop = threading.Event()
        self._publish(first_image)
        self._thread = threading.Thread(target=self._run, args=(capture,), name=f"arfilter-{self.name}", daemon=True)
        self._thread.start()

    def _why_unavailable(self) -> str:
        device_path = _camera_device_path(self.index)
        if device_path is not None and not os.path.exists(device_path):
            return f"no device at {device_path}"
        return "it did not open or deliver a frame; is another program using it?"

    @property
    def status(self) -> str:
        if self.closed:
            return "closed"
        with self._condition:
            silent = time.monotonic() - self._latest_time > self.lost_after_s
            return "lost" if self._lost or silent else "live"

    def _publish(self, image_bgr: np.ndarray) -> None:
        now = time.monotonic()
        frame = Frame(image=self._to_rgb(image_bgr), index=self._captured, source=self.name,
                      timestamp_s=now - self._start)
        with self._condition:
            self._captured += 1
            self._latest = frame
            self._latest_time = now
            self._lost = False
            self._condition.notify_all()

    def _mark_lost(self) -> None:
        with self._condition:
            if not self._lost:
                log.warning("%s lost; retrying every %.1f s", self.name, self.retry_interval_s)
            self._lost = True
            self._condition.notify_all()

    def _run(self, capture: VideoCaptureLike | None) -> None:
        """Capture loop: publish frames, and on failure reopen the camera every retry interval."""
        try:
            while not self._stop.is_set():
                if capture is None:
                    opened = _open_first_frame(self.index, self._opener, timeout_s=self.retry_interval_s)
                    if opened is None:
                        self._stop.wait(self.retry_interval_s)
                        continue
                    capture, image = opened
                    log.info("%s is back", self.name)
                    self._publish(image)
                    continue
                ok, image = capture.read()
                if ok and image is not None and image.size:
                    self._publish(image)
                else:
                    capture.release()
                    capture = None
                    self._mark_lost()
        finally:
            if capture is not None:
                capture.release()

    def _take_newest(self) -> Frame | None:
        """The newest frame if the caller has not seen it yet (call with the lock held)."""
        if self._latest is not None and self._latest.index > self._last_returned_index:
            self._last_returned_index = self._latest.index
            return self._latest
        return None

    def _lost_error(self) -> CameraLostError:
        return CameraLostError(f"{self.name} lost (no frames); retrying every {self.retry_interval_s:g} s")

    def poll(self) -> Frame | None:
        """The newest unseen frame without waiting, or None; raises CameraLostError while lost."""
        if self.closed:
            return None
        if self.status == "lost":
            raise self._lost_error()
        with self._condition:
            return self._take_newest()

    def read(self, timeout_s: float | None = None) -> Frame | None:
        """Wait for a frame newer than the last one returned and return it.

        Raises CameraLostError if the camera is lost or stays silent for `timeout_s`
        (default `lost_after_s`). Returns None only after `close()`.
        """
        if self.closed:
            return None
        deadline = time.monotonic() + (self.lost_after_s if timeout_s is None else timeout_s)
        with self._condition:
            while True:
                frame = self._take_newest()
                if frame is not None:
                    return frame
                remaining = deadline - time.monotonic()
                if self._lost or remaining <= 0 or self.closed:
                    break
                self._condition.wait(remaining)
        if self.closed:
            return None
        raise self._lost_error()

    def close(self) -> None:
        if self.closed:
            return
        self._stop.set()
        super().close()
        with self._condition:
            self._condition.notify_all()
        self._thread.join(timeout=2.0)


def list_cameras(max_index: int = 8, *, opener: CameraOpener = open_camera_device) -> list[int]:
    """Indices below `max_index` of the cameras that open and deliver a frame."""
    found = []
    for index in range(max_index):
        opened = _open_first_frame(index, opener, timeout_s=1.0)
        if opened is not None:
            opened[0].release()
            found.append(index)
    return found


# --------------------------------------------------------------------------- entry point


def open_source(spec: str, *, mirror: bool | None = None,
                camera_opener: CameraOpener = open_camera_device) -> FrameSource:
    """Open a source from what the user typed: a camera index, `demo`, an image, a folder or a video.

    `mirror=None` means the default for the kind: on for cameras, off for everything else.
    Raises `SourceError` (`CameraUnavailableError` for cameras) with a one-line message.
    """
    spec = spec.strip()
    if not spec:
        raise SourceError(f"empty source: {WHAT_TO_PASS}")
    if spec.isdigit():
        return CameraSource(int(spec), mirror=True if mirror is None else mirror, opener=camera_opener)
    if spec.lower() == "demo":
        from arfilter.demo import DemoSource  # the demo pulls in its imagery only when asked for

        return DemoSource(mirror=bool(mirror))
    path = Path(spec).expanduser()
    if path.is_dir():
        return _open_folder(path, bool(mirror))
    if not path.exists():
        raise SourceError(f"no such file or folder: {spec}; {WHAT_TO_PASS}")
    if not path.is_file():
        raise SourceError(f"{spec} is not a regular file; {WHAT_TO_PASS}")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return _open_image(path, bool(mirror))
    return _open_video(path, bool(mirror))
