"""One layer of a filter pack: a sprite and where it sits on a face, or a texture on the face mesh.

Images are checked at load and decoded on first use. Sprite placement is geometry only (anchor,
size, turn, foreshortening with yaw and pitch, and keeping a prop inside the frame); drawing is
`arfilter.render.overlay.composite_sprite` for sprites and `arfilter.render.mesh` for meshes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from arfilter.errors import PackError
from arfilter.render.mesh import MeshStyle
from arfilter.render.overlay import Sprite
from arfilter.vision.geometry import FaceGeometry

SCALE_REFERENCES = ("interocular", "face_width")
# Larger sprites only cost memory and load time: no face on screen needs more pixels.
MAX_SPRITE_SIDE_PX = 2048

@dataclass(frozen=True)
class Layer:
    """One sprite of a pack, and how it sits on the face.

    `behind_head`: the sprite goes round the head (glasses arms, a mask's ribbon), so its far
    half disappears behind the head as it turns (arfilter.render.occlusion). `when`: the
    expressions that must all be on for it to show (arfilter.core.expressions; empty: always).
    """

    image: str  # as written in the manifest, relative to the pack folder
    anchor_indices: tuple[int, ...]  # landmark indices whose mean is the anchor point
    scale_ref: str  # "interocular" or "face_width"
    scale: float
    offset: tuple[float, float]
    rotate: bool
    png: PackImage = field(repr=False, compare=False)
    behind_head: bool = False
    when: tuple[str, ...] = ()

    @property
    def sprite(self) -> Sprite:
        """The prepared sprite, decoded on first use (see `FilterPack.prepare`)."""
        return self.png.sprite()

    def images(self) -> tuple[PackImage, ...]:
        return (self.png,)


@dataclass(frozen=True)
class MeshLayer:
    """A texture painted in the face mesh's UV space, drawn onto the face triangle by triangle
    (arfilter.render.mesh): face paint, masks, tears. `envelope`, if any, is a second texture
    whose alpha bounds where a scrolling texture shows; `when` as for `Layer`."""

    texture: str  # as written in the manifest
    style: MeshStyle
    png: PackImage = field(repr=False, compare=False)
    envelope: PackImage | None = field(default=None, repr=False, compare=False)
    when: tuple[str, ...] = ()

    def images(self) -> tuple[PackImage, ...]:
        return (self.png,) if self.envelope is None else (self.png, self.envelope)


PackLayer = Layer | MeshLayer


class PackImage:
    """One PNG of a pack: checked when the pack loads, decoded once when first drawn.

    Shared by every layer that names the same file, so a PNG used by three layers is decoded once.
    """

    def __init__(self, path: Path, label: str, size: tuple[int, int]) -> None:
        self.path = path
        self.label = label  # how error messages name it: '<manifest>: layers[i].image for ...'
        self.size = size
        self._sprite: Sprite | None = None
        self._failure: str | None = None  # why decoding failed: a broken PNG is decoded once, not per request

    @classmethod
    def from_sprite(cls, sprite: Sprite, name: str = "sprite.png") -> PackImage:
        """An image already in memory (tests, packs drawn by code)."""
        image = cls(Path(name), name, (sprite.width, sprite.height))
        image._sprite = sprite
        return image

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]

    def sprite(self) -> Sprite:
        if self._failure is not None:
            raise PackError(self._failure)
        if self._sprite is None:
            try:
                with Image.open(self.path) as opened:
                    rgba = np.asarray(opened.convert("RGBA"))
            except (OSError, ValueError, Image.DecompressionBombError) as error:
                self._failure = f"{self.label}: cannot decode PNG {self.path} ({error})"
                raise PackError(self._failure) from None
            self._sprite = Sprite.from_rgba(rgba)
        return self._sprite


@dataclass(frozen=True)
class Placement:
    """Where a layer lands on one face, in frame pixels and degrees."""

    center_xy: tuple[float, float]
    width_px: float
    angle_deg: float
    squash: float = 1.0  # horizontal foreshortening of a turned face: width times this, height unchanged


# A face turned 60 degrees away shows half its width; past that the sprite stays at half width
# rather than becoming a sliver.
MIN_SQUASH = 0.5


def layer_placement(layer: Layer, landmarks: np.ndarray, geometry: FaceGeometry | None = None) -> Placement:
    """Place `layer` on the face described by (468, 2 or 3) `landmarks`.

    The anchor is the mean of the layer's landmarks; the offset is measured in reference lengths
    along the face's own axes (x along the eye line from image-left to image-right eye, y at
    right angles to it, down the face), so it turns with the head, and it is foreshortened
    as the face does: by the cosine of the yaw along the eye line and of the pitch down the
    face, so a hat offset above the forehead stays on the forehead when the head nods. The
    reference lengths are measured in 3D (`FaceGeometry`), so sprites keep their size on a
    turned face, and the sprite itself is squashed by the yaw's cosine. Pass `geometry` when
    placing several layers on one face to measure it once.
    """
    if geometry is None:
        geometry = FaceGeometry.from_landmarks(landmarks)
    reference = geometry.interocular if layer.scale_ref == "interocular" else geometry.face_width
    anchor = landmarks[list(layer.anchor_indices), :2].mean(axis=0)
    cos_roll, sin_roll = math.cos(math.radians(geometry.roll_deg)), math.sin(math.radians(geometry.roll_deg))
    cos_yaw = max(MIN_SQUASH, math.cos(math.radians(geometry.yaw_deg)))
    cos_pitch = max(MIN_SQUASH, math.cos(math.radians(geometry.pitch_deg)))
    along, down = layer.offset[0] * reference * cos_yaw, layer.offset[1] * reference * cos_pitch
    center_x = float(anchor[0]) + along * cos_roll - down * sin_roll
    center_y = float(anchor[1]) + along * sin_roll + down * cos_roll
    return Placement(
        center_xy=(center_x, center_y),
        width_px=layer.scale * reference,
        angle_deg=geometry.roll_deg if layer.rotate else 0.0,
        squash=cos_yaw,
    )


# A prop may lose at most this share of its size off the frame before it is pulled back in...
MAX_CUT_FRACTION = 1.0 / 3.0
# ...by moving at most this share of its size, and shrinking to no less than this.
MAX_EDGE_SHIFT = 0.35
MIN_EDGE_SCALE = 0.75


def fit_in_frame(center_xy: tuple[float, float], size_px: tuple[float, float],
                 frame_size: tuple[int, int]) -> tuple[tuple[float, float], float]:
    """Where to draw a prop that the frame edge would cut by more than a third, and how much
    smaller: (centre, scale). A hat on a close-up whose forehead touches the top edge slides
    down and shrinks a little, within limits (a prop never leaves its face); as the face
    moves back in, the prop follows it back, since nothing is remembered between frames.
    """
    width, height = size_px
    scale = 1.0
    center = [float(center_xy[0]), float(center_xy[1])]
    for axis, (extent, limit) in enumerate(((width, frame_size[0]), (height, frame_size[1]))):
        if extent <= 0:
            continue
        low, high = center[axis] - extent / 2, center[axis] + extent / 2
        cut = max(0.0, -low) + max(0.0, high - limit)
        allowed = MAX_CUT_FRACTION * extent
        if cut <= allowed:
            continue
        shift = min(cut - allowed, MAX_EDGE_SHIFT * extent)
        center[axis] += shift if low < 0 else -shift
        remaining = cut - allowed - shift
        if remaining > 0:
            scale = min(scale, max(MIN_EDGE_SCALE, 1.0 - 2.0 * remaining / extent))
    return (center[0], center[1]), scale



def turned_extent(width: float, height: float, angle_deg: float) -> tuple[float, float]:
    """Width and height of the upright box around a width x height sprite turned by angle_deg."""
    cos_angle, sin_angle = abs(math.cos(math.radians(angle_deg))), abs(math.sin(math.radians(angle_deg)))
    return cos_angle * width + sin_angle * height, sin_angle * width + cos_angle * height

