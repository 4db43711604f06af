"""The report of a real run opens in Chromium with one timeline per tracked face, every chart drawn.

Skips where Chromium is missing (bench.browser says how to install it)."""

from __future__ import annotations

import pytest

from arfilter.apps.lens import build_lens
from arfilter.io.sinks.report import ReportSink
from arfilter.io.sources.demo import DemoSource
from bench.browser import browser_unavailable_reason, chromium_context

reason = browser_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


def test_report_of_the_demo_shows_one_drawn_timeline_per_face(tmp_path):
    path = tmp_path / "report.html"
    report = ReportSink(path, {"source": "demo"})
    with build_lens() as lens, DemoSource() as source:
        for _, frame in zip(range(45), source):
            report.write(lens.process(frame), None)
    report.close()
    faces = len(report.faces)
    assert faces >= 2  # the demo shows two people
    with chromium_context(None, fake_ui=False) as context:
        page = context.new_page()
        blocked: list[str] = []
        page.on("request", lambda request: None if request.url.startswith(("file:", "data:")) else blocked.append(request.url))
        page.goto(path.as_uri())
        drawn = page.evaluate("""() => [...document.querySelectorAll('section.face img.timeline')]
                                    .map(image => image.complete && image.naturalWidth > 0)""")
        assert drawn == [True] * faces
        assert page.locator("section.face h2").all_inner_texts() == [f"Face {track}" for track in sorted(report.faces)]
        assert blocked == [], "the report loads nothing from outside"
