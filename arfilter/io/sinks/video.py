"""The annotated-video sink, used by `--record` and by the window's R key alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arfilter.core.types import FrameResult
from arfilter.errors import OutputError
from arfilter.io.paths import prepare_folder
from arfilter.io.video_writer import H264Recorder

RECORDING_SUFFIX = ".mp4"


class VideoSink:
    """Writes drawn frames to an H.264 MP4 at `fps`, timed by each frame's own timestamp.

    The writer opens at the first frame, whose size (rounded down to even, as codecs want)
    is the video's. The MP4 is finalised by `close()`, which the runner calls on every way
    out, signals included; a run killed without that chance still leaves a playable file (see
    `H264Recorder`). Frames are placed by time, not count: a frame that arrives late is
    repeated and frames that arrive early are dropped (see `H264Recorder`), so the video plays at
    the speed of the source. Pass `timestamp_s` to time frames by another clock, as the
    window does with wall-clock time.
    """

    needs_image = True

    def __init__(self, path: Path, fps: float) -> None:
        if path.suffix.lower() != RECORDING_SUFFIX:
            raise OutputError(f"--record {path}: recordings are MP4 (H.264) or GIF files; pass a name ending in "
                              f"{RECORDING_SUFFIX} or .gif, e.g. --record {path.with_suffix(RECORDING_SUFFIX)}")
        prepare_folder(path.parent, "recording", for_file=path)
        self.path = path
        self.fps = fps
        self._recorder: H264Recorder | None = None

    @property
    def frames_written(self) -> int:
        return self._recorder.frames_written if self._recorder is not None else 0

    def wants_frame(self, timestamp_s: float) -> bool:
        """Whether a frame at `timestamp_s` would be written (lets callers skip drawing it)."""
        return self._recorder is None or self._recorder.wants_frame(timestamp_s)

    def write(self, result: FrameResult, image: np.ndarray | None, timestamp_s: float | None = None) -> None:
        if image is None:
            raise ValueError("VideoSink needs the drawn image")
        if self._recorder is None:
            self._recorder = H264Recorder(self.path, self.fps, (image.shape[1], image.shape[0]))
        self._recorder.write(image, result.frame.timestamp_s if timestamp_s is None else timestamp_s)

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()

    def describe(self) -> str:
        return f"{self.path.resolve()} ({self.frames_written} frames)"
