"""pygame surfaces and the pictures saved from them: conversions to and from RGB arrays, the
letterboxed place of a frame in the window, and S's screenshot file (whole or not at all)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pygame

from arfilter.errors import OutputError
from arfilter.io.paths import prepare_folder, timestamped_path
from arfilter.io.recording import letterbox_box
from arfilter.io.safe_write import write_atomically


def surface_to_rgb(surface: pygame.Surface) -> np.ndarray:
    """A pygame surface as an (H, W, 3) uint8 RGB array (a copy)."""
    width, height = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), np.uint8).reshape(height, width, 3).copy()


def rgb_to_surface(image: np.ndarray) -> pygame.Surface:
    """An (H, W, 3) uint8 RGB array as a pygame surface that owns its pixels."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    return pygame.image.frombuffer(image.tobytes(), (image.shape[1], image.shape[0]), "RGB")


def save_screenshot(image_rgb: np.ndarray, folder: Path) -> Path:
    """Write an RGB frame as a timestamped PNG into `folder` (whole or not at all); OutputError when it cannot."""
    prepare_folder(folder, "screenshot")
    path = timestamped_path(folder, "screenshot", ".png")
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OutputError(f"cannot encode screenshot {path}")
    write_atomically(path, encoded.tobytes(), "--screenshot-dir")
    return path


def letterbox_rect(frame_size: tuple[int, int], window_size: tuple[int, int]) -> pygame.Rect:
    """The largest rectangle of the frame's aspect ratio centred in the window."""
    return pygame.Rect(*letterbox_box(frame_size, window_size))
