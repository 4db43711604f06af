"""Pixel checks for composite_sprite: placement, turning, scaling, clipping, opacity, edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arfilter.render.overlay import Sprite, composite_sprite

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def solid_sprite(width: int, height: int, colour=RED, alpha: int = 255) -> np.ndarray:
    sprite = np.zeros((height, width, 4), np.uint8)
    sprite[:, :, :3] = colour
    sprite[:, :, 3] = alpha
    return sprite


def corner_sprite(size: int = 40, corner: int = 10) -> np.ndarray:
    """A red square with a blue top-left corner, to see where it turned."""
    sprite = solid_sprite(size, size)
    sprite[:corner, :corner, :3] = BLUE
    return sprite


def centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    weights = mask[ys, xs].astype(np.float64)
    return np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])


def rotate(vector, angle_deg: float) -> np.ndarray:
    """Clockwise on screen for positive angles (image coordinates, y down)."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return np.array([c * vector[0] - s * vector[1], s * vector[0] + c * vector[1]])


def test_unturned_sprite_covers_exactly_its_box():
    canvas = np.zeros((100, 120, 3), np.uint8)
    # A 20 px sprite centred on 39.5 covers pixels 30..49 exactly (pixel centres at whole numbers).
    composite_sprite(canvas, solid_sprite(20, 10), (39.5, 59.5), 20, 0.0)
    expected = np.zeros((100, 120), bool)
    expected[55:65, 30:50] = True
    assert np.array_equal(canvas[:, :, 0] == 255, expected)
    assert not canvas[~expected].any()


@pytest.mark.parametrize("angle", [-30.0, 0.0, 17.0, 30.0, 90.0, 180.0])
def test_turned_corner_lands_where_the_rotation_puts_it(angle):
    canvas = np.zeros((200, 200, 3), np.uint8)
    center = np.array([100.3, 90.7])
    composite_sprite(canvas, corner_sprite(), center, 80, angle)  # drawn at 2x
    blue = canvas[:, :, 2].astype(np.float64) * (canvas[:, :, 0] < 128)
    # The blue corner's centre is 15 sprite px left of and above the sprite centre: 30 px at 2x.
    expected = center + rotate((-30.0, -30.0), angle)
    assert np.allclose(centroid(blue), expected, atol=0.6)
    coverage = (canvas.astype(np.float64).sum(axis=2)) / 255.0
    assert np.allclose(centroid(coverage), center, atol=0.3)
    assert coverage.sum() == pytest.approx(80 * 80, rel=0.01)


def test_positive_angle_turns_clockwise_on_screen():
    canvas = np.zeros((100, 100, 3), np.uint8)
    composite_sprite(canvas, corner_sprite(), (49.5, 49.5), 40, 90.0)
    blue = canvas[:, :, 2] > 200
    # Clockwise by 90 degrees, the top-left corner goes to the top-right.
    assert blue[30:40, 60:70].all()
    assert not blue[:, :50].any()


def test_width_sets_size_and_aspect_is_kept():
    canvas = np.zeros((200, 200, 3), np.uint8)
    composite_sprite(canvas, solid_sprite(40, 10), (99.5, 99.5), 120, 0.0)
    rows, cols = np.nonzero(canvas[:, :, 0] > 127)
    assert cols.max() - cols.min() + 1 == 120
    assert rows.max() - rows.min() + 1 == 30


@pytest.mark.parametrize(
    "center, width",
    [((0.0, 0.0), 60), ((199.0, 5.0), 60), ((-29.0, 50.0), 60), ((100.0, 230.0), 80), ((100.0, 100.0), 1e5)],
)
def test_clipped_at_the_edges(center, width):
    canvas = np.zeros((150, 200, 3), np.uint8)
    composite_sprite(canvas, solid_sprite(30, 30), center, width, 20.0)
    reference = np.zeros((150 + 4000, 200 + 4000, 3), np.uint8)
    if width < 1000:
        # The same drawing on a canvas large enough to hold all of it, then cropped.
        composite_sprite(reference, solid_sprite(30, 30), (center[0] + 2000, center[1] + 2000), width, 20.0)
        assert np.array_equal(canvas, reference[2000:2150, 2000:2200])
    else:
        assert (canvas[:, :, 0] == 255).all()


@pytest.mark.parametrize(
    "center, width",
    [((-500.0, 50.0), 60), ((50.0, 1e4), 60), ((50.0, 50.0), 0), ((50.0, 50.0), -10), ((math.nan, 5.0), 20), ((5.0, 5.0), math.inf)],
)
def test_nothing_drawn_off_screen_or_without_size(center, width):
    canvas = np.full((100, 100, 3), 7, np.uint8)
    composite_sprite(canvas, solid_sprite(30, 30), center, width, 45.0)
    assert (canvas == 7).all()


def test_opacity_and_sprite_alpha_blend():
    canvas = np.full((60, 60, 3), 100, np.uint8)
    composite_sprite(canvas, solid_sprite(20, 20, (200, 100, 0)), (15.5, 15.5), 20, 0.0, opacity=0.25)
    assert tuple(canvas[15, 15]) == (125, 100, 75)
    composite_sprite(canvas, solid_sprite(20, 20, (200, 100, 0), alpha=128), (45.5, 45.5), 20, 0.0)
    assert np.allclose(canvas[45, 45], (150, 100, 50), atol=1)
    composite_sprite(canvas, solid_sprite(20, 20), (15.5, 45.5), 20, 0.0, opacity=0.0)
    assert (canvas[45, 15] == 100).all()


def test_transparent_colour_does_not_leak_into_edges():
    """Straight-alpha PNGs often hold junk colour under alpha 0; it must not fringe the sprite."""
    sprite = solid_sprite(32, 32, (0, 255, 0), alpha=0)
    sprite[8:24, 8:24] = (255, 0, 0, 255)
    canvas = np.zeros((100, 100, 3), np.uint8)
    composite_sprite(canvas, sprite, (50.2, 49.7), 77, 33.0)
    assert canvas[:, :, 0].max() == 255
    assert canvas[:, :, 1].max() <= 1


def test_shrunk_sprite_is_smoothed_not_aliased():
    """A fine checkerboard drawn at 1/8 size averages to grey instead of sampling a few squares."""
    checker = np.indices((256, 256)).sum(axis=0) % 2 * 255
    sprite = np.dstack([checker, checker, checker, np.full_like(checker, 255)]).astype(np.uint8)
    canvas = np.zeros((64, 64, 3), np.uint8)
    composite_sprite(canvas, sprite, (31.5, 31.5), 32, 13.0)
    inner = canvas[24:40, 24:40, 0].astype(np.float64)
    assert abs(inner.mean() - 127.5) < 3
    assert inner.std() < 3


def test_prepared_sprite_draws_like_the_array():
    sprite = corner_sprite()
    first, second = np.zeros((2, 120, 120, 3), np.uint8)
    composite_sprite(first, sprite, (60.2, 58.9), 71, -21.0, 0.7)
    composite_sprite(second, Sprite.from_rgba(sprite), (60.2, 58.9), 71, -21.0, 0.7)
    assert np.array_equal(first, second)


def test_bad_inputs_are_refused_with_a_message():
    with pytest.raises(ValueError, match="RGBA uint8"):
        composite_sprite(np.zeros((10, 10, 3), np.uint8), np.zeros((5, 5, 3), np.uint8), (5, 5), 5, 0)
    with pytest.raises(ValueError, match="canvas must be an RGB uint8"):
        composite_sprite(np.zeros((10, 10, 3), np.float32), solid_sprite(5, 5), (5, 5), 5, 0)
    with pytest.raises(ValueError, match="at least one pixel"):
        Sprite.from_rgba(np.zeros((0, 5, 4), np.uint8))
