"""The live page in a real browser: headless system Chromium, its fake camera fed from the demo,
against `arfilter serve` started from the command line. Skips where Chromium is missing."""

from __future__ import annotations

import base64
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.core.smoothing import SmoothingOptions
from bench.browser import (
    browser_unavailable_reason,
    chromium_context,
    served,
    wait_for_frames,
    write_demo_y4m,
)

reason = browser_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.fixture(scope="module")
def y4m(tmp_path_factory) -> Path:
    return write_demo_y4m(tmp_path_factory.mktemp("camera") / "demo.y4m", frames=30)


SERVER_FLAGS = ("--max-sessions", "1")  # one live slot, so that a second page sees the busy state


@pytest.fixture(scope="module")
def server_process():
    with served(*SERVER_FLAGS) as (url, process):
        yield url, process


@pytest.fixture
def server(server_process):
    return server_process[0]


@pytest.fixture(scope="module")
def browser(y4m):
    with chromium_context(y4m) as context:
        yield context


def canvas_pixels(page) -> np.ndarray:
    """What the page's canvas shows, read back from the canvas itself (RGB)."""
    data_url = page.evaluate("() => document.getElementById('view').toDataURL('image/png')")
    png = np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def emoji_yellow(image: np.ndarray) -> np.ndarray:
    """Pixels of the emoji pack's face colour (saturated yellow: ~50% of the middle of a face with
    the emoji, with its eyes and mouth; 0% of the demo's faces and backdrop without)."""
    red, green, blue = (image[..., channel].astype(int) for channel in range(3))
    return (red > 200) & (green > 150) & (blue < 90) & (red - blue > 140)


def dark_panel(image: np.ndarray) -> np.ndarray:
    """Pixels of the bars' dark panel (on the demo: 16% of the frame with bars, 4% without)."""
    return image.max(axis=2) < 95


def test_page_shows_the_filter_on_every_face(server, browser, tmp_path):
    page = browser.new_page()
    try:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server)
        wait_for_frames(page, 5)
        # A new face's overlay pops in once its label has settled (SmoothingOptions.settle_s).
        smoothing = SmoothingOptions()
        page.wait_for_timeout(1000 * (smoothing.settle_s + smoothing.transition_s) + 100)
        wait_for_frames(page, page.evaluate("() => window.arfilter.frames") + 2)
        live = page.evaluate("() => ({state: window.arfilter.state, result: window.arfilter.lastResult})")
        assert live["state"] == "live" and page.inner_text("#status") == "Live"
        faces = live["result"]["faces"]
        assert len(faces) == 2
        shown = canvas_pixels(page)
        assert shown.shape == (480, 640, 3)
        for face in faces:  # the emoji sits on each face...
            x, y, w, h = face["box"]
            inner = shown[y + h // 4: y + 3 * h // 4, x + w // 4: x + 3 * w // 4]
            assert emoji_yellow(inner).mean() > 0.25, f"no emoji on face {face['id']} at {face['box']}"
        outside = np.ones(shown.shape[:2], bool)
        for face in faces:
            x, y, w, h = face["box"]
            outside[max(0, y - h): y + 2 * h, max(0, x - w): x + 2 * w] = False
        assert emoji_yellow(shown)[outside].mean() < 0.01  # ...and nowhere else
        with_bars = dark_panel(shown).mean()
        assert with_bars > 0.1  # the bars are shown

        page.uncheck("#bars")
        frames = page.evaluate("() => window.arfilter.frames")
        wait_for_frames(page, frames + 3)
        assert dark_panel(canvas_pixels(page)).mean() < with_bars - 0.06  # two panels of bars went away

        page.select_option("#pack", "shades")
        frames = page.evaluate("() => window.arfilter.frames")
        wait_for_frames(page, frames + 3)
        assert page.evaluate("() => window.arfilter.lastResult.pack") == "shades"
        assert emoji_yellow(canvas_pixels(page)).mean() < 0.2 * emoji_yellow(shown).mean()  # the emoji are gone

        with page.expect_download() as download:
            page.click("#shot")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name.startswith("arfilter-") and saved.suffix == ".png"
        assert cv2.imread(str(saved)).shape == (480, 640, 3)
        assert errors == []
    finally:
        page.close()


def test_refused_camera_is_explained(server, browser):
    page = browser.new_page()
    page.add_init_script("navigator.mediaDevices.getUserMedia = () => "
                         "Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));")
    page.goto(server)
    page.wait_for_function("() => document.body.dataset.state === 'camera-refused'", timeout=20000)
    assert "Camera access was refused" in page.inner_text("#notice-text")
    assert page.is_visible("#retry")
    page.close()


def test_busy_server_says_so(server, browser):
    first = browser.new_page()
    first.goto(server)
    wait_for_frames(first, 2)
    second = browser.new_page()
    second.goto(server)
    second.wait_for_function("() => document.body.dataset.state === 'busy'", timeout=20000)
    notice = second.inner_text("#notice-text")
    assert "busy" in notice and "its one live session is in use" in notice and "Trying again" in notice
    first.close()  # the slot frees up: the second page gets in on its own
    wait_for_frames(second, 2, timeout_s=30)
    assert second.evaluate("() => window.arfilter.state") == "live"
    second.close()


def test_dropped_connection_reconnects(server_process, browser):
    """Last in this file: it stops the shared server (as a crash or a restart would) and starts
    it again on the same port."""
    url, process = server_process
    page = browser.new_page()
    page.goto(url)
    wait_for_frames(page, 2)
    process.send_signal(signal.SIGINT)
    process.wait(20)
    page.wait_for_function("() => document.body.dataset.state === 'disconnected'", timeout=20000)
    assert "Reconnecting" in page.inner_text("#notice-text")
    with served(*SERVER_FLAGS, "--port", url.rsplit(":", 1)[1].strip("/")):
        frames = page.evaluate("() => window.arfilter.frames")
        wait_for_frames(page, frames + 2, timeout_s=40)
        assert page.evaluate("() => window.arfilter.state") == "live"
        page.close()
