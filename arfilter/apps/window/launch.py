"""Where the window starts: a display check, the camera-or-demo fallback, and the no-display run.

With no display (a server, SSH without X) `run_app` does not fail: it runs the demo headless for
a few seconds through the headless runner and writes a screenshot and a short recording instead
(`run_headless_fallback`), drawn by the same composer as the window.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import numpy as np
import pygame

from arfilter.apps.lens import Lens
from arfilter.apps.runner import run_headless
from arfilter.apps.settings import Settings
from arfilter.apps.window.app import App
from arfilter.apps.window.options import AppOptions
from arfilter.apps.window.surfaces import save_screenshot
from arfilter.core.types import FrameResult
from arfilter.io.paths import prepare_folder, timestamped_path
from arfilter.io.sinks import VideoSink
from arfilter.io.sources import FrameSource, SourceUnavailableError
from arfilter.io.sources.demo import DemoSource
from arfilter.render.compose import LENS_ONLY, HudLayers, Stats


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


def run_app(lens: Lens, source_factory: Callable[[], FrameSource], options: AppOptions | None = None,
            remember: Callable[[Settings], None] | None = None) -> int:
    """Open the source and the window and run until the user quits; returns the exit code.

    Falls back to the demo when the camera is missing, and to `run_headless_fallback` when
    no window can be opened. Other source errors (a bad file) propagate as `SourceError`.
    `remember` keeps the user's choices for the next run (see App).
    """
    options = options or AppOptions()
    reason = display_unavailable_reason()
    if reason is not None:
        return run_headless_fallback(lens, options, reason=reason)
    source = _open_source_or_demo(source_factory)
    try:
        pygame.display.init()
        pygame.font.init()
        try:
            window = pygame.display.set_mode(options.window_size, pygame.RESIZABLE)
            if options.loop and not source.can_seek:
                print(f"--loop has no effect on {source.name}: it is live")
        except pygame.error as error:
            source.close()  # no camera thread running while the fallback works
            pygame.quit()
            return run_headless_fallback(lens, options, reason=f"pygame could not open a window: {error}")
        app = App(lens, source, options, window, remember=remember)
        try:
            return app.run()
        finally:
            app.source.close()  # C may have switched to another camera
    finally:
        source.close()
        pygame.quit()


def run_headless_fallback(lens: Lens, options: AppOptions | None = None, *, reason: str = "no display") -> int:
    """Without a display: run the demo for `options.headless_seconds` through the headless
    runner, recording what S and R would save (the lens, with bars and stats when `capture_hud`)
    and saving its last frame as a screenshot into `options.screenshot_dir`; say where they
    went, and return 0.

    Frames are processed as fast as the pipeline allows; the recording is timed by the demo's
    own clock, so it plays at 30 fps whatever the speed of this machine.
    """
    options = options or AppOptions()
    layers = HudLayers(bars=options.show_bars, stats=Stats(None, (lens.packs.current,))) if options.capture_hud else LENS_ONLY
    shown: list[np.ndarray] = []

    def draw(result: FrameResult) -> np.ndarray:
        shown[:] = [lens.composer.compose(result, layers)]
        return shown[0]

    prepare_folder(options.screenshot_dir, "screenshot")  # the folder S and R were told to use
    with DemoSource() as source:
        recording = VideoSink(timestamped_path(options.screenshot_dir, "recording", ".mp4"), source.fps)
        frame_count = max(1, round(options.headless_seconds * source.fps))
        run_headless(lens, source, [recording], max_frames=frame_count, draw=draw, progress=None)
    screenshot = save_screenshot(shown[0], options.screenshot_dir)
    print(f"No window ({reason}): ran the demo headless for {options.headless_seconds:g} s; "
          f"screenshot {screenshot.resolve()}, recording {recording.path.resolve()}")
    return 0
