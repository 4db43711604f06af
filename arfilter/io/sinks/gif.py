"""Animated GIFs people can paste anywhere: `--record out.gif`, and the window's key for the next few seconds.

Why Pillow: it is already a dependency, writes animated GIFs (crops each frame to what changed
since the one before, so a still background costs almost nothing), and quantises with one
palette for the whole clip: a palette chosen from a sample of all the clip's frames keeps
colours steady, where a palette per frame makes flat areas shimmer.

Frames are shrunk to `width` as they arrive (a 4 s clip at 480 px holds ~23 MB, not the 110 MB
of 1280x720 frames) and encoded at `close()`. A GIF over `max_bytes` is made smaller in steps a
viewer minds least: first without dithering (noise is what LZW compresses worst), then at
half the frame rate, then smaller. The file is written through a temporary file and a rename,
so nobody ever sees half a GIF, and a bad path is one line before the first frame.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from arfilter.core.types import FrameResult
from arfilter.errors import OutputError
from arfilter.io.paths import prepare_folder
from arfilter.io.safe_write import write_atomically

GIF_SUFFIX = ".gif"
# GIF stores frame delays in hundredths of a second.
GIF_TICK_MS = 10
# Frames sampled (evenly over the clip) to choose the palette, each at a quarter of its size.
PALETTE_SAMPLE_FRAMES = 16


@dataclass(frozen=True)
class GifOptions:
    """What a GIF holds.

    width: pixels wide (height keeps the aspect); 480 is what chat apps show inline.
    fps: frames a second kept; 15 looks smooth for a face and keeps files small.
    max_duration_s: frames after this are not kept (the window's key records 4 s).
    max_bytes: the file is made smaller until it fits (5 MB: what most chat apps accept).
    dither: Floyd-Steinberg dithering for smooth gradients, dropped first when over max_bytes.
    """

    width: int = 480
    fps: float = 15.0
    max_duration_s: float = 4.0
    max_bytes: int = 5_000_000
    dither: bool = True

    def __post_init__(self) -> None:
        if self.width < 16:
            raise ValueError(f"width must be at least 16, got {self.width}")
        if not 0.0 < self.fps <= 50.0:
            raise ValueError(f"fps must be in (0, 50] (GIF delays are hundredths of a second), got {self.fps}")
        if self.max_duration_s <= 0.0:
            raise ValueError(f"max_duration_s must be positive, got {self.max_duration_s}")
        if self.max_bytes < 10_000:
            raise ValueError(f"max_bytes must be at least 10000, got {self.max_bytes}")


def frame_delays_ms(timestamps_s: list[float], end_s: float) -> list[int]:
    """Each frame's delay (it shows until the next one, the last until `end_s`) in whole GIF ticks,
    carrying the rounding so the clip keeps its length."""
    delays: list[int] = []
    carried = 0.0
    for start, stop in zip(timestamps_s, [*timestamps_s[1:], end_s]):
        wanted = (stop - start) * 1000.0
        ticks = max(1, round((wanted + carried) / GIF_TICK_MS))
        carried += wanted - ticks * GIF_TICK_MS
        delays.append(ticks * GIF_TICK_MS)
    return delays


def encode_gif(frames: list[np.ndarray], delays_ms: list[int], dither: bool) -> bytes:
    """An endlessly looping GIF of RGB `frames` with one palette chosen for the whole clip."""
    step = max(1, len(frames) // PALETTE_SAMPLE_FRAMES)
    sample = np.concatenate([frame[::4, ::4] for frame in frames[::step]])
    palette = Image.fromarray(sample).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    images = [Image.fromarray(frame).quantize(palette=palette, dither=mode) for frame in frames]
    buffer = io.BytesIO()
    # palette=: the clip's palette is the file's global table (without it Pillow gives every frame a table of its
    # own); optimize: pixels unchanged since the previous frame become transparent, ~10% smaller for a lens.
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=delays_ms, loop=0,
                   optimize=True, palette=bytes(palette.getpalette() or []))
    return buffer.getvalue()


class GifClip:
    """Frames gathered for one GIF, in memory: what the sink writes to a file and the web page downloads."""

    def __init__(self, options: GifOptions | None = None) -> None:
        self.options = options or GifOptions()
        self._frames: list[np.ndarray] = []
        self._timestamps: list[float] = []
        self.seen_s = 0.0  # how much time the clip was shown, kept or not

    @property
    def empty(self) -> bool:
        return not self._frames

    @property
    def full(self) -> bool:
        """Whether max_duration_s is reached: further frames are not kept (the window then closes it)."""
        return bool(self._timestamps) and self.seen_s >= self.options.max_duration_s

    def wants_frame(self, timestamp_s: float) -> bool:
        """Whether a frame at `timestamp_s` would be kept (lets callers skip drawing it)."""
        if not self._timestamps:
            return True
        slot = math.floor((timestamp_s - self._timestamps[0]) * self.options.fps + 1e-6)  # the last frame time passed
        return len(self._timestamps) <= slot < round(self.options.max_duration_s * self.options.fps)

    def mark(self, timestamp_s: float) -> None:
        """Note that time has come to `timestamp_s` (a window calls it every loop, also without a frame)."""
        if self._timestamps:
            self.seen_s = max(self.seen_s, timestamp_s - self._timestamps[0])

    def add(self, image_rgb: np.ndarray, timestamp_s: float) -> None:
        """Keep `image_rgb` if a frame is due at `timestamp_s` (the GIF's own rate)."""
        self.mark(timestamp_s)
        if not self.wants_frame(timestamp_s):
            return
        height = max(1, round(image_rgb.shape[0] * self.options.width / image_rgb.shape[1]))
        self._frames.append(cv2.resize(image_rgb, (self.options.width, height), interpolation=cv2.INTER_AREA))
        self._timestamps.append(timestamp_s)

    def encode(self) -> bytes:
        """The GIF's bytes, made smaller step by step until it fits max_bytes."""
        if not self._frames:
            raise ValueError("a GIF needs at least one frame")
        options, frames, timestamps = self.options, self._frames, self._timestamps
        end_s = timestamps[-1] + 1.0 / options.fps
        # (dither, keep every n-th frame, scale): each step a bigger saving than the one before.
        attempts = dict.fromkeys([(options.dither, 1, 1.0), (False, 1, 1.0), (False, 2, 1.0), (False, 2, 0.75),
                                  (False, 2, 0.5), (False, 4, 0.5)])
        data = b""
        for dither, every, scale in attempts:
            kept, kept_times = frames[::every], timestamps[::every]
            if scale != 1.0:
                size = (max(1, round(kept[0].shape[1] * scale)), max(1, round(kept[0].shape[0] * scale)))
                kept = [cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in kept]
            data = encode_gif(kept, frame_delays_ms(kept_times, end_s), dither)
            if len(data) <= options.max_bytes:
                return data
        return data  # the smallest made; only a clip far past any sensible length gets here

    def held_s(self) -> float:
        """How long the GIF plays."""
        return min(self.seen_s, self.options.max_duration_s)

    def release(self) -> None:
        """Drop the frames (once encoded), keeping how long the clip was."""
        self._frames, self._timestamps = [], []


class GifSink:
    """Collects drawn frames and writes them as one animated GIF on `close()` (a Sink)."""

    needs_image = True

    def __init__(self, path: Path, options: GifOptions | None = None, flag: str = "--record") -> None:
        if path.suffix.lower() != GIF_SUFFIX:
            raise OutputError(f"{flag} {path}: a GIF's name ends in {GIF_SUFFIX}; pass e.g. {path.with_suffix(GIF_SUFFIX)}")
        prepare_folder(path.parent, "GIF", for_file=path)
        if path.is_dir():
            raise OutputError(f"cannot write the GIF {path}: it is a folder; pass a file name ending in {GIF_SUFFIX}")
        self.path = path
        self.clip = GifClip(options)
        self._flag = flag
        self.bytes_written = 0

    @property
    def full(self) -> bool:
        return self.clip.full

    def wants_frame(self, timestamp_s: float) -> bool:
        return self.clip.wants_frame(timestamp_s)

    def add(self, image_rgb: np.ndarray, timestamp_s: float) -> None:
        self.clip.add(image_rgb, timestamp_s)

    def write(self, result: FrameResult, image: np.ndarray | None, timestamp_s: float | None = None) -> None:
        if image is None:
            raise ValueError("GifSink needs the drawn image")
        self.clip.add(image, result.frame.timestamp_s if timestamp_s is None else timestamp_s)

    def close(self) -> None:
        """Encode and write the GIF (nothing is written when no frame arrived)."""
        if self.clip.empty:
            return
        data = self.clip.encode()
        write_atomically(self.path, data, self._flag)
        self.bytes_written = len(data)
        self.clip.release()

    def describe(self) -> str:
        options = self.clip.options
        cut = f", the first {options.max_duration_s:g} s" if self.clip.seen_s > options.max_duration_s + 0.5 else ""
        return f"{self.path} ({self.clip.held_s():.1f} s, {self.bytes_written / 1e6:.1f} MB{cut})"
