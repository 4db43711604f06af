"""What the window sends out besides the screen: R's recording, G's GIF of the next seconds, and V's
virtual camera for video calls.

`App` owns the keys and the picture; this owns the three outputs' state and hands each the frame it
is due: the recording and the GIF get what S would save (the lens, with the HUD when D says so), the
call gets the lens alone, unmirrored. A GIF is encoded on its own thread (half a second of work), and
what threads have to say comes back through `messages` for the window to show as toasts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from arfilter.apps.lens import warn
from arfilter.apps.window.options import AppOptions
from arfilter.core.types import FrameResult
from arfilter.errors import ArfilterError
from arfilter.io.paths import prepare_folder, timestamped_path
from arfilter.io.sinks import GifSink, VideoSink
from arfilter.io.virtual_camera import VirtualCamera
from arfilter.lifecycle import Closeable

log = logging.getLogger(__name__)


def print_line(line: str) -> None:
    """A line on the terminal the window was started from (a saved file's path can be copied from there)."""
    try:
        print(line, flush=True)
    except OSError:  # no terminal any more (a closed SSH session): the toast still says it
        pass


class WindowOutputs(Closeable):
    """The window's recording, GIF and virtual camera, each on when its key turned it on."""

    def __init__(self, options: AppOptions, fps: float) -> None:
        self.options = options
        self.fps = fps
        self.recorder: VideoSink | None = None  # the R recording, the same sink as --record
        self.gif: GifSink | None = None  # the G clip being gathered
        self.virtual_camera: VirtualCamera | None = None  # V: the lens sent to video calls
        self.recording_since = 0.0
        self.messages: queue.SimpleQueue[str] = queue.SimpleQueue()  # toasts from other threads
        self._sent_result: FrameResult | None = None  # the last result the virtual camera got
        self._gif_writers: list[threading.Thread] = []

    @property
    def gathering(self) -> bool:
        """Whether frames are being kept (a recording or a GIF): the window must keep drawing."""
        return self.recorder is not None or self.gif is not None

    def say(self, line: str) -> None:
        """A line from another thread (the virtual camera, a GIF writer): a toast, and the terminal."""
        self.messages.put(line[:1].upper() + line[1:])
        warn(line)

    # ----------------------------------------------------------------- recording (R)

    def start_recording(self, path: Path | None = None) -> Path:
        if path is None:
            prepare_folder(self.options.screenshot_dir, "recording")  # the folder S and R were told to use
            path = timestamped_path(self.options.screenshot_dir, "recording", ".mp4")
        self.recorder = VideoSink(path, self.fps)
        self.recording_since = time.monotonic()
        log.info("recording to %s", path)
        return path

    def stop_recording(self) -> Path | None:
        """Finish the recording; OutputError (a full disk) when it could not be finished, and the
        window goes on without a recording either way."""
        if self.recorder is None:
            return None
        recorder, self.recorder = self.recorder, None
        recorder.close()
        path = recorder.path.resolve() if recorder.frames_written else None
        log.info("recording saved to %s", recorder.describe())
        return path

    # ----------------------------------------------------------------- GIF (G)

    def start_gif(self) -> None:
        prepare_folder(self.options.screenshot_dir, "GIF")  # the folder S, R and G were told to use
        path = timestamped_path(self.options.screenshot_dir, "clip", ".gif")
        self.gif = GifSink(path, self.options.gif, flag="--screenshot-dir")

    def finish_gif(self) -> None:
        """Encode and write the GIF on another thread (half a second of work), then say where it went."""
        sink, self.gif = self.gif, None
        if sink is None:
            return

        def write() -> None:
            try:
                sink.close()
            except ArfilterError as error:
                self.say(str(error))
                return
            self.messages.put(f"GIF saved to {sink.path.resolve()}")
            print_line(f"GIF saved to {sink.path.resolve()}")
            log.info("GIF saved to %s", sink.describe())

        writer = threading.Thread(target=write, name="arfilter-gif", daemon=False)
        writer.start()
        self._gif_writers.append(writer)

    # ----------------------------------------------------------------- virtual camera (V)

    def start_virtual_camera(self) -> str:
        """Send the lens to the virtual camera and return its device; VirtualCameraError (one line) when there is none."""
        camera = VirtualCamera(self.fps, self.options.virtual_camera, say=self.say)
        device = camera.open()
        self.virtual_camera = camera
        self._sent_result = None
        log.info("virtual camera %s on", device)
        return device

    def stop_virtual_camera(self) -> bool:
        """Free the virtual camera; False when it was not on."""
        if self.virtual_camera is None:
            return False
        self.virtual_camera.close()
        self.virtual_camera = None
        return True

    # ----------------------------------------------------------------- frames

    def feed(self, result: FrameResult, capture: Callable[[], np.ndarray], now: float) -> list[str]:
        """Give the recording and the GIF the frame shown (`capture()` draws it once, when one is due);
        returns the problems to show (a full disk stops the recording, the window goes on)."""
        problems: list[str] = []
        captured: list[np.ndarray] = []

        def frame() -> np.ndarray:
            if not captured:
                captured.append(capture())
            return captured[0]

        if self.recorder is not None and self.recorder.wants_frame(now):
            try:
                self.recorder.write(result, frame(), timestamp_s=now)
            except ArfilterError as error:  # a full disk: stop recording, say so, keep the window
                problems.append(str(error))
                log.error("%s", error)
                try:
                    self.stop_recording()
                except ArfilterError as closing:
                    log.error("%s", closing)
        if self.gif is not None:
            self.gif.clip.mark(now)
            if self.gif.full:
                self.finish_gif()
            elif self.gif.wants_frame(now):
                self.gif.add(frame(), now)
        return problems

    def send_to_call(self, result: FrameResult, lens: Callable[[], np.ndarray], mirrored: bool) -> None:
        """Give the virtual camera the lens of a frame it has not had (no HUD, unmirrored)."""
        if self.virtual_camera is None or self._sent_result is result:
            return
        self._sent_result = result
        self.virtual_camera.send(lens(), mirrored=mirrored)

    def close(self) -> None:
        """On the way out: finish the GIF being gathered, wait for GIFs being written, free the virtual
        camera. (The recording is the window's to stop: its failure decides the exit code.)"""
        self.finish_gif()
        for writer in self._gif_writers:
            writer.join()
        self._gif_writers.clear()
        self.stop_virtual_camera()
