"""The head's silhouette, which hides the parts of props that sit behind the head.

A pack layer marked `behind_head` (glasses arms, a hat brim, the ribbon of a mask) goes round
the head: as the head turns, its far half passes behind the head and must disappear there,
while its near half stays in front. A flat sprite has no depth of its own, so the rule is
geometric:

- the head's silhouette is the convex hull of the face mesh (the face as seen) joined with
  the outline of an ellipsoid standing for the skull behind it (the mesh ends at the ears and
  the hairline, the head does not), both placed by fitting MediaPipe's canonical face to the
  landmarks, so they turn, nod and tilt with the head;
- what is hidden is, on the far side of the head's midline (the side the nose turns towards),
  that silhouette and everything beyond it in line with it, fading in between 10 and 25
  degrees of yaw: facing the camera, glasses arms run along the sides of the head in full
  view, and they only start to pass behind it as it turns; the near half stays in view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from arfilter.render.mesh import face_mesh

# The skull as an ellipsoid in the canonical face's centimetres (x to image-right, y down, z
# away from the camera; the origin near the middle of the nose): a head about 16 cm wide,
# 21 cm from the jaw line to the crown and 20 cm from the brow to the back, from adult
# head-size tables, centred behind the eyes.
SKULL_CENTER_CM = (0.0, -3.0, 5.5)
SKULL_SEMI_AXES_CM = (8.0, 10.5, 10.0)
# Landmarks that move with the skull, not with expressions, for fitting the canonical face.
RIGID_INDICES = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 10, 151, 9, 152, 234, 454, 93, 323, 127, 356,
                 58, 288, 172, 397, 132, 361, 21, 251, 54, 284, 70, 300, 105, 334, 148, 377, 2, 98, 327)
# The midline of the head, from the forehead to the chin.
MIDLINE_INDICES = (10, 151, 9, 168, 6, 197, 195, 5, 4, 1, 2, 0, 13, 14, 17, 18, 200, 199, 175, 152)
# Yaw over which the far side's parts fade out behind the head.
HIDE_FROM_YAW_DEG, HIDDEN_AT_YAW_DEG = 10.0, 25.0


@dataclass(frozen=True)
class HeadSilhouette:
    """Where a face's head hides what passes behind it, in frame pixels."""

    face_hull: np.ndarray  # (N, 2) float32: convex hull of the landmarks
    skull_center: tuple[float, float]
    skull_axes: tuple[float, float]  # semi-axes of the skull's outline, px
    skull_angle_deg: float  # of the first axis, clockwise on screen
    midline_point: tuple[float, float]
    far_normal: tuple[float, float]  # unit vector across the midline, towards the far side
    hiding: float  # 0..1: how much of the far side's parts are hidden (from the yaw)

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray) -> HeadSilhouette:
        """Measure the silhouette of the face with (468, 3) landmarks (2-D landmarks carry no
        turn: their head hides nothing)."""
        points = np.asarray(landmarks, np.float64)
        hull = cv2.convexHull(points[:, :2].astype(np.float32))[:, 0]
        scale, rotation, offset = _fit_canonical(points)
        # The ellipsoid {c + L w : |w| <= 1}, L = s R diag(axes), projected along z: an ellipse
        # whose shape matrix is P P^T, P the first two rows of L.
        center = scale * rotation @ np.array(SKULL_CENTER_CM) + offset
        projection = (scale * rotation @ np.diag(SKULL_SEMI_AXES_CM))[:2]
        eigenvalues, eigenvectors = np.linalg.eigh(projection @ projection.T)
        axes = np.sqrt(np.maximum(eigenvalues, 0.0))
        angle = math.degrees(math.atan2(eigenvectors[1, 0], eigenvectors[0, 0]))

        midline = points[list(MIDLINE_INDICES), :2]
        midline_point = midline.mean(axis=0)
        _, _, direction = np.linalg.svd(midline - midline_point)
        normal = np.array([direction[0, 1], -direction[0, 0]])  # across the midline
        forward = -rotation[:, 2]  # the nose's direction, in frame axes
        yaw = math.degrees(math.atan2(forward[0], -forward[2])) if points.shape[1] >= 3 else 0.0
        toward_far = np.sign(np.dot(normal, forward[:2])) or 1.0
        hiding = min(max((abs(yaw) - HIDE_FROM_YAW_DEG) / (HIDDEN_AT_YAW_DEG - HIDE_FROM_YAW_DEG), 0.0), 1.0)
        return cls(
            face_hull=hull,
            skull_center=(float(center[0]), float(center[1])),
            skull_axes=(float(axes[0]), float(axes[1])),
            skull_angle_deg=angle,
            midline_point=(float(midline_point[0]), float(midline_point[1])),
            far_normal=(float(normal[0] * toward_far), float(normal[1] * toward_far)),
            hiding=hiding,
        )

    def silhouette(self) -> np.ndarray:
        """The head's outline as a convex polygon (N, 2) float32: the face's hull joined with the skull's outline."""
        skull = np.asarray(cv2.ellipse2Poly((0, 0), (1000, 1000), 0, 0, 360, 10), np.float64) / 1000.0
        turn = math.radians(self.skull_angle_deg)
        rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
        skull = (skull * self.skull_axes) @ rotation.T + self.skull_center
        return cv2.convexHull(np.vstack([self.face_hull, skull]).astype(np.float32))[:, 0]

    def visibility(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """How much of a behind-the-head prop shows at each pixel of `box` (x0, y0, x1, y1):
        uint8, 255 where it shows, 0 where the head hides it.

        Hidden is the head's silhouette swept on towards the far side (a prop drawn flat, like
        the arm of a pair of glasses squashed with the head's turn, can reach past the far
        cheek, where the real arm would long have gone behind the head), on the far side of
        the midline only, scaled by `hiding`.
        """
        x0, y0, x1, y1 = box
        visible = np.full((y1 - y0, x1 - x0), 255, np.uint8)
        if self.hiding <= 0.0:
            return visible
        reach = 4.0 * max(self.skull_axes) + abs(x1 - x0) + abs(y1 - y0)
        far = np.array(self.far_normal)
        outline = self.silhouette()
        swept = cv2.convexHull(np.vstack([outline, outline + far * reach]).astype(np.float32))[:, 0]
        along = np.array([-far[1], far[0]])
        middle = np.array(self.midline_point)
        far_side = np.array([middle - along * reach, middle + along * reach,
                             middle + along * reach + far * reach, middle - along * reach + far * reach])
        hidden = np.zeros_like(visible)
        cv2.fillPoly(hidden, [_fixed_point(swept, box)], 255, lineType=cv2.LINE_AA, shift=4)
        half = np.zeros_like(visible)
        cv2.fillPoly(half, [_fixed_point(far_side, box)], 255, lineType=cv2.LINE_AA, shift=4)
        hidden_here = cv2.min(hidden, half)
        if self.hiding < 1.0:
            hidden_here = cv2.convertScaleAbs(hidden_here, alpha=self.hiding)
        return cv2.subtract(visible, hidden_here)


def _fixed_point(polygon: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A polygon in frame pixels as cv2's 1/16-pixel fixed point, relative to `box`'s corner
    (clamped far outside the box, where cv2's 32-bit coordinates would overflow)."""
    relative = np.clip(polygon - np.array(box[:2], np.float64), -1e6, 1e6)
    return np.round(relative * 16).astype(np.int32)


def _fit_canonical(points: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale, rotation, offset) that best lay the canonical face onto the rigid landmarks
    (orthogonal Procrustes with scale); landmarks without depth are fitted flat."""
    canonical = face_mesh().vertices[list(RIGID_INDICES)].astype(np.float64)
    target = np.zeros((len(RIGID_INDICES), 3))
    columns = min(points.shape[1], 3)
    target[:, :columns] = points[list(RIGID_INDICES), :columns]
    if columns < 3:
        target[:, 2] = canonical[:, 2] * _planar_scale(canonical, target)
    canonical_mean, target_mean = canonical.mean(axis=0), target.mean(axis=0)
    source, goal = canonical - canonical_mean, target - target_mean
    u, singular, vt = np.linalg.svd(goal.T @ source)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    correction = np.diag([1.0, 1.0, sign])
    rotation = u @ correction @ vt
    scale = float(np.trace(np.diag(singular) @ correction) / (source**2).sum())
    return scale, rotation, target_mean - scale * rotation @ canonical_mean


def _planar_scale(canonical: np.ndarray, target: np.ndarray) -> float:
    """Pixels per centimetre of a face given without depth, from its x-y spread."""
    return float(np.sqrt((target[:, :2].var(axis=0)).sum() / max((canonical[:, :2].var(axis=0)).sum(), 1e-9)))
