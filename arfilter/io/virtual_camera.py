"""Sending the lens to video calls (`--virtual-camera`, key V): Zoom, Meet, Teams, Discord, OBS.

Why pyvirtualcam: one maintained package, with wheels for Linux, Windows and macOS, that
drives each platform's virtual camera (v4l2loopback on Linux, the OBS Virtual Camera on
Windows and macOS) and converts pixels with libyuv in native code; writing to v4l2loopback
ourselves would cover Linux only.

What the call sees: the lens without HUD, bars or toasts (the caller passes that image), not
mirrored (call apps mirror the self-view themselves, and mirroring it here would show the
other side text backwards), always `size` (letterboxed, so a camera switch or an odd source
size never changes what the call receives), announced at the source's frame rate.

A virtual camera is an extra, never a reason to stop the lens: a missing device is one line
saying what to install for this platform, a device another program holds is one line, and a
device that disappears mid-call is one line and then reopened every `retry_s` seconds, like a
lost camera; the line that it is back is the only other thing said.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pyvirtualcam

from arfilter.errors import ArfilterError

DEFAULT_SIZE = (1280, 720)
# Every virtual camera backend wants even sides (they carry 4:2:0 or 4:2:2 pixels).
MAX_SIDE_PX = 4096
LINUX_SETUP = ("sudo apt install v4l2loopback-dkms (Debian, Ubuntu; v4l2loopback on Fedora and Arch), then "
               "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=arfilter")
OTHER_SETUP = "install OBS Studio 30 or later (obsproject.com) and start its Virtual Camera once"


class VirtualCameraError(ArfilterError):
    """The virtual camera cannot be used (no device, a device held by another program, a bad size)."""


def parse_size(text: str) -> tuple[int, int]:
    """`--virtual-camera-size WxH` as (width, height): even sides from 2 to MAX_SIDE_PX."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None:
        raise VirtualCameraError(f"--virtual-camera-size {text}: not WIDTHxHEIGHT; pass e.g. 1280x720")
    width, height = int(match[1]), int(match[2])
    if not (2 <= width <= MAX_SIDE_PX and 2 <= height <= MAX_SIDE_PX) or width % 2 or height % 2:
        raise VirtualCameraError(f"--virtual-camera-size {text}: sides must be even numbers from 2 to {MAX_SIDE_PX}; "
                                 "pass e.g. 1280x720 or 640x360")
    return width, height


def setup_hint(system: str | None = None) -> str:
    """What to install for a virtual camera on `system` (platform.system()'s name; this machine's by default)."""
    return LINUX_SETUP if (system or platform.system()) == "Linux" else OTHER_SETUP


def describe_failure(error: Exception, system: str | None = None) -> str:
    """One line for a backend's error: no device (and what to install), a busy device, or its own words."""
    text = " ".join(str(error).split())
    lowered = text.lower()
    if "busy" in lowered or "in use" in lowered or "already" in lowered:
        return f"the virtual camera is held by another program ({text[:160]}); close that program or pick another device"
    if "no v4l2 loopback device" in lowered or "not installed" in lowered or "not found" in lowered \
            or "does not exist" in lowered or not text:
        return f"no virtual camera found: {setup_hint(system)}"
    return f"the virtual camera failed ({text[:160]}); {setup_hint(system)}"


@dataclass(frozen=True)
class VirtualCameraOptions:
    """Where and how the lens is sent.

    size: (width, height) the call receives, whatever the source's size.
    device: a device name (/dev/video4, "OBS Virtual Camera"); None takes the first free one.
    backend: a pyvirtualcam backend name; None tries this platform's. Tests register a fake.
    retry_s: how often a lost device is reopened.
    """

    size: tuple[int, int] = DEFAULT_SIZE
    device: str | None = None
    backend: str | None = None
    retry_s: float = 2.0

    def __post_init__(self) -> None:
        width, height = self.size
        if not (2 <= width <= MAX_SIDE_PX and 2 <= height <= MAX_SIDE_PX) or width % 2 or height % 2:
            raise ValueError(f"size must have even sides from 2 to {MAX_SIDE_PX}, got {width}x{height}")
        if self.retry_s <= 0:
            raise ValueError(f"retry_s must be positive, got {self.retry_s}")


class VirtualCamera:
    """The lens as a camera for other programs; `send` one clean frame per processed frame.

    `say` receives the one-line messages (a missing device, a lost one, its return); the
    caller shows them as a warning line or a toast. `clock` is injectable for tests.
    """

    def __init__(self, fps: float, options: VirtualCameraOptions | None = None,
                 say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = fps
        self.options = options or VirtualCameraOptions()
        self._say = say
        self._clock = clock
        self._camera: pyvirtualcam.Camera | None = None
        self._retry_at: float | None = None  # set while a lost device is being waited for
        width, height = self.options.size
        self._canvas = np.zeros((height, width, 3), np.uint8)  # reused: no allocation per frame
        self._placement = (0, 0, width, height)  # where the last picture went on the canvas
        self.frames_sent = 0

    @property
    def device(self) -> str | None:
        """The device in use (e.g. /dev/video4), None while there is none."""
        return self._camera.device if self._camera is not None else None

    def open(self) -> str:
        """Open the device; raises VirtualCameraError with one line when there is none or it is held."""
        width, height = self.options.size
        try:
            self._camera = pyvirtualcam.Camera(width, height, self.fps, fmt=pyvirtualcam.PixelFormat.RGB,
                                               device=self.options.device, backend=self.options.backend)
        except (RuntimeError, OSError, ValueError) as error:
            raise VirtualCameraError(describe_failure(error)) from None
        self._retry_at = None
        return self._camera.device

    def frame_for_call(self, image_rgb: np.ndarray, mirrored: bool = False) -> np.ndarray:
        """`image_rgb` as the call receives it: letterboxed to `size`, unmirrored. Reuses one buffer."""
        width, height = self.options.size
        scale = min(width / image_rgb.shape[1], height / image_rgb.shape[0])
        fitted_w = min(width, max(1, round(image_rgb.shape[1] * scale)))
        fitted_h = min(height, max(1, round(image_rgb.shape[0] * scale)))
        left, top = (width - fitted_w) // 2, (height - fitted_h) // 2
        if (left, top, fitted_w, fitted_h) != self._placement:  # a new source size: clear the old picture from the bars
            self._canvas[:] = 0
            self._placement = (left, top, fitted_w, fitted_h)
        region = self._canvas[top:top + fitted_h, left:left + fitted_w]
        if (fitted_w, fitted_h) == (image_rgb.shape[1], image_rgb.shape[0]):
            np.copyto(region, image_rgb)
        else:
            cv2.resize(image_rgb, (fitted_w, fitted_h), dst=region,
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if mirrored:
            cv2.flip(region, 1, dst=region)
        return self._canvas

    def send(self, image_rgb: np.ndarray, mirrored: bool = False) -> None:
        """Send one frame of the lens (RGB, HUD-free; `mirrored` if the preview is a mirror image).

        Never raises for the device: losing it is one line through `say`, then it is reopened
        every `retry_s` seconds and frames are dropped meanwhile.
        """
        if self._camera is None:
            if self._retry_at is None or self._clock() < self._retry_at:
                return
            try:
                device = self.open()
            except VirtualCameraError:
                self._retry_at = self._clock() + self.options.retry_s
                return
            self._say(f"the virtual camera {device} is back")
        frame = self.frame_for_call(image_rgb, mirrored)
        assert self._camera is not None
        try:
            self._camera.send(frame)
        except (RuntimeError, OSError) as error:
            device = self._camera.device
            self._drop_camera()
            self._retry_at = self._clock() + self.options.retry_s
            reason = " ".join(str(error).split())[:160] or type(error).__name__
            self._say(f"the virtual camera {device} was lost ({reason}); trying again every {self.options.retry_s:g} s")
            return
        self.frames_sent += 1

    def _drop_camera(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                camera.close()
            except (RuntimeError, OSError):
                pass  # the device is already gone; nothing is left to release

    def close(self) -> None:
        """Release the device (also stops retrying)."""
        self._drop_camera()
        self._retry_at = None

    def __enter__(self) -> VirtualCamera:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
