"""The report (`--report`): one timeline per face, shares of time, settings, a self-contained page or a PNG."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.core.types import SETTLING, STEADY, Frame, FrameResult
from arfilter.errors import OutputError
from arfilter.io.sinks.report import ReportSink, face_thumbnail
from tests.fakes import make_face


def run_report(path: Path, frames: int = 90) -> ReportSink:
    """Two faces: face 1 happy then sad (one change), face 2 neutral from frame 30 on."""
    sink = ReportSink(path, {"source": "clip.mp4", "pack": "emoji"})
    image = np.full((240, 320, 3), 90, np.uint8)
    for index in range(frames):
        first = make_face(label="happy" if index < 45 else "sad", track_id=1, box=(20, 40, 80, 90))
        second = make_face(label="neutral", track_id=2, box=(200, 40, 80, 90))
        sink.write(FrameResult(Frame(image, index, "clip.mp4", index / 30), [first, second] if index >= 30 else [first]), None)
    sink.close()
    return sink


def test_html_report_has_one_timeline_per_face_and_needs_nothing_else(tmp_path):
    sink = run_report(tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert page.count('<section class="face"') == 2
    assert page.count('<img class="timeline"') == 2
    assert not re.search(r'(src|href)="(?!data:)', page), "every image is embedded"
    assert "<script" not in page
    assert "mostly happy (50% of the time)" in page  # 45 of 90 frames happy, then sad
    assert "<th>pack</th><td>emoji</td>" in page
    charts = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert all(base64.b64decode(chart).lstrip().startswith(b"<?xml") for chart in charts)
    assert sink.describe().startswith(str((tmp_path / "report.html").resolve()))


def test_png_report_is_one_picture_of_every_face(tmp_path):
    run_report(tmp_path / "report.png")
    image = cv2.imread(str(tmp_path / "report.png"))
    assert image is not None and image.shape[0] > image.shape[1] * 0.5  # two charts stacked under a header


def test_shares_count_settled_time_only():
    sink = ReportSink(Path("unused.html"))
    image = np.zeros((100, 100, 3), np.uint8)
    for index in range(10):
        face = make_face(label="happy" if index < 8 else "sad", box=(10, 10, 40, 40))
        face.state = STEADY if index >= 2 else SETTLING
        sink.write(FrameResult(Frame(image, index, "x", index / 10), [face]), None)
    shares = sink.faces[1].shares()
    assert shares["happy"] == pytest.approx(0.75) and shares["sad"] == pytest.approx(0.25)
    assert [thumbnail.label for thumbnail in sink.faces[1].thumbnails] == ["happy", "sad"]


def test_no_face_report_says_so(tmp_path):
    sink = ReportSink(tmp_path / "empty.html")
    sink.write(FrameResult(Frame(np.zeros((50, 50, 3), np.uint8), 0, "x", 0.0)), None)
    sink.close()
    assert "No face was found in 1 frame(s)." in (tmp_path / "empty.html").read_text()


def test_unknown_report_format_is_one_clear_line(tmp_path):
    with pytest.raises(OutputError, match=r"--report .*report\.pdf: .*\.html or \.png, e\.g\. --report .*report\.html"):
        ReportSink(tmp_path / "report.pdf")


def test_thumbnail_of_a_face_at_the_edge_stays_square():
    image = np.full((100, 100, 3), 200, np.uint8)
    thumbnail = face_thumbnail(image, (-10, -10, 40, 40), 32)
    assert thumbnail is not None and thumbnail.shape == (32, 32, 3)
    assert face_thumbnail(image, (500, 500, 40, 40), 32) is None
