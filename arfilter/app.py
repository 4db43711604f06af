"""The interactive pygame window: frames in, pipeline, composited frame + HUD out.

`run_app` owns the loop. The loop body is split into `App.step` (take a frame when one is
due and run the pipeline), `App.handle_key` and `App.draw`, so tests drive it without a
real window. Every hotkey lives in `KeyMap` (arfilter/app_options.py) and every key's handler
in one table, `App._key_handlers`.

What is saved: a screenshot (S) and a recording (R) hold exactly the frame the user sees,
at the frame's own resolution: the composited frame (emoji / filter pack) with the emotion
bars and the stats line when they are switched on. Transient chrome (toasts, the help
overlay, the "camera lost" banner) is left out, so saved images are clean.

With no display (a server, SSH without X) `run_app` does not fail: it runs the demo
headless for a few seconds and writes a screenshot and a short recording instead
(`run_headless_fallback`).
"""

from __future__ import annotations

import collections
import datetime
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # must be set before pygame is imported
import pygame

from arfilter.app_options import KEY_ACTIONS, AppOptions
from arfilter.errors import ArfilterError, OutputError
from arfilter.hud import Hud, Toasts
from arfilter.recording import prepare_folder
from arfilter.sinks import VideoSink
from arfilter.sources import FrameSource, SourceLostError, SourceUnavailableError
from arfilter.sources.demo import DemoSource
from arfilter.types import Frame, FrameResult

log = logging.getLogger(__name__)

# Loop rate of an idle window (ended or paused file, not recording): keys still answer within
# 50 ms and a toast still fades smoothly enough, at a third of the redraws of the 60 Hz cap.
IDLE_FPS = 20


class Packs(Protocol):
    """What the app needs from arfilter.packs.PackSet."""

    @property
    def current(self) -> str: ...
    def next(self) -> str: ...
    def render(self, result: FrameResult) -> np.ndarray: ...


class Pipeline(Protocol):
    """What the app needs from arfilter.pipeline.Pipeline."""

    @property
    def packs(self) -> Packs: ...
    def process(self, frame: Frame) -> FrameResult: ...
    def reset(self) -> None: ...


# --------------------------------------------------------------------------- output files


def timestamped_path(folder: Path, prefix: str, suffix: str, now: datetime.datetime | None = None) -> Path:
    """folder/prefix-YYYYmmdd-HHMMSS-mmm.suffix, with -2, -3... added if that name is taken."""
    now = now or datetime.datetime.now()
    stem = f"{prefix}-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
    path = folder / f"{stem}{suffix}"
    counter = 2
    while path.exists():
        path = folder / f"{stem}-{counter}{suffix}"
        counter += 1
    return path


def surface_to_rgb(surface: pygame.Surface) -> np.ndarray:
    """A pygame surface as an (H, W, 3) uint8 RGB array (a copy)."""
    width, height = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), np.uint8).reshape(height, width, 3).copy()


def rgb_to_surface(image: np.ndarray) -> pygame.Surface:
    """An (H, W, 3) uint8 RGB array as a pygame surface that owns its pixels."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    return pygame.image.frombuffer(image.tobytes(), (image.shape[1], image.shape[0]), "RGB")


def save_screenshot(surface: pygame.Surface, folder: Path) -> Path:
    """Write `surface` as a timestamped PNG into `folder`; raises OutputError when it cannot."""
    prepare_folder(folder, "screenshot")
    path = timestamped_path(folder, "screenshot", ".png")
    try:
        pygame.image.save(surface, str(path))
    except (pygame.error, OSError) as error:
        raise OutputError(f"cannot write screenshot {path}: {error}; choose a writable folder") from None
    return path


# --------------------------------------------------------------------------- the app


def letterbox_rect(frame_size: tuple[int, int], window_size: tuple[int, int]) -> pygame.Rect:
    """The largest rectangle of the frame's aspect ratio centred in the window."""
    frame_w, frame_h = frame_size
    window_w, window_h = window_size
    scale = min(window_w / frame_w, window_h / frame_h)
    width, height = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    return pygame.Rect((window_w - width) // 2, (window_h - height) // 2, width, height)


class FpsMeter:
    """Frames per second over the last second of processed frames."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._times: collections.deque[float] = collections.deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    @property
    def fps(self) -> float | None:
        """None until half a window of frames has been timed: a rate from two or three frames
        (a recording's first frames) would be a made-up number."""
        if len(self._times) < 2 or self._times[-1] - self._times[0] < 0.5 * self.window_s:
            return None
        return (len(self._times) - 1) / max(1e-6, self._times[-1] - self._times[0])


class App:
    """State and behaviour of the window, independent of where events and time come from.

    `window` is the display surface, or None to compose frames without showing them (tests,
    headless). `now` arguments are `time.monotonic()` seconds unless a test passes its own.
    """

    def __init__(self, pipeline: Pipeline, source: FrameSource, options: AppOptions,
                 window: pygame.Surface | None = None) -> None:
        self.pipeline = pipeline
        self.source = source
        self.options = options
        self.window = window
        self.running = True
        self.paused = False
        self.show_bars = options.show_bars
        self.capture_hud = options.capture_hud
        self.show_help = False
        self.camera_lost = False
        self.ended = False
        self.recorder: VideoSink | None = None  # the R recording, the same sink as --record
        self.toasts = Toasts()
        self.fps_meter = FpsMeter()
        self.result: FrameResult | None = None
        self._rendered: pygame.Surface | None = None  # packs.render(result), until result/pack change
        self._composed: pygame.Surface | None = None  # compose(), until anything it shows changes
        self._hud: Hud | None = None
        self._hud_height = 0
        self._next_frame_due: float | None = None
        self._dirty = True
        # Each action of the key map and what it does: the one place keys meet behaviour.
        self._key_handlers: dict[str, Callable[[], None]] = {
            "toggle_bars": self._toggle_bars,
            "screenshot": self._screenshot,
            "record": self._toggle_recording,
            "mirror": self._toggle_mirror,
            "pause": self._toggle_pause,
            "next_pack": self._next_pack,
            "capture_hud": self._toggle_capture_hud,
            "help": self._toggle_help,
            "quit": self._quit,
        }
        assert self._key_handlers.keys() == KEY_ACTIONS.keys(), "every key action needs a handler"
        if options.first_hint_s > 0:
            self.toasts.show("H: help", duration_s=options.first_hint_s)

    # ----------------------------------------------------------------- frames

    def step(self, now: float | None = None) -> bool:
        """Take the next frame if one is due (not while paused) and run the pipeline on it.

        Returns True when a new frame was processed.
        """
        now = time.monotonic() if now is None else now
        if self.paused or self.ended:
            return False
        frame = self._acquire(now)
        if frame is None:
            return False
        self.process(frame, now)
        return True

    def _acquire(self, now: float) -> Frame | None:
        """A new frame: the newest one of a live source, or the next one of a file or the demo,
        which are paced to their nominal frame rate."""
        if self.source.is_live:
            return self._poll_live()
        # Half a redraw tick of slack: a frame due just after this tick would otherwise wait
        # a whole tick, which turns 30 fps into 20-24 fps at a 60 Hz redraw cap.
        if self._next_frame_due is not None and now < self._next_frame_due - 0.5 / self.options.max_fps:
            return None
        period = 1.0 / self.source.fps
        self._next_frame_due = now + period if self._next_frame_due is None else max(self._next_frame_due + period, now)
        frame = self.source.read()
        if frame is None:
            self.ended = True
            self.toasts.show(f"End of {self.source.name}; press Q to quit")
            self._changed()
        return frame

    def _poll_live(self) -> Frame | None:
        try:
            frame = self.source.poll()
        except SourceLostError as error:
            if not self.camera_lost:
                self.camera_lost = True
                self._changed()
                self.toasts.show("Camera lost, retrying...")
                log.warning("%s", error)
            return None
        if frame is not None and self.camera_lost:
            self.camera_lost = False
            self._changed()
            self.toasts.show("Camera is back")
            log.info("%s is back", self.source.name)
            self.pipeline.reset()
        return frame

    def process(self, frame: Frame, now: float | None = None) -> None:
        """Run the pipeline on `frame` and make it the frame shown."""
        self.show(self.pipeline.process(frame), now)

    def show(self, result: FrameResult, now: float | None = None) -> None:
        """Make `result` the frame shown (and saved by S and R)."""
        self.result = result
        self._rendered = None
        self._changed()
        self.fps_meter.tick(time.monotonic() if now is None else now)

    # ----------------------------------------------------------------- keys

    def handle_events(self) -> None:
        for event in pygame.event.get():
            self.handle_event(event)

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            self.handle_key(event.key)
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWEXPOSED, pygame.WINDOWSIZECHANGED):
            self._dirty = True

    def handle_key(self, key: int) -> None:
        """Do what `key` is bound to. Unbound keys are ignored, and a failing action becomes
        a toast and a log line: nothing a user presses ends the app except quit."""
        action = self.options.keys.action_for(pygame.key.name(key))
        if action is None:
            return
        self._changed()
        try:
            self._key_handlers[action]()
        except ArfilterError as error:
            self.toasts.show(str(error))
            log.error("%s", error)
        except Exception as error:  # a bug behind a key must not take the window down
            self.toasts.show(f"{action.replace('_', ' ')} failed: {error}")
            log.exception("%s failed", action)

    def _toggle_bars(self) -> None:
        self.show_bars = not self.show_bars

    def _screenshot(self) -> None:
        if self.result is None:
            self.toasts.show("No frame yet to save")
            return
        path = save_screenshot(self.capture_frame(), self.options.screenshot_dir)
        self.toasts.show(f"Screenshot saved to {path}")
        log.info("screenshot saved to %s", path)

    def _toggle_recording(self) -> None:
        if self.recorder is not None:
            path = self.stop_recording()
            self.toasts.show(f"Recording saved to {path}")
            return
        if self.result is None:
            self.toasts.show("No frame yet to record")
            return
        self.start_recording()
        self.toasts.show("Recording...")

    def _toggle_mirror(self) -> None:
        self.source.mirror = not self.source.mirror
        self.pipeline.reset()
        self.toasts.show("Mirror on" if self.source.mirror else "Mirror off")

    def _toggle_pause(self) -> None:
        self.paused = not self.paused
        # A file resumes at its own pace instead of racing to catch up on the pause.
        self._next_frame_due = None

    def _next_pack(self) -> None:
        name = self.pipeline.packs.next()
        self._rendered = None
        self.toasts.show(f"Filter: {name}")
        self._update_title()

    def _toggle_capture_hud(self) -> None:
        self.capture_hud = not self.capture_hud
        self.toasts.show("Screenshots and recordings with the HUD" if self.capture_hud
                         else "Screenshots and recordings without the HUD")

    def _toggle_help(self) -> None:
        self.show_help = not self.show_help

    def _quit(self) -> None:
        self.running = False

    # ----------------------------------------------------------------- recording

    def start_recording(self, path: Path | None = None) -> Path:
        path = path or timestamped_path(self.options.screenshot_dir, "recording", ".mp4")
        self.recorder = VideoSink(path, self.source.fps)
        self._changed()
        log.info("recording to %s", path)
        return path

    def stop_recording(self) -> Path | None:
        if self.recorder is None:
            return None
        self.recorder.close()
        path = self.recorder.path
        log.info("recording saved to %s", self.recorder.describe())
        self.recorder = None
        self._changed()
        return path

    # ----------------------------------------------------------------- drawing

    def _changed(self) -> None:
        """Something shown changed: recompose and redraw on the next draw."""
        self._composed = None
        self._dirty = True

    def _hud_for(self, height: int) -> Hud:
        if self._hud is None or self._hud_height != height:
            self._hud = Hud(height)
            self._hud_height = height
        return self._hud

    def lens_frame(self) -> pygame.Surface:
        """The frame with the filter pack drawn and nothing else (no bars, no stats)."""
        if self.result is None:
            raise RuntimeError("lens_frame() needs a processed frame")
        if self._rendered is None:
            self._rendered = rgb_to_surface(self.pipeline.packs.render(self.result))
        return self._rendered

    def capture_frame(self) -> pygame.Surface:
        """What S saves and R records: the lens alone, or with the HUD when `capture_hud` is on."""
        return self.compose() if self.capture_hud else self.lens_frame()

    def compose(self) -> pygame.Surface:
        """The frame as the window shows it: composited image, bars and stats, at frame size."""
        if self._composed is not None:
            return self._composed
        surface = self.lens_frame().copy()
        assert self.result is not None  # lens_frame() raises without one
        hud = self._hud_for(surface.get_height())
        stats_area: list[tuple[int, int, int, int]] = []
        if self.options.show_stats:
            notes = [self.pipeline.packs.current]
            if self.paused:
                notes.append("paused")
            stats = hud.draw_stats(surface, self.fps_meter.fps, len(self.result.faces), notes=notes,
                                   recording=self.recorder is not None)
            stats_area.append((stats.x, stats.y, stats.width, stats.height))
        if self.show_bars:
            hud.draw_all_face_bars(surface, self.result.faces, forbidden=stats_area)
        self._composed = surface
        return surface

    def draw(self, now: float | None = None) -> None:
        """Show the composed frame letterboxed in the window, with toasts, banner and help.

        Redraws only when something changed or a toast is fading.
        """
        if self.window is None:
            return
        now = time.monotonic() if now is None else now
        toasts_visible = bool(self.toasts.visible(now))
        if not (self._dirty or toasts_visible):
            return
        self.window.fill((0, 0, 0))
        if self.result is None:
            pygame.display.flip()
            return
        # A copy in the display's pixel format: smoothscale is four times faster on it than
        # on the 24-bit frame surface, and the chrome drawn next must not reach compose().
        shown = self.compose().convert()
        hud = self._hud_for(shown.get_height())
        if self.camera_lost:
            hud.draw_banner(shown, "Camera lost, retrying...")
        if self.show_help:
            hud.draw_help(shown, self.options.keys.help_entries())
        hud.draw_toasts(shown, self.toasts, now)
        target = letterbox_rect(shown.get_size(), self.window.get_size())
        if target.size == shown.get_size():
            self.window.blit(shown, target)
        else:
            pygame.transform.smoothscale(shown, target.size, self.window.subsurface(target))
        pygame.display.flip()
        self._dirty = toasts_visible

    def idle(self) -> bool:
        """Whether no new frame can come until the user acts: the file ended or the app is
        paused, and nothing is being recorded. Redraws (a fading toast, a key's effect) still
        happen, at IDLE_FPS."""
        return (self.ended or self.paused) and self.recorder is None

    def record(self, now: float | None = None) -> None:
        """Hand the composed frame to the recording when it is due for another frame (by wall clock:
        the recording shows what the user saw, pauses included)."""
        now = time.monotonic() if now is None else now
        if self.recorder is not None and self.result is not None and self.recorder.wants_frame(now):
            self.recorder.write(self.result, surface_to_rgb(self.capture_frame()), timestamp_s=now)

    def _update_title(self) -> None:
        if self.window is not None:
            pygame.display.set_caption(f"{self.options.title} - {self.source.name} - {self.pipeline.packs.current}")

    # ----------------------------------------------------------------- loop

    def run(self) -> int:
        """The event loop; returns the exit code (0) once the user quits."""
        clock = pygame.time.Clock()
        self._update_title()
        try:
            while self.running:
                self.step()
                self.handle_events()
                if not self.running:
                    break
                self.draw()
                self.record()
                # Idle (no frame can come until the user acts): wake up only often enough to
                # answer a key without a noticeable delay.
                clock.tick(IDLE_FPS if self.idle() else self.options.max_fps)
        finally:
            self.stop_recording()
        return 0


# --------------------------------------------------------------------------- entry points


def display_unavailable_reason() -> str | None:
    """Why no window can be opened, if that is clear before trying; None when it may work."""
    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if driver in ("dummy", "offscreen"):
        return None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "DISPLAY and WAYLAND_DISPLAY are not set"
    return None


def _open_source_or_demo(source_factory: Callable[[], FrameSource]) -> FrameSource:
    """Open the requested source; a camera that is not there falls back to the demo."""
    try:
        return source_factory()
    except SourceUnavailableError as error:
        print(f"No camera: {error.detail}; showing the built-in demo instead (pass --source to choose another source)")
        return DemoSource()


def run_app(pipeline: Pipeline, source_factory: Callable[[], FrameSource], options: AppOptions | None = None) -> int:
    """Open the source and the window and run until the user quits; returns the exit code.

    Falls back to the demo when the camera is missing, and to `run_headless_fallback` when
    no window can be opened. Other source errors (a bad file) propagate as `SourceError`.
    """
    options = options or AppOptions()
    reason = display_unavailable_reason()
    if reason is not None:
        return run_headless_fallback(pipeline, options, reason=reason)
    source = _open_source_or_demo(source_factory)
    try:
        if options.mirror is not None:
            source.mirror = options.mirror
        pygame.display.init()
        pygame.font.init()
        try:
            window = pygame.display.set_mode(options.window_size, pygame.RESIZABLE)
        except pygame.error as error:
            source.close()  # no camera thread running while the fallback works
            pygame.quit()
            return run_headless_fallback(pipeline, options, reason=f"pygame could not open a window: {error}")
        return App(pipeline, source, options, window).run()
    finally:
        source.close()
        pygame.quit()


def run_headless_fallback(pipeline: Pipeline, options: AppOptions | None = None, *, reason: str = "no display") -> int:
    """Without a display: run the demo for `options.headless_seconds` through the headless
    runner, recording what the window would show (frame, bars and stats) and saving its last
    frame as a screenshot into `options.screenshot_dir`; say where they went, and return 0.

    Frames are processed as fast as the pipeline allows; the recording is timed by the demo's
    own clock, so it plays at 30 fps whatever the speed of this machine.
    """
    from arfilter.headless import run_headless

    options = options or AppOptions()
    pygame.font.init()
    try:
        with DemoSource() as source:
            app = App(pipeline, source, options)
            recording = VideoSink(timestamped_path(options.screenshot_dir, "recording", ".mp4"), source.fps)

            def draw(result: FrameResult) -> np.ndarray:
                app.show(result, now=result.frame.timestamp_s)
                return surface_to_rgb(app.capture_frame())

            frame_count = max(1, round(options.headless_seconds * source.fps))
            run_headless(pipeline, source, [recording], max_frames=frame_count, draw=draw, log=lambda line: None)
            screenshot = save_screenshot(app.capture_frame(), options.screenshot_dir)
    finally:
        pygame.font.quit()
    print(f"No window ({reason}): ran the demo headless for {options.headless_seconds:g} s; "
          f"screenshot {screenshot}, recording {recording.path}")
    return 0
