"""The aligned face crop: eye line level and placed where FER2013 puts it, at any roll and size."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from arfilter.vision.preprocessing import EYE_LINE_Y, INPUT_SIZE, INTEROCULAR_FRACTION, align_face_crop


def dark_blob_centres(crop: np.ndarray) -> list[tuple[float, float]]:
    mask = (crop < 100).astype(np.uint8)
    count, _, _, centroids = cv2.connectedComponentsWithStats(mask)
    return sorted((float(x), float(y)) for x, y in centroids[1:count])


@pytest.mark.parametrize("roll_deg", [-30, -10, 0, 15, 30])
@pytest.mark.parametrize("interocular", [20.0, 60.0, 150.0])
def test_eyes_land_level_at_the_fer_positions(roll_deg, interocular):
    image = np.full((600, 600, 3), 230, np.uint8)
    centre = np.array([300.0, 280.0])
    direction = np.array([math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))])
    left_eye, right_eye = centre - direction * interocular / 2, centre + direction * interocular / 2
    for eye in (left_eye, right_eye):
        cv2.circle(image, tuple(round(v) for v in eye), max(2, int(interocular / 8)), (0, 0, 0), -1, cv2.LINE_AA)
    crop = align_face_crop(image, left_eye, right_eye)
    assert crop.shape == (INPUT_SIZE, INPUT_SIZE) and crop.dtype == np.uint8
    (left_x, left_y), (right_x, right_y) = dark_blob_centres(crop)
    expected_half = INTEROCULAR_FRACTION * INPUT_SIZE / 2
    assert left_x == pytest.approx(INPUT_SIZE / 2 - expected_half, abs=1.0)
    assert right_x == pytest.approx(INPUT_SIZE / 2 + expected_half, abs=1.0)
    assert left_y == pytest.approx(EYE_LINE_Y * INPUT_SIZE, abs=1.0)
    assert right_y == pytest.approx(EYE_LINE_Y * INPUT_SIZE, abs=1.0)


def test_coincident_eyes_are_refused():
    with pytest.raises(ValueError, match="coincide"):
        align_face_crop(np.zeros((10, 10, 3), np.uint8), np.array([5.0, 5.0]), np.array([5.0, 5.0]))
