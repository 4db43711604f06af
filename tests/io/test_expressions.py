"""The demo's changing expressions: made from the bundled head, held long enough to read."""

from __future__ import annotations

import numpy as np
import pytest

from arfilter.core.pipeline import Pipeline, PipelineOptions
from arfilter.core.types import Frame
from arfilter.io.sources.demo_expressions import ExpressionWarper, expression_strength, load_head_landmarks
from arfilter.io.sources.demo_scene import (
    DEMO_FPS,
    LOOP_FRAMES,
    DemoRenderer,
    demo_expression_strength,
    load_demo_heads,
)


def test_the_schedule_holds_each_expression_and_changes_smoothly() -> None:
    times = np.arange(0.0, 12.0, 1.0 / 30.0)
    levels = np.array([expression_strength(time_s, 6.0) for time_s in times])
    assert levels.min() == 0.0 and levels.max() == 1.0
    assert np.abs(np.diff(levels)).max() < 0.2, "changes are ramps, not jumps"
    held = np.mean((levels == 0.0) | (levels == 1.0))
    assert held > 0.85, "each expression is held, not always on the move"
    assert demo_expression_strength(0, 0) == demo_expression_strength(LOOP_FRAMES, 0), "the loop closes"


def test_the_astonished_face_opens_the_mouth_and_leaves_the_rest() -> None:
    original, _ = load_demo_heads()
    landmarks = load_head_landmarks()
    warper = ExpressionWarper(original, landmarks)
    assert warper.render(0.0) is original
    astonished = warper.render(1.0).astype(int)
    x, y = np.round((landmarks[13] + landmarks[14]) / 2 + [0, 0.1 * warper.interocular]).astype(int)
    assert astonished[y, x].sum() < 0.6 * original[y, x].astype(int).sum(), "the mouth is open (dark)"
    # Far from the face (the hair's top, the suit) nothing moves.
    assert np.abs(astonished[:15] - original[:15]).max() <= 2
    assert np.abs(astonished[-15:] - original[-15:]).max() <= 2


@pytest.fixture(scope="module")
def demo_labels() -> dict[int, set[str]]:
    """Labels shown per demo head over 12 s of the demo (every other frame)."""
    renderer = DemoRenderer()
    shown: dict[int, set[str]] = {0: set(), 1: set()}
    with Pipeline(PipelineOptions()) as pipeline:
        for index in range(0, LOOP_FRAMES, 2):
            result = pipeline.process(Frame(image=renderer.render(index), index=index, source="demo",
                                            timestamp_s=index / DEMO_FPS))
            for face in result.faces:
                if face.settled:
                    shown[int(face.geometry.eye_center[0] > 320)].add(face.label)
    return shown


def test_the_demo_shows_labels_change_without_a_camera(demo_labels) -> None:
    for head, labels in demo_labels.items():
        assert len(labels) >= 2, f"demo head {head} only ever showed {labels}"
