"""What every output is: the `Sink` protocol.

A sink receives every processed frame: its `FrameResult` and, when the sink asks for it
(`needs_image`), the drawn frame (RGB uint8, the current pack on every face). It writes as
frames arrive, so an interrupted run keeps everything written up to that point, and
`close()` finalises the output (an MP4 is only playable once closed). `describe()` names what
was written, for the run's summary line.

A sink checks in its constructor that it can write where it was asked to, so a bad output
path is one error line before the first frame, not a half-written run.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from arfilter.core.types import FrameResult


class Sink(Protocol):
    """One output of a run (a video, a folder of images, a JSON Lines file, ...)."""

    needs_image: bool  # False lets a run that only writes data skip drawing the frame

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        """Add one processed frame; `image` is None only when `needs_image` is False."""
        ...

    def close(self) -> None:
        """Finalise the output; called once, also after an error or Ctrl-C."""
        ...

    def describe(self) -> str:
        """What was written, with the full path: e.g. "/home/me/out.mp4 (90 frames)"."""
        ...
