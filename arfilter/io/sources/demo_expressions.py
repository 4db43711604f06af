"""Changing expressions for the built-in demo, made from the one bundled head photo.

The demo's portrait smiles, so on its own it only ever shows "happy". Here the photo's own
face mesh (computed once by arfilter's landmark model and shipped beside the photo) drives a
smooth warp: each expression moves a few landmarks (brows up, eyes wider, jaw down for an
astonished face) with a Gaussian falloff around each, and an open mouth is painted between
the lips. Nothing but the public-domain photo and this code goes into the result (see
arfilter/assets/NOTICE).

What the emotion model makes of a warped face is its own business: the shipped model reads
the astonished face as fear or surprise, which is what a demo needs: a label, and with it
the pack, that visibly changes without a camera (measured in tests/io/test_expressions.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from arfilter.errors import SourceError
from arfilter.resources import DEMO_DIR

HEAD_LANDMARKS = DEMO_DIR / "astronaut_head_landmarks.npy"  # (468, 2) in the head photo's pixels
# Reach of each landmark's pull, in distances between the eyes.
WARP_SIGMA_INTEROCULAR = 0.22
MOUTH_COLOUR = (60, 25, 30)


@dataclass(frozen=True)
class Expression:
    """Landmark moves (index -> (dx, dy) in interocular distances) and, for an open mouth,
    how far the lower lip drops (also in interocular distances; 0: mouth as photographed)."""

    name: str
    moves: dict[int, tuple[float, float]]
    mouth_open: float = 0.0


ASTONISHED = Expression(
    "astonished",
    moves={
        105: (0.0, -0.24), 334: (0.0, -0.24), 70: (0.0, -0.16), 300: (0.0, -0.16),  # brows up
        107: (0.0, -0.2), 336: (0.0, -0.2),
        159: (0.0, -0.1), 386: (0.0, -0.1), 145: (0.0, 0.04), 374: (0.0, 0.04),  # eyes wider
        14: (0.0, 0.24), 17: (0.0, 0.26), 152: (0.0, 0.2),  # jaw down
        61: (0.12, 0.1), 291: (-0.12, 0.1),  # mouth corners in
    },
    mouth_open=0.24,
)


class ExpressionWarper:
    """Renders the head photo with an expression mixed in at any strength (0: as photographed)."""

    def __init__(self, image_rgb: np.ndarray, landmarks: np.ndarray, expression: Expression = ASTONISHED) -> None:
        self.image = image_rgb
        self.expression = expression
        left_eye = landmarks[[33, 133]].mean(axis=0)
        right_eye = landmarks[[362, 263]].mean(axis=0)
        self.interocular = float(np.linalg.norm(right_eye - left_eye))
        height, width = image_rgb.shape[:2]
        self._grid_y, self._grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
        self._field_x = np.zeros((height, width), np.float32)
        self._field_y = np.zeros((height, width), np.float32)
        sigma = WARP_SIGMA_INTEROCULAR * self.interocular
        for index, (dx, dy) in expression.moves.items():
            x, y = landmarks[index]
            pull = np.exp(-((self._grid_x - x) ** 2 + (self._grid_y - y) ** 2) / (2.0 * sigma * sigma))
            self._field_x += pull * dx * self.interocular
            self._field_y += pull * dy * self.interocular
        upper, lower = landmarks[13], landmarks[14]
        self._mouth_top = upper
        self._mouth_bottom = lower + np.array([0.0, expression.mouth_open * self.interocular])

    def render(self, strength: float) -> np.ndarray:
        """The photo with the expression at `strength` (0..1), as RGB uint8."""
        strength = min(max(float(strength), 0.0), 1.0)
        if strength == 0.0:
            return self.image
        # Backward map: every output pixel reads the photo where the moved face came from.
        warped = cv2.remap(self.image, self._grid_x - strength * self._field_x, self._grid_y - strength * self._field_y,
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if self.expression.mouth_open > 0:
            top = self._mouth_top
            bottom = self._mouth_top + strength * (self._mouth_bottom - self._mouth_top)
            center = (top + bottom) / 2.0
            axes = (0.25 * self.interocular * strength, max(0.5, float(bottom[1] - top[1]) / 2.0))
            mouth = np.zeros(warped.shape[:2], np.float32)
            cv2.ellipse(mouth, (round(center[0] * 16), round(center[1] * 16)),
                        (round(axes[0] * 16), round(axes[1] * 16)), 0.0, 0.0, 360.0, 1.0, -1, cv2.LINE_AA, 4)
            mouth = cv2.GaussianBlur(mouth, (0, 0), 0.8)[..., None]
            warped = (warped * (1.0 - mouth) + np.array(MOUTH_COLOUR, np.float32) * mouth + 0.5).astype(np.uint8)
        return warped


def load_head_landmarks() -> np.ndarray:
    """The demo head photo's face mesh (468 x 2), as shipped."""
    try:
        landmarks = np.load(HEAD_LANDMARKS)
    except (OSError, ValueError):
        raise SourceError(f"demo data {HEAD_LANDMARKS} is missing or unreadable; reinstall arfilter "
                          "or pass --source with a camera index, a video, an image or a folder") from None
    if landmarks.shape != (468, 2):
        raise SourceError(f"demo data {HEAD_LANDMARKS} has shape {landmarks.shape}, expected (468, 2); reinstall arfilter")
    return landmarks.astype(np.float32)


def expression_strength(time_s: float, period_s: float, offset_s: float = 0.0, ramp_s: float = 0.3) -> float:
    """A held on/off schedule: off for the first half of each period, on for the second,
    with smooth `ramp_s` changes between, so each expression is held long enough (seconds)
    for the label to follow it."""
    phase = ((time_s + offset_s) % period_s) / period_s
    half = 0.5
    ramp = ramp_s / period_s
    if phase < half - ramp:
        level = 0.0
    elif phase < half:
        level = (phase - (half - ramp)) / ramp
    elif phase < 1.0 - ramp:
        level = 1.0
    else:
        level = (1.0 - phase) / ramp
    return 0.5 - 0.5 * math.cos(math.pi * level)
