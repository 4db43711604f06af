"""`arfilter serve` in a subprocess and headless Chromium with a fake camera fed from the demo.

Shared by the browser tests (tests/apps/test_web_browser.py) and `python -m bench.web --browser`.
The browser is the system's Chromium (Debian's `chromium` package), driven by Playwright for
Python through `executable_path`: nothing is downloaded. Its camera is Chromium's fake capture
device reading a .y4m clip of the built-in demo, so the page sees two real faces moving.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2

from bench import REPO_ROOT

SERVER_START_TIMEOUT_S = 60.0
_SERVING = re.compile(r"serving the live page at (http://\S+/)")

# Quiet, reproducible, offline: no sandbox (CI runs as root), no GPU, no background traffic.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    """The system Chromium, or None (the browser tests then skip, saying why)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_unavailable_reason() -> str | None:
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install -y chromium; .ci/run does this as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def write_demo_y4m(path: Path, frames: int = 60) -> Path:
    """The first `frames` frames of the built-in demo (640x480, 30 fps) as a Y4M clip for
    Chromium's fake camera (4:2:0, the layout Chromium reads; it loops the clip)."""
    from arfilter.io.sources.demo_scene import DemoRenderer

    renderer = DemoRenderer()
    height, width = renderer.render(0).shape[:2]
    with open(path, "wb") as clip:
        clip.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(frames):
            clip.write(b"FRAME\n")
            clip.write(cv2.cvtColor(renderer.render(index), cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


@contextmanager
def served(*args: str, log: list[str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`arfilter serve --port 0 ARGS` in a subprocess; yields its URL and the process.

    The URL comes from the server's own "serving the live page at" line, so the test runs the
    real command line end to end. Stopped with SIGINT, as a user's Ctrl-C. Every line the server
    writes to stderr is appended to `log`, when given.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "arfilter", "serve", "--port", "0", *args], cwd=REPO_ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = [] if log is None else log
    found = threading.Event()

    def drain() -> None:  # keep reading, so that the server never blocks on a full pipe
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip())
            if _SERVING.search(line):
                found.set()
        found.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not found.wait(SERVER_START_TIMEOUT_S) or process.poll() is not None:
            raise RuntimeError("arfilter serve did not start: " + " | ".join(lines[-5:]))
        url = next(match.group(1) for line in lines if (match := _SERVING.search(line)))
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def chromium_context(y4m: Path | None = None, *, fake_ui: bool = True, viewport: tuple[int, int] = (1000, 780),
                     ) -> Iterator[Any]:
    """A Playwright browser context of headless system Chromium with a fresh profile.

    `y4m`: the fake camera's clip (None: no fake camera). `fake_ui` grants the camera
    permission prompt automatically, as a user clicking Allow.
    """
    from playwright.sync_api import sync_playwright

    flags = list(CHROMIUM_FLAGS)
    if y4m is not None:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"]
    if fake_ui:
        flags.append("--use-fake-ui-for-media-stream")
    with tempfile.TemporaryDirectory(prefix="arfilter-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=flags, accept_downloads=True,
            viewport={"width": viewport[0], "height": viewport[1]})
        try:
            yield context
        finally:
            context.close()


def wait_for_frames(page: Any, frames: int, timeout_s: float = 30.0) -> None:
    """Until the page has shown `frames` results (window.arfilter.frames)."""
    page.wait_for_function("(n) => window.arfilter && window.arfilter.frames >= n", arg=frames, timeout=timeout_s * 1000)

