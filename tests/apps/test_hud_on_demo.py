"""The HUD on the bundled demo, drawn by the real lens: bars never on a face (tracked or left out) or
the stats line, and a note when faces are left out."""

from __future__ import annotations

import dataclasses

import pytest

from arfilter.apps.lens import LensOptions, build_lens
from arfilter.core.pipeline import PipelineOptions
from arfilter.core.tracking import TrackerOptions
from arfilter.io.sources.demo import DemoSource
from arfilter.render.compose import HudLayers, Stats
from arfilter.render.layout import overlap

FRAMES = 150  # five seconds: both people change expression, move and turn


@pytest.mark.parametrize("pack", ["emoji", "party", "shades"])
def test_panels_never_overlap_faces_or_the_stats_on_the_demo(pack):
    with build_lens(LensOptions(pack=pack)) as lens, DemoSource() as source:
        for _, frame in zip(range(FRAMES), source):
            result = lens.process(frame)
            _, areas = lens.composer.compose_with_areas(result, HudLayers(bars=True, stats=Stats(30.0, (pack,))))
            stats, panels = areas[0], areas[1:]
            assert len(panels) == len(result.faces)
            faces = [face.box for face in result.faces]
            for panel in panels:
                assert not any(overlap(panel, face) for face in faces), (frame.index, panel, faces)
                assert not overlap(panel, stats)


def test_a_face_left_out_is_not_covered_and_is_noted():
    options = LensOptions(pipeline=PipelineOptions(tracker=TrackerOptions(max_faces=1, count_untracked_every_n_frames=5)))
    notes = set()
    with build_lens(options) as lens, DemoSource() as source:
        for _, frame in zip(range(60), source):
            result = lens.process(frame)
            assert len(result.faces) == 1
            _, areas = lens.composer.compose_with_areas(result, HudLayers(bars=True, stats=Stats(30.0)))
            for panel in areas[1:]:
                assert not any(overlap(panel, box) for box in (*result.untracked, result.faces[0].box))
            if result.untracked:
                notes.add(len(result.untracked))
    assert notes == {1}, "the demo's second person is counted as left out"
    plain = dataclasses.replace(result, untracked=())
    assert lens.composer.compose_with_areas(plain, HudLayers(bars=True, stats=Stats(30.0)))[1][0][2] < areas[0][2], \
        "the stats line carries the note"
