"""Face geometry derived from the 468-point MediaPipe face mesh.

Named points are defined here once, as landmark indices, and used by emotion alignment,
the overlay and filter-pack manifests. "Left" and "right" are image-left and image-right
(as the face appears in the frame), which is what drawing code needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Eye contours of the face mesh. Image-left is the subject's right eye for an unmirrored frame.
IMAGE_LEFT_EYE_INDICES = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
IMAGE_RIGHT_EYE_INDICES = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)

# Centre of the inner lips (upper, lower): their distance is how open the mouth is.
INNER_UPPER_LIP, INNER_LOWER_LIP = 13, 14

# Single-index anchors (name -> indices averaged). Names are what pack manifests refer to.
NAMED_POINT_INDICES: dict[str, tuple[int, ...]] = {
    "left_eye": IMAGE_LEFT_EYE_INDICES,
    "right_eye": IMAGE_RIGHT_EYE_INDICES,
    "between_eyes": (168,),
    "nose_tip": (1,),
    "nose_bridge": (6,),
    "forehead": (151,),
    "forehead_top": (10,),
    "chin": (152,),
    "mouth_center": (13, 14),
    "mouth_left": (61,),
    "mouth_right": (291,),
    "left_cheek": (234,),
    "right_cheek": (454,),
    "left_eyebrow": (70, 63, 105, 66, 107),
    "right_eyebrow": (336, 296, 334, 293, 300),
}

FACE_OVAL_INDICES = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)


def named_point(landmarks: np.ndarray, name: str) -> np.ndarray:
    """Return the (x, y) position of a named point; raises ValueError for an unknown name."""
    try:
        indices = NAMED_POINT_INDICES[name]
    except KeyError:
        known = ", ".join(sorted(NAMED_POINT_INDICES))
        raise ValueError(f"unknown face point {name!r}; known points: {known}") from None
    return landmarks[list(indices), :2].mean(axis=0)


@dataclass(frozen=True)
class FaceGeometry:
    """The measurements overlays and alignment scale and turn with.

    `roll_deg` is the angle of the eye line in image coordinates (y down): positive when the
    face is turned clockwise on screen. `interocular` is the distance between eye centres
    and `face_width` the cheek-to-cheek distance, both in frame pixels. `mouth_gap` is the
    distance between the inner lips in interocular distances (0 with the mouth shut).
    """

    left_eye: np.ndarray
    right_eye: np.ndarray
    roll_deg: float
    interocular: float
    face_width: float
    mouth_gap: float

    @property
    def eye_center(self) -> np.ndarray:
        return (self.left_eye + self.right_eye) / 2.0

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray) -> FaceGeometry:
        left_eye = named_point(landmarks, "left_eye")
        right_eye = named_point(landmarks, "right_eye")
        delta = right_eye - left_eye
        face_width = float(np.linalg.norm(named_point(landmarks, "right_cheek") - named_point(landmarks, "left_cheek")))
        interocular = float(np.hypot(delta[0], delta[1]))
        lip_gap = float(np.linalg.norm(landmarks[INNER_LOWER_LIP, :2] - landmarks[INNER_UPPER_LIP, :2]))
        return cls(
            left_eye=left_eye,
            right_eye=right_eye,
            roll_deg=math.degrees(math.atan2(float(delta[1]), float(delta[0]))),
            interocular=interocular,
            face_width=face_width,
            mouth_gap=lip_gap / max(interocular, 1e-6),
        )


def landmark_box(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    """Axis-aligned (x, y, w, h) box around the landmarks, in whole pixels."""
    x0, y0 = np.floor(landmarks[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(landmarks[:, :2].max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)
