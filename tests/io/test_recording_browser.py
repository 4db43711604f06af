"""An H.264 recording plays in a real browser (headless system Chromium) for its whole length.

MPEG-4 Part 2, what OpenCV's wheels write, is refused by Chromium (media error 4); this is the
check that what `--record`, R and the web page write now plays where people will open it.
Skips where Chromium is missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from arfilter.io.video_writer import H264Recorder
from bench.browser import browser_unavailable_reason, chromium_context

reason = browser_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

SECONDS = 3.0
FPS = 30.0


def write_recording(path: Path) -> Path:
    recorder = H264Recorder(path, FPS, (320, 240))
    for index in range(round(SECONDS * FPS)):
        image = np.zeros((240, 320, 3), np.uint8)
        image[:, (index * 3) % 320:] = (40, 180, 90)
        recorder.write(image, index / FPS)
    recorder.close()
    return path


def test_chromium_plays_an_h264_recording_to_its_end(tmp_path):
    video = write_recording(tmp_path / "clip.mp4")
    page_path = tmp_path / "play.html"
    page_path.write_text('<!doctype html><video id="v" src="clip.mp4" muted playsinline></video>')
    with chromium_context() as browser:
        page = browser.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_function("() => { const v = document.getElementById('v'); return v.readyState >= 1 || v.error; }",
                               timeout=15_000)
        state = page.evaluate("() => { const v = document.getElementById('v'); "
                              "return {error: v.error && v.error.code, duration: v.duration, "
                              "width: v.videoWidth, height: v.videoHeight}; }")
        assert state["error"] is None, f"Chromium refused {video}: media error {state['error']}"
        assert state["duration"] == pytest.approx(SECONDS, abs=0.1)
        assert (state["width"], state["height"]) == (320, 240)
        page.evaluate("() => { const v = document.getElementById('v'); v.playbackRate = 4; return v.play(); }")
        page.wait_for_function("() => document.getElementById('v').ended", timeout=15_000)
        played = page.evaluate("() => { const v = document.getElementById('v'); "
                               "return {time: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames}; }")
    assert played["time"] == pytest.approx(SECONDS, abs=0.1)
    assert played["frames"] > 0
