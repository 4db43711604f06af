"""The head's silhouette hides the far half of a behind-the-head prop as the head turns."""

from __future__ import annotations

import numpy as np
import pytest

from arfilter.render.mesh import face_mesh
from arfilter.render.occlusion import HeadSilhouette

BOX = (0, 0, 400, 400)


def arm_tips(landmarks: np.ndarray, yaw_deg: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where a glasses sprite squashed with the head's turn puts the ends of its arms: 1.15
    interocular distances either side of the bridge of the nose, at eye height, foreshortened
    by the yaw's cosine (image-left end first)."""
    bridge = landmarks[168, :2]
    interocular = 60.0
    reach = 1.15 * interocular * np.cos(np.radians(yaw_deg))
    return ((round(bridge[0] - reach), round(bridge[1])), (round(bridge[0] + reach), round(bridge[1])))


@pytest.mark.parametrize("yaw_deg", [45.0, -45.0, 60.0])
def test_the_far_arm_vanishes_behind_the_head_and_the_near_arm_stays(yaw_deg: float) -> None:
    landmarks = face_mesh().posed(yaw_deg, center_xy=(200, 200), interocular_px=60)
    visibility = HeadSilhouette.from_landmarks(landmarks).visibility(BOX)
    left, right = arm_tips(landmarks, yaw_deg)
    far, near = (right, left) if yaw_deg > 0 else (left, right)  # the nose turns towards the far side
    assert visibility[far[1], far[0]] == 0
    assert visibility[near[1], near[0]] == 255


def test_a_face_looking_at_the_camera_hides_nothing_and_the_hiding_fades_in_with_the_turn() -> None:
    frontal = HeadSilhouette.from_landmarks(face_mesh().posed(0.0, center_xy=(200, 200), interocular_px=60))
    assert frontal.hiding == 0.0 and frontal.visibility(BOX).min() == 255
    hidden = [HeadSilhouette.from_landmarks(face_mesh().posed(yaw, center_xy=(200, 200), interocular_px=60)).hiding
              for yaw in (5.0, 15.0, 20.0, 30.0)]
    assert hidden[0] == 0.0 and 0.0 < hidden[1] < hidden[2] < 1.0 and hidden[3] == 1.0


def test_what_is_above_the_head_stays_in_view() -> None:
    landmarks = face_mesh().posed(45.0, center_xy=(200, 250), interocular_px=60)
    head = HeadSilhouette.from_landmarks(landmarks)
    top = int(head.silhouette()[:, 1].min())
    visibility = head.visibility(BOX)
    assert visibility[: max(top - 3, 0)].min() == 255
    assert visibility[top + 40 :, 260:].min() == 0  # beside and behind the far cheek, level with the head


def test_silhouette_covers_the_face_and_the_skull_behind_it() -> None:
    landmarks = face_mesh().posed(45.0, center_xy=(200, 200), interocular_px=60)
    outline = HeadSilhouette.from_landmarks(landmarks).silhouette()
    face_width = np.ptp(landmarks[:, 0])
    assert np.ptp(outline[:, 0]) > 1.3 * face_width  # the back of the head shows beside a turned face
