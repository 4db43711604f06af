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


# Why a face's label is what it is (FaceResult.state, the JSON's "state"):
STEADY = "steady"  # the label is the biggest of `probabilities`
SETTLING = "settling"  # a new face: the label follows the evidence and no overlay is drawn yet
HELD = "held"  # another label leads, but not yet by enough for long enough to replace the one shown
FACE_STATES = (STEADY, SETTLING, HELD)


@dataclass
class FaceResult:
    """Everything the overlay, HUD and JSON output need to know about one face.

    `geometry` is measured once, by the pipeline, from the landmarks shown; every drawing
    step reads it instead of measuring the face again.

    One truth per face: `probabilities` is the distribution the label is decided from (the
    smoothed evidence), so the bars, the JSON's `probs` and the label agree: `label` is the
    biggest of them unless `state` says why not (HELD: the lead has not lasted long enough
    yet). `raw_probabilities` are this frame's own, unsmoothed.
    """

    track_id: int
    landmarks: np.ndarray  # (468, 3) float32, smoothed for live sources
    geometry: FaceGeometry  # eyes, roll, interocular and face width of `landmarks`
    box: tuple[int, int, int, int]  # x, y, w, h in frame pixels, from the landmarks
    probabilities: np.ndarray  # (len(labels),) calibrated and smoothed: what the label is decided from
    labels: tuple[str, ...]  # the emotion model's labels, in the order of `probabilities`
    label: str  # the label shown (after hysteresis)
    confidence: float  # probability of `label`
    previous_label: str | None = None  # the label being replaced, if any
    transition: float = 1.0  # progress of the pop from previous_label (or from nothing) to label, 0..1
    state: str = STEADY  # STEADY, SETTLING or HELD (see above)
    raw_probabilities: np.ndarray | None = None  # this frame's own; None where it is `probabilities` (stills)
    calibrated: bool = False  # probabilities are relative to this person's neutral face (arfilter.vision.neutral)
    expressions: frozenset[str] = frozenset()  # expression triggers on now (arfilter.core.expressions)

    @property
    def settled(self) -> bool:
        """False while a new track's label is still forming (no overlay drawn yet)."""
        return self.state != SETTLING

    @property
    def frame_probabilities(self) -> np.ndarray:
        """This frame's own probabilities (the HUD's raw toggle, the JSON's raw_probs)."""
        return self.probabilities if self.raw_probabilities is None else self.raw_probabilities

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
    untracked: tuple[tuple[int, int, int, int], ...] = ()  # boxes of faces seen but not tracked (max faces reached)
