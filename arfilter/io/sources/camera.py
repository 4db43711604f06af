"""Live sources: local cameras (an index or a /dev/video* device) and network streams (rtsp://, http://).

Both are read by one `CaptureReader`: a background thread that always keeps only the newest
image, so a slow consumer sees fresh frames instead of a growing backlog and a slow camera
never stalls the window. A capture that fails or goes silent is reopened every
`retry_interval_s`; while it is gone `read()` and `poll()` raise `CameraLostError`, which the
app shows and waits out. The opener takes whatever the user typed (an index, a device path
or a URL), so adding a kind of live capture is a matter of the opener, not of the thread.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from arfilter.core.types import Frame
from arfilter.errors import SourceError
from arfilter.io.sources.base import (
    FrameSource,
    SourceLostError,
    SourceUnavailableError,
    VideoCaptureLike,
    capture_fps,
    quiet_opencv,
)

log = logging.getLogger(__name__)

CaptureTarget = int | str  # a camera index, a device path or a stream URL
CaptureOpener = Callable[[CaptureTarget], VideoCaptureLike]

STREAM_URL = re.compile(r"^(rtsps?|rtmp|https?|udp|tcp)://", re.IGNORECASE)
DEVICE_PATH = re.compile(r"^/dev/video\d+$")
# Network streams take longer to connect than a local device, and FFmpeg would otherwise wait
# 30 s on an unreachable host before giving up.
STREAM_TIMEOUT_MS = 5000


class CameraUnavailableError(SourceUnavailableError):
    """A local camera could not be opened at all (the app then falls back to the demo)."""


class CameraLostError(SourceLostError):
    """A camera or stream that was working stopped delivering frames; it is being reopened."""


def _camera_device_path(index: int) -> str | None:
    """The device node OpenCV would use on Linux; None elsewhere (no cheap existence check)."""
    return f"/dev/video{index}" if sys.platform.startswith("linux") else None


def _device_path(target: CaptureTarget) -> str | None:
    if isinstance(target, int):
        return _camera_device_path(target)
    return target if DEVICE_PATH.match(target) else None


def open_capture_device(target: CaptureTarget) -> VideoCaptureLike:
    """Default opener: `cv2.VideoCapture` for a camera index, a /dev/video* path or a stream URL.

    Local cameras get a one-frame buffer for low latency; a missing /dev/videoN is reported
    without asking OpenCV, which would print backend warnings for every device it cannot
    open. Streams go through FFmpeg with open and read timeouts.
    """
    device_path = _device_path(target)
    if device_path is not None and not os.path.exists(device_path):
        return ClosedCapture()
    with quiet_opencv():
        if isinstance(target, str) and STREAM_URL.match(target):
            capture = cv2.VideoCapture(target, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                                                                cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
        else:
            capture = cv2.VideoCapture(target)
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

    def set(self, prop_id: int, value: float) -> bool:
        return False

    def release(self) -> None:
        pass


def _open_first_frame(target: CaptureTarget, opener: CaptureOpener,
                      timeout_s: float) -> tuple[VideoCaptureLike, np.ndarray] | None:
    """Open `target` and wait for a first frame; None when either fails."""
    capture = opener(target)
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


class CaptureReader:
    """Reads a capture on a background thread, keeping only the newest image.

    Starts from a capture that already delivered `first_image`. When a read fails the capture
    is released, `lost` is set and `target` is reopened every `retry_interval_s` until it
    delivers again. `count` numbers the images captured, so a consumer can tell new from seen.
    """

    def __init__(self, target: CaptureTarget, opener: CaptureOpener, capture: VideoCaptureLike,
                 first_image: np.ndarray, *, name: str, retry_interval_s: float) -> None:
        self.target = target
        self.name = name
        self.retry_interval_s = retry_interval_s
        self.fps = capture_fps(capture)
        self.start_time = time.monotonic()
        self.condition = threading.Condition()
        self.image: np.ndarray | None = None
        self.image_time = self.start_time
        self.count = 0
        self.lost = False
        self._opener = opener
        self._stop = threading.Event()
        self._publish(first_image)
        self._thread = threading.Thread(target=self._run, args=(capture,), name=f"arfilter-{name}", daemon=True)
        self._thread.start()

    def _publish(self, image_bgr: np.ndarray) -> None:
        with self.condition:
            self.image = image_bgr
            self.image_time = time.monotonic()
            self.count += 1
            self.lost = False
            self.condition.notify_all()

    def _mark_lost(self) -> None:
        with self.condition:
            if not self.lost:
                log.warning("%s lost; retrying every %.1f s", self.name, self.retry_interval_s)
            self.lost = True
            self.condition.notify_all()

    def _run(self, capture: VideoCaptureLike | None) -> None:
        """Capture loop: publish images, and on failure reopen the capture every retry interval."""
        try:
            while not self._stop.is_set():
                if capture is None:
                    opened = _open_first_frame(self.target, self._opener, timeout_s=self.retry_interval_s)
                    if opened is None:
                        self._stop.wait(self.retry_interval_s)
                        continue
                    capture, image = opened
                    log.info("%s is back", self.name)
                    self._publish(image)
                    continue
                ok, frame = capture.read()
                if ok and frame is not None and frame.size:
                    self._publish(frame)
                else:
                    capture.release()
                    capture = None
                    self._mark_lost()
        finally:
            if capture is not None:
                capture.release()

    def stop(self) -> None:
        self._stop.set()
        with self.condition:
            self.condition.notify_all()
        self._thread.join(timeout=2.0)


def describe_target(target: CaptureTarget) -> str:
    """How a capture is named in messages: "camera 0", "camera /dev/video2", "stream rtsp://host/path".

    Credentials in a URL (rtsp://user:password@host) are left out, so they never reach a log.
    """
    if isinstance(target, int):
        return f"camera {target}"
    if not STREAM_URL.match(target):
        return f"camera {target}"
    parts = urlsplit(target)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"stream {urlunsplit((parts.scheme, netloc, parts.path, '', ''))}"


class CameraSource(FrameSource):
    """A live camera or network stream, read by a `CaptureReader`.

    `status` is "live", "lost" (the capture failed or went silent for `lost_after_s`; it is
    reopened every `retry_interval_s`) or "closed". `Frame.index` counts captured frames,
    so a consumer that falls behind sees gaps rather than stale frames.
    """

    is_live = True

    def __init__(self, target: CaptureTarget, *, mirror: bool = True, opener: CaptureOpener = open_capture_device,
                 retry_interval_s: float = 1.0, lost_after_s: float = 2.0, first_frame_timeout_s: float = 3.0) -> None:
        super().__init__(mirror=mirror)
        self.target = target
        self.name = describe_target(target)
        self.retry_interval_s = retry_interval_s
        self.lost_after_s = lost_after_s
        opened = _open_first_frame(target, opener, first_frame_timeout_s)
        if opened is None:
            if isinstance(target, str) and STREAM_URL.match(target):
                raise SourceError(f"cannot open {self.name}: no frame within {first_frame_timeout_s:g} s; "
                                  "check the URL and that the camera is reachable from this machine")
            raise CameraUnavailableError(self.name, self._why_unavailable())
        capture, first_image = opened
        self._reader = CaptureReader(target, opener, capture, first_image, name=self.name,
                                     retry_interval_s=retry_interval_s)
        self.fps = self._reader.fps
        self._last_returned = 0  # reader.count of the last frame handed out

    def _why_unavailable(self) -> str:
        device_path = _device_path(self.target)
        if device_path is not None and not os.path.exists(device_path):
            return f"no device at {device_path}"
        return "it did not open or deliver a frame; is another program using it?"

    @property
    def status(self) -> str:
        if self.closed:
            return "closed"
        with self._reader.condition:
            silent = time.monotonic() - self._reader.image_time > self.lost_after_s
            return "lost" if self._reader.lost or silent else "live"

    def _take_newest(self) -> Frame | None:
        """The newest frame if the caller has not seen it yet (call with the lock held)."""
        reader = self._reader
        if reader.image is None or reader.count <= self._last_returned:
            return None
        self._last_returned = reader.count
        return Frame(image=self._to_rgb(reader.image), index=reader.count - 1, source=self.name,
                     timestamp_s=reader.image_time - reader.start_time)

    def _lost_error(self) -> CameraLostError:
        return CameraLostError(f"{self.name} lost (no frames); retrying every {self.retry_interval_s:g} s")

    def poll(self) -> Frame | None:
        """The newest unseen frame without waiting, or None; raises CameraLostError while lost."""
        if self.closed:
            return None
        if self.status == "lost":
            raise self._lost_error()
        with self._reader.condition:
            return self._take_newest()

    def read(self, timeout_s: float | None = None) -> Frame | None:
        """Wait for a frame newer than the last one returned and return it.

        Raises CameraLostError if the capture is lost or stays silent for `timeout_s`
        (default `lost_after_s`). Returns None only after `close()`.
        """
        if self.closed:
            return None
        deadline = time.monotonic() + (self.lost_after_s if timeout_s is None else timeout_s)
        with self._reader.condition:
            while True:
                frame = self._take_newest()
                if frame is not None:
                    return frame
                remaining = deadline - time.monotonic()
                if self._reader.lost or remaining <= 0 or self.closed:
                    break
                self._reader.condition.wait(remaining)
        if self.closed:
            return None
        raise self._lost_error()

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._reader.stop()


def list_cameras(max_index: int = 8, *, opener: CaptureOpener = open_capture_device) -> list[int]:
    """Indices below `max_index` of the cameras that open and deliver a frame."""
    found = []
    for index in range(max_index):
        opened = _open_first_frame(index, opener, timeout_s=1.0)
        if opened is not None:
            opened[0].release()
            found.append(index)
    return found


# --------------------------------------------------------------------------- table rows


def is_camera(spec: str) -> bool:
    # isascii: "²" and "٣" are digits to str.isdigit, but no camera index.
    return (spec.isascii() and spec.isdigit()) or bool(DEVICE_PATH.match(spec))


def is_stream(spec: str) -> bool:
    return bool(STREAM_URL.match(spec))


def open_camera(spec: str, mirror: bool | None, opener: CaptureOpener = open_capture_device) -> CameraSource:
    """A local camera, mirrored unless told otherwise (people expect a webcam to act like a mirror)."""
    target: CaptureTarget = int(spec) if spec.isdigit() else spec
    return CameraSource(target, mirror=True if mirror is None else mirror, opener=opener)


def open_stream(spec: str, mirror: bool | None, opener: CaptureOpener = open_capture_device) -> CameraSource:
    """A network camera: not mirrored by default (it does not film the person watching it)."""
    return CameraSource(spec, mirror=bool(mirror), opener=opener, first_frame_timeout_s=2 * STREAM_TIMEOUT_MS / 1000)
