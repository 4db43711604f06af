"""Build the built-in filter packs under arfilter/assets/packs (run once; the PNGs are committed).

    python3 scripts/make_packs.py                      # fetches @iconify-json/noto with `npm pack`
    python3 scripts/make_packs.py --noto PATH          # an unpacked or packed @iconify-json/noto
    python3 scripts/make_packs.py --skip-emoji --pack facepaint   # one drawn pack only

- `emoji`: the seven Noto emoji (Apache-2.0, Google) rasterised with resvg, worn like a mask.
- `shades` and `party`: drawn here with Pillow and NumPy at 4x the output size and area-averaged
  down, with gradients, highlights and soft shadows so they read as lenses rather than stickers.
  The glasses' arms are layers of their own, marked behind_head, so the far arm goes behind
  the head as it turns.
- `facepaint`, `masquerade` and `reactions`: mesh textures drawn the same way in the face
  mesh's UV space (MediaPipe's UV layout, read from arfilter's face_geometry data), plus
  sprites; `facepaint` changes colours with the emotion and cries running tears when sad,
  `masquerade` ties its mask with ribbons behind the head, `reactions` answers expressions
  (`when = "mouth_open"` and so on).

Needs `pip install resvg-py` and `npm` for the emoji; neither is a runtime dependency.

Every layer is designed in the units the pack manifest uses: lengths in reference lengths
(interocular or face width) with the layer's anchor at (0, 0), x along the eye line and y down
the face. A layer's drawing box therefore gives its manifest `scale` (box width) and `offset`
(box centre) directly, so the PNG and the manifest cannot disagree.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # this checkout's arfilter: the face mesh's UV layout and the labels

from arfilter.render.mesh import OPEN_REGIONS, face_mesh  # noqa: E402
from arfilter.vision.geometry import FACE_OVAL_INDICES  # noqa: E402

SUPERSAMPLE = 4
# Output pixels per reference length: enough for a face filling a 1080p frame.
PIXELS_PER_UNIT = {"interocular": 160.0, "face_width": 300.0}
EMOJI_SIZE_PX = 256

NOTO_EMOJI = {
    "angry": "enraged-face",
    "disgust": "nauseated-face",
    "fear": "fearful-face",
    "happy": "grinning-face-with-smiling-eyes",
    "neutral": "neutral-face",
    "sad": "crying-face",
    "surprise": "astonished-face",
}

Colour = tuple[float, float, float]
Point = tuple[float, float]


def hex_colour(text: str) -> Colour:
    return tuple(int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


class Sketch:
    """A premultiplied float RGBA drawing surface addressed in face units.

    Shapes are coverage masks (float 0..1) drawn by Pillow at SUPERSAMPLE x the output size;
    `paint` composites a colour or gradient through a mask. `to_image` area-averages down to
    the output size, which is what gives the smooth anti-aliased edges.
    """

    def __init__(self, box: tuple[float, float, float, float], pixels_per_unit: float) -> None:
        self.box = box
        self.unit = pixels_per_unit * SUPERSAMPLE
        self.width = round((box[2] - box[0]) * pixels_per_unit) * SUPERSAMPLE
        self.height = round((box[3] - box[1]) * pixels_per_unit) * SUPERSAMPLE
        self.rgba = np.zeros((self.height, self.width, 4), np.float32)
        ys, xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        self.xs = (xs + 0.5) / self.unit + box[0]
        self.ys = (ys + 0.5) / self.unit + box[1]

    def px(self, points: list[Point]) -> list[tuple[float, float]]:
        return [((x - self.box[0]) * self.unit, (y - self.box[1]) * self.unit) for x, y in points]

    def length(self, units: float) -> float:
        return units * self.unit

    def mask(self, draw: Callable[[ImageDraw.ImageDraw], None]) -> np.ndarray:
        image = Image.new("L", (self.width, self.height), 0)
        draw(ImageDraw.Draw(image))
        return np.asarray(image, np.float32) / 255.0

    def polygon(self, points: list[Point]) -> np.ndarray:
        return self.mask(lambda draw: draw.polygon(self.px(points), fill=255))

    def ellipse(self, center: Point, radius_x: float, radius_y: float | None = None) -> np.ndarray:
        radius_y = radius_x if radius_y is None else radius_y
        corners = self.px([(center[0] - radius_x, center[1] - radius_y), (center[0] + radius_x, center[1] + radius_y)])
        return self.mask(lambda draw: draw.ellipse(corners, fill=255))

    def line(self, points: list[Point], width: float) -> np.ndarray:
        """A polyline with round joints and caps."""
        pixels = self.px(points)
        radius = self.length(width) / 2

        def draw(canvas: ImageDraw.ImageDraw) -> None:
            canvas.line(pixels, fill=255, width=max(1, round(2 * radius)), joint="curve")
            for x, y in (pixels[0], pixels[-1]):
                canvas.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)

        return self.mask(draw)

    def blur(self, mask: np.ndarray, radius: float) -> np.ndarray:
        sigma = max(self.length(radius), 0.5)
        return cv2.GaussianBlur(mask, (0, 0), sigma)

    def shift(self, mask: np.ndarray, dx: float, dy: float) -> np.ndarray:
        matrix = np.array([[1, 0, self.length(dx)], [0, 1, self.length(dy)]], np.float32)
        return cv2.warpAffine(mask, matrix, (self.width, self.height))

    def ring(self, mask: np.ndarray, width: float) -> np.ndarray:
        """The band of `mask` within `width` of its edge (for frames and rims)."""
        kernel_size = max(3, 2 * round(self.length(width)) + 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
        return np.clip(mask - cv2.erode(mask, kernel), 0.0, 1.0)

    def grow(self, mask: np.ndarray, width: float) -> np.ndarray:
        kernel_size = max(3, 2 * round(self.length(width)) + 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
        return cv2.dilate(mask, kernel)

    def linear(self, start: Point, end: Point, colours: list[Colour]) -> np.ndarray:
        """Colours spread evenly from `start` to `end` (clamped beyond)."""
        direction = np.array(end) - np.array(start)
        t = ((self.xs - start[0]) * direction[0] + (self.ys - start[1]) * direction[1]) / float(direction @ direction)
        return self._ramp(np.clip(t, 0.0, 1.0), colours)

    def radial(self, center: Point, radius: float, colours: list[Colour]) -> np.ndarray:
        t = np.hypot(self.xs - center[0], self.ys - center[1]) / radius
        return self._ramp(np.clip(t, 0.0, 1.0), colours)

    @staticmethod
    def _ramp(t: np.ndarray, colours: list[Colour]) -> np.ndarray:
        stops = np.linspace(0.0, 1.0, len(colours))
        return np.stack([np.interp(t, stops, [colour[c] for colour in colours]) for c in range(3)], axis=-1).astype(np.float32)

    def paint(self, mask: np.ndarray, colour: Colour | np.ndarray, opacity: float = 1.0) -> None:
        alpha = np.clip(mask, 0.0, 1.0)[:, :, None] * opacity
        colour_array = np.asarray(colour, np.float32)
        self.rgba[:, :, :3] = colour_array * alpha + self.rgba[:, :, :3] * (1.0 - alpha)
        self.rgba[:, :, 3:] = alpha + self.rgba[:, :, 3:] * (1.0 - alpha)

    def shadow(self, mask: np.ndarray, dx: float = 0.0, dy: float = 0.03, blur: float = 0.03, opacity: float = 0.35) -> None:
        """A soft shadow cast on the face, drawn under the shape that casts it."""
        self.paint(self.blur(self.shift(mask, dx, dy), blur), (0.0, 0.0, 0.0), opacity)

    def to_image(self) -> Image.Image:
        size = (self.width // SUPERSAMPLE, self.height // SUPERSAMPLE)
        small = cv2.resize(self.rgba, size, interpolation=cv2.INTER_AREA)
        alpha = small[:, :, 3:]
        colour = np.where(alpha > 1e-6, small[:, :, :3] / np.maximum(alpha, 1e-6), 0.0)
        straight = np.concatenate([colour, alpha], axis=-1)
        return Image.fromarray(np.clip(straight * 255.0 + 0.5, 0, 255).astype(np.uint8), "RGBA")


# ---------------------------------------------------------------- shapes (in face units)


def heart_points(center: Point, size: float, count: int = 160) -> list[Point]:
    points = []
    for t in np.linspace(0, 2 * math.pi, count, endpoint=False):
        x = 16 * math.sin(t) ** 3
        y = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
        points.append((center[0] + x * size / 32, center[1] + (y + 2.5) * size / 32))
    return points


def star_points(center: Point, outer: float, inner: float, tips: int = 5, turn_deg: float = -90.0) -> list[Point]:
    points = []
    for i in range(2 * tips):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(turn_deg + i * 180.0 / tips)
        points.append((center[0] + radius * math.cos(angle), center[1] + radius * math.sin(angle)))
    return points


def drop_points(tip: Point, height: float, width: float, count: int = 120) -> list[Point]:
    """A tear drop hanging from `tip` (its point), `height` long and `width` wide."""
    points = []
    for t in np.linspace(0, 2 * math.pi, count, endpoint=False):
        x = math.sin(t) * math.sin(t / 2) ** 1.3
        y = (1 - math.cos(t)) / 2
        points.append((tip[0] + x * width / 1.2, tip[1] + y * height))
    return points


def superellipse_points(center: Point, radius_x: float, radius_y: float, power: float = 2.5, count: int = 160) -> list[Point]:
    points = []
    for t in np.linspace(0, 2 * math.pi, count, endpoint=False):
        c, s = math.cos(t), math.sin(t)
        points.append(
            (
                center[0] + radius_x * math.copysign(abs(c) ** (2 / power), c),
                center[1] + radius_y * math.copysign(abs(s) ** (2 / power), s),
            )
        )
    return points


def mirrored(points: list[Point]) -> list[Point]:
    return [(-x, y) for x, y in points]


# ---------------------------------------------------------------- shared glossy pieces


def glossy_drop(sketch: Sketch, tip: Point, height: float, width: float, colours: tuple[str, str]) -> None:
    shape = sketch.polygon(drop_points(tip, height, width))
    sketch.shadow(shape, dy=0.02, blur=0.02, opacity=0.25)
    sketch.paint(shape, sketch.linear(tip, (tip[0], tip[1] + height), [hex_colour(colours[0]), hex_colour(colours[1])]), 0.92)
    sketch.paint(sketch.ring(shape, 0.012), hex_colour(colours[1]), 0.6)
    shine = sketch.ellipse((tip[0] - width * 0.18, tip[1] + height * 0.62), width * 0.09, height * 0.16)
    sketch.paint(sketch.blur(shine, 0.006), (1.0, 1.0, 1.0), 0.85)


def sparkle(sketch: Sketch, center: Point, size: float, colour: str = "#fff6c8") -> None:
    """A four-pointed twinkle with a soft glow."""
    star = sketch.polygon(star_points(center, size, size * 0.22, tips=4, turn_deg=0.0))
    sketch.paint(sketch.blur(star, size * 0.35), hex_colour(colour), 0.7)
    sketch.paint(star, (1.0, 1.0, 1.0), 1.0)


# ---------------------------------------------------------------- shades pack
# Anchor: eyes (the midpoint of both eye contours, at the eyes' own depth: landmark 6 on the nose
# bridge stands in front of them and slides down the nose when the head pitches); unit: interocular.
# Eye centres are at x = -0.5 and +0.5.

GLASSES_BOX = (-1.02, -0.5, 1.02, 0.5)
# Lenses are designed around eye centres at x = -0.5 and 0.5, then worn a little larger so the
# frame reaches the sides of the face (about 2.2 interocular distances wide).
GLASSES_ZOOM = 1.12


def draw_lenses(
    sketch: Sketch,
    lens: list[Point],
    tint: tuple[str, str],
    frame: tuple[str, str],
    lens_opacity: float = 0.86,
    frame_width: float = 0.055,
    bridge_y: float = -0.08,
) -> None:
    """Two mirrored lenses with a frame, bridge, temple stubs, reflections and a cast shadow."""
    left = sketch.polygon(lens)
    right = sketch.polygon(mirrored(lens))
    lenses = np.maximum(left, right)
    xs = [x for x, _ in lens]
    ys = [y for _, y in lens]
    inner_x, outer_x = max(xs), min(xs)
    top, bottom = min(ys), max(ys)
    rim = sketch.grow(lenses, frame_width / 2)
    bridge = sketch.line([(inner_x - 0.02, bridge_y), (0.0, bridge_y - 0.05), (-inner_x + 0.02, bridge_y)], frame_width * 0.9)
    temple_y = top + 0.25 * (bottom - top)
    temples = np.maximum(
        sketch.line([(outer_x + 0.02, temple_y), (GLASSES_BOX[0] + 0.04, temple_y - 0.02)], frame_width * 0.8),
        sketch.line([(-outer_x - 0.02, temple_y), (GLASSES_BOX[2] - 0.04, temple_y - 0.02)], frame_width * 0.8),
    )
    structure = np.maximum(np.maximum(rim, bridge), temples)
    sketch.shadow(structure, dy=0.05, blur=0.04, opacity=0.3)
    # Tinted glass: darker at the top like gradient sunglasses, a little see-through.
    sketch.paint(lenses, sketch.linear((0.0, top), (0.0, bottom), [hex_colour(tint[0]), hex_colour(tint[1])]), lens_opacity)
    # Reflections: a broad soft sheen and a crisp diagonal streak across each lens.
    sheen = sketch.blur(sketch.ellipse((0.0, top), 2.0, (bottom - top) * 0.55), 0.05) * lenses
    sketch.paint(sheen, (1.0, 1.0, 1.0), 0.18)
    for side in (-1.0, 1.0):
        centre_x = side * (inner_x + outer_x) / 2
        streak = sketch.polygon(
            [
                (centre_x + 0.05 * side, top),
                (centre_x + 0.16 * side, top),
                (centre_x - 0.08 * side, bottom),
                (centre_x - 0.16 * side, bottom),
            ]
        )
        sketch.paint(sketch.blur(streak, 0.01) * lenses, (1.0, 1.0, 1.0), 0.22)
    lens_interior = np.clip(lenses - sketch.ring(lenses, frame_width / 2), 0.0, 1.0)
    frame_only = np.clip(structure - lens_interior, 0.0, 1.0)
    sketch.paint(frame_only, sketch.linear((0.0, top), (0.0, bottom), [hex_colour(frame[0]), hex_colour(frame[1])]))
    # A thin bright bevel along the top of the frame catches the light.
    bevel = np.clip(frame_only - sketch.shift(frame_only, 0.0, -0.012), 0.0, 1.0) * (sketch.ys < bridge_y + 0.02)
    sketch.paint(sketch.blur(bevel, 0.004), (1.0, 1.0, 1.0), 0.45)


# Frame colours (top, bottom) of each pair of glasses, shared by its arms.
SHADES_FRAMES = {
    "wayfarers": ("#15161a", "#2b2d33"),
    "hearts": ("#c4124f", "#8e0a38"),
    "round_blue": ("#c9ccd6", "#7d8291"),
    "visor_red": ("#1a0d0d", "#3c1111"),
    "stars": ("#7a3d00", "#b86200"),
    "round_ice": ("#dfe6ee", "#9aa6b5"),
    "over_the_rim": ("#2c3a1a", "#55682f"),
}


def shades_neutral(sketch: Sketch) -> None:
    lens = superellipse_points((-0.5, 0.02), 0.4, 0.27, power=3.2)
    lens = [(x, y + 0.06 * (y > 0.02) * (x + 0.5)) for x, y in lens]  # wayfarer: lower outer corners
    draw_lenses(sketch, lens, ("#10141c", "#3a4656"), SHADES_FRAMES["wayfarers"])


def shades_happy(sketch: Sketch) -> None:
    draw_lenses(sketch, heart_points((-0.5, -0.02), 0.8), ("#ff2f7d", "#ff9ac0"), SHADES_FRAMES["hearts"], 0.8)


def shades_sad(sketch: Sketch) -> None:
    lens = superellipse_points((-0.5, 0.03), 0.33, 0.33, power=2.0)
    draw_lenses(sketch, lens, ("#1b3f8f", "#6fa8ff"), SHADES_FRAMES["round_blue"], 0.72, frame_width=0.035)


def shades_angry(sketch: Sketch) -> None:
    # Sharp lenses whose inner top corners dip towards the nose, like a frown.
    lens = [(-0.93, -0.2), (-0.14, 0.01), (-0.16, 0.2), (-0.36, 0.27), (-0.8, 0.22), (-0.92, 0.05)]
    draw_lenses(sketch, lens, ("#5e0000", "#ff3b1f"), SHADES_FRAMES["visor_red"], 0.88, frame_width=0.06, bridge_y=0.04)


def shades_surprise(sketch: Sketch) -> None:
    draw_lenses(sketch, star_points((-0.5, 0.02), 0.44, 0.22), ("#ff8a00", "#ffe259"), SHADES_FRAMES["stars"], 0.82)


def shades_fear(sketch: Sketch) -> None:
    lens = superellipse_points((-0.5, 0.02), 0.38, 0.36, power=2.0)
    draw_lenses(sketch, lens, ("#a8e9ff", "#e9fbff"), SHADES_FRAMES["round_ice"], 0.55, frame_width=0.03)


def shades_disgust(sketch: Sketch) -> None:
    # Rectangular green lenses slid down the nose, for a look over the rims.
    lens = superellipse_points((-0.46, 0.0), 0.3, 0.15, power=4.0)
    draw_lenses(sketch, lens, ("#1d5c1b", "#8fd14f"), SHADES_FRAMES["over_the_rim"], 0.84, frame_width=0.045, bridge_y=-0.04)


TEAR_BOX = (-0.15, -0.05, 0.15, 0.45)


def shades_tear(sketch: Sketch) -> None:
    glossy_drop(sketch, (0.0, 0.0), 0.36, 0.2, ("#bfe6ff", "#2f8fe8"))


SWEAT_BOX = (-0.16, -0.06, 0.16, 0.4)


def shades_sweat(sketch: Sketch) -> None:
    glossy_drop(sketch, (0.0, -0.02), 0.34, 0.2, ("#e8f8ff", "#66c6ff"))


TWINKLE_BOX = (-0.3, -0.3, 0.3, 0.3)


def shades_twinkle(sketch: Sketch) -> None:
    sparkle(sketch, (0.0, 0.0), 0.26)
    sparkle(sketch, (0.19, 0.17), 0.1)


# ---------------------------------------------------------------- party pack
# Hats: anchor forehead_top (landmark 10, the top of the face mesh); unit: face width.
# The head's hair rises about 0.3 face widths above landmark 10, so hats sit there.


def party_cone_hat(sketch: Sketch) -> None:
    base_y, tip = -0.14, (0.1, -0.99)
    cone = sketch.polygon([(-0.3, base_y), tip, (0.32, base_y + 0.02)])
    cone = np.maximum(cone, sketch.ellipse((0.01, base_y + 0.01), 0.31, 0.06))
    sketch.shadow(cone, dy=0.04, blur=0.04, opacity=0.3)
    # Candy stripes: diagonal bands clipped to the cone.
    stripes = ((np.floor((sketch.ys - sketch.xs * 0.45) / 0.11) % 2) == 0).astype(np.float32)
    stripes = cv2.GaussianBlur(stripes, (0, 0), 1.5)
    sketch.paint(cone, hex_colour("#2bb7ff"))
    sketch.paint(cone * stripes, hex_colour("#ffdd33"))
    # Round it: light from the left (1 at the left edge, 0 at the right).
    light = np.clip((0.32 - sketch.xs) / 0.62, 0.0, 1.0)
    sketch.paint(cone * (1.0 - light), (0.0, 0.0, 0.15), 0.35)
    sketch.paint(cone * np.clip(light - 0.6, 0.0, 1.0) * 2.0, (1.0, 1.0, 1.0), 0.3)
    # Fluffy trim along the brim and a pom-pom on top.
    trim = np.zeros_like(cone)
    for i, x in enumerate(np.linspace(-0.3, 0.32, 11)):
        trim = np.maximum(trim, sketch.ellipse((x, base_y + 0.01 * i / 10 + 0.005), 0.055, 0.05))
    sketch.paint(trim, sketch.radial((0.0, base_y - 0.06), 0.4, [hex_colour("#ffffff"), hex_colour("#ffc2e0")]))
    pom = sketch.ellipse(tip, 0.1)
    sketch.paint(pom, sketch.radial((tip[0] - 0.03, tip[1] - 0.03), 0.13, [hex_colour("#ffe3f1"), hex_colour("#ff3d8b")]))
    # Confetti around the hat.
    rng = np.random.default_rng(7)
    palette = ["#ff3d8b", "#ffdd33", "#2bb7ff", "#6be36b", "#b56bff"]
    for i in range(14):
        x, y = rng.uniform(-0.55, 0.55), rng.uniform(-1.0, -0.2)
        if abs(x - 0.02) < 0.38 + (y + 0.14) * 0.3:
            continue
        angle = rng.uniform(0, math.pi)
        dx, dy = 0.035 * math.cos(angle), 0.035 * math.sin(angle)
        piece = sketch.line([(x - dx, y - dy), (x + dx, y + dy)], 0.025)
        sketch.paint(piece, hex_colour(palette[i % len(palette)]), 0.95)


PARTY_HAT_BOX = (-0.6, -1.14, 0.6, 0.01)


def party_crown(sketch: Sketch) -> None:
    base_y = -0.1
    outline = [(-0.38, base_y), (-0.45, -0.56), (-0.23, -0.34), (0.0, -0.66), (0.23, -0.34), (0.45, -0.56), (0.38, base_y)]
    crown = sketch.polygon(outline)
    band = sketch.polygon([(-0.39, base_y - 0.12), (0.39, base_y - 0.12), (0.38, base_y), (-0.38, base_y)])
    crown = np.maximum(crown, band)
    sketch.shadow(crown, dy=0.04, blur=0.04, opacity=0.3)
    gold = sketch.linear((-0.4, -0.7), (0.4, -0.1), [hex_colour("#fff1a6"), hex_colour("#f5b700"), hex_colour("#a86b00")])
    sketch.paint(crown, gold)
    sketch.paint(sketch.ring(crown, 0.018), hex_colour("#8a5600"), 0.8)
    sketch.paint(sketch.ring(band, 0.012), hex_colour("#8a5600"), 0.6)
    for x, y in [(-0.45, -0.56), (0.0, -0.66), (0.45, -0.56)]:
        ball = sketch.ellipse((x, y), 0.05)
        sketch.paint(ball, sketch.radial((x - 0.015, y - 0.015), 0.06, [hex_colour("#fffbe0"), hex_colour("#e0a000")]))
    for x, colour in [(-0.22, ("#ffb3c1", "#d1002f")), (0.0, ("#b3d9ff", "#0047c2")), (0.22, ("#c6ffb3", "#0f8f2a"))]:
        gem = sketch.polygon([(x, base_y - 0.11), (x + 0.05, base_y - 0.06), (x, base_y - 0.01), (x - 0.05, base_y - 0.06)])
        sketch.paint(gem, sketch.linear((x - 0.05, base_y - 0.1), (x + 0.05, base_y), [hex_colour(c) for c in colour]))
    sketch.paint(sketch.blur(sketch.ellipse((-0.22, -0.36), 0.05, 0.14), 0.02) * crown, (1.0, 1.0, 1.0), 0.5)
    sparkle(sketch, (-0.52, -0.74), 0.12)
    sparkle(sketch, (0.5, -0.84), 0.09)
    sparkle(sketch, (0.22, -0.88), 0.06)


def party_rain_cloud(sketch: Sketch) -> None:
    cloud = np.zeros((sketch.height, sketch.width), np.float32)
    for x, y, r in [(-0.28, -0.45, 0.17), (-0.08, -0.58, 0.22), (0.17, -0.53, 0.19), (0.34, -0.43, 0.14), (0.02, -0.4, 0.2)]:
        cloud = np.maximum(cloud, sketch.ellipse((x, y), r))
    sketch.paint(sketch.blur(cloud, 0.05), hex_colour("#3b4454"), 0.25)
    sketch.paint(cloud, sketch.linear((0.0, -0.8), (0.0, -0.25), [hex_colour("#cfd6e2"), hex_colour("#6c778a")]))
    sketch.paint(sketch.blur(sketch.ellipse((-0.12, -0.68), 0.16, 0.07), 0.03) * cloud, (1.0, 1.0, 1.0), 0.5)
    for x, y in [(-0.25, -0.24), (0.0, -0.18), (0.24, -0.25), (-0.13, -0.08), (0.13, -0.1)]:
        glossy_drop(sketch, (x, y), 0.1, 0.055, ("#d6efff", "#3d8fe0"))


CLOUD_BOX = (-0.55, -0.85, 0.55, 0.05)


def party_horns(sketch: Sketch) -> None:
    for side in (-1.0, 1.0):
        horn = [
            (side * 0.16, -0.12),
            (side * 0.26, -0.32),
            (side * 0.38, -0.5),
            (side * 0.46, -0.62),
            (side * 0.44, -0.45),
            (side * 0.4, -0.28),
            (side * 0.38, -0.1),
        ]
        shape = sketch.polygon(horn)
        sketch.shadow(shape, dy=0.03, blur=0.03, opacity=0.3)
        sketch.paint(shape, sketch.linear((side * 0.2, -0.1), (side * 0.46, -0.6), [hex_colour("#b30000"), hex_colour("#ff5a36")]))
        highlight = sketch.polygon([(side * 0.22, -0.14), (side * 0.3, -0.32), (side * 0.4, -0.5), (side * 0.27, -0.2)])
        sketch.paint(sketch.blur(highlight, 0.01) * shape, (1.0, 0.85, 0.8), 0.45)


HORNS_BOX = (-0.55, -0.7, 0.55, 0.0)

STEAM_BOX = (-0.32, -0.32, 0.32, 0.32)


def party_steam(sketch: Sketch) -> None:
    """Puffs of steam rising up and out from the image-left temple (mirrored for the other side)."""
    puffs = np.zeros((sketch.height, sketch.width), np.float32)
    for x, y, size in [(0.15, 0.17, 0.05), (0.0, 0.02, 0.075), (-0.17, -0.16, 0.1)]:
        cluster = np.zeros_like(puffs)
        for dx, dy, r in [(0.0, 0.0, 1.0), (-0.8, 0.3, 0.75), (0.8, 0.3, 0.75), (0.0, 0.55, 0.8), (0.45, -0.45, 0.6)]:
            cluster = np.maximum(cluster, sketch.ellipse((x + dx * size, y + dy * size), r * size))
        puffs = np.maximum(puffs, cluster)
    puffs = sketch.blur(puffs, 0.01)
    sketch.paint(sketch.blur(puffs, 0.03), hex_colour("#ffffff"), 0.35)
    sketch.paint(puffs, sketch.linear((0.2, 0.25), (-0.25, -0.25), [hex_colour("#d6dbe3"), hex_colour("#ffffff")]), 0.85)
    sketch.paint(sketch.blur(puffs * (sketch.ys - sketch.xs < -0.02), 0.02), (1.0, 1.0, 1.0), 0.4)


BLUSH_BOX = (-0.2, -0.13, 0.2, 0.13)


def party_blush(sketch: Sketch) -> None:
    glow = sketch.blur(sketch.ellipse((0.0, 0.0), 0.13, 0.07), 0.035)
    sketch.paint(glow, hex_colour("#ff5c7a"), 0.55)


GHOST_BOX = (-0.28, -0.32, 0.28, 0.32)


def party_ghost(sketch: Sketch) -> None:
    body = [(0.0, -0.26)]
    for t in np.linspace(math.pi, 2 * math.pi, 40):
        body.append((0.2 * math.cos(t), -0.06 + 0.2 * math.sin(t)))
    for i, x in enumerate(np.linspace(0.2, -0.2, 41)):
        body.append((x, 0.22 + 0.035 * math.sin(i / 40 * 3 * 2 * math.pi)))
    shape = sketch.polygon(body[1:])
    sketch.paint(sketch.blur(shape, 0.05), hex_colour("#bfe4ff"), 0.6)
    sketch.paint(shape, sketch.radial((-0.06, -0.12), 0.4, [hex_colour("#ffffff"), hex_colour("#dbe8f5")]), 0.92)
    for x in (-0.07, 0.07):
        sketch.paint(sketch.ellipse((x, -0.06), 0.035, 0.05), hex_colour("#2a2f3a"))
    sketch.paint(sketch.ellipse((0.0, 0.06), 0.045, 0.055), hex_colour("#2a2f3a"))


STINK_BOX = (-0.5, -0.45, 0.5, 0.05)


def party_stink(sketch: Sketch) -> None:
    """Wavy stink lines rising from the head, fading as they rise."""
    fade = np.clip((sketch.ys + 0.42) / 0.4, 0.0, 1.0)
    for x in (-0.3, 0.0, 0.3):
        points = [(x + 0.05 * math.sin(t * 2.5 * math.pi), -0.02 - 0.38 * t) for t in np.linspace(0.0, 1.0, 60)]
        wave = sketch.line(points, 0.035) * fade
        sketch.paint(sketch.blur(wave, 0.025), hex_colour("#9be35a"), 0.5)
        sketch.paint(wave, hex_colour("#6dbb2c"), 0.75)


NAUSEA_BOX = (-0.55, -0.35, 0.55, 0.35)


def party_nausea(sketch: Sketch) -> None:
    """A green flush rising from the chin, soft-edged so the skin shows through."""
    flush = sketch.blur(sketch.ellipse((0.0, 0.0), 0.36, 0.23), 0.06)
    rising = np.clip((sketch.ys + 0.25) / 0.4, 0.0, 1.0)
    sketch.paint(flush * rising, hex_colour("#71d13c"), 0.35)


TOP_HAT_BOX = (-0.62, -0.86, 0.62, 0.04)


def party_top_hat(sketch: Sketch) -> None:
    brim = sketch.ellipse((0.0, -0.1), 0.56, 0.08)
    front_brim = brim * (sketch.ys > -0.1)
    crown = sketch.polygon([(-0.32, -0.1), (-0.35, -0.74), (0.35, -0.74), (0.32, -0.1)])
    crown = np.maximum(crown, sketch.ellipse((0.0, -0.74), 0.35, 0.05))
    hat = np.maximum(brim, crown)
    sketch.shadow(hat, dy=0.05, blur=0.05, opacity=0.35)
    brim_colour = sketch.linear((-0.56, 0.0), (0.56, 0.0), [hex_colour("#3a3d46"), hex_colour("#15161a")])
    sketch.paint(brim, brim_colour)
    sketch.paint(crown, sketch.linear((-0.35, 0.0), (0.35, 0.0), [hex_colour("#4a4e5a"), hex_colour("#1d1f25"), hex_colour("#0c0d10")]))
    band = crown * (sketch.ys > -0.26) * (sketch.ys < -0.12)
    sketch.paint(band, sketch.linear((-0.35, 0.0), (0.35, 0.0), [hex_colour("#e23b4e"), hex_colour("#7a0f1c")]))
    # The front of the brim passes in front of the crown.
    sketch.paint(front_brim, brim_colour)
    sketch.paint(sketch.ring(brim, 0.01) * (sketch.ys > -0.1), (1.0, 1.0, 1.0), 0.2)
    sheen = sketch.blur(sketch.polygon([(-0.24, -0.7), (-0.16, -0.7), (-0.19, -0.3), (-0.26, -0.3)]), 0.02) * crown
    sketch.paint(sheen, (1.0, 1.0, 1.0), 0.25)


# ---------------------------------------------------------------- mesh textures (the face mesh's UV space)
# Mesh textures are drawn in UV units: u across the face from the image-left ear (0) to the
# image-right one (1), v down from above the forehead (0.1) to the chin (0.95), exactly as on
# MediaPipe's UV template (docs/uv_template.png); `uv(i)` is where landmark i sits. The layout is
# symmetric about u = 0.5, so shapes are designed on the image-left half and mirrored.

TEXTURE_PX = 512


def uv(index: int) -> Point:
    u, v = face_mesh().uv[index]
    return (float(u), float(v))


def mirror_u(points: list[Point]) -> list[Point]:
    return [(1.0 - x, y) for x, y in points]


def smooth_loop(points: list[Point], rounds: int = 3) -> list[Point]:
    """A closed polyline rounded into a smooth curve (Chaikin's corner cutting)."""
    for _ in range(rounds):
        rounded: list[Point] = []
        for index, (x, y) in enumerate(points):
            next_x, next_y = points[(index + 1) % len(points)]
            rounded += [(0.75 * x + 0.25 * next_x, 0.75 * y + 0.25 * next_y), (0.25 * x + 0.75 * next_x, 0.25 * y + 0.75 * next_y)]
        points = rounded
    return points


def both_sides(sketch: Sketch, shape: Callable[[Sketch, bool], np.ndarray]) -> np.ndarray:
    """A mask drawn on the image-left half and again mirrored on the image-right half."""
    return np.maximum(shape(sketch, False), shape(sketch, True))


def eye_centre(right: bool) -> Point:
    indices = OPEN_REGIONS["eyes"][1 if right else 0]
    points = np.array([uv(index) for index in indices])
    return (float(points[:, 0].mean()), float(points[:, 1].mean()))


def eye_hole(sketch: Sketch, grow: tuple[float, float]) -> np.ndarray:
    """Both eyes' contours, widened by `grow` (along u, along v) around their centres."""
    def hole(sketch: Sketch, right: bool) -> np.ndarray:
        centre = eye_centre(right)
        contour = [uv(index) for index in OPEN_REGIONS["eyes"][1 if right else 0]]
        return sketch.polygon([(centre[0] + (x - centre[0]) * grow[0], centre[1] + (y - centre[1]) * grow[1]) for x, y in contour])
    return both_sides(sketch, hole)


def side_colours(sketch: Sketch, colours: Callable[[bool], np.ndarray]) -> np.ndarray:
    """A colour field made of one field for the image-left half and one for the image-right half."""
    return np.where(sketch.xs[:, :, None] < 0.5, colours(False), colours(True))


@dataclass(frozen=True)
class Palette:
    """Colours of a painted design: a gradient from `inner` to `outer`, `line` for outlines, `accent` for motifs."""

    inner: str
    outer: str
    line: str
    accent: str


# Face paint: butterfly wings round the eyes in the colours of the emotion, and a motif each.
FACEPAINT_PALETTES = {
    "neutral": Palette("#8ff0e6", "#1f7396", "#0c3346", "#ffffff"),
    "happy": Palette("#ffe65c", "#ff8a1d", "#a8400a", "#ff4f9a"),
    "sad": Palette("#a8d0ff", "#2d5fd1", "#10275e", "#ffffff"),
    "angry": Palette("#ff6a3d", "#a10d0d", "#1a0303", "#151010"),
    "surprise": Palette("#eab3ff", "#7a2bd1", "#35106b", "#7df9ff"),
    "fear": Palette("#f6f8fc", "#a3aec8", "#2f2640", "#3d1f5c"),
    "disgust": Palette("#cdf27a", "#3f8f1c", "#173d08", "#fff36b"),
}
WING = [(0.462, 0.335), (0.44, 0.285), (0.37, 0.24), (0.28, 0.215), (0.2, 0.19), (0.11, 0.15), (0.15, 0.25),
        (0.155, 0.33), (0.11, 0.43), (0.19, 0.465), (0.27, 0.49), (0.36, 0.485), (0.435, 0.455), (0.47, 0.4)]


def paint_wings(sketch: Sketch, palette: Palette, wing: list[Point] = WING) -> np.ndarray:
    def shape(sketch: Sketch, right: bool) -> np.ndarray:
        outline = smooth_loop(wing)
        return sketch.polygon(mirror_u(outline) if right else outline)

    wings = both_sides(sketch, shape)
    colours = side_colours(sketch, lambda right: sketch.radial(eye_centre(right), 0.2, [hex_colour(palette.inner), hex_colour(palette.outer)]))
    sketch.paint(wings, colours, 0.92)
    sketch.paint(sketch.ring(wings, 0.007), hex_colour(palette.line), 0.95)
    sketch.paint(sketch.ring(eye_hole(sketch, (1.25, 1.6)), 0.006), hex_colour(palette.line), 0.85)  # eyeliner
    return wings


def dots(sketch: Sketch, centres: list[Point], radius: float, colour: str, opacity: float = 1.0) -> None:
    shape = np.zeros_like(sketch.xs)
    for centre in centres + mirror_u(centres):
        shape = np.maximum(shape, sketch.ellipse(centre, radius))
    sketch.paint(shape, hex_colour(colour), opacity)


def facepaint(palette: Palette, motif: Callable[[Sketch, Palette], None]) -> Callable[[Sketch], None]:
    def draw(sketch: Sketch) -> None:
        motif(sketch, palette)
    return draw


def motif_neutral(sketch: Sketch, palette: Palette) -> None:
    paint_wings(sketch, palette)
    dots(sketch, [(0.24, 0.535), (0.285, 0.565), (0.33, 0.59)], 0.011, palette.accent)
    diamond = sketch.polygon([(0.5, 0.14), (0.535, 0.19), (0.5, 0.24), (0.465, 0.19)])
    sketch.paint(diamond, hex_colour(palette.outer), 0.95)
    sketch.paint(sketch.ring(diamond, 0.006), hex_colour(palette.accent))


def motif_happy(sketch: Sketch, palette: Palette) -> None:
    # Sun rays fanning up from the brows onto the forehead.
    rays = np.zeros_like(sketch.xs)
    for index in range(9):
        angle = math.radians(-160 + index * 17.5)
        base = (0.5 + 0.16 * math.cos(angle), 0.34 + 0.16 * math.sin(angle))
        tip = (0.5 + 0.27 * math.cos(angle), 0.34 + 0.27 * math.sin(angle))
        side = (0.018 * -math.sin(angle), 0.018 * math.cos(angle))
        rays = np.maximum(rays, sketch.polygon([(base[0] + side[0], base[1] + side[1]), tip, (base[0] - side[0], base[1] - side[1])]))
    sketch.paint(rays, sketch.radial((0.5, 0.34), 0.27, [hex_colour(palette.inner), hex_colour(palette.outer)]), 0.9)
    paint_wings(sketch, palette)
    hearts = np.maximum(sketch.polygon(heart_points((0.27, 0.6), 0.1)), sketch.polygon(mirror_u(heart_points((0.27, 0.6), 0.1))))
    sketch.paint(hearts, hex_colour(palette.accent), 0.95)
    sketch.paint(sketch.ring(hearts, 0.005), hex_colour(palette.line), 0.8)
    for centre in ((0.12, 0.15), (0.88, 0.15)):
        sparkle(sketch, centre, 0.035)


def motif_sad(sketch: Sketch, palette: Palette) -> None:
    drooping = [(x, y + 0.06 * max(0.0, 0.3 - x) / 0.2) for x, y in WING]  # outer corners hang down
    paint_wings(sketch, palette, drooping)
    drops = np.maximum(sketch.polygon(drop_points((0.3, 0.5), 0.08, 0.04)), sketch.polygon(mirror_u(drop_points((0.3, 0.5), 0.08, 0.04))))
    sketch.paint(drops, hex_colour(palette.accent), 0.95)
    sketch.paint(sketch.ring(drops, 0.005), hex_colour(palette.line), 0.9)


def motif_angry(sketch: Sketch, palette: Palette) -> None:
    sharp = [(0.462, 0.32), (0.4, 0.27), (0.3, 0.235), (0.08, 0.13), (0.17, 0.27), (0.1, 0.45), (0.27, 0.49),
             (0.37, 0.485), (0.44, 0.45), (0.47, 0.39)]
    paint_wings(sketch, palette, sharp)
    strokes = np.zeros_like(sketch.xs)
    for offset in (0.0, 0.045, 0.09):
        for points in ([(0.12 + offset, 0.56 + offset), (0.3 + offset * 0.5, 0.62 + offset)],):
            strokes = np.maximum(strokes, sketch.line(points, 0.014))
            strokes = np.maximum(strokes, sketch.line(mirror_u(points), 0.014))
    sketch.paint(strokes, hex_colour(palette.accent), 0.92)
    frown = np.maximum(sketch.line([(0.47, 0.3), (0.3, 0.24)], 0.022), sketch.line(mirror_u([(0.47, 0.3), (0.3, 0.24)]), 0.022))
    sketch.paint(frown, hex_colour(palette.accent), 0.95)


def motif_surprise(sketch: Sketch, palette: Palette) -> None:
    paint_wings(sketch, palette)
    stars = np.zeros_like(sketch.xs)
    for centre, size in (((0.5, 0.17), 0.05), ((0.25, 0.6), 0.04), ((0.37, 0.12), 0.025), ((0.18, 0.53), 0.022)):
        stars = np.maximum(stars, sketch.polygon(star_points(centre, size, size * 0.45)))
        stars = np.maximum(stars, sketch.polygon(mirror_u(star_points(centre, size, size * 0.45))))
    sketch.paint(stars, hex_colour(palette.accent), 0.95)
    sketch.paint(sketch.ring(stars, 0.004), hex_colour(palette.line), 0.9)


def motif_fear(sketch: Sketch, palette: Palette) -> None:
    pale = sketch.blur(sketch.polygon([uv(index) for index in FACE_OVAL_INDICES]), 0.03)
    sketch.paint(pale, hex_colour(palette.inner), 0.45)
    hollows = sketch.blur(eye_hole(sketch, (1.9, 2.6)), 0.02)
    sketch.paint(hollows, hex_colour(palette.accent), 0.75)
    cracks = np.zeros_like(sketch.xs)
    for points in ([(0.42, 0.1), (0.44, 0.15), (0.41, 0.19), (0.44, 0.23)], [(0.2, 0.55), (0.24, 0.6), (0.21, 0.66), (0.25, 0.72)]):
        cracks = np.maximum(cracks, np.maximum(sketch.line(points, 0.006), sketch.line(mirror_u(points), 0.006)))
    sketch.paint(cracks, hex_colour(palette.line), 0.9)


def motif_disgust(sketch: Sketch, palette: Palette) -> None:
    paint_wings(sketch, palette)
    waves = np.zeros_like(sketch.xs)
    for row in (0.57, 0.62, 0.67):
        points = [(0.14 + 0.02 * step, row + 0.012 * math.sin(step * 1.6)) for step in range(10)]
        waves = np.maximum(waves, np.maximum(sketch.line(points, 0.008), sketch.line(mirror_u(points), 0.008)))
    sketch.paint(waves, hex_colour(palette.accent), 0.9)
    dots(sketch, [(0.4, 0.15), (0.33, 0.12), (0.45, 0.2)], 0.012, palette.outer)


FACEPAINT_MOTIFS = {"neutral": motif_neutral, "happy": motif_happy, "sad": motif_sad, "angry": motif_angry,
                    "surprise": motif_surprise, "fear": motif_fear, "disgust": motif_disgust}

# Tears: glossy drops in a column under each eye, repeating down the texture so that scrolling
# it (with wrap-around) sends them running down the cheeks; the envelope keeps them on the tear
# tracks, from under the lower lid to the jaw, fading in and out.
TEAR_TRACKS = (0.335, 0.665)
TEAR_SPACING = 0.25


def tear_drops(sketch: Sketch) -> None:
    for track in TEAR_TRACKS:
        for index in range(round(1 / TEAR_SPACING)):
            tip = (track, 0.04 + index * TEAR_SPACING + (TEAR_SPACING / 2 if track > 0.5 else 0.0))
            streak = sketch.blur(sketch.line([(track, max(tip[1] - 0.09, 0.0)), (track, tip[1] + 0.02)], 0.006), 0.003)
            sketch.paint(streak, hex_colour("#dff1ff"), 0.35)
            glossy_drop(sketch, tip, 0.06, 0.028, ("#e8f6ff", "#5aa9f0"))


def tear_tracks(sketch: Sketch) -> None:
    strips = np.maximum(*(sketch.polygon([(u - 0.028, 0.41), (u + 0.028, 0.41), (u + 0.036, 0.82), (u - 0.036, 0.82)])
                          for u in TEAR_TRACKS))
    fade = np.interp(sketch.ys, [0.41, 0.46, 0.72, 0.82], [0.0, 1.0, 1.0, 0.0]).astype(np.float32)
    sketch.paint(sketch.blur(strips, 0.006) * fade, (1.0, 1.0, 1.0))


# Masquerade: a Venetian half-mask round the eyes, metallic, in the colours of the emotion.
MASQUERADE_PALETTES = {
    "neutral": Palette("#fff1a8", "#c9961a", "#5e3f00", "#b00020"),
    "happy": Palette("#ffe0ea", "#e0709a", "#6e1537", "#fff4b0"),
    "sad": Palette("#eef4ff", "#8ea4c8", "#27344f", "#4f7dff"),
    "angry": Palette("#ff7a6b", "#8a0f16", "#1a0204", "#1a1a1a"),
    "surprise": Palette("#f0d6ff", "#8c43d6", "#2d0f52", "#ffd24a"),
    "fear": Palette("#ffffff", "#d5d9e0", "#111111", "#111111"),
    "disgust": Palette("#c9f5c0", "#2f8a4a", "#0c3317", "#d4f75a"),
}
MASK_HALF = [(0.5, 0.305), (0.44, 0.27), (0.36, 0.235), (0.26, 0.215), (0.17, 0.18), (0.08, 0.1), (0.11, 0.22),
             (0.1, 0.31), (0.12, 0.4), (0.19, 0.47), (0.28, 0.505), (0.37, 0.505), (0.44, 0.48), (0.48, 0.455), (0.5, 0.45)]


def masquerade(palette: Palette) -> Callable[[Sketch], None]:
    def draw(sketch: Sketch) -> None:
        outline = smooth_loop(MASK_HALF + mirror_u(MASK_HALF[::-1])[1:-1], rounds=3)
        holes = sketch.blur(eye_hole(sketch, (1.45, 1.9)), 0.003)
        mask = np.clip(sketch.polygon(outline) - holes, 0.0, 1.0)
        metal = sketch.linear((0.0, 0.16), (0.0, 0.5), [hex_colour(palette.inner), hex_colour(palette.outer),
                                                          hex_colour(palette.inner), hex_colour(palette.outer),
                                                          hex_colour(palette.line)])
        sketch.paint(mask, metal)
        swirls = np.zeros_like(sketch.xs)
        for centre, size, turns in (((0.22, 0.3), 0.055, 2.2), ((0.3, 0.455), 0.035, 1.8), ((0.15, 0.17), 0.03, 1.6)):
            points = [(centre[0] + size * (step / 60) * math.cos(step / 60 * turns * 2 * math.pi),
                       centre[1] + size * (step / 60) * math.sin(step / 60 * turns * 2 * math.pi)) for step in range(61)]
            swirls = np.maximum(swirls, np.maximum(sketch.line(points, 0.005), sketch.line(mirror_u(points), 0.005)))
        sketch.paint(swirls * mask, hex_colour(palette.line), 0.8)
        sketch.paint(sketch.ring(mask, 0.008), hex_colour(palette.line), 0.95)
        sketch.paint(sketch.ring(sketch.grow(holes, 0.008), 0.006), hex_colour(palette.inner), 0.95)
        gem = sketch.polygon([(0.5, 0.29), (0.525, 0.325), (0.5, 0.36), (0.475, 0.325)])
        sketch.paint(gem, sketch.radial((0.492, 0.31), 0.05, [(1.0, 1.0, 1.0), hex_colour(palette.accent)]))
        sketch.paint(sketch.ring(gem, 0.004), hex_colour(palette.line))
        dots(sketch, [(0.2, 0.2), (0.3, 0.225), (0.4, 0.25)], 0.008, palette.accent)
    return draw


RIBBON_BOX = (-1.75, -0.3, 1.75, 1.15)


def masquerade_ribbons(palette: Palette) -> Callable[[Sketch], None]:
    """Satin ribbons tying the mask behind the head: the far one goes behind it as the head turns."""
    def draw(sketch: Sketch) -> None:
        ribbons = np.zeros_like(sketch.xs)
        for side in (-1.0, 1.0):
            band = [(side * 0.95, -0.12), (side * 1.3, -0.1), (side * 1.45, -0.02)]
            tails = ([(side * 1.45, -0.02), (side * 1.38, 0.35), (side * 1.5, 0.7), (side * 1.4, 1.05)],
                     [(side * 1.45, -0.02), (side * 1.6, 0.3), (side * 1.55, 0.62), (side * 1.68, 0.9)])
            ribbons = np.maximum(ribbons, sketch.line(band, 0.09))
            for tail in tails:
                ribbons = np.maximum(ribbons, sketch.line(tail, 0.06))
            ribbons = np.maximum(ribbons, sketch.ellipse((side * 1.45, -0.02), 0.08, 0.06))
        sketch.shadow(ribbons, dy=0.02, blur=0.02, opacity=0.25)
        sketch.paint(ribbons, sketch.linear((0.0, -0.15), (0.0, 1.1), [hex_colour(palette.outer), hex_colour(palette.line)]))
        sheen = ribbons * (np.abs(np.sin(sketch.ys * 18.0)) > 0.8)
        sketch.paint(sketch.blur(sheen, 0.01), hex_colour(palette.inner), 0.35)
    return draw


# Glasses arms: they run from the frame's hinges past the sides of the head towards the ears,
# behind the head as it turns (behind_head), in each frame's colour.
ARMS_BOX = (-1.5, -0.22, 1.5, 0.08)


def glasses_arms(frame: tuple[str, str]) -> Callable[[Sketch], None]:
    def draw(sketch: Sketch) -> None:
        arms = np.zeros_like(sketch.xs)
        for side in (-1.0, 1.0):
            arms = np.maximum(arms, sketch.line([(side * 1.02, -0.1), (side * 1.3, -0.08), (side * 1.46, -0.03)], 0.045))
        sketch.shadow(arms, dy=0.02, blur=0.015, opacity=0.25)
        sketch.paint(arms, sketch.linear((0.0, -0.13), (0.0, -0.0), [hex_colour(frame[0]), hex_colour(frame[1])]))
    return draw


# Reactions: effects that answer the face's expressions.
def glitter_freckles(sketch: Sketch) -> None:
    """Gold freckles across the nose and the cheeks: the pack's look before any expression."""
    rng = np.random.default_rng(7)
    centres = [(float(u), float(v)) for u, v in zip(rng.uniform(0.2, 0.47, 40), rng.uniform(0.46, 0.62, 40))
               if math.hypot((u - 0.32) / 0.13, (v - 0.54) / 0.075) < 1.0]
    for index, centre in enumerate(centres):
        radius = 0.0035 + 0.0015 * (index % 3)
        spot = np.maximum(sketch.ellipse(centre, radius), sketch.ellipse(mirror_u([centre])[0], radius))
        sketch.paint(spot, hex_colour("#f5c542" if index % 2 else "#fff1b0"), 0.9)


def blush(sketch: Sketch) -> None:
    glow = np.maximum(sketch.ellipse((0.25, 0.585), 0.085, 0.06), sketch.ellipse((0.75, 0.585), 0.085, 0.06))
    sketch.paint(sketch.blur(glow, 0.03), hex_colour("#ff5f8f"), 0.6)
    for centre in ((0.22, 0.57), (0.28, 0.6)):
        heart = np.maximum(sketch.polygon(heart_points(centre, 0.035)), sketch.polygon(mirror_u(heart_points(centre, 0.035))))
        sketch.paint(heart, hex_colour("#ff2f6d"), 0.9)


# Short enough to stay whole below the mouth of a face that fills the frame.
BREATH_BOX = (-0.4, -0.02, 0.4, 0.85)


def rainbow_breath(sketch: Sketch) -> None:
    """A rainbow pouring from the mouth, widening as it falls."""
    colours = ["#ff3b30", "#ff9500", "#ffcc00", "#34c759", "#0a84ff", "#5e5ce6", "#bf5af2"]
    for index, colour in enumerate(colours):
        lane = (index - 3) / 3.0
        points = [(lane * (0.05 + 0.24 * t) + 0.03 * math.sin(t * 4.0), 0.02 + 0.78 * t) for t in np.linspace(0.0, 1.0, 40)]
        band = sketch.line(points, 0.045 + 0.025 * index / 6)
        sketch.paint(band * np.interp(sketch.ys, [0.0, 0.6, 0.84], [1.0, 1.0, 0.0]).astype(np.float32), hex_colour(colour), 0.95)


def fire_breath(sketch: Sketch) -> None:
    """Flames bursting from the mouth: layered tongues, yellow at the heart, red at the edges."""
    for width, colours, opacity in ((0.36, ("#ff2a00", "#7a0a00"), 0.85), (0.26, ("#ff7a00", "#ff2a00"), 0.95),
                                    (0.15, ("#fff3a0", "#ffb000"), 1.0)):
        flames = np.zeros_like(sketch.xs)
        for tongue in range(5):
            lane = (tongue - 2) / 2.0
            top, length = (lane * width * 0.25, 0.02), 0.8 - 0.15 * abs(lane)
            outline = [(top[0] + lane * width * t + width * 0.35 * math.sin(t * math.pi) * side * (1.0 - t) + 0.05 * math.sin(t * 9 + tongue),
                        top[1] + length * t) for side in (-1.0, 1.0) for t in (np.linspace(0, 1, 30) if side < 0 else np.linspace(1, 0, 30))]
            flames = np.maximum(flames, sketch.polygon(outline))
        sketch.paint(sketch.blur(flames, 0.01), sketch.linear((0.0, 0.0), (0.0, 0.8), [hex_colour(colours[0]), hex_colour(colours[1])]), opacity)


WOW_BOX = (-0.5, -0.9, 0.5, -0.15)


def exclamations(sketch: Sketch) -> None:
    marks = np.zeros_like(sketch.xs)
    for centre, turn in (((-0.2, -0.55), -0.25), ((0.2, -0.6), 0.2)):
        c, s = math.cos(turn), math.sin(turn)
        def at(x: float, y: float, centre: Point = centre, c: float = c, s: float = s) -> Point:
            return (centre[0] + c * x - s * y, centre[1] + s * x + c * y)
        marks = np.maximum(marks, sketch.polygon([at(-0.07, -0.28), at(0.07, -0.28), at(0.035, 0.1), at(-0.035, 0.1)]))
        marks = np.maximum(marks, sketch.ellipse(at(0.0, 0.22), 0.05))
    sketch.shadow(marks, dy=0.02, blur=0.02, opacity=0.3)
    sketch.paint(sketch.grow(marks, 0.03), hex_colour("#3a1d00"))
    sketch.paint(marks, sketch.linear((0.0, -0.9), (0.0, -0.15), [hex_colour("#fff27a"), hex_colour("#ff9d00")]))


ZZZ_BOX = (0.1, -0.95, 1.0, -0.05)


def sleepy_z(sketch: Sketch) -> None:
    from PIL import ImageFont

    def letter(centre: Point, size: float) -> Callable[[ImageDraw.ImageDraw], None]:
        font = ImageFont.truetype(str(REPO_ROOT / "arfilter" / "assets" / "fonts" / "DejaVuSans.ttf"), round(sketch.length(size)))
        return lambda draw: draw.text(sketch.px([centre])[0], "Z", fill=255, font=font, anchor="mm")

    letters = np.zeros_like(sketch.xs)
    for centre, size in (((0.2, -0.35), 0.3), ((0.5, -0.6), 0.24), ((0.75, -0.85), 0.18)):
        letters = np.maximum(letters, sketch.mask(letter(centre, size)))
    sketch.paint(sketch.grow(letters, 0.02), hex_colour("#12234f"))
    sketch.paint(letters, sketch.linear((0.0, -0.95), (0.0, -0.2), [hex_colour("#e6f0ff"), hex_colour("#7fb2ff")]))


# ---------------------------------------------------------------- packs and manifests


@dataclass(frozen=True)
class LayerDesign:
    """One layer: its drawing (in its own box and units) and where that box sits on the face."""

    image: str
    anchor: str | list[int]
    scale_ref: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the drawing, in reference lengths
    draw: Callable[[Sketch], None] | None = None  # None: the PNG is written elsewhere (emoji)
    at: Point = (0.0, 0.0)  # where the drawing's origin sits, relative to the anchor
    zoom: float = 1.0  # drawn this much larger than designed, around its origin
    rotate: bool = True
    mirror: bool = False  # flip the drawing left-right, to reuse one design on both sides
    behind_head: bool = False  # goes round the head: its far half hides behind it as the head turns
    when: tuple[str, ...] = ()  # expressions that must show for it to be drawn

    @property
    def scale(self) -> float:
        return round(self.zoom * (self.box[2] - self.box[0]), 4)

    @property
    def offset(self) -> tuple[float, float]:
        center_x = (-1.0 if self.mirror else 1.0) * (self.box[0] + self.box[2]) / 2
        center_y = (self.box[1] + self.box[3]) / 2
        return (round(self.at[0] + self.zoom * center_x, 4), round(self.at[1] + self.zoom * center_y, 4))


@dataclass(frozen=True)
class MeshDesign:
    """A mesh layer: a texture drawn in the face mesh's UV space, and how it is laid on the face
    (the pack.toml fields of a `kind = "mesh"` layer)."""

    texture: str
    draw: Callable[[Sketch], None]
    opacity: float = 1.0
    blend: str = "normal"
    open: tuple[str, ...] = ("eyes", "mouth")
    lit: bool = True
    scroll: tuple[float, float] = (0.0, 0.0)
    envelope: tuple[str, Callable[[Sketch], None]] | None = None  # (file, drawing) bounding a scrolling texture
    when: tuple[str, ...] = ()


Design = LayerDesign | MeshDesign


def glasses(name: str, draw: Callable[[Sketch], None], down: float = 0.0) -> list[Design]:
    """A pair of glasses and, behind it, its arms (in the frame's colours, behind the head as it turns)."""
    arms = LayerDesign(f"{name}_arms.png", "eyes", "interocular", ARMS_BOX, glasses_arms(SHADES_FRAMES[name]),
                       at=(0.0, down), zoom=GLASSES_ZOOM, behind_head=True)
    return [arms, LayerDesign(f"{name}.png", "eyes", "interocular", GLASSES_BOX, draw, at=(0.0, down), zoom=GLASSES_ZOOM)]


SHADES_TEAR = LayerDesign("tear.png", "left_eye", "interocular", TEAR_BOX, shades_tear, at=(0.05, 0.42))
SHADES_SWEAT = LayerDesign("sweat.png", "right_eyebrow", "interocular", SWEAT_BOX, shades_sweat, at=(0.2, -0.25))

SHADES: dict[str, list[Design]] = {
    "neutral": glasses("wayfarers", shades_neutral),
    "happy": [
        *glasses("hearts", shades_happy),
        LayerDesign("twinkle.png", "right_eyebrow", "interocular", TWINKLE_BOX, shades_twinkle, at=(0.5, -0.12)),
    ],
    "sad": [*glasses("round_blue", shades_sad), SHADES_TEAR],
    "angry": glasses("visor_red", shades_angry),
    "surprise": glasses("stars", shades_surprise),
    "fear": [*glasses("round_ice", shades_fear), SHADES_SWEAT],
    "disgust": glasses("over_the_rim", shades_disgust, down=0.3),
}

PARTY_HAT_ANCHOR = "forehead_top"
# Hats are drawn with their brim about 0.1 face widths above landmark 10; lower them onto the head.
HAT_AT = (0.0, 0.05)
STEAM_LEFT = LayerDesign("steam.png", "left_cheek", "face_width", STEAM_BOX, party_steam, at=(-0.14, -0.34))
STEAM_RIGHT = LayerDesign("steam_right.png", "right_cheek", "face_width", STEAM_BOX, party_steam, at=(0.14, -0.34), mirror=True)
BLUSH_LEFT = LayerDesign("blush.png", [205], "face_width", BLUSH_BOX, party_blush)
BLUSH_RIGHT = LayerDesign("blush.png", [425], "face_width", BLUSH_BOX, party_blush)
TEAR_LEFT = LayerDesign("tear.png", "left_eye", "interocular", TEAR_BOX, shades_tear, at=(0.04, 0.16))
TEAR_RIGHT = LayerDesign("tear.png", "right_eye", "interocular", TEAR_BOX, shades_tear, at=(-0.04, 0.2))

PARTY: dict[str, list[Design]] = {
    "neutral": [LayerDesign("top_hat.png", PARTY_HAT_ANCHOR, "face_width", TOP_HAT_BOX, party_top_hat, at=HAT_AT)],
    "happy": [
        BLUSH_LEFT,
        BLUSH_RIGHT,
        LayerDesign("party_hat.png", PARTY_HAT_ANCHOR, "face_width", PARTY_HAT_BOX, party_cone_hat, at=HAT_AT),
    ],
    "surprise": [LayerDesign("crown.png", PARTY_HAT_ANCHOR, "face_width", (-0.64, -0.96, 0.64, 0.0), party_crown, at=HAT_AT)],
    "sad": [TEAR_LEFT, TEAR_RIGHT, LayerDesign("rain_cloud.png", PARTY_HAT_ANCHOR, "face_width", CLOUD_BOX, party_rain_cloud)],
    "angry": [
        LayerDesign("horns.png", PARTY_HAT_ANCHOR, "face_width", HORNS_BOX, party_horns),
        STEAM_LEFT,
        STEAM_RIGHT,
    ],
    "fear": [
        SHADES_SWEAT,
        LayerDesign("ghost.png", "right_cheek", "face_width", GHOST_BOX, party_ghost, at=(0.35, -0.3)),
    ],
    "disgust": [
        LayerDesign("nausea.png", "mouth_center", "face_width", NAUSEA_BOX, party_nausea, at=(0.0, -0.05)),
        LayerDesign("stink.png", PARTY_HAT_ANCHOR, "face_width", STINK_BOX, party_stink, at=(0.0, -0.3)),
    ],
}

# The emoji is centred on the middle of the face (between forehead top and chin), a little
# higher so its eyes sit near the wearer's, and wide enough to cover forehead to chin.
EMOJI_WIDTH = 3.2
EMOJI_BOX = (-EMOJI_WIDTH / 2, -EMOJI_WIDTH / 2 - 0.1, EMOJI_WIDTH / 2, EMOJI_WIDTH / 2 - 0.1)
EMOJI: dict[str, list[Design]] = {label: [LayerDesign(f"{label}.png", [10, 152], "interocular", EMOJI_BOX)] for label in NOTO_EMOJI}

TEARS = MeshDesign("tears.png", tear_drops, lit=False, scroll=(0.0, 0.22), envelope=("tear_tracks.png", tear_tracks))
FACEPAINT: dict[str, list[Design]] = {
    label: [MeshDesign(f"{label}.png", facepaint(FACEPAINT_PALETTES[label], FACEPAINT_MOTIFS[label]), opacity=0.92),
            *([TEARS] if label == "sad" else [])]
    for label in NOTO_EMOJI
}
MASQUERADE: dict[str, list[Design]] = {
    label: [
        LayerDesign(f"ribbons_{label}.png", "eyes", "interocular", RIBBON_BOX, masquerade_ribbons(palette), behind_head=True),
        MeshDesign(f"mask_{label}.png", masquerade(palette), open=("eyes",)),
        *([TEARS] if label == "sad" else []),
    ]
    for label, palette in MASQUERADE_PALETTES.items()
}
FRECKLES = MeshDesign("freckles.png", glitter_freckles, opacity=0.9)
BLUSH = MeshDesign("blush.png", blush, when=("smile",))
RAINBOW = LayerDesign("rainbow.png", "mouth_center", "face_width", BREATH_BOX, rainbow_breath, when=("mouth_open",))
FIRE = LayerDesign("fire.png", "mouth_center", "face_width", BREATH_BOX, fire_breath, when=("mouth_open",))
WOW = LayerDesign("wow.png", "forehead_top", "face_width", WOW_BOX, exclamations, when=("eyebrows_raised",))
ZZZ = LayerDesign("zzz.png", "forehead_top", "face_width", ZZZ_BOX, sleepy_z, when=("eyes_closed",))
# Angry and an open mouth breathe fire; any other mood, a rainbow.
REACTIONS: dict[str, list[Design]] = {label: [FRECKLES, BLUSH, FIRE if label == "angry" else RAINBOW, WOW, ZZZ]
                                      for label in NOTO_EMOJI}

PACKS: dict[str, tuple[dict[str, list[Design]], dict[str, str]]] = {
    "emoji": (
        EMOJI,
        {
            "description": "Noto emoji faces worn like a mask, one per emotion",
            "author": "Google Inc. (Noto Emoji), packed by arfilter",
            "licence": "Apache-2.0",
        },
    ),
    "shades": (
        SHADES,
        {
            "description": "Sunglasses that change with your mood, with tears and sweat when it gets hard",
            "author": "arfilter (drawn by scripts/make_packs.py)",
            "licence": "Apache-2.0",
        },
    ),
    "party": (
        PARTY,
        {
            "description": "Hats, crowns, horns and weather for every mood",
            "author": "arfilter (drawn by scripts/make_packs.py)",
            "licence": "Apache-2.0",
        },
    ),
    "facepaint": (
        FACEPAINT,
        {
            "description": "Face paint on the face mesh in the colours of your mood; tears run down it when sad",
            "author": "arfilter (drawn by scripts/make_packs.py on MediaPipe's UV layout)",
            "licence": "Apache-2.0",
        },
    ),
    "masquerade": (
        MASQUERADE,
        {
            "description": "A Venetian mask on the face mesh, tied with ribbons that go behind your head",
            "author": "arfilter (drawn by scripts/make_packs.py on MediaPipe's UV layout)",
            "licence": "Apache-2.0",
        },
    ),
    "reactions": (
        REACTIONS,
        {
            "description": "Open your mouth for a rainbow (fire when angry), raise your brows, smile, close your eyes",
            "author": "arfilter (drawn by scripts/make_packs.py)",
            "licence": "Apache-2.0",
        },
    ),
}


def render_layer(design: LayerDesign) -> Image.Image:
    assert design.draw is not None
    sketch = Sketch(design.box, PIXELS_PER_UNIT[design.scale_ref])
    design.draw(sketch)
    image = sketch.to_image()
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if design.mirror else image


def render_texture(draw: Callable[[Sketch], None]) -> Image.Image:
    """A square RGBA texture of the face mesh's UV space, TEXTURE_PX on a side."""
    sketch = Sketch((0.0, 0.0, 1.0, 1.0), TEXTURE_PX)
    draw(sketch)
    return sketch.to_image()


def design_images(design: Design) -> dict[str, Callable[[], Image.Image]]:
    """The PNGs a layer needs, by file name, each with how to draw it."""
    if isinstance(design, MeshDesign):
        images = {design.texture: lambda: render_texture(design.draw)}
        if design.envelope is not None:
            envelope_draw = design.envelope[1]
            images[design.envelope[0]] = lambda: render_texture(envelope_draw)
        return images
    return {design.image: lambda: render_layer(design)}


def layer_fields(layer: Design) -> list[str]:
    """The pack.toml lines of one layer (after its [[emotions.LABEL.layers]] header)."""
    if isinstance(layer, MeshDesign):
        lines = [
            'kind = "mesh"',
            f"texture = {toml_value(layer.texture)}",
            f"opacity = {toml_value(layer.opacity)}",
            f"blend = {toml_value(layer.blend)}",
            f"open = {toml_value(list(layer.open))}",
            f"lit = {toml_value(layer.lit)}",
        ]
        if any(layer.scroll):
            lines.append(f"scroll = {toml_value(list(layer.scroll))}")
        if layer.envelope is not None:
            lines.append(f"envelope = {toml_value(layer.envelope[0])}")
    else:
        lines = [
            f"image = {toml_value(layer.image)}",
            f"anchor = {toml_value(layer.anchor)}",
            f"scale_ref = {toml_value(layer.scale_ref)}",
            f"scale = {toml_value(layer.scale)}",
            f"offset = {toml_value(list(layer.offset))}",
            f"rotate = {toml_value(layer.rotate)}",
        ]
        if layer.behind_head:
            lines.append("behind_head = true")
    if layer.when:
        lines.append(f"when = {toml_value(layer.when[0] if len(layer.when) == 1 else list(layer.when))}")
    return lines


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(round(float(value), 4)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def manifest_text(name: str, info: dict[str, str], layers_by_label: dict[str, list[Design]]) -> str:
    lines = [
        "# Written by scripts/make_packs.py; edit the script, not this file.",
        f"name = {toml_value(name)}",
        *(f"{key} = {toml_value(value)}" for key, value in info.items()),
    ]
    # Unknown future labels fall back to the neutral look.
    for label, layers in [*layers_by_label.items(), ("default", layers_by_label["neutral"])]:
        for layer in layers:
            lines += ["", f"[[emotions.{label}.layers]]", *layer_fields(layer)]
    return "\n".join(lines) + "\n"


def noto_icons(source: Path | None, work_dir: Path) -> dict[str, dict[str, object]]:
    """The icons table of @iconify-json/noto, from `source` or fetched with `npm pack`."""
    if source is None:
        if shutil.which("npm") is None:
            sys.exit("make_packs: npm not found; install Node.js or pass --noto PATH to an @iconify-json/noto package")
        subprocess.run(["npm", "pack", "@iconify-json/noto", "--silent"], cwd=work_dir, check=True, stdout=subprocess.DEVNULL)
        source = next(work_dir.glob("iconify-json-noto-*.tgz"))
    if source.is_file():
        with tarfile.open(source) as archive:
            archive.extractall(work_dir, filter="data")
        source = work_dir / "package"
    icons_path = source / "icons.json"
    if not icons_path.is_file():
        sys.exit(f"make_packs: {icons_path} not found; --noto must be the @iconify-json/noto package (folder or .tgz)")
    with open(source / "package.json", encoding="utf-8") as package_file:
        print(f"Noto emoji from @iconify-json/noto {json.load(package_file)['version']}")
    with open(icons_path, encoding="utf-8") as icons_file:
        return json.load(icons_file)["icons"]


def render_emoji(icons: dict[str, dict[str, object]], icon_name: str) -> Image.Image:
    import resvg_py  # only this script needs it

    icon = icons[icon_name]
    width, height = icon.get("width", 128), icon.get("height", 128)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">{icon["body"]}</svg>'
    png = resvg_py.svg_to_bytes(svg_string=svg, width=EMOJI_SIZE_PX, height=EMOJI_SIZE_PX)
    return Image.open(io.BytesIO(bytes(png))).convert("RGBA")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noto", type=Path, help="the @iconify-json/noto package, as a folder or .tgz (default: npm pack)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "arfilter" / "assets" / "packs", help="where the pack folders go")
    parser.add_argument("--skip-emoji", action="store_true", help="leave the emoji pack as it is (no npm or resvg needed)")
    parser.add_argument("--pack", action="append", choices=sorted(PACKS), help="build only this pack (repeatable; default: all)")
    arguments = parser.parse_args()

    for name, (layers_by_label, info) in PACKS.items():
        if (name == "emoji" and arguments.skip_emoji) or (arguments.pack and name not in arguments.pack):
            continue
        folder = arguments.out / name
        folder.mkdir(parents=True, exist_ok=True)
        written: set[str] = set()
        if name == "emoji":
            with tempfile.TemporaryDirectory() as work_dir:
                icons = noto_icons(arguments.noto, Path(work_dir))
                for label, icon_name in NOTO_EMOJI.items():
                    render_emoji(icons, icon_name).save(folder / f"{label}.png", optimize=True)
                    written.add(f"{label}.png")
        else:
            for layers in layers_by_label.values():
                for layer in layers:
                    for file_name, draw in design_images(layer).items():
                        if file_name not in written:
                            draw().save(folder / file_name, optimize=True)
                            written.add(file_name)
        for stale in folder.glob("*.png"):
            if stale.name not in written:
                stale.unlink()
        (folder / "pack.toml").write_text(manifest_text(name, info, layers_by_label), encoding="utf-8")
        print(f"{folder}: {len(written)} images")


if __name__ == "__main__":
    main()
