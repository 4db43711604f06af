"""The page's sharing controls in a real browser (headless system Chromium, its fake camera fed from the demo):
GIF, Record, the background choice and the camera choice remembered across reloads. Skips where Chromium is missing."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from bench.browser import browser_unavailable_reason, chromium_context, served, wait_for_frames, write_demo_y4m

reason = browser_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.fixture(scope="module")
def y4m(tmp_path_factory) -> Path:
    return write_demo_y4m(tmp_path_factory.mktemp("camera") / "demo.y4m", frames=30)


@pytest.fixture(scope="module")
def server():
    with served() as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser(y4m):
    with chromium_context(y4m) as context:
        yield context


def live_page(browser, server):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server)
    wait_for_frames(page, 3)
    return page, errors


def test_the_gif_button_downloads_the_next_four_seconds(browser, server, tmp_path):
    page, errors = live_page(browser, server)
    with page.expect_download(timeout=30_000) as download:
        page.click("#gif")
        page.wait_for_function("() => document.getElementById('gif').textContent.startsWith('GIF…')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".gif"
    with Image.open(saved) as gif:
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert gif.size[0] == 480 and gif.n_frames >= 10
    assert sum(durations) == pytest.approx(4000, abs=300)
    assert saved.stat().st_size <= 5_000_000
    assert page.inner_text("#gif") == "GIF" and errors == []
    page.close()


def test_record_downloads_a_video_of_the_lens(browser, server, tmp_path):
    page, errors = live_page(browser, server)
    page.click("#record")
    page.wait_for_function("() => document.getElementById('record').textContent.startsWith('Stop 0:0')")
    page.wait_for_timeout(2500)
    with page.expect_download(timeout=30_000) as download:
        page.click("#record")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    kind = page.evaluate("() => window.arfilter.recordingType")
    assert saved.suffix == (".mp4" if kind.startswith("video/mp4") else ".webm")
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 480)
    assert frames >= 10  # about 2.5 s of the lens
    assert page.inner_text("#record") == "Record" and errors == []
    page.close()


def test_the_background_choice_reaches_the_server_and_is_remembered(browser, server):
    page, errors = live_page(browser, server)
    assert page.evaluate("() => [...document.getElementById('background').options].map((o) => o.value)") == ["none", "blur"]
    page.select_option("#background", "blur")
    page.wait_for_function("() => window.arfilter.lastOptions && window.arfilter.lastOptions.background === 'blur'")
    page.reload()
    wait_for_frames(page, 3)
    page.wait_for_function("() => window.arfilter.lastOptions && window.arfilter.lastOptions.background === 'blur'")
    assert page.input_value("#background") == "blur" and errors == []
    page.select_option("#background", "none")
    page.close()


def test_the_camera_choice_lists_the_browsers_cameras_and_is_remembered(browser, server):
    page, errors = live_page(browser, server)
    cameras = page.evaluate("() => [...document.getElementById('camera-choice').options].map((o) => [o.value, o.text])")
    assert len(cameras) >= 1 and all(value for value, _ in cameras)
    chosen = cameras[-1][0]
    page.select_option("#camera-choice", chosen)
    wait_for_frames(page, page.evaluate("() => window.arfilter.frames") + 3)
    page.reload()
    wait_for_frames(page, 3)
    assert page.input_value("#camera-choice") == chosen
    assert page.evaluate("() => localStorage.getItem('arfilter.camera')") == chosen and errors == []
    page.close()
