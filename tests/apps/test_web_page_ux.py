"""The live page as a user meets it, in headless Chromium: the window's keys, screenshots as the window's S,
a countdown that counts, bars readable on a phone, a video file when there is no camera, choices remembered.

Skips where Chromium is missing."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.browser import browser_unavailable_reason, chromium_context, served, wait_for_frames, write_demo_y4m
from tests.apps.test_web_browser import canvas_pixels, dark_panel

reason = browser_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.fixture(scope="module")
def server():
    with served("--max-sessions", "2") as (url, _):
        yield url


@pytest.fixture(scope="module")
def y4m(tmp_path_factory) -> Path:
    return write_demo_y4m(tmp_path_factory.mktemp("camera") / "demo.y4m", frames=30)


def screenshot(page, tmp_path: Path) -> np.ndarray:
    with page.expect_download() as download:
        page.keyboard.press("s")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    return cv2.imread(str(saved))


def test_keys_screenshots_and_remembered_choices(server, y4m, tmp_path):
    with chromium_context(y4m) as context:
        page = context.new_page()
        page.goto(server)
        wait_for_frames(page, 5)
        with_bars = dark_panel(canvas_pixels(page)).mean()
        assert with_bars > 0.1, "the bars are on the frame"
        lens_only = dark_panel(cv2.cvtColor(screenshot(page, tmp_path), cv2.COLOR_BGR2RGB)).mean()
        assert lens_only < with_bars - 0.06, "S saves the lens alone, as the window's S"
        page.keyboard.press("d")  # as the window's D: screenshots with the bars
        assert dark_panel(cv2.cvtColor(screenshot(page, tmp_path), cv2.COLOR_BGR2RGB)).mean() > lens_only + 0.06
        page.keyboard.press("b")
        assert not page.is_checked("#bars")
        page.keyboard.press("f")
        page.wait_for_function("() => window.arfilter.lastResult && window.arfilter.lastResult.pack === 'facepaint'")
        page.reload()
        wait_for_frames(page, 3)
        assert not page.is_checked("#bars") and page.is_checked("#capturehud"), "choices survive a reload"
        page.wait_for_function("() => window.arfilter.lastResult.pack === 'facepaint'")


def test_a_first_visit_keeps_the_servers_own_pack(y4m):
    """Filling the pack list must not send its first entry over the pack the server was started with."""
    with served("--pack", "facepaint") as (url, _), chromium_context(y4m) as context:
        page = context.new_page()
        page.goto(url)
        wait_for_frames(page, 5)
        assert page.evaluate("() => window.arfilter.lastResult.pack") == "facepaint"
        assert page.input_value("#pack") == "facepaint"


def test_phone_lists_readable_bars_under_the_frame(server, y4m):
    with chromium_context(y4m, viewport=(390, 844)) as context:
        page = context.new_page()
        page.goto(server)
        wait_for_frames(page, 5)
        page.wait_for_selector("#facebars .face")
        assert dark_panel(canvas_pixels(page)).mean() < 0.06, "no unreadable bars drawn into the small frame"
        size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#facebars .row')).fontSize)")
        assert size >= 14
        assert len(page.locator("#facebars .face").all()) == 2
        assert page.locator("#facebars .row.shown").count() == 2


def test_no_camera_offers_a_video_file(server):
    with chromium_context(None) as context:
        page = context.new_page()
        page.add_init_script("navigator.mediaDevices.getUserMedia = () => "
                             "Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));")
        page.goto(server)
        page.wait_for_function("() => document.body.dataset.state === 'no-camera'")
        assert "No camera was found" in page.inner_text("#notice-text")
        assert page.is_visible("#file-offer") and page.is_visible("#file")


def test_the_busy_wait_counts_down(server, y4m):
    with chromium_context(y4m) as context:
        first, second = context.new_page(), context.new_page()
        for page in (first, second):  # both live slots taken
            page.goto(server)
            wait_for_frames(page, 2)
        third = context.new_page()
        third.goto(server)
        third.wait_for_function("() => document.body.dataset.state === 'busy'", timeout=20000)
        seen = set()
        for _ in range(25):
            if third.evaluate("() => document.body.dataset.state") == "busy":
                seen.add(re.search(r"in (\d+)", third.inner_text("#notice-text")).group(1))
            third.wait_for_timeout(100)
        assert len(seen) >= 2, f"the countdown counts down: {seen}"


def test_calibrate_button_and_key_take_the_neutral_face_and_forget_it(server, y4m):
    """Calibrate (or N, as in the window): the faces read relative to their neutral face, the button says so;
    again: forgotten."""
    with chromium_context(y4m) as context:
        page = context.new_page()
        page.goto(server)
        wait_for_frames(page, 5)
        page.click("#calibrate")
        page.wait_for_function("() => document.querySelector('#calibrate').getAttribute('aria-pressed') === 'true'")
        page.wait_for_function("() => window.arfilter.lastResult.faces.length > 0"
                               " && window.arfilter.lastResult.faces.every((face) => face.calibrated)")
        page.keyboard.press("n")
        page.wait_for_function("() => document.querySelector('#calibrate').getAttribute('aria-pressed') === 'false'")
        page.wait_for_function("() => window.arfilter.lastResult.faces.every((face) => !face.calibrated)")
