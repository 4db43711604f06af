"""What every frame source is: the base class, its capabilities, and the errors sources raise.

Every source hands out `Frame`s with RGB images, so nothing downstream converts colours.
Sources flip their own frames when `mirror` is on (local cameras are mirrored by default, like
a mirror; files never are), and the flag may change while a source runs.

Consumers branch on capabilities, never on the concrete class:

- `is_live`: frames arrive in real time whether or not anyone reads them (cameras, network
  streams). Poll the newest frame with `poll()`; a file or the demo is instead read in order,
  paced to `fps` when shown.
- `status` "lost": a live source stopped delivering and is being reopened every
  `retry_interval_s`; `read()`/`poll()` raise `SourceLostError` until it is back. Sources
  that cannot be lost are always "live" until closed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol

import cv2
import numpy as np

from arfilter.core.types import Frame
from arfilter.errors import SourceError
from arfilter.lifecycle import Closeable

WHAT_TO_PASS = ("pass --source demo, a camera index (0, 1, ...), a /dev/video* device, a stream URL "
                "(rtsp://, http://), a video file, an image or a folder of images")


class SourceUnavailableError(SourceError):
    """A camera could not be opened at all (the app then falls back to the demo).

    `detail` says what failed without the advice, for callers that act on it themselves.
    """

    def __init__(self, source_name: str, why: str) -> None:
        self.detail = f"cannot open {source_name} ({why})"
        super().__init__(f"{self.detail}: {WHAT_TO_PASS}")


class SourceLostError(SourceError):
    """A live source that was working stopped delivering frames; it is being reopened."""


class FrameSource(Closeable):
    """Base class of all sources: iteration, context management, mirroring and capabilities.

    Subclasses implement `_read_frame()`. `read()` returns the next `Frame` or None at a
    clean end (never for live sources and the demo, which do not end). `skipped_frames`
    counts frames that could not be decoded and were passed over instead of ending the run;
    the first and last of them are kept for one summary line (`damage_report`) instead of a
    line per frame. `ended_early` is (first unread position, announced length) when a file
    stopped before the end its header announced (a partial download, a truncated copy).
    """

    name: str = ""
    is_live: bool = False
    fps: float = 30.0
    frame_count: int | None = None  # frames the source will give, when known (files; a progress bar's total)
    can_seek: bool = False  # `seek()` works: files and the demo (the window's replay and arrow keys)
    retry_interval_s: float = 0.0  # how often a lost live source is reopened (0: it cannot be lost)

    def __init__(self, *, mirror: bool = False) -> None:
        self.mirror = mirror
        self.skipped_frames = 0
        self.first_skipped: str | None = None
        self.last_skipped: str | None = None
        self.ended_early: tuple[int, int] | None = None
        self.closed = False

    def _skipped(self, first: str, last: str, count: int = 1) -> None:
        """Note `count` unreadable frames from position `first` to `last` (frame numbers or file names)."""
        if self.first_skipped is None:
            self.first_skipped = first
        self.last_skipped = last
        self.skipped_frames += count

    def damage_report(self) -> list[str]:
        """One line per kind of damage met so far (none for an intact source)."""
        lines = []
        if self.skipped_frames:
            where = (f"at {self.first_skipped}" if self.first_skipped == self.last_skipped
                     else f"first at {self.first_skipped}, last at {self.last_skipped}")
            lines.append(f"{self.name}: skipped {self.skipped_frames} unreadable frame(s) ({where}); "
                         "the rest was processed")
        if self.ended_early is not None:
            first_unread, length = self.ended_early
            lines.append(f"{self.name} ended early: frames {first_unread}-{length - 1} of the {length} its header "
                         f"announces could not be read (truncated or damaged file); the outputs stop at frame "
                         f"{first_unread - 1}")
        return lines

    @property
    def status(self) -> str:
        """"live", "lost" (being reopened, see `retry_interval_s`) or "closed"."""
        return "closed" if self.closed else "live"

    def read(self) -> Frame | None:
        if self.closed:
            return None
        return self._read_frame()

    def poll(self) -> Frame | None:
        """The newest frame not returned yet, without waiting (None when there is none).

        For sources that are not live this is simply the next frame.
        """
        return self.read()

    def _read_frame(self) -> Frame | None:
        raise NotImplementedError

    def seek(self, index: int) -> int:
        """Make frame `index` (clamped to the source) the next one read; returns the index used.
        Only where `can_seek`."""
        raise SourceError(f"{self.name} cannot be rewound or skipped through (it is live)")

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


    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class VideoCaptureLike(Protocol):
    """The part of `cv2.VideoCapture` the sources use, so tests can substitute fakes."""

    def isOpened(self) -> bool: ...  # noqa: N802 (OpenCV's name)
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop_id: int) -> float: ...
    def set(self, prop_id: int, value: float) -> bool: ...
    def release(self) -> None: ...


def capture_fps(capture: VideoCaptureLike) -> float:
    """The rate a capture announces, or 30 when it announces none or nonsense."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return float(fps) if fps and 1.0 <= fps <= 240.0 else 30.0


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings while opening captures; our errors say what went wrong."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)
