"""The built-in demo's imagery (arfilter.io.sources.demo makes it a source): two real faces drifting, scaling and rolling on a soft background, their expressions changing (arfilter/expressions.py).

It lets anyone see tracking, emotion bars and head-aligned overlays without a camera and
without downloading anything. The face is the public-domain NASA portrait of astronaut
Eileen Collins shipped with scikit-image (see assets/NOTICE); the second face is the same
photo mirrored and colour-graded, so both heads are real photographs that the face models
see as faces.

Every frame is a pure function of its index (640x480, 30 fps, a 12 s loop), so runs,
screenshots and tests are reproducible. Each head is rotated and scaled as a whole with a
feathered elliptical mask, which keeps it looking natural at every pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from arfilter.errors import SourceError
from arfilter.io.sources.demo_expressions import ExpressionWarper, expression_strength, load_head_landmarks
from arfilter.resources import DEMO_DIR

HEAD_IMAGE = DEMO_DIR / "astronaut_head.png"

FRAME_WIDTH = 640
FRAME_HEIGHT = 480
DEMO_FPS = 30.0
LOOP_FRAMES = 360  # 12 s; every motion below is a whole number of cycles per loop
EXPRESSION_PERIOD_S = 6.0  # smile, then astonished, 3 s each

# The head photo's mean enlargement (poses swing 0.7..1.3 times this): large enough for
# the short-range face detector to find both heads even at their smallest.
HEAD_BASE_SCALE = 1.15
# The portrait's own head roll, measured with the face-landmark model: the photo is turned
# this much clockwise, so the renderer subtracts it and a pose's roll is the true roll.
HEAD_PHOTO_ROLL_DEG = 3.0

# Inside the 208x224 head crop: the point heads turn and scale about (between the eyes and
# the mouth) and the feathered ellipse that cuts the head and hair out of the studio backdrop.
HEAD_PIVOT = (104.0, 112.0)
MASK_CENTER = (104, 102)
MASK_AXES = (80, 96)
MASK_FEATHER_SIGMA = 6.0

# The second head: mirrored and graded cooler, so the two are told apart at a glance.
SECOND_HEAD_GRADE = np.array([0.92, 0.99, 1.08], np.float32)


@dataclass(frozen=True)
class DemoFacePose:
    """Where a demo head is drawn: pivot position in the frame, scale of the photo, roll.

    `roll_deg` is the head's roll as the landmark model measures it (positive = turned
    clockwise on screen, the project convention), within about half a degree.
    """

    center: tuple[float, float]
    scale: float
    roll_deg: float


def demo_face_poses(index: int) -> tuple[DemoFacePose, DemoFacePose]:
    """The two head poses of frame `index`: left head and right head, out of phase.

    Scales swing 0.7..1.3 times HEAD_BASE_SCALE in opposite phase so the heads never
    collide, rolls stay within +-28 degrees, and the loop closes seamlessly after
    LOOP_FRAMES frames.
    """
    phase = 2.0 * math.pi * (index % LOOP_FRAMES) / LOOP_FRAMES
    left = DemoFacePose(
        center=(170.0 + 35.0 * math.sin(phase), 240.0 + 40.0 * math.sin(2.0 * phase + 0.6)),
        scale=HEAD_BASE_SCALE * (1.0 + 0.3 * math.sin(phase + 1.2)),
        roll_deg=28.0 * math.sin(2.0 * phase),
    )
    right = DemoFacePose(
        center=(470.0 - 35.0 * math.sin(phase), 240.0 + 40.0 * math.sin(2.0 * phase + 2.2)),
        scale=HEAD_BASE_SCALE * (1.0 - 0.3 * math.sin(phase + 1.2)),
        roll_deg=-26.0 * math.sin(3.0 * phase + 0.9),
    )
    return left, right


def _background(width: int, height: int) -> np.ndarray:
    """A calm studio-like backdrop: a vertical teal-to-peach gradient with soft light spots."""
    top = np.array([86, 130, 160], np.float32)
    bottom = np.array([228, 190, 168], np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    image = np.broadcast_to(top + (bottom - top) * ramp, (height, width, 3)).copy()
    spots = np.zeros((height, width), np.float32)
    rng = np.random.default_rng(7)
    for _ in range(16):
        center = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        cv2.circle(spots, center, int(rng.uniform(18, 60)), float(rng.uniform(0.10, 0.25)), -1, cv2.LINE_AA)
    blurred = cv2.GaussianBlur(spots, (0, 0), 9.0)[..., None]
    image += (255.0 - image) * blurred
    return np.clip(image, 0, 255).astype(np.uint8)


def _feathered_mask(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, MASK_CENTER, MASK_AXES, 0.0, 0.0, 360.0, 1.0, -1, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), MASK_FEATHER_SIGMA)


class _Head:
    """One head photo with its mask, drawn at any pose by a single affine warp of its footprint."""

    def __init__(self, image_rgb: np.ndarray, pivot: tuple[float, float], photo_roll_deg: float) -> None:
        self.image = image_rgb.astype(np.float32)
        self.mask = _feathered_mask(*image_rgb.shape[:2])
        self.pivot = pivot
        self.photo_roll_deg = photo_roll_deg

    def placement(self, pose: DemoFacePose) -> np.ndarray:
        """The 2x3 affine matrix from photo pixels to frame pixels for `pose`."""
        # getRotationMatrix2D turns counter-clockwise on screen for positive angles.
        matrix = cv2.getRotationMatrix2D(self.pivot, self.photo_roll_deg - pose.roll_deg, pose.scale)
        matrix[:, 2] += np.array(pose.center) - np.array(self.pivot)
        return matrix

    def draw(self, canvas: np.ndarray, pose: DemoFacePose, image: np.ndarray | None = None) -> None:
        """Draw the head at `pose`; `image` replaces the photo for this frame (same size)."""
        photo = self.image if image is None else image.astype(np.float32)
        matrix = self.placement(pose)
        height, width = self.mask.shape
        corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], np.float64)
        mapped = corners @ matrix.T
        x0, y0 = np.maximum(np.floor(mapped.min(axis=0)).astype(int), 0)
        x1 = min(int(np.ceil(mapped[:, 0].max())), canvas.shape[1])
        y1 = min(int(np.ceil(mapped[:, 1].max())), canvas.shape[0])
        if x1 <= x0 or y1 <= y0:
            return
        matrix[:, 2] -= (x0, y0)
        size = (x1 - x0, y1 - y0)
        head = cv2.warpAffine(photo, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(self.mask, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
        region = canvas[y0:y1, x0:x1].astype(np.float32)
        canvas[y0:y1, x0:x1] = (region + (head - region) * alpha + 0.5).astype(np.uint8)


def _twin(original: np.ndarray) -> np.ndarray:
    """The second head: the photo mirrored and graded cooler."""
    return np.clip(cv2.flip(original, 1).astype(np.float32) * SECOND_HEAD_GRADE, 0, 255).astype(np.uint8)


def load_demo_heads() -> tuple[np.ndarray, np.ndarray]:
    """The two head photos (RGB): the original and its mirrored, cooler-graded twin."""
    data = np.fromfile(str(HEAD_IMAGE), np.uint8) if HEAD_IMAGE.is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None else None
    if image is None:
        raise SourceError(f"demo imagery {HEAD_IMAGE} is missing or unreadable; reinstall arfilter "
                          f"or pass --source with a camera index, a video, an image or a folder")
    original = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return original, _twin(original)


class DemoRenderer:
    """Draws demo frames; separate from the source so tests and tools can render any index."""

    def __init__(self) -> None:
        original, twin = load_demo_heads()
        width = original.shape[1]
        self._heads = (_Head(original, HEAD_PIVOT, HEAD_PHOTO_ROLL_DEG),
                       _Head(twin, (width - HEAD_PIVOT[0], HEAD_PIVOT[1]), -HEAD_PHOTO_ROLL_DEG))
        self._expressions = ExpressionWarper(original, load_head_landmarks())
        self._background = _background(FRAME_WIDTH, FRAME_HEIGHT)

    def render(self, index: int) -> np.ndarray:
        canvas = self._background.copy()
        for head_index, (head, pose) in enumerate(zip(self._heads, demo_face_poses(index))):
            strength = demo_expression_strength(index, head_index)
            image = None
            if strength > 0.0:
                image = self._expressions.render(strength)
                image = _twin(image) if head_index == 1 else image
            head.draw(canvas, pose, image)
        return canvas


def demo_expression_strength(index: int, head_index: int) -> float:
    """How astonished demo head `head_index` looks in frame `index` (0..1): each head smiles
    for 3 s (as photographed), then is astonished for 3 s; the second head runs 1.5 s ahead,
    so a label changes somewhere every 1.5 s. A whole number of cycles fits the loop."""
    return expression_strength(index / DEMO_FPS, EXPRESSION_PERIOD_S, offset_s=1.5 * head_index)
