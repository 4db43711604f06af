"""H.264 recordings that play everywhere: the MP4 writer behind `--record`, R and the web page.

Why PyAV (`av`): its wheels carry FFmpeg built with libx264 (checked: av.libs/libx264-*.so in
the manylinux, macOS and Windows wheels), so H.264 works after a plain `pip install` and never
downloads an encoder at run time. OpenCV's wheels carry no H.264 encoder, which is why the
recordings used to be MPEG-4 Part 2, which browsers refuse. imageio-ffmpeg would also carry an
encoder, but as a separate ffmpeg process fed through a pipe, with its own failure modes.

The file is a fragmented MP4 (`frag_keyframe+empty_moov+default_base_moof`):
- its index (moov) is the first thing after the header, as "faststart" asks, so a browser
  starts playing before the whole file has arrived;
- every keyframe (one a second by default) closes a fragment that is complete on disk, so a
  run killed without a chance to finalise (SIGKILL, a power cut) still leaves a playable file
  holding everything up to the last second;
- nothing is rewritten at the end, so finalising is quick and cannot fail half-way through a
  second copy of the file.

Pixels are yuv420p (what every player decodes), converted with OpenCV (BT.601, studio range,
what decoders assume for untagged video; half the cost of FFmpeg's swscale here). x264 runs
with `tune=zerolatency`: no frame is held back in a look-ahead, so what `write` returned for is
in the next fragment. A write that fails (a full disk, a removed folder) raises one
OutputError line and the writer refuses further frames; `close` raises too when the end of
the file could not be written, so a caller never reports a recording that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from arfilter.errors import OutputError, os_reason
from arfilter.io.paths import prepare_folder
from arfilter.io.recording import letterbox

# yuv420p subsamples chroma 2x2; sizes are rounded down to even.
MIN_FRAME_SIDE_PX = 2
FRAGMENTED_MP4_FLAGS = "frag_keyframe+empty_moov+default_base_moof"


@dataclass(frozen=True)
class H264Options:
    """How recordings are encoded.

    crf: x264's constant quality (lower is better and bigger); 23 is x264's own default, a
        clean picture at about 1-2 Mbit/s for 720p video of a person.
    preset: x264 speed; "veryfast" keeps a 1280x720 recording at 30 frames/s to a few ms a
        frame on one core, where "medium" would take most of a frame's time budget.
    keyframe_interval_s: a keyframe (and so a fragment on disk) at least this often: the most
        a killed run can lose, and how finely a player can seek.
    threads: x264 threads; 1 by default so that the recording never takes the core the
        lens runs on (the app's own work is what must keep up).
    """

    crf: int = 23
    preset: str = "veryfast"
    keyframe_interval_s: float = 1.0
    threads: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be between 0 and 51, got {self.crf}")
        if self.keyframe_interval_s <= 0:
            raise ValueError(f"keyframe_interval_s must be positive, got {self.keyframe_interval_s}")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")


class H264Recorder:
    """Writes frames to an H.264 MP4 in real time: a frame is repeated when the app is slower
    than `fps`, so the video plays at the speed it was recorded (the same contract as
    OpenCV's mp4v writer it replaced)."""

    def __init__(self, path: Path, fps: float, frame_size: tuple[int, int], options: H264Options | None = None) -> None:
        if min(frame_size) < MIN_FRAME_SIDE_PX:
            raise OutputError(f"cannot record {path}: the frames are {frame_size[0]}x{frame_size[1]} px and MP4 needs "
                              f"at least {MIN_FRAME_SIDE_PX}x{MIN_FRAME_SIDE_PX}; use --out-dir or --json for images this small")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        prepare_folder(path.parent, "recording")
        self.path = path
        self.fps = fps
        self.options = options or H264Options()
        self.frame_size = (frame_size[0] - frame_size[0] % 2, frame_size[1] - frame_size[1] % 2)
        self.frames_written = 0
        self._start_s: float | None = None
        self._failed: OutputError | None = None
        self._closed = False
        self._next_pts = 0
        rate = Fraction(fps).limit_denominator(1001)  # 29.97 stays 30000/1001
        try:
            # flush_packets: each fragment reaches the file when it is complete, not when FFmpeg's buffer fills.
            self._container = av.open(str(path), mode="w", format="mp4",
                                      options={"movflags": FRAGMENTED_MP4_FLAGS, "flush_packets": "1"})
        except OSError as error:
            raise self._error(error) from None
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = self.frame_size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {
            "preset": self.options.preset, "tune": "zerolatency", "crf": str(self.options.crf),
            "g": str(max(1, round(fps * self.options.keyframe_interval_s))), "threads": str(self.options.threads),
        }
        self._stream = stream

    def _error(self, error: OSError) -> OutputError:
        return OutputError(f"cannot write recording {self.path} ({os_reason(error)}); free some space or record to "
                           "another folder")

    def _frames_due(self, timestamp_s: float) -> int:
        start = timestamp_s if self._start_s is None else self._start_s
        return int((timestamp_s - start) * self.fps + 1e-6) + 1  # 1e-6: 9/30 s * 30 is frame 9, not 8.999

    def wants_frame(self, timestamp_s: float) -> bool:
        """Whether a frame shown at `timestamp_s` would be written (lets callers skip converting)."""
        return self._frames_due(timestamp_s) > self.frames_written

    def write(self, image_rgb: np.ndarray, timestamp_s: float) -> None:
        """Add `image_rgb` as the frame shown at `timestamp_s` (any clock, seconds)."""
        if self._failed is not None:
            raise self._failed
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
        planes = np.asarray(cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        for _ in range(copies):
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = self._next_pts  # contiguous: a skipped stall leaves no hole in the video
            self._encode(frame)
            self._next_pts += 1
        self.frames_written = max(due, self.frames_written + copies)

    def _encode(self, frame: av.VideoFrame | None) -> None:
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except OSError as error:
            self._failed = self._error(error)
            raise self._failed from None

    def close(self) -> Path:
        """Flush the encoder and finish the file; raises OutputError when any of it could not be written."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self._failed is None:
                self._encode(None)
        except OutputError:
            pass  # kept in self._failed, raised below once the file is closed
        finally:
            try:
                self._container.close()
            except OSError as error:
                self._failed = self._failed or self._error(error)
        if self._failed is not None:
            raise self._failed
        return self.path
