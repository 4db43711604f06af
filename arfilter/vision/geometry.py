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
    "eyes": IMAGE_LEFT_EYE_INDICES + IMAGE_RIGHT_EYE_INDICES,  # the eyes' midpoint (the eyes' own depth)
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


# Head pose: landmarks that move with the skull, not with expressions (eye corners, nose,
# forehead, chin, cheeks, temples, jaw, brow ends), and where they sit on a frontal face.
POSE_INDICES = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 10, 151, 9, 152, 234, 454, 93, 323, 127, 356, 58,
                288, 172, 397, 132, 361, 21, 251, 54, 284, 70, 300, 105, 334, 148, 377, 2, 98, 327)
# The face mesh of the public-domain astronaut portrait (tests/data), a frontal studio portrait:
# centred, its roll and any yaw of the eye line taken out (x along the eye line, z away from the
# camera, y down the face; 1 = interocular distance). Computed from tests/data/astronaut_landmarks.npy.
CANONICAL_FACE = np.array([
    [-0.722, -0.295, -0.115], [-0.278, -0.267, -0.199], [0.27, -0.267, -0.199], [0.715, -0.295, -0.115],
    [-0.007, -0.359, -0.482], [-0.008, -0.238, -0.546], [-0.009, -0.124, -0.62], [-0.01, -0.021, -0.702],
    [-0.01, 0.091, -0.788], [-0.011, 0.228, -0.817], [-0.011, 0.329, -0.777], [-0.008, -1.074, -0.467],
    [-0.007, -0.843, -0.498], [-0.007, -0.604, -0.518], [0.009, 1.387, -0.047], [-1.064, -0.023, 0.762],
    [1.079, -0.024, 0.766], [-1.05, 0.191, 0.791], [1.07, 0.189, 0.794], [-1.077, -0.233, 0.667],
    [1.089, -0.233, 0.672], [-0.954, 0.658, 0.706], [0.979, 0.656, 0.708], [-0.854, 0.851, 0.566],
    [0.88, 0.85, 0.567], [-1.02, 0.418, 0.77], [1.043, 0.417, 0.774], [-1.02, -0.628, 0.265],
    [1.018, -0.629, 0.27], [-0.932, -0.794, 0.061], [0.924, -0.796, 0.064], [-0.9, -0.514, -0.128],
    [0.89, -0.515, -0.126], [-0.656, -0.649, -0.369], [0.642, -0.648, -0.368], [-0.186, 1.367, -0.018],
    [0.204, 1.366, -0.019], [-0.005, 0.405, -0.513], [-0.327, 0.334, -0.386], [0.322, 0.335, -0.388]
])


def head_rotation(landmarks: np.ndarray) -> np.ndarray:
    """The head's rotation (3x3, columns = the face's x, y, z axes in frame coordinates).

    The face mesh gives every landmark a depth in the same units as x and y, so the pose is
    the rotation that best lays the canonical face onto the rigid landmarks (Kabsch /
    orthogonal Procrustes, with scale). Measured on the bundled face turned to known angles:
    see tests/vision/test_geometry.py.
    """
    points = landmarks[list(POSE_INDICES), :3].astype(np.float64)
    points = points - points.mean(axis=0)
    canonical = CANONICAL_FACE - CANONICAL_FACE.mean(axis=0)
    u, _, vt = np.linalg.svd(canonical.T @ points)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    return (u @ np.diag([1.0, 1.0, sign]) @ vt).T


def yaw_pitch_deg(rotation: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) of a head rotation: yaw positive when the nose turns to image-right, pitch
    positive when the face looks down."""
    forward = -rotation[:, 2]  # from the back of the head out through the nose, towards the camera
    yaw = math.degrees(math.atan2(float(forward[0]), float(-forward[2])))
    pitch = math.degrees(math.atan2(float(forward[1]), math.hypot(float(forward[0]), float(forward[2]))))
    return yaw, pitch


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
    face is turned clockwise on screen. `yaw_deg` (nose to image-right positive) and
    `pitch_deg` (looking down positive) come from `head_rotation`. `interocular` is the
    distance between eye centres and `face_width` the cheek-to-cheek distance, both in frame
    pixels and measured in 3D (the mesh's depth included), so they do not shrink when the
    head turns away. `mouth_gap` is the distance between the inner lips in interocular
    distances (0 with the mouth shut).
    """

    left_eye: np.ndarray
    right_eye: np.ndarray
    roll_deg: float
    interocular: float
    face_width: float
    mouth_gap: float
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0

    @property
    def eye_center(self) -> np.ndarray:
        return (self.left_eye + self.right_eye) / 2.0

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray) -> FaceGeometry:
        left_eye = named_point(landmarks, "left_eye")
        right_eye = named_point(landmarks, "right_eye")
        delta = right_eye - left_eye
        # Landmarks without depth (flat drawings, hand-made test faces) carry no pose.
        depth = landmarks.shape[1] >= 3 and float(np.ptp(landmarks[:, 2])) > 1e-6
        columns = slice(0, 3) if depth else slice(0, 2)
        cheeks = landmarks[list(NAMED_POINT_INDICES["right_cheek"]), columns].mean(axis=0) - \
            landmarks[list(NAMED_POINT_INDICES["left_cheek"]), columns].mean(axis=0)
        eyes = landmarks[list(IMAGE_RIGHT_EYE_INDICES), columns].mean(axis=0) - \
            landmarks[list(IMAGE_LEFT_EYE_INDICES), columns].mean(axis=0)
        face_width = float(np.linalg.norm(cheeks))
        interocular = float(np.linalg.norm(eyes))
        yaw, pitch = yaw_pitch_deg(head_rotation(landmarks)) if depth else (0.0, 0.0)
        lip_gap = float(np.linalg.norm(landmarks[INNER_LOWER_LIP, :2] - landmarks[INNER_UPPER_LIP, :2]))
        return cls(
            left_eye=left_eye,
            right_eye=right_eye,
            roll_deg=math.degrees(math.atan2(float(delta[1]), float(delta[0]))),
            interocular=interocular,
            face_width=face_width,
            mouth_gap=lip_gap / max(interocular, 1e-6),
            yaw_deg=yaw,
            pitch_deg=pitch,
        )


def landmark_box(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    """Axis-aligned (x, y, w, h) box around the landmarks, in whole pixels."""
    x0, y0 = np.floor(landmarks[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(landmarks[:, :2].max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)
