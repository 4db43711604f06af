"""Fitting frames into a recording or a window of another size (the H.264 writer is arfilter/io/video_writer.py)."""

from __future__ import annotations

import cv2
import numpy as np


def letterbox_box(inner: tuple[int, int], outer: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the largest box of `inner`'s aspect ratio centred in `outer` (both
    (width, height)): where a frame goes in a recording of another size, or in a resized window."""
    scale = min(outer[0] / inner[0], outer[1] / inner[1])
    width, height = max(1, round(inner[0] * scale)), max(1, round(inner[1] * scale))
    return (outer[0] - width) // 2, (outer[1] - height) // 2, width, height


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled to fit (width, height) without distortion, centred on black."""
    left, top, width, height = letterbox_box((image.shape[1], image.shape[0]), size)
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    canvas[top:top + height, left:left + width] = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return canvas
