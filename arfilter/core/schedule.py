"""When each tracked face is classified: a per-face schedule instead of every face on every frame.

Expressions change over hundreds of milliseconds, while the landmarks (which the overlays follow)
must be fresh on every frame. So a face is classified `classify_hz` times a second, sooner when
its shape changed (the mouth opened, the brows rose) since its last classification, and at once
when its track is new; in between, the label smoothing keeps being fed the face's latest
probabilities, so the evidence it integrates is weighted by how long each reading stood. Faces due
on the same frame are served most overdue first, at most `max_per_frame` of them, which staggers a
crowd across frames instead of classifying it all at once every few frames.

On a 2-core laptop CPU without AVX-512 one emotion network run costs ~2.6 ms: every face on every
frame at 30 frames/s would take most of a core for four faces; on this schedule it is about 40%
of that, and the shown labels are those of classifying every frame (bench.stability measures it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arfilter.core.types import TrackedFace
from arfilter.vision.geometry import NAMED_POINT_INDICES

# Landmarks whose movement is an expression: lips, brows and eyelids (not the jaw line or the
# cheeks, which move with the head and with speech just as much).
_EXPRESSION_POINTS = np.unique(np.concatenate([
    np.asarray(NAMED_POINT_INDICES[name]) for name in
    ("mouth_center", "mouth_left", "mouth_right", "left_eyebrow", "right_eyebrow", "left_eye", "right_eye")]))


@dataclass(frozen=True)
class EmotionScheduleOptions:
    """How often faces are classified.

    classify_hz: classifications per face per second when nothing changes; 0 classifies every
        face on every frame (the most work, for benchmarks and comparisons). Higher follows a
        change sooner; the smoothing needs about a third of a second of evidence anyway.
    shape_change: classify sooner when an expression landmark (lips, brows, eyelids) moved by
        more than this, in interocular distances, in the face's own frame (position and size
        removed) since the face's last classification. Landmark jitter on a still face is about
        0.02; a mouth opening or a brow raise moves its points by 0.1-0.3. Lower reacts to subtler
        changes and costs more.
    max_per_frame: at most this many known faces re-classified in one frame (the most overdue
        first). Bounds the cost of a frame where many faces fall due at once; a new face is always
        classified at once (it has nothing to show yet) and counts towards the limit.
    """

    classify_hz: float = 12.0
    shape_change: float = 0.1
    max_per_frame: int = 2

    def __post_init__(self) -> None:
        if not self.classify_hz >= 0.0:
            raise ValueError(f"classify_hz must be 0 (every frame) or positive, got {self.classify_hz}")
        if not self.shape_change > 0.0:
            raise ValueError(f"shape_change must be positive, got {self.shape_change}")
        if self.max_per_frame < 1:
            raise ValueError(f"max_per_frame must be at least 1, got {self.max_per_frame}")


def expression_shape(landmarks: np.ndarray) -> np.ndarray:
    """The expression landmarks in the face's own frame: centred on the face and in interocular units."""
    points = np.asarray(landmarks, np.float64)[:, :2]
    left_eye = points[list(NAMED_POINT_INDICES["left_eye"])].mean(axis=0)
    right_eye = points[list(NAMED_POINT_INDICES["right_eye"])].mean(axis=0)
    interocular = max(float(np.linalg.norm(right_eye - left_eye)), 1e-6)
    return (points[_EXPRESSION_POINTS] - points.mean(axis=0)) / interocular


@dataclass
class _Reading:
    probabilities: np.ndarray
    time_s: float
    shape: np.ndarray


class EmotionSchedule:
    """Which faces to classify on this frame, and each face's latest probabilities."""

    def __init__(self, options: EmotionScheduleOptions = EmotionScheduleOptions()) -> None:
        self.options = options
        self._readings: dict[int, _Reading] = {}

    def due(self, faces: list[TrackedFace], time_s: float, *, is_still: bool = False) -> list[int]:
        """Indices (into `faces`) of the faces to classify now."""
        if is_still or self.options.classify_hz == 0.0:
            return list(range(len(faces)))
        period = 1.0 / self.options.classify_hz
        new: list[int] = []
        overdue: list[tuple[float, int]] = []
        for index, face in enumerate(faces):
            reading = self._readings.get(face.track_id)
            if reading is None or time_s < reading.time_s:  # a new track, or a clock that went back
                new.append(index)
                continue
            waited = time_s - reading.time_s
            moved = float(np.linalg.norm(expression_shape(face.landmarks) - reading.shape, axis=1).max())
            # A microsecond of slack: 3 frames at 30 frames/s must count as 0.1 s, not 0.0999...
            if waited + 1e-6 >= period or moved > self.options.shape_change:
                overdue.append((waited / period + moved / self.options.shape_change, index))
        overdue.sort(reverse=True)
        room = max(0, self.options.max_per_frame - len(new))
        return sorted(new + [index for _, index in overdue[:room]])

    def record(self, face: TrackedFace, probabilities: np.ndarray, time_s: float) -> None:
        self._readings[face.track_id] = _Reading(probabilities, time_s, expression_shape(face.landmarks))

    def latest_for(self, track_id: int) -> np.ndarray | None:
        """The face's most recent probabilities (the model's own), or None if it was never classified."""
        reading = self._readings.get(track_id)
        return None if reading is None else reading.probabilities

    def keep_only(self, track_ids: set[int]) -> None:
        self._readings = {track: reading for track, reading in self._readings.items() if track in track_ids}

    def reset(self) -> None:
        self._readings.clear()
