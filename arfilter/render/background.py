"""Blurring or replacing what is not the person, for video calls (`--background blur|none|IMAGE`).

The person mask comes from MediaPipe's selfie segmentation (arfilter/vision/segmentation.py) at
the model's small resolution; everything done to the mask happens there, where it is cheap:

- Smoothed over time the way MediaPipe's SegmentationSmoothingCalculator does it: a pixel the
  model is sure about (p near 0 or 1) takes the new value at once, so a moving arm does not
  leave a ghost, while a pixel it is unsure about (hair, the edge of a shoulder, p near 0.5)
  leans on the previous mask by up to `temporal_ratio`, so edges do not flicker.
- Feathered with a small Gaussian, then scaled up to the frame once, so the cut-out has soft
  edges instead of the model's 144x256 staircase.

The compositing is done in uint8 with OpenCV, which costs a third of a float blend. Each stream
(the window, each web client) has its own `BackgroundCompositor`, since the smoothing state is
per stream; the segmenter is passed in so streams on one thread can share it. Filter packs are
drawn afterwards, on top of the new background.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from arfilter.core.types import FrameResult
from arfilter.errors import ArfilterError
from arfilter.vision.segmentation import SelfieSegmenter

BackgroundMode = Literal["none", "blur", "image"]
# What --background takes besides an image path; the window's key cycles through these (and the image, if given).
BACKGROUND_WORDS: tuple[BackgroundMode, ...] = ("none", "blur")
# Image files OpenCV reads on every platform's wheel.
BACKGROUND_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
# The blur is computed on the frame shrunk this many times: the same look for a fraction of the cost.
BLUR_SHRINK = 8
# Entropy is undefined at exactly 0 and 1.
_EPSILON = 1e-6


class BackgroundError(ArfilterError):
    """The background image cannot be used."""


@dataclass(frozen=True)
class BackgroundOptions:
    """What replaces the background, and how the mask is cleaned up.

    mode: "none" (the frame as it is, and the model does not run), "blur" or "image".
    image_path: the replacement picture for mode "image", scaled to cover the frame and centred.
    blur_fraction: the blur's Gaussian sigma as a fraction of the frame width; 0.025 makes a
        bookshelf unreadable while the room still looks like a room.
    temporal_ratio: how far an unsure pixel leans on the previous mask (MediaPipe uses 0.9);
        0 turns the smoothing off.
    feather_sigma: the Gaussian sigma, in model pixels, that softens the mask's edge.
    segment_every: run the model on every n-th frame only, reusing the smoothed mask between;
        2 halves the model's cost where a slow CPU needs it, at the price of edges that trail a
        fast movement by a frame.
    """

    mode: BackgroundMode = "none"
    image_path: Path | None = None
    blur_fraction: float = 0.025
    temporal_ratio: float = 0.9
    feather_sigma: float = 1.5
    segment_every: int = 1

    def __post_init__(self) -> None:
        if self.mode not in ("none", "blur", "image"):
            raise ValueError(f"unknown background mode {self.mode!r}; use none, blur or image")
        if self.mode == "image" and self.image_path is None:
            raise ValueError("background mode 'image' needs image_path")
        if not 0.0 < self.blur_fraction <= 0.5:
            raise ValueError(f"blur_fraction must be in (0, 0.5], got {self.blur_fraction}")
        if not 0.0 <= self.temporal_ratio < 1.0:
            raise ValueError(f"temporal_ratio must be in [0, 1), got {self.temporal_ratio}")
        if self.feather_sigma < 0.0:
            raise ValueError(f"feather_sigma must not be negative, got {self.feather_sigma}")
        if self.segment_every < 1:
            raise ValueError(f"segment_every must be at least 1, got {self.segment_every}")

    @classmethod
    def from_argument(cls, text: str) -> BackgroundOptions:
        """The options `--background TEXT` asks for: "none", "blur", or an image file that must exist."""
        if text in BACKGROUND_WORDS:
            return cls(mode=text)
        path = Path(text)
        if not path.is_file():
            raise BackgroundError(f"--background {text}: no such image file; pass blur, none, or the path of a "
                                  f"picture ({', '.join(BACKGROUND_IMAGE_SUFFIXES)})")
        return cls(mode="image", image_path=path)

    def describe(self) -> str:
        """How the HUD and the web page name it: "none", "blur" or the image's file name."""
        return self.image_path.name if self.mode == "image" and self.image_path is not None else self.mode


def load_background_image(path: Path) -> np.ndarray:
    """The picture at `path` as RGB uint8; one BackgroundError line when it is missing or not an image."""
    try:
        data = np.fromfile(path, np.uint8)  # imread cannot say why it failed, and mangles non-ASCII paths on Windows
    except OSError as error:
        raise BackgroundError(f"--background {path}: cannot read it ({error.strerror or error}); "
                              "pass blur, none, or a readable picture") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise BackgroundError(f"--background {path}: not a picture OpenCV can read; pass blur, none, or a "
                              f"{', '.join(BACKGROUND_IMAGE_SUFFIXES)} file")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled to cover (width, height) without distortion and centred, the overflow cut off."""
    width, height = size
    scale = max(width / image.shape[1], height / image.shape[0])
    scaled_w, scaled_h = max(width, round(image.shape[1] * scale)), max(height, round(image.shape[0] * scale))
    resized = cv2.resize(image, (scaled_w, scaled_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    left, top = (scaled_w - width) // 2, (scaled_h - height) // 2
    return np.ascontiguousarray(resized[top:top + height, left:left + width])


def blurred(image: np.ndarray, sigma_fraction: float) -> np.ndarray:
    """`image` heavily blurred, computed on a copy shrunk BLUR_SHRINK times."""
    height, width = image.shape[:2]
    small_size = (max(1, width // BLUR_SHRINK), max(1, height // BLUR_SHRINK))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(0.5, sigma_fraction * small_size[0]))
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def smooth_over_time(new: np.ndarray, previous: np.ndarray | None, ratio: float) -> np.ndarray:
    """MediaPipe's mask smoothing: unsure pixels (binary entropy near 1) lean on `previous` by up to `ratio`."""
    if previous is None or previous.shape != new.shape or ratio == 0.0:
        return new
    p = np.clip(new, _EPSILON, 1.0 - _EPSILON)
    entropy = -(p * np.log2(p) + (1.0 - p) * np.log2(1.0 - p))
    return new + (previous - new) * (ratio * entropy)


class BackgroundCompositor:
    """One stream's background: call `apply` on every frame, in order."""

    def __init__(self, segmenter: SelfieSegmenter, options: BackgroundOptions | None = None) -> None:
        self._segmenter = segmenter
        self._mask: np.ndarray | None = None  # smoothed, at the model's resolution
        self._frames = 0
        self._image: np.ndarray | None = None
        self._covered: np.ndarray | None = None  # the image fitted to the last frame size
        self.options = BackgroundOptions()
        self.set_options(options or BackgroundOptions())

    def set_options(self, options: BackgroundOptions) -> None:
        """Switch mode (the window's key, the web page's choice); the mask history is kept."""
        if options.mode == "image" and options.image_path != self.options.image_path:
            assert options.image_path is not None  # checked by BackgroundOptions
            self._image = load_background_image(options.image_path)
            self._covered = None
        self.options = options

    def reset(self) -> None:
        """Forget the mask history (a new camera, a new clip)."""
        self._mask = None
        self._frames = 0

    def mask(self, image_rgb: np.ndarray) -> np.ndarray:
        """The person's smoothed, feathered mask for this frame, (H, W) float32 in [0, 1] at frame size."""
        if self._mask is None or self._frames % self.options.segment_every == 0:
            self._mask = smooth_over_time(self._segmenter.segment(image_rgb), self._mask, self.options.temporal_ratio)
        self._frames += 1
        mask = self._mask
        if self.options.feather_sigma > 0.0:
            mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=self.options.feather_sigma)
        return cv2.resize(mask, (image_rgb.shape[1], image_rgb.shape[0]), interpolation=cv2.INTER_LINEAR)

    def apply(self, image_rgb: np.ndarray) -> np.ndarray:
        """The frame with its background blurred or replaced (the frame itself when mode is "none")."""
        if self.options.mode == "none":
            return image_rgb
        alpha = (self.mask(image_rgb) * 255.0 + 0.5).astype(np.uint8)
        alpha3 = cv2.merge((alpha, alpha, alpha))
        background = self._background(image_rgb)
        person = cv2.multiply(image_rgb, alpha3, scale=1.0 / 255.0)
        rest = cv2.multiply(background, cv2.bitwise_not(alpha3), scale=1.0 / 255.0)
        return cv2.add(person, rest)

    def _background(self, image_rgb: np.ndarray) -> np.ndarray:
        if self.options.mode == "blur":
            return blurred(image_rgb, self.options.blur_fraction)
        assert self._image is not None  # loaded by set_options
        size = (image_rgb.shape[1], image_rgb.shape[0])
        if self._covered is None or self._covered.shape[:2] != image_rgb.shape[:2]:
            self._covered = cover(self._image, size)
        return self._covered



def with_background(result: FrameResult, compositor: BackgroundCompositor | None) -> FrameResult:
    """`result` with its frame's background blurred or replaced, for the packs to draw on top of.

    The faces were found on the original frame; only the picture under them changes.
    """
    if compositor is None or compositor.options.mode == "none":
        return result
    return replace(result, frame=replace(result.frame, image=compositor.apply(result.frame.image)))
