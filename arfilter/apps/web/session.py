"""One live page connection: its own lens (tracking and smoothing), its settings, its frames.

A browser sends camera frames as fast as it likes; the server must never fall behind by
queueing them. `LatestFrame` keeps only the newest frame not yet processed and counts the
ones it replaced, so a client that sends faster than the server processes sees fresh results
and dropped frames, never a growing delay.

Pipelines are loaded once per live slot and kept in a `LensPool`: a connection takes one
(with its own face tracker, smoother and emotion interpreter, so connections run in parallel
threads without sharing model state) and gives it back reset when it leaves. The filter packs
are loaded once and shared: they are read-only after loading.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from arfilter.apps.lens import Lens
from arfilter.apps.web.uploads import UploadLimits, decode_image
from arfilter.core.types import Frame, FrameResult
from arfilter.errors import PackError
from arfilter.io.sinks.gif import GifClip, GifOptions
from arfilter.io.sinks.jsonl import frame_record
from arfilter.render.background import BACKGROUND_WORDS
from arfilter.render.compose import HudLayers

# Binary result message: 4-byte big-endian length of the JSON header, the header, the JPEG.
HEADER_LENGTH = struct.Struct(">I")


class LensPool:
    """Up to `size` lenses, built on first need and reused after `give_back` (reset)."""

    def __init__(self, factory: Callable[[], Lens], size: int) -> None:
        self._factory = factory
        self._idle: list[Lens] = []
        self._lock = threading.Lock()
        self._size = size
        self._out = 0

    def take(self) -> Lens:
        """An idle lens, or a new one; blocking (model loading), so call it off the event loop."""
        with self._lock:
            if self._out >= self._size:
                raise RuntimeError(f"all {self._size} lenses are in use")
            self._out += 1
            if self._idle:
                return self._idle.pop()
        try:
            return self._factory()
        except BaseException:
            with self._lock:
                self._out -= 1
            raise

    def give_back(self, lens: Lens) -> None:
        """Return a lens as new: no tracks, ids from 1, the default pack, the server's background."""
        lens.restart()
        lens.packs.select(lens.packs.initial)
        lens.set_background(lens.initial_background)
        with self._lock:
            self._out -= 1
            self._idle.append(lens)


class LatestFrame:
    """A one-slot mailbox between the receiving and the processing side of a connection.

    `put` replaces an unprocessed frame instead of queueing behind it (counted in `dropped`);
    `take` waits for a frame. Used from one event loop, so it needs no lock.
    """

    def __init__(self) -> None:
        self._frame: bytes | None = None
        self._ready = asyncio.Event()
        self.dropped = 0
        self.closed = False

    def put(self, data: bytes) -> None:
        if self._frame is not None:
            self.dropped += 1
        self._frame = data
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def take(self) -> bytes | None:
        """The newest frame, or None once closed."""
        await self._ready.wait()
        self._ready.clear()
        frame, self._frame = self._frame, None
        return None if self.closed else frame


@dataclass
class SessionSettings:
    """What the page's controls set. `image` False sends results without the composited frame
    (for programs that only want the analysis)."""

    bars: bool = True
    mirror: bool = True
    image: bool = True
    raw: bool = False  # the bars show the frame's own probabilities (the window's P)


class SettingsError(ValueError):
    """A control message the session cannot apply; the message goes back to the client."""


def encode_jpeg(image_rgb: np.ndarray, quality: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()


def binary_message(header: dict[str, Any], payload: bytes) -> bytes:
    """A binary message: 4-byte big-endian header length, the JSON header, the payload (a JPEG, a GIF)."""
    encoded = json.dumps(header).encode()
    return HEADER_LENGTH.pack(len(encoded)) + encoded + payload


@dataclass
class LiveSession:
    """The state of one connection; `process` runs in a worker thread, one frame at a time.

    A GIF (the page's GIF button) is gathered from the frames the page is shown, on the server:
    the page then needs no encoder of its own, and the GIF is the same one the window's G makes.
    Encoding it takes about half a second, on this session's thread, once at the end of the clip.
    """

    lens: Lens
    limits: UploadLimits
    jpeg_quality: int = 80
    settings: SessionSettings = field(default_factory=SessionSettings)
    frames: int = 0
    started: float = field(default_factory=time.monotonic)
    gif_options: GifOptions = field(default_factory=GifOptions)
    last: FrameResult | None = None  # the result shown last (what a screenshot saves)
    _last_lens: np.ndarray | None = None  # its lens image, drawn once
    # Settings change the lens (pack, reset), so they wait for the frame being processed.
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gif: GifClip | None = None
    _outbox: list[bytes] = field(default_factory=list)  # messages besides the frame's result (a finished GIF)

    @property
    def backgrounds(self) -> list[str]:
        """What the page may choose: none, blur, and the server's --background picture if it has one."""
        return [*BACKGROUND_WORDS, *(["image"] if self.lens.initial_background.image_path is not None else [])]

    def apply(self, message: dict[str, Any]) -> dict[str, Any]:
        """Apply an {"type": "options", ...} message; returns the settings now in force.

        Checked whole before anything changes, so a bad message changes nothing.
        """
        switches = ("bars", "mirror", "image", "raw")
        known = {"type", "pack", "background", *switches}
        unknown = sorted(set(message) - known)
        if unknown:
            raise SettingsError(f"unknown option(s) {', '.join(unknown)}; known: pack, {', '.join(switches)}, background")
        background = message.get("background")
        if background is not None and background not in self.backgrounds:
            raise SettingsError(f"option background must be one of {', '.join(self.backgrounds)}, got {background!r}")
        pack = message.get("pack")
        if pack is not None:
            try:
                pack = self.lens.packs.find(pack)
            except PackError as error:
                raise SettingsError(str(error)) from None
        for name in switches:
            if name in message and not isinstance(message[name], bool):
                raise SettingsError(f"option {name} must be true or false, got {message[name]!r}")
        with self._lock:
            if pack is not None:
                try:
                    self.lens.packs.select(pack)
                except PackError:  # undecodable: PackSet.select dropped it; the session goes on
                    raise SettingsError(broken_pack_message(pack, self.lens.packs.names)) from None
            if "mirror" in message and message["mirror"] != self.settings.mirror and self.last is not None:
                # The page flips its frames from now on: the tracks flip with them and keep their ids.
                self.lens.mirror(self.last.frame.image.shape[1])
            for name in switches:
                if name in message:
                    setattr(self.settings, name, message[name])
            if background is not None:
                self.lens.set_background(dataclasses.replace(self.lens.initial_background, mode=background))
            return self.describe()

    def describe(self) -> dict[str, Any]:
        return {"type": "options", "pack": self.lens.packs.current, "packs": self.lens.packs.names,
                "bars": self.settings.bars, "mirror": self.settings.mirror, "image": self.settings.image,
                "raw": self.settings.raw, "background": self.lens.background.mode, "backgrounds": self.backgrounds}

    def start_gif(self) -> dict[str, Any]:
        """Gather the next `gif_options.max_duration_s` of composited frames into a GIF (sent when complete)."""
        with self._lock:
            if not self.settings.image:
                raise SettingsError("a GIF needs the composited frames; set the option image to true first")
            if self._gif is None:
                self._gif = GifClip(self.gif_options)
            return {"type": "gif", "state": "recording", "seconds": self.gif_options.max_duration_s}

    def calibrate(self) -> dict[str, Any]:
        """The page's Calibrate (the window's N): every face in the frame shown last is its person's
        neutral face from now on; again, with a face calibrated, forgets it."""
        with self._lock:
            faces = self.last.faces if self.last is not None else []
            pipeline = self.lens.pipeline
            cleared = [pipeline.clear_calibration(face.track_id) for face in faces]  # every face, not the first
            if any(cleared):
                return {"type": "calibration", "state": "cleared", "faces": 0}
            calibrated = sum(pipeline.calibrate(face.track_id) for face in faces)
            if not calibrated:
                raise SettingsError("no face to take as neutral yet: look at the camera with a relaxed face, then calibrate")
            return {"type": "calibration", "state": "set", "faces": calibrated}

    def take_outbox(self) -> list[bytes]:
        """The messages to send after the latest result (a finished GIF), once."""
        with self._lock:
            messages, self._outbox = self._outbox, []
            return messages

    def screenshot(self, hud: bool) -> dict[str, Any]:
        """The frame shown last as a PNG (base64), as the window's S saves it: the lens alone, or
        with the bars when `hud` (the window's D). Raises SettingsError before the first frame."""
        with self._lock:
            if self.last is None:
                raise SettingsError("no frame yet to save")
            if self._last_lens is None:  # results without images: the lens is drawn now, once
                self._last_lens = self.lens.composer.lens(self.last)
            image = self.lens.composer.compose(self.last, HudLayers(bars=hud and self.settings.bars, raw=self.settings.raw),
                                               lens=self._last_lens)
        ok, png = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError("PNG encoding failed")
        return {"type": "screenshot", "hud": hud, "png": base64.b64encode(png.tobytes()).decode()}

    def process(self, data: bytes, dropped: int = 0) -> bytes | str:
        """One camera frame in; the result out: a binary message (JSON header + composited JPEG)
        or, with `image` off, the JSON text alone. Raises ImageRejectedError for a bad frame."""
        with self._lock:
            return self._process(data, dropped)

    def _process(self, data: bytes, dropped: int) -> bytes | str:
        start = time.perf_counter()
        image = decode_image(data, self.limits)
        frame = Frame(image=image, index=self.frames, source="browser", timestamp_s=time.monotonic() - self.started)
        self.frames += 1
        result = self.last = self.lens.process(frame)
        self._last_lens = None
        header: dict[str, Any] = {"type": "result", **frame_record(result), "pack": self.lens.packs.current,
                                  "dropped": dropped}
        if not self.settings.image:
            header["server_ms"] = round((time.perf_counter() - start) * 1000, 2)
            return json.dumps(header)
        self._last_lens = self.lens.composer.lens(result)  # once per frame: the background keeps state over time
        shown = self.lens.composer.compose(result, HudLayers(bars=self.settings.bars, raw=self.settings.raw),
                                           lens=self._last_lens)
        jpeg = encode_jpeg(shown, self.jpeg_quality)
        header["server_ms"] = round((time.perf_counter() - start) * 1000, 2)
        if self._gif is not None:
            self._gif_frame(shown, frame.timestamp_s)
        return binary_message(header, jpeg)

    def _gif_frame(self, shown: np.ndarray, timestamp_s: float) -> None:
        assert self._gif is not None
        self._gif.add(shown, timestamp_s)
        if self._gif.full:
            clip, self._gif = self._gif, None
            data = clip.encode()
            self._outbox.append(binary_message({"type": "gif", "seconds": round(clip.held_s(), 2), "bytes": len(data)},
                                               data))



def broken_pack_message(name: str, available: list[str]) -> str:
    """A pack whose images cannot be decoded, for a client: its name, never the server's paths."""
    return (f"the filter pack {name!r} cannot be drawn (its images are damaged) and was removed from the list; "
            f"available: {', '.join(available)}")


def error_message(message: str, about: str) -> str:
    """An error for the client; `about` is "frame" when it answers a frame (the page counts
    frames in flight) and "message" when it answers a text message."""
    return json.dumps({"type": "error", "about": about, "message": message})

