"""Draw an RGBA sprite onto a frame, scaled, turned and faded, in place.

Every overlay (the plain emoji overlay and every filter-pack layer) goes through
`composite_sprite`, so there is one place that gets the maths and the speed right:

- Only the destination rectangle the turned sprite can touch (its region of interest, ROI) is
  worked on: one `cv2.warpAffine` renders the sprite straight into an ROI-sized buffer and the
  blend runs with OpenCV's saturating uint8 arithmetic on that ROI. Nothing frame-sized is
  allocated, so the cost follows the size of the sprite on screen, not the size of the frame.
- Sprites are warped with premultiplied alpha. Interpolating straight alpha mixes the colour of
  fully transparent pixels (often black) into the edges and draws a dark fringe around every
  sprite; premultiplied colour has no such colour to leak.
- A `Sprite` keeps a small mip pyramid. Bilinear warping reads only four source pixels per
  output pixel, so shrinking a 256 px sprite to 40 px straight from full size would skip most
  of it and shimmer as the face moves; warping from the level just above the target size keeps
  every drawn sprite smooth.

Prepare a `Sprite` once and reuse it when drawing the same image every frame; passing a plain
array works too but premultiplies it on every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

# Pyramid levels stop at this size: smaller sprites are not worth a level of their own.
_SMALLEST_LEVEL_PX = 8


@dataclass(frozen=True)
class Sprite:
    """An RGBA image prepared for fast repeated drawing.

    `levels[0]` is the full-size image with premultiplied alpha; each further level is half the
    size of the one before (area-averaged), down to about 8 px.
    """

    levels: tuple[np.ndarray, ...]

    @property
    def width(self) -> int:
        return int(self.levels[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.levels[0].shape[0])

    @classmethod
    def from_rgba(cls, rgba: np.ndarray) -> Sprite:
        """Prepare a straight-alpha (H, W, 4) uint8 image."""
        if not isinstance(rgba, np.ndarray) or rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
            described = f"{rgba.dtype} array of shape {rgba.shape}" if isinstance(rgba, np.ndarray) else type(rgba).__name__
            raise ValueError(f"a sprite must be an RGBA uint8 array of shape (H, W, 4), got a {described}")
        if rgba.shape[0] == 0 or rgba.shape[1] == 0:
            raise ValueError(f"a sprite must have at least one pixel, got shape {rgba.shape}")
        levels = [cv2.cvtColor(np.ascontiguousarray(rgba), cv2.COLOR_RGBA2mRGBA)]
        while min(levels[-1].shape[:2]) >= 2 * _SMALLEST_LEVEL_PX:
            height, width = levels[-1].shape[:2]
            levels.append(cv2.resize(levels[-1], (width // 2, height // 2), interpolation=cv2.INTER_AREA))
        return cls(levels=tuple(levels))

    def level_for_width(self, width_px: float) -> np.ndarray:
        """The smallest level at least `width_px` wide (the full image when drawn larger)."""
        chosen = self.levels[0]
        for level in self.levels[1:]:
            if level.shape[1] < width_px:
                break
            chosen = level
        return chosen


def composite_sprite(
    canvas: np.ndarray,
    sprite_rgba: np.ndarray | Sprite,
    center_xy: tuple[float, float] | np.ndarray,
    width_px: float,
    angle_deg: float,
    opacity: float = 1.0,
    squash: float = 1.0,
    visibility: Callable[[tuple[int, int, int, int]], np.ndarray] | None = None,
) -> None:
    """Alpha-blend a sprite onto `canvas` (RGB uint8, changed in place).

    The sprite is scaled so that it is `width_px` wide (keeping its aspect ratio), centred on
    `center_xy` (x, y in canvas pixels, pixel centres at whole numbers), turned by `angle_deg`
    (positive turns clockwise on screen, the same convention as `FaceResult.roll_deg`) and
    blended with its own alpha times `opacity`. `squash` narrows it along its own x axis
    (before turning), as a turned face foreshortens what it wears. `visibility`, given the
    canvas box (x0, y0, x1, y1) the sprite touches, returns how much of it shows there (uint8,
    255 = all): the head hiding a prop that passes behind it (arfilter.render.occlusion).
    Parts outside the canvas are clipped; a sprite that is entirely off-screen, has no size or no opacity, or a non-finite position, draws
    nothing.
    """
    if not isinstance(canvas, np.ndarray) or canvas.dtype != np.uint8 or canvas.ndim != 3 or canvas.shape[2] != 3:
        described = f"{canvas.dtype} array of shape {canvas.shape}" if isinstance(canvas, np.ndarray) else type(canvas).__name__
        raise ValueError(f"the canvas must be an RGB uint8 array of shape (H, W, 3), got a {described}")
    sprite = sprite_rgba if isinstance(sprite_rgba, Sprite) else Sprite.from_rgba(sprite_rgba)
    center_x, center_y = float(center_xy[0]), float(center_xy[1])
    opacity = min(float(opacity), 1.0)
    if not (math.isfinite(center_x) and math.isfinite(center_y) and math.isfinite(width_px) and math.isfinite(angle_deg)):
        return
    if width_px <= 0 or not opacity > 0:
        return

    height_px = width_px * sprite.height / sprite.width
    unsquashed_width = width_px
    width_px = width_px * min(max(float(squash), 0.05), 1.0)
    cos_angle, sin_angle = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    # Half extents of the turned sprite's bounding box, plus a pixel for the bilinear edge.
    half_x = 0.5 * (abs(cos_angle) * width_px + abs(sin_angle) * height_px) + 1.0
    half_y = 0.5 * (abs(sin_angle) * width_px + abs(cos_angle) * height_px) + 1.0
    canvas_height, canvas_width = canvas.shape[:2]
    x0 = max(math.floor(center_x - half_x), 0)
    y0 = max(math.floor(center_y - half_y), 0)
    x1 = min(math.ceil(center_x + half_x) + 1, canvas_width)
    y1 = min(math.ceil(center_y + half_y) + 1, canvas_height)
    if x1 <= x0 or y1 <= y0:
        return

    level = sprite.level_for_width(unsquashed_width)
    level_height, level_width = level.shape[:2]
    scale_x = width_px / level_width
    scale_y = height_px / level_height
    # Sprite pixel (u, v) -> ROI pixel: centre the sprite, scale, turn, move to the anchor.
    linear = np.array(
        [[cos_angle * scale_x, -sin_angle * scale_y], [sin_angle * scale_x, cos_angle * scale_y]], dtype=np.float64
    )
    sprite_center = np.array([(level_width - 1) / 2.0, (level_height - 1) / 2.0])
    translation = np.array([center_x - x0, center_y - y0]) - linear @ sprite_center
    matrix = np.hstack([linear, translation[:, None]])
    warped = cv2.warpAffine(
        level, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )

    if opacity < 1.0:
        # Premultiplied: fading scales colour and alpha alike.
        warped = cv2.convertScaleAbs(warped, alpha=opacity)
    if visibility is not None:
        scale_premultiplied(warped, visibility((x0, y0, x1, y1)))
    blend_premultiplied(canvas[y0:y1, x0:x1], warped)


def scale_premultiplied(rgba: np.ndarray, factor: np.ndarray) -> None:
    """Scale premultiplied `rgba` (H, W, 4 uint8, in place) by a uint8 (H, W) `factor` (255 = 1):
    coverage, visibility or opacity per pixel, applied to colour and alpha alike."""
    cv2.multiply(rgba, cv2.merge([factor] * 4), dst=rgba, scale=1.0 / 255.0)


def blend_premultiplied(roi: np.ndarray, rgba: np.ndarray, mode: str = "normal") -> None:
    """Blend premultiplied `rgba` onto the RGB uint8 `roi` of the same size (in place).

    `normal` is "over": roi * (1 - alpha) + colour. `multiply` darkens like ink:
    roi * (1 - alpha) + roi * colour, so white leaves the roi as it is. OpenCV's saturating uint8
    arithmetic does this without float temporaries (numpy channel slices of the RGBA buffer
    would be strided copies, several times slower).
    """
    colour = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)
    if mode == "multiply":
        colour = cv2.multiply(roi, colour, scale=1.0 / 255.0)
    inverse_alpha = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(rgba, 3)), cv2.COLOR_GRAY2RGB)
    cv2.add(cv2.multiply(roi, inverse_alpha, scale=1.0 / 255.0), colour, dst=roi)


@dataclass(frozen=True)
class PopFrame:
    """How the outgoing and the incoming overlay are drawn at one moment of a label change:
    each as (size factor, opacity); an opacity of 0 means "not drawn"."""

    outgoing: tuple[float, float]
    incoming: tuple[float, float]


# The outgoing sprite is gone by this point of the change; the incoming one starts there.
_POP_HANDOVER = 0.35
# Size of the incoming sprite as it appears, and how far its ease-out overshoots
# ("back" easing constant: 2.5 grows to about 1.07 before settling at 1).
_POP_START_SCALE = 0.6
_POP_BACK = 2.5


def pop_frame(transition: float) -> PopFrame:
    """The pop that replaces one overlay with another, `transition` running 0 -> 1.

    A lens changes its sticker with a quick pop, not a cross-fade: a cross-fade shows two
    sprites at half opacity over each other, a double exposure. Here the old sprite shrinks
    and fades out over the first third, then the new one grows from 60% with a small
    overshoot and is fully opaque from 60% of the way on, so the two overlap only faintly
    around the handover.
    """
    t = min(max(float(transition), 0.0), 1.0)
    if t < _POP_HANDOVER:
        out = t / _POP_HANDOVER
        return PopFrame(outgoing=(1.0 - 0.3 * out, 1.0 - out * out), incoming=(_POP_START_SCALE, 0.0))
    grow = (t - _POP_HANDOVER) / (1.0 - _POP_HANDOVER)
    ease = 1.0 + (_POP_BACK + 1.0) * (grow - 1.0) ** 3 + _POP_BACK * (grow - 1.0) ** 2
    scale = _POP_START_SCALE + (1.0 - _POP_START_SCALE) * ease
    return PopFrame(outgoing=(0.7, 0.0), incoming=(scale, min(1.0, grow / 0.4)))
