"""A loaded, validated filter pack: layers per emotion label, drawn on every face of a frame.

A layer shows when the face's label picks it and every expression in its `when` is on; sprite
layers go through `composite_sprite` (hidden behind the head where they say so), mesh layers
through `draw_mesh_texture`, in the manifest's order, so a mask can be painted under glasses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from arfilter.core.types import FaceResult
from arfilter.render.mesh import draw_mesh_texture
from arfilter.render.occlusion import HeadSilhouette
from arfilter.render.overlay import composite_sprite, pop_frame
from arfilter.render.packs.layer import (
    Layer,
    MeshLayer,
    PackLayer,
    Placement,
    fit_in_frame,
    layer_placement,
    turned_extent,
)
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
    layers_by_label: dict[str, tuple[PackLayer, ...]]

    def prepare(self) -> FilterPack:
        """Decode every PNG of the pack now (raises PackError), so drawing never fails later."""
        for layers in self.layers_by_label.values():
            for layer in layers:
                for image in layer.images():
                    image.sprite()
        return self

    def layers_for(self, label: str) -> tuple[PackLayer, ...]:
        """The layers drawn for `label`: its own entry, else the `default` one, else none."""
        return self.layers_by_label.get(label, self.layers_by_label.get(DEFAULT_LABEL, ()))

    def render(self, canvas: np.ndarray, faces: list[FaceResult], time_s: float = 0.0) -> None:
        """Draw every face's layers onto `canvas` (RGB uint8, in place); `time_s` (the frame's
        time) moves scrolling mesh textures.

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
                    self._draw_label(canvas, face, geometry, face.previous_label, *pop.outgoing, time_s)
                self._draw_label(canvas, face, geometry, face.label, *pop.incoming, time_s)
            else:
                self._draw_label(canvas, face, geometry, face.label, 1.0, 1.0, time_s)

    def _draw_label(self, canvas: np.ndarray, face: FaceResult, geometry: FaceGeometry, label: str,
                    size: float, opacity: float, time_s: float) -> None:
        if opacity <= 0.0:
            return
        frame_size = (canvas.shape[1], canvas.shape[0])
        head: HeadSilhouette | None = None
        for layer in self.layers_for(label):
            if not face.expressions.issuperset(layer.when):
                continue
            if isinstance(layer, MeshLayer):
                style = layer.style if opacity >= 1.0 else replace(layer.style, opacity=layer.style.opacity * opacity)
                envelope = layer.envelope.sprite() if layer.envelope is not None else None
                draw_mesh_texture(canvas, face.landmarks, layer.png.sprite(), style, time_s, envelope)
                continue
            if layer.behind_head and head is None:
                head = HeadSilhouette.from_landmarks(face.landmarks)
            placement, width, center, _ = self._place(face, geometry, layer, size, frame_size)
            composite_sprite(canvas, layer.sprite, center, width, placement.angle_deg, opacity, squash=placement.squash,
                             visibility=head.visibility if head is not None and layer.behind_head else None)

    @staticmethod
    def _place(face: FaceResult, geometry: FaceGeometry, layer: Layer, size: float, frame_size: tuple[int, int]
               ) -> tuple[Placement, float, tuple[float, float], tuple[float, float]]:
        """Where a sprite layer goes on `face`: (placement, drawn width, centre, drawn extent)."""
        placement = layer_placement(layer, face.landmarks, geometry)
        sprite = layer.sprite
        width = size * placement.width_px
        extent = turned_extent(width * placement.squash, width * sprite.height / sprite.width, placement.angle_deg)
        center, fit = fit_in_frame(placement.center_xy, extent, frame_size)
        return placement, fit * width, center, (fit * extent[0], fit * extent[1])

    def prop_boxes(self, faces: list[FaceResult], frame_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """(x, y, w, h) of every sprite drawn for `faces`' labels (the hats and crowns the HUD keeps clear of;
        mesh layers lie on the face, which the HUD avoids anyway)."""
        boxes = []
        for face in faces:
            for layer in self.layers_for(face.label):
                if isinstance(layer, MeshLayer) or not face.expressions.issuperset(layer.when):
                    continue
                _, _, (x, y), (w, h) = self._place(face, face.geometry, layer, 1.0, frame_size)
                boxes.append((round(x - w / 2), round(y - h / 2), round(w), round(h)))
        return boxes


