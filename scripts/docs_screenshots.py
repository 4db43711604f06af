"""Make the README's pictures of the report and of the window's HUD, from the built-in demo.

    xvfb-run -a python scripts/docs_screenshots.py            # writes docs/report.png, docs/report-page.png,
                                                              # docs/hud.png and docs/hud-max-faces.png

- docs/report.png: `arfilter --source demo --headless --report docs/report.png` on 15 s of the demo.
- docs/report-page.png: the HTML report of the same run, as headless Chromium shows it.
- docs/hud.png, docs/hud-max-faces.png: the real window (pygame under Xvfb) after a few seconds of
  the demo with a recording running, saved from the window's own surface, toasts included;
  the second with --max-faces 1, so the second person is left out and the note says so.

Needs a display (Xvfb) for the window and the system Chromium for the page (bench.browser).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DOCS = REPO / "docs"
REPORT_FRAMES = 450  # 15 s of the demo: both people change expression a few times


def report_pictures() -> None:
    from bench.browser import chromium_context

    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        for output in (DOCS / "report.png", page):
            subprocess.run([sys.executable, "main.py", "--source", "demo", "--headless", "--max-frames",
                            str(REPORT_FRAMES), "--report", str(output)], cwd=REPO, check=True)
        with chromium_context(None, fake_ui=False, viewport=(1180, 900)) as context:
            browser_page = context.new_page()
            browser_page.goto(page.as_uri())
            browser_page.wait_for_function("() => [...document.images].every((image) => image.complete)")
            browser_page.screenshot(path=str(DOCS / "report-page.png"))


def window_picture(path: Path, max_faces: int, seconds: float) -> None:
    """The real window on the demo for `seconds`, recording, then its surface saved as shown."""
    import pygame

    from arfilter.apps.lens import LensOptions, build_lens
    from arfilter.apps.window.app import App
    from arfilter.apps.window.options import AppOptions
    from arfilter.core.pipeline import PipelineOptions
    from arfilter.core.tracking import TrackerOptions
    from arfilter.io.sources.demo import DemoSource

    options = LensOptions(pack="party", pipeline=PipelineOptions(tracker=TrackerOptions(max_faces=max_faces)))
    with build_lens(options) as lens, DemoSource() as source, tempfile.TemporaryDirectory() as shots:
        pygame.display.init()
        pygame.font.init()
        window = pygame.display.set_mode((640, 480))
        app = App(lens, source, AppOptions(screenshot_dir=Path(shots), first_hint_s=0.0, window_size=(640, 480)), window)
        clock = pygame.time.Clock()
        frames = round(seconds * source.fps)
        for index in range(frames):
            app.step()
            app.handle_events()
            if index == 5:
                app.handle_key(pygame.K_r)  # a recording, so the timer shows
            app.draw()
            app.record()
            clock.tick(source.fps)
        app.stop_recording()
        pygame.image.save(window, str(path))
        pygame.quit()


def main() -> int:
    os.chdir(REPO)
    report_pictures()
    window_picture(DOCS / "hud.png", max_faces=4, seconds=4.0)
    window_picture(DOCS / "hud-max-faces.png", max_faces=1, seconds=4.0)
    print(f"wrote {', '.join(str(DOCS / name) for name in ('report.png', 'report-page.png', 'hud.png', 'hud-max-faces.png'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
