"""A loaded, validated filter pack: layers per emotion label, drawn on every face of a frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arfilter.core.types import FaceResult
from arfilter.render.overlay import composite_sprite, pop_frame
from arfilter.render.packs.layer import Layer, Placement, fit_in_frame, layer_placement, turned_extent
from arfilter.vision.geometry import FaceGeometry

DEFAULT_LABEL = "default"
LANDMARK_COUNT = 468

@dataclass(frozen=True)
class FilterPack:
    """A loaded, validated pack, ready to draw."""

    name: str
    description: str
    author: str
    licence: str
    source_folder: Path
    layers_by_label: dict[str, tuple[Layer, ...]]

    def prepare(self) -> FilterPack:
        """Decode every PNG of the pack now (raises PackError), so drawing never fails later."""
        for layers in self.layers_by_label.values():
            for layer in layers:
                layer.png.sprite()
        return self

    def layers_for(self, label: str) -> tuple[Layer, ...]:
        """The layers drawn for `label`: its own entry, else the `default` one, else none."""
        return self.layers_by_label.get(label, self.layers_by_label.get(DEFAULT_LABEL, ()))

    def render(self, canvas: np.ndarray, faces: list[FaceResult]) -> None:
        """Draw every face's layers onto `canvas` (RGB uint8, in place).

        While a face changes label, the previous label's layers pop out and the new
        label's layers pop in (`overlay.pop_frame`), never both at half opacity; a new face
        (no previous label) pops in from nothing.
        """
        for face in faces:
            if face.landmarks.ndim != 2 or face.landmarks.shape[0] != LANDMARK_COUNT or face.landmarks.shape[1] < 2:
                raise ValueError(
                    f"face {face.track_id}: landmarks must have shape ({LANDMARK_COUNT}, 3), got {face.landmarks.shape}"
                )
            geometry = face.geometry
            transition = min(max(float(face.transition), 0.0), 1.0)
            if transition < 1.0:
                pop = pop_frame(transition)
                if face.previous_label is not None and face.previous_label != face.label:
                    self._draw_label(canvas, face, geometry, face.previous_label, *pop.outgoing)
                self._draw_label(canvas, face, geometry, face.label, *pop.incoming)
            else:
                self._draw_label(canvas, face, geometry, face.label, 1.0, 1.0)

    def _draw_label(self, canvas: np.ndarray, face: FaceResult, geometry: FaceGeometry, label: str,
                    size: float, opacity: float) -> None:
        if opacity <= 0.0:
            return
        for layer, placement, width, center, _ in self._placed(face, geometry, label, size, (canvas.shape[1], canvas.shape[0])):
            composite_sprite(canvas, layer.sprite, center, width, placement.angle_deg, opacity, squash=placement.squash)

    def _placed(self, face: FaceResult, geometry: FaceGeometry, label: str, size: float,
                frame_size: tuple[int, int]) -> Iterator[tuple[Layer, Placement, float, tuple[float, float], tuple[float, float]]]:
        """Each layer of `label` on `face`: (layer, placement, drawn width, centre, drawn extent)."""
        for layer in self.layers_for(label):
            placement = layer_placement(layer, face.landmarks, geometry)
            sprite = layer.sprite
            width = size * placement.width_px
            extent = turned_extent(width * placement.squash, width * sprite.height / sprite.width, placement.angle_deg)
            center, fit = fit_in_frame(placement.center_xy, extent, frame_size)
            yield layer, placement, fit * width, center, (fit * extent[0], fit * extent[1])

    def prop_boxes(self, faces: list[FaceResult], frame_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """(x, y, w, h) of every layer drawn for `faces`' labels (the hats and crowns the HUD keeps clear of)."""
        boxes = []
        for face in faces:
            for _, _, _, (x, y), (w, h) in self._placed(face, face.geometry, face.label, 1.0, frame_size):
                boxes.append((round(x - w / 2), round(y - h / 2), round(w), round(h)))
        return boxes


