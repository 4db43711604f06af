"""Background blur and replacement: what is kept, what is replaced, how the mask moves over time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arfilter.render.background import (
    BackgroundCompositor,
    BackgroundError,
    BackgroundOptions,
    cover,
    smooth_over_time,
)
from tests.fakes import FakeSegmenter


def striped(height: int = 180, width: int = 320) -> np.ndarray:
    """High-contrast vertical stripes: blurring them is easy to see."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, ::4] = 255
    return image


def compositor(**options) -> tuple[BackgroundCompositor, FakeSegmenter]:
    segmenter = FakeSegmenter()
    return BackgroundCompositor(segmenter, BackgroundOptions(feather_sigma=0.0, **options)), segmenter  # type: ignore[arg-type]


def test_none_returns_the_frame_without_running_the_model():
    background, segmenter = compositor(mode="none")
    frame = striped()
    assert background.apply(frame) is frame
    assert segmenter.calls == 0


def test_blur_keeps_the_person_and_blurs_the_rest():
    background, _ = compositor(mode="blur")
    frame = striped()
    out = background.apply(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, :150], frame[:, :150])  # the person, away from the edge
    assert out[:, 200:].std() < frame[:, 200:].std() / 5  # the stripes are gone


def test_image_replaces_the_background_covering_the_frame(tmp_path):
    picture = np.zeros((50, 50, 3), np.uint8)
    picture[:] = (0, 0, 255)  # red in BGR as written to disk
    path = tmp_path / "beach.png"
    cv2.imwrite(str(path), picture)
    background, _ = compositor(mode="image", image_path=path)
    frame = striped()
    out = background.apply(frame)
    np.testing.assert_array_equal(out[:, :150], frame[:, :150])
    assert (out[:, 200:] == (255, 0, 0)).all()  # red, now in RGB


def test_the_edge_is_feathered():
    segmenter = FakeSegmenter()
    background = BackgroundCompositor(segmenter, BackgroundOptions(mode="blur", feather_sigma=1.5))
    mask = background.mask(striped())
    row = mask[90]
    assert row[0] > 0.99 and row[-1] < 0.01
    assert ((row > 0.05) & (row < 0.95)).sum() >= 20  # a soft ramp, not a one-pixel cut


def test_sure_pixels_follow_at_once_and_unsure_ones_lean_on_the_past():
    previous = np.array([[0.0, 0.0, 1.0]], np.float32)
    new = np.array([[1.0, 0.5, 0.5]], np.float32)
    smoothed = smooth_over_time(new, previous, 0.9)
    assert smoothed[0, 0] == pytest.approx(1.0, abs=1e-3)  # sure: a moving arm leaves no ghost
    assert smoothed[0, 1] == pytest.approx(0.05, abs=1e-3)  # unsure: 90% of the previous value
    assert smoothed[0, 2] == pytest.approx(0.95, abs=1e-3)
    np.testing.assert_array_equal(smooth_over_time(new, None, 0.9), new)


def test_the_model_runs_every_nth_frame_when_asked():
    background, segmenter = compositor(mode="blur", segment_every=3)
    for _ in range(7):
        background.apply(striped())
    assert segmenter.calls == 3  # frames 0, 3 and 6


def test_switching_mode_keeps_the_stream():
    background, segmenter = compositor(mode="blur")
    background.apply(striped())
    background.set_options(BackgroundOptions(mode="none"))
    frame = striped()
    assert background.apply(frame) is frame
    assert segmenter.calls == 1


def test_from_argument():
    assert BackgroundOptions.from_argument("blur").mode == "blur"
    assert BackgroundOptions.from_argument("none").mode == "none"


def test_an_unknown_background_image_is_one_line(tmp_path):
    with pytest.raises(BackgroundError, match=r"^--background .*nowhere.png: no such image file; pass blur, none") as caught:
        BackgroundOptions.from_argument(str(tmp_path / "nowhere.png"))
    assert "\n" not in str(caught.value)


def test_a_file_that_is_not_a_picture_is_one_line(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    options = BackgroundOptions.from_argument(str(path))
    with pytest.raises(BackgroundError, match="not a picture OpenCV can read"):
        BackgroundCompositor(FakeSegmenter(), options)  # type: ignore[arg-type]


def test_cover_keeps_the_aspect_and_fills_the_frame():
    tall = np.zeros((200, 100, 3), np.uint8)
    tall[:, 50:] = 255
    out = cover(tall, (320, 180))
    assert out.shape == (180, 320, 3)
    assert out[:, :150].max() == 0 and out[:, 170:].min() == 255  # not squashed: the halves stay halves


def test_with_background_changes_the_picture_under_the_faces_only():
    from arfilter.core.types import Frame, FrameResult
    from arfilter.render.background import with_background
    from tests.fakes import make_face

    frame = striped()
    result = FrameResult(frame=Frame(image=frame, index=3, source="test", timestamp_s=0.1), faces=[make_face()])
    assert with_background(result, None) is result
    background, _ = compositor(mode="blur")
    changed = with_background(result, background)
    assert changed.faces is result.faces and changed.frame.index == 3
    assert changed.frame.image is not frame and result.frame.image is frame  # the original result is untouched
    assert changed.frame.image[:, 200:].std() < frame[:, 200:].std() / 5
