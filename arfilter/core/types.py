"""Small dataclasses that carry data one way through the pipeline.

sources -> Frame -> faces/tracking -> TrackedFace -> emotion + smoothing -> FaceResult (analysis,
arfilter.core.pipeline) -> packs -> drawn image (drawing, arfilter.render.packs.PackSet) -> sinks. Images are always RGB uint8 arrays of shape (H, W, 3)
so that pygame, OpenCV and the models agree without conversions scattered around.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from arfilter.vision.geometry import FaceGeometry


@dataclass(frozen=True)
class Frame:
    """One image from a source.

    `source` is what a user recognises: the image path for image and folder sources, the
    video path, "camera 0" or "demo". `is_still` marks frames that are unrelated to the
    previous one (images, folders), which must not be tracked or smoothed across.
    """

    image: np.ndarray  # (H, W, 3) uint8 RGB
    index: int
    source: str
    timestamp_s: float
    is_still: bool = False


@dataclass
class TrackedFace:
    """A face found in one frame, with a track id that is stable across frames."""

    track_id: int
    landmarks: np.ndarray  # (468, 3) float32: x, y in frame pixels, z in the same scale
    landmark_score: float  # the landmark model's face-presence confidence, 0..1


@dataclass
class FaceResult:
    """Everything the overlay, HUD and JSON output need to know about one face.

    `geometry` is measured once, by the pipeline, from the landmarks shown; every drawing
    step reads it instead of measuring the face again.
    """

    track_id: int
    landmarks: np.ndarray  # (468, 3) float32, smoothed for live sources
    geometry: FaceGeometry  # eyes, roll, interocular and face width of `landmarks`
    box: tuple[int, int, int, int]  # x, y, w, h in frame pixels, from the landmarks
    probabilities: np.ndarray  # (len(labels),) calibrated and smoothed
    labels: tuple[str, ...]  # the emotion model's labels, in the order of `probabilities`
    label: str  # the label shown (after hysteresis)
    confidence: float  # probability of `label`
    previous_label: str | None = None  # the label being replaced, if any
    transition: float = 1.0  # progress of the pop from previous_label (or from nothing) to label, 0..1
    settled: bool = True  # False while a new track's label is still forming (no overlay drawn yet)
    calibrated: bool = False  # probabilities are relative to this person's neutral face (arfilter.vision.neutral)
    expressions: frozenset[str] = frozenset()  # expression triggers on now (arfilter.core.expressions)

    @property
    def roll_deg(self) -> float:
        """Head roll, positive when the face turns clockwise on screen."""
        return self.geometry.roll_deg


@dataclass
class FrameResult:
    """The output of the pipeline for one frame."""

    frame: Frame
    faces: list[FaceResult] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
