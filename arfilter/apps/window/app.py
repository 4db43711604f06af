"""The interactive pygame window: frames in, pipeline, composited frame + HUD out.

`run_app` owns the loop. The loop body is split into `App.step` (take a frame when one is
due and run the pipeline), `App.handle_key` and `App.draw`, so tests drive it without a
real window. Every hotkey lives in `KeyMap` (arfilter/app_options.py) and every key's handler
in one table, `App._key_handlers`.

What is saved: a screenshot (S) and a recording (R) hold exactly the frame the user sees,
at the frame's own resolution: the composited frame (emoji / filter pack) with the emotion
bars and the stats line when they are switched on. Transient chrome (toasts, the help
overlay, the "camera lost" banner) is left out, so saved images are clean.

Starting the window (display checks, the demo fallback) is arfilter.apps.window.launch.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame

from arfilter.apps.lens import Lens, warn
from arfilter.apps.settings import Settings
from arfilter.apps.window.options import KEY_ACTIONS, AppOptions, key_label
from arfilter.apps.window.outputs import WindowOutputs, print_line
from arfilter.apps.window.surfaces import letterbox_rect, rgb_to_surface, save_screenshot, surface_to_rgb
from arfilter.core.types import Frame, FrameResult
from arfilter.errors import ArfilterError
from arfilter.io.sources import FrameSource, SourceLostError, list_cameras, open_source
from arfilter.io.sources.cameras import CameraCycle, current_camera_index
from arfilter.render.background import BACKGROUND_WORDS, BackgroundMode
from arfilter.render.compose import LENS_ONLY, HudLayers, Stats
from arfilter.render.hud import Toasts

log = logging.getLogger(__name__)

# Loop rate of an idle window (ended or paused file, not recording): keys still answer within
# 50 ms and a toast still fades smoothly enough, at a third of the redraws of the 60 Hz cap.
IDLE_FPS = 20


# --------------------------------------------------------------------------- the app


class FpsMeter:
    """Frames per second over the last second of processed frames."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._times: collections.deque[float] = collections.deque()

    def clear(self) -> None:
        """Forget the timed frames: a paused or ended video shows no rate rather than a stale one."""
        self._times.clear()

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


def display_name(source_name: str) -> str:
    """How the window names a source: a file by its name alone (the title bar has little room,
    and the folder is the user's own business), anything else as it is ("camera 0", "demo")."""
    if "://" in source_name or not any(separator in source_name for separator in ("/", "\\")):
        return source_name
    return Path(source_name.rstrip("/")).name or source_name


class App:
    """State and behaviour of the window, independent of where events and time come from.

    `window` is the display surface, or None to compose frames without showing them (tests,
    headless). `now` arguments are `time.monotonic()` seconds unless a test passes its own.
    """

    def __init__(self, lens: Lens, source: FrameSource, options: AppOptions,
                 window: pygame.Surface | None = None, remember: Callable[[Settings], None] | None = None) -> None:
        self.lens = lens
        self.source = source
        self.options = options
        self.window = window
        self.remember = remember  # keeps the user's choices for the next run (see arfilter.apps.settings)
        self.running = True
        self.paused = False
        self.show_bars = options.show_bars
        self.raw_bars = False
        self.hud_hidden = False
        self.capture_hud = options.capture_hud
        self.loop = options.loop
        self.show_help = False
        self.camera_lost = False
        self.ended = False
        self.outputs = WindowOutputs(options, source.fps)  # R, G and V: what the window sends out
        self.cameras = CameraCycle(list_cameras)  # C: the cameras there are, listed when first asked
        self._background_picture = lens.background.image_path  # K offers it when --background named one
        self.toasts = Toasts()
        self.fps_meter = FpsMeter()
        self.result: FrameResult | None = None
        self._lens_image: np.ndarray | None = None  # the lens alone, until the result or the pack changes
        self._composed: pygame.Surface | None = None  # compose(), until anything it shows changes
        self._next_frame_due: float | None = None
        self.dropped_frames = 0  # file frames skipped to keep up with the source's clock
        self.frames_shown = 0
        self._hud_areas: list[tuple[int, int, int, int]] = []  # the panels of the frame composed last
        self._dirty = True
        # Each action of the key map and what it does: the one place keys meet behaviour.
        self._key_handlers: dict[str, Callable[[], None]] = {
            "toggle_bars": self._toggle_bars,
            "raw_bars": self._toggle_raw_bars,
            "hide_hud": self._toggle_hud,
            "screenshot": self._screenshot,
            "record": self._toggle_recording,
            "gif": self._record_gif,
            "mirror": self._toggle_mirror,
            "pause": self._toggle_pause,
            "replay": self._replay,
            "loop": self._toggle_loop,
            "seek_back": lambda: self.seek(-self.options.seek_s),
            "seek_forward": lambda: self.seek(self.options.seek_s),
            "next_pack": self._next_pack,
            "background": self._next_background,
            "virtual_camera": self._toggle_virtual_camera,
            "next_camera": self._next_camera,
            "capture_hud": self._toggle_capture_hud,
            "neutral": self._toggle_neutral,
            "fullscreen": self._toggle_fullscreen,
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
        which play at their own frame rate: when the lens falls behind the source's clock, the
        frames it has no time for are dropped (read and not processed), so a video plays in real
        time instead of in slow motion. The headless runner, in contrast, processes every frame."""
        if self.source.is_live:
            return self._poll_live()
        # Half a redraw tick of slack: a frame due just after this tick would otherwise wait
        # a whole tick, which turns 30 fps into 20-24 fps at a 60 Hz redraw cap.
        if self._next_frame_due is not None and now < self._next_frame_due - 0.5 / self.options.max_fps:
            return None
        period = 1.0 / self.source.fps
        late = 0 if self._next_frame_due is None else int((now - self._next_frame_due) / period)
        self._next_frame_due = (now if self._next_frame_due is None else self._next_frame_due + late * period) + period
        frame = self._next_file_frame()
        for _ in range(late if frame is not None else 0):
            following = self._next_file_frame()
            if following is None:  # the file ended while catching up: its last frame is shown
                break
            self.dropped_frames += 1
            frame = following
        if frame is None:
            self._end()
        return frame

    def _next_file_frame(self) -> Frame | None:
        """The file's next frame; a looping video starts over at its end (its faces as new tracks)."""
        frame = self.source.read()
        if frame is None and self.loop and self.source.can_seek:
            self.source.seek(0)
            self.lens.reset()
            frame = self.source.read()
        return frame

    def end_message(self) -> str:
        """What the ended window says over its last frame."""
        again = f": {self._key('replay')} plays it again, {self._key('loop')} loops it" if self.source.can_seek else ""
        return f"End of {display_name(self.source.name)}{again}"

    def _end(self) -> None:
        """The video ended: its last frame stays, settled, under a banner offering replay and loop."""
        self.ended = True
        self.fps_meter.clear()
        if self.result is not None:
            self.show(self.lens.settle(self.result), tick=False)
        self._changed()

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
            self.lens.reset()
        return frame

    def process(self, frame: Frame, now: float | None = None) -> None:
        """Run the pipeline on `frame` and make it the frame shown."""
        self.show(self.lens.process(frame), now)

    def show(self, result: FrameResult, now: float | None = None, *, tick: bool = True) -> None:
        """Make `result` the frame shown (and saved by S and R); `tick` counts it in the shown rate."""
        self.result = result
        self.frames_shown += 1
        self._lens_image = None
        self._changed()
        if tick:
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
        elif event.type == pygame.VIDEORESIZE:
            self._keep_minimum_size(event.w, event.h)
            self._dirty = True
        elif event.type in (pygame.WINDOWEXPOSED, pygame.WINDOWSIZECHANGED):
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
        self._remember(show_bars=self.show_bars)

    def _toggle_raw_bars(self) -> None:
        self.raw_bars = not self.raw_bars
        self.toasts.show("Bars: this frame's own probabilities" if self.raw_bars
                         else "Bars: smoothed, what the label is decided from")

    def _toggle_hud(self) -> None:
        self.hud_hidden = not self.hud_hidden
        if not self.hud_hidden:
            self.toasts.show(f"HUD shown ({self._key('hide_hud')} hides it)")

    def _key(self, action: str) -> str:
        return key_label(getattr(self.options.keys, action)[0])

    def _screenshot(self) -> None:
        if self.result is None:
            self.toasts.show("No frame yet to save")
            return
        path = save_screenshot(surface_to_rgb(self.capture_frame()), self.options.screenshot_dir).resolve()
        self._tell(f"Screenshot saved to {path}")

    def _tell(self, message: str) -> None:
        """A toast, and the same line on the terminal: a saved file's path can be copied from there."""
        self.toasts.show(message)
        log.info("%s", message)
        print_line(message)

    def _toggle_recording(self) -> None:
        if self.outputs.recorder is not None:
            path = self.stop_recording()
            self._tell(f"Recording saved to {path}" if path is not None else "Recording stopped before its first frame")
            return
        if self.result is None:
            self.toasts.show("No frame yet to record")
            return
        path = self.start_recording()
        self._tell(f"Recording to {path.resolve()}")

    def _toggle_mirror(self) -> None:
        self.source.mirror = not self.source.mirror
        if self.result is not None:
            # The tracks flip with the view: the faces keep their ids, labels and overlays.
            self.lens.mirror(self.result.frame.image.shape[1])
            if self.paused or self.ended:  # no new frame will come: flip the one shown
                frame = dataclasses.replace(self.result.frame, image=np.ascontiguousarray(self.result.frame.image[:, ::-1]))
                self.show(self.lens.settle(self.lens.process(frame)), tick=False)
        self.toasts.show("Mirror on" if self.source.mirror else "Mirror off")
        if self.source.is_live:  # a remembered mirror is a camera's (files keep their own default)
            self._remember(mirror=self.source.mirror)

    def _toggle_pause(self) -> None:
        if self.ended:
            self._replay()
            return
        self.paused = not self.paused
        # A file resumes at its own pace instead of racing to catch up on the pause.
        self._next_frame_due = None
        if self.paused:
            self.fps_meter.clear()
            if self.result is not None:  # a frame shown for ever settles: label and bars agree
                self.show(self.lens.settle(self.result), tick=False)

    def _replay(self) -> None:
        if not self.source.can_seek:
            self.toasts.show(f"{self.source.name} is live: nothing to replay")
            return
        self.source.seek(0)
        self.lens.reset()
        self.ended = self.paused = False
        self._next_frame_due = None

    def _toggle_loop(self) -> None:
        self.loop = not self.loop
        self.toasts.show("Loop on: the video starts over at its end" if self.loop else "Loop off")
        if self.loop and self.ended:
            self._replay()

    def seek(self, seconds: float) -> None:
        """Jump `seconds` forward or back in a video (the arrow keys); a paused one shows the new frame."""
        if not self.source.can_seek:
            self.toasts.show(f"{self.source.name} is live: it cannot be skipped through")
            return
        current = self.result.frame.index + 1 if self.result is not None else 0
        target = self.source.seek(current - 1 + round(seconds * self.source.fps))
        self.lens.reset()  # the faces there are new tracks
        self.ended = False
        self._next_frame_due = None
        self.toasts.show(f"{'Forward' if seconds > 0 else 'Back'} to {target / self.source.fps:.1f} s")
        if self.paused and (frame := self.source.read()) is not None:
            self.show(self.lens.settle(self.lens.process(frame)), tick=False)

    def _next_pack(self) -> None:
        name = self.lens.packs.next()
        self._lens_image = None
        self.toasts.show(f"Filter: {name}")
        self._update_title()
        self._remember(pack=name)

    def _record_gif(self) -> None:
        if self.outputs.gif is not None:
            self.toasts.show("Already recording a GIF")
            return
        if self.result is None:
            self.toasts.show("No frame yet to record")
            return
        self.outputs.start_gif()
        self._changed()
        self.toasts.show(f"GIF: recording {self.options.gif.max_duration_s:g} s...")

    def _next_background(self) -> None:
        modes: tuple[BackgroundMode, ...] = BACKGROUND_WORDS + (("image",) if self._background_picture else ())
        current = self.lens.background
        mode = modes[(modes.index(current.mode) + 1) % len(modes)]
        self.lens.set_background(dataclasses.replace(current, mode=mode, image_path=self._background_picture))
        self._lens_image = None
        name = self.lens.background.describe()
        self.toasts.show(f"Background: {name}")

    def _toggle_virtual_camera(self) -> None:
        if self.outputs.stop_virtual_camera():
            self.toasts.show("Virtual camera off")
            return
        self.start_virtual_camera()

    def start_virtual_camera(self) -> None:
        """Send the lens to the virtual camera; VirtualCameraError (one line) when there is none."""
        device = self.outputs.start_virtual_camera()
        width, height = self.options.virtual_camera.size
        self.toasts.show(f"Virtual camera on: {device} ({width}x{height}, no HUD, not mirrored)")

    def _next_camera(self) -> None:
        current = current_camera_index(self.source)
        camera = self.cameras.after(current)
        if camera is None:
            self.cameras.refresh()  # a camera plugged in later is found on the next press
            self.toasts.show("No other camera (arfilter --list-cameras lists them)")
            return
        source = open_source(str(camera.index), mirror=self.source.mirror if current is not None else None)
        previous, self.source = self.source, source
        previous.close()
        self.lens.reset()
        self.camera_lost = self.ended = False
        self._next_frame_due = None
        self.toasts.show(f"Camera: {camera.describe()}")
        self._update_title()
        self._remember(camera=str(camera.index))

    def _toggle_capture_hud(self) -> None:
        self.capture_hud = not self.capture_hud
        self.toasts.show("Screenshots and recordings with the HUD" if self.capture_hud
                         else "Screenshots and recordings without the HUD")
        self._remember(capture_hud=self.capture_hud)

    def _toggle_fullscreen(self) -> None:
        if self.window is not None:
            pygame.display.toggle_fullscreen()
            self.window = pygame.display.get_surface()

    def _toggle_neutral(self) -> None:
        """N: every face in view is its person's neutral face from now on; N again forgets it."""
        faces = self.result.faces if self.result is not None else []
        pipeline = self.lens.pipeline
        cleared = [pipeline.clear_calibration(face.track_id) for face in faces]  # every face, not the first
        if any(cleared):
            self.toasts.show("Neutral face forgotten: emotions read as they are")
            return
        calibrated = sum(pipeline.calibrate(face.track_id) for face in faces)
        if not calibrated:
            self.toasts.show("No face to take as neutral: look at the camera with a relaxed face, then press N")
            return
        self.toasts.show(f"Neutral face recorded for {calibrated} face{'s' if calibrated > 1 else ''}: "
                         "emotions are read relative to it (N forgets it)")

    def _toggle_help(self) -> None:
        self.show_help = not self.show_help

    def _quit(self) -> None:
        self.running = False

    def _remember(self, **changes: object) -> None:
        if self.remember is not None:
            self.remember(Settings(**changes))  # type: ignore[arg-type]

    def _keep_minimum_size(self, width: int, height: int) -> None:
        """A window dragged smaller than `min_window_size` springs back to it (the HUD needs the room)."""
        min_width, min_height = self.options.min_window_size
        if self.window is not None and (width < min_width or height < min_height):
            self.window = pygame.display.set_mode((max(width, min_width), max(height, min_height)), pygame.RESIZABLE)

    # ----------------------------------------------------------------- recording

    def start_recording(self, path: Path | None = None) -> Path:
        path = self.outputs.start_recording(path)
        self._changed()
        return path

    def stop_recording(self) -> Path | None:
        """Finish the recording (OutputError when it could not be); the window goes on either way."""
        if self.outputs.recorder is None:
            return None
        self._changed()
        return self.outputs.stop_recording()

    # ----------------------------------------------------------------- drawing

    def _changed(self) -> None:
        """Something shown changed: recompose and redraw on the next draw."""
        self._composed = None
        self._dirty = True

    def _lens(self) -> np.ndarray:
        if self.result is None:
            raise RuntimeError("the window has no processed frame yet")
        if self._lens_image is None:
            self._lens_image = self.lens.composer.lens(self.result)
        return self._lens_image

    def lens_frame(self) -> pygame.Surface:
        """The frame with the filter pack drawn and nothing else (no bars, no stats)."""
        return rgb_to_surface(self._lens())

    def capture_frame(self) -> pygame.Surface:
        """What S saves and R records: the lens alone, or with the HUD when `capture_hud` is on."""
        return self.compose() if self.capture_hud else self.lens_frame()

    def hud_layers(self) -> HudLayers:
        """The HUD the window shows over the lens: bars when on, and the stats line (nothing when hidden)."""
        if self.hud_hidden:
            return LENS_ONLY
        stats = None
        if self.options.show_stats:
            state = ("ended",) if self.ended else ("paused",) if self.paused else ()
            loop = ("loop",) if self.loop and not self.source.is_live else ()
            neutral = ("neutral set",) if self.result is not None and any(face.calibrated for face in self.result.faces) else ()
            recording_s = time.monotonic() - self.outputs.recording_since if self.outputs.recorder is not None else None
            # The shown rate beside the source's own ("24.1 of 30 fps"): is the lens keeping up?
            stats = Stats(self.fps_meter.fps, (self.lens.packs.current, *state, *loop, *neutral), recording_s=recording_s,
                          source_fps=None if self.source.is_live else self.source.fps)
        return HudLayers(bars=self.show_bars, stats=stats, raw=self.raw_bars)

    def compose(self) -> pygame.Surface:
        """The frame as the window shows it: composited image, bars and stats, at frame size."""
        if self._composed is None:
            assert self.result is not None
            image, self._hud_areas = self.lens.composer.compose_with_areas(self.result, self.hud_layers(), lens=self._lens())
            self._composed = rgb_to_surface(image)
        return self._composed

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
        hud = self.lens.composer.hud(shown.get_height())
        if self.camera_lost:
            hud.draw_banner(shown, "Camera lost, retrying...")
        elif self.ended and not self.hud_hidden:
            hud.draw_banner(shown, self.end_message(), dim=False)
        if self.show_help:
            hud.draw_help(shown, self.options.keys.help_entries())
        if not self.hud_hidden:
            hud.draw_toasts(shown, self.toasts, now, taken=self._hud_areas)
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
        return (self.ended or self.paused) and not self.outputs.gathering

    def record(self, now: float | None = None) -> None:
        """Hand the frame shown to the recording and the GIF when each is due for another frame (by
        wall clock: a recording shows what the user saw, pauses included)."""
        if self.result is None:
            return
        now = time.monotonic() if now is None else now
        gathering = self.outputs.gif is not None
        for problem in self.outputs.feed(self.result, lambda: surface_to_rgb(self.capture_frame()), now):
            self.toasts.show(problem)
        if gathering and self.outputs.gif is None:
            self._changed()  # the GIF is complete: the stats line drops its dot

    def send_to_call(self) -> None:
        """Give the virtual camera the lens of a frame it has not had (no HUD, unmirrored)."""
        if self.result is not None:
            self.outputs.send_to_call(self.result, self._lens, mirrored=self.source.mirror)

    def show_messages(self) -> None:
        """Toasts for what other threads said (a GIF saved, the virtual camera lost)."""
        while not self.outputs.messages.empty():
            self.toasts.show(self.outputs.messages.get())
            self._dirty = True

    def _update_title(self) -> None:
        if self.window is not None:
            pygame.display.set_caption(f"{self.options.title} - {display_name(self.source.name)} - {self.lens.packs.current}")

    # ----------------------------------------------------------------- loop

    def run(self) -> int:
        """The event loop; returns the exit code (0) once the user quits."""
        clock = pygame.time.Clock()
        self._update_title()
        if self.options.virtual_camera_on:
            try:
                self.start_virtual_camera()
            except ArfilterError as error:  # the window goes on without it
                self.toasts.show(str(error))
                warn(str(error))
        unfinished = False  # a recording that could not be finished makes the exit code say so
        try:
            while self.running:
                self.step()
                self.handle_events()
                if not self.running:
                    break
                self.show_messages()
                self.draw()
                self.record()
                self.send_to_call()
                # Idle (no frame can come until the user acts): wake up only often enough to
                # answer a key without a noticeable delay.
                clock.tick(IDLE_FPS if self.idle() else self.options.max_fps)
        finally:
            try:
                self.stop_recording()
            except ArfilterError as error:  # the window is closing: the line goes to the terminal
                log.error("%s", error)
                unfinished = True
            self.outputs.close()
        return 2 if unfinished else 0
