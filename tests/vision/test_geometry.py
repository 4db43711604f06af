"""Head pose from the face mesh: the bundled face's landmarks turned to known angles."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from arfilter.vision.geometry import FaceGeometry

LANDMARKS = np.load(Path(__file__).parent.parent / "data" / "astronaut_landmarks.npy").astype(np.float64)


def turned(landmarks: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """The landmarks turned about their centre: yaw about the vertical axis (nose to
    image-right for positive yaw), then pitch about the horizontal one (looking down)."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    # Frame axes: x right, y down, z away from the camera.
    turn_yaw = np.array([[math.cos(yaw), 0, -math.sin(yaw)], [0, 1, 0], [math.sin(yaw), 0, math.cos(yaw)]])
    turn_pitch = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]])
    center = landmarks.mean(axis=0)
    return (landmarks - center) @ (turn_yaw @ turn_pitch).T + center


def test_the_bundled_face_is_close_to_frontal() -> None:
    geometry = FaceGeometry.from_landmarks(LANDMARKS)
    assert abs(geometry.yaw_deg) < 5 and abs(geometry.pitch_deg) < 5


@pytest.mark.parametrize("yaw", [-40, -20, 0, 20, 40])
@pytest.mark.parametrize("pitch", [-25, 0, 25])
def test_pose_within_5_degrees_of_the_true_turn(yaw: float, pitch: float) -> None:
    base = FaceGeometry.from_landmarks(LANDMARKS)
    geometry = FaceGeometry.from_landmarks(turned(LANDMARKS, yaw, pitch))
    assert geometry.yaw_deg - base.yaw_deg == pytest.approx(yaw, abs=5)
    assert geometry.pitch_deg - base.pitch_deg == pytest.approx(pitch, abs=5)
    # Sizes come from 3D distances: they do not shrink as the face turns away.
    assert geometry.interocular == pytest.approx(base.interocular, rel=0.02)
    assert geometry.face_width == pytest.approx(base.face_width, rel=0.02)
