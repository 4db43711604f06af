"""One frame through the analysis stages: faces -> emotion -> smoothing, into a FrameResult.

The window app, the headless runner and the web app all drive this class; it owns no loop
and no window, so it runs the same under a test, a benchmark or the pygame app. Drawing the
result is the PackSet's job (arfilter.render.packs).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from arfilter.core.expressions import ExpressionOptions, ExpressionTracker
from arfilter.core.schedule import EmotionSchedule, EmotionScheduleOptions
from arfilter.core.smoothing import SmoothingBank, SmoothingOptions
from arfilter.core.tracking import FaceTracker, TrackerOptions
from arfilter.core.types import STEADY, FaceResult, Frame, FrameResult, TrackedFace
from arfilter.lifecycle import Closeable
from arfilter.vision.emotion import EmotionClassifier, EmotionOptions
from arfilter.vision.geometry import FaceGeometry, landmark_box
from arfilter.vision.neutral import NeutralOptions, NeutralReference
from arfilter.vision.neutral import apply as relative_to_neutral

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOptions:
    """Every analysis stage's options in one place; the lens options (arfilter.apps.lens) hold these."""

    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    emotion: EmotionOptions = field(default_factory=EmotionOptions)
    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)
    schedule: EmotionScheduleOptions = field(default_factory=EmotionScheduleOptions)
    expressions: ExpressionOptions = field(default_factory=ExpressionOptions)


class EmotionModel(Protocol):
    """What the pipeline needs from an emotion model (`EmotionClassifier`; benches wrap it)."""

    labels: tuple[str, ...]

    def infer(self, image_rgb: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray: ...
    def close(self) -> None: ...


class Pipeline(Closeable):
    """Analyses frames into FrameResults: faces, emotions, smoothing. It draws nothing.

    The stages can be injected (tests use fakes); by default they are built from `options`.
    `close()` releases the models.
    """

    def __init__(self, options: PipelineOptions = PipelineOptions(), *, tracker: FaceTracker | None = None,
                 classifier: EmotionModel | None = None):
        self.options = options
        self.tracker = tracker or FaceTracker.create(options.tracker)
        self.classifier: EmotionModel = classifier or EmotionClassifier(options.emotion)
        self.smoothing = SmoothingBank(options.smoothing)
        self.schedule = EmotionSchedule(options.schedule)
        metadata = getattr(self.classifier, "metadata", None)
        self.neutral_options = NeutralOptions.from_metadata(metadata.provenance) if metadata else NeutralOptions()
        self._references: dict[int, NeutralReference] = {}
        # A neutral face for every face without its own (`--neutral-face PHOTO` for a one-person video).
        self.shared_reference: NeutralReference | None = None
        self.expressions = ExpressionTracker(options.expressions)

    @property
    def labels(self) -> tuple[str, ...]:
        """The emotion labels every result's probabilities are in (the model's own)."""
        return self.classifier.labels

    def close(self) -> None:
        """Release the models (their interpreters); the pipeline cannot process frames afterwards."""
        self.tracker.close()
        self.classifier.close()

    def calibrate(self, track_id: int) -> bool:
        """Take this face's latest reading as its person's neutral face, for as long as the track
        lasts; False when the face is not tracked (nothing to take)."""
        latest = self.schedule.latest_for(track_id)
        if latest is None:
            return False
        self._references[track_id] = NeutralReference.from_probs(latest, self.labels)
        return True

    def clear_calibration(self, track_id: int) -> bool:
        """Forget the face's own neutral reference; True if it had one."""
        return self._references.pop(track_id, None) is not None

    def reference_for(self, track_id: int) -> NeutralReference | None:
        return self._references.get(track_id, self.shared_reference)

    def reset(self) -> None:
        """Forget all tracks and their smoothing, e.g. after a source change."""
        self.tracker.reset()
        self.smoothing.reset()
        self.schedule.reset()
        self._references.clear()
        self.expressions.reset()

    def mirror(self, frame_width: int) -> None:
        """The view was flipped left to right: the tracks follow their faces to the other side,
        keeping their ids and labels (only the landmark smoothing restarts)."""
        self.tracker.mirror(frame_width)
        self.smoothing.forget_landmarks()

    def process(self, frame: Frame) -> FrameResult:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        tracked = self.tracker.update(frame.image, is_still=frame.is_still)
        after_faces = time.perf_counter()
        probabilities = self._classify(frame, tracked)
        after_emotion = time.perf_counter()
        faces = [self._smooth(face, face_probabilities, frame) for face, face_probabilities in zip(tracked, probabilities)]
        if frame.is_still:
            self.smoothing.reset()
            self.schedule.reset()
            self.expressions.reset()
        else:
            tracked_ids = {face.track_id for face in tracked}
            self.smoothing.keep_only(tracked_ids)
            self.schedule.keep_only(tracked_ids)
            self.expressions.keep_only(tracked_ids)
            self._references = {track: reference for track, reference in self._references.items() if track in tracked_ids}
        end = time.perf_counter()
        timings["faces"] = (after_faces - start) * 1000
        timings["emotion"] = (after_emotion - after_faces) * 1000
        timings["smoothing"] = (end - after_emotion) * 1000
        return FrameResult(frame=frame, faces=faces, timings_ms=timings, untracked=self.tracker.untracked)

    def _classify(self, frame: Frame, tracked: list[TrackedFace]) -> list[np.ndarray]:
        """Each face's latest probabilities: the faces the schedule says are due go through the
        emotion model now, in one batch; the others keep their last reading."""
        due = self.schedule.due(tracked, frame.timestamp_s, is_still=frame.is_still)
        if due:
            fresh = self.classifier.infer(frame.image, [tracked[index].landmarks for index in due])
            for index, probabilities in zip(due, fresh):
                self.schedule.record(tracked[index], probabilities, frame.timestamp_s)
        latest = [self.schedule.latest_for(face.track_id) for face in tracked]
        assert all(probabilities is not None for probabilities in latest), "a new face is always classified"
        return [relative_to_neutral(probabilities, self.reference_for(face.track_id), self.neutral_options)
                for face, probabilities in zip(tracked, latest) if probabilities is not None]

    def _smooth(self, face: TrackedFace, probabilities: np.ndarray, frame: Frame) -> FaceResult:
        landmarks = face.landmarks
        raw = probabilities
        if frame.is_still:
            label_index, previous_index, transition, face_state = int(np.argmax(probabilities)), None, 1.0, STEADY
        else:
            smoother = self.smoothing.get(face.track_id)
            # The speech guard reads the unsmoothed lips: smoothing would damp the very motion it looks for.
            raw_geometry = FaceGeometry.from_landmarks(landmarks)
            landmarks = smoother.landmarks(landmarks, frame.timestamp_s, scale=raw_geometry.face_width)
            decided = smoother.labels.update(probabilities, frame.timestamp_s, raw_geometry.mouth_gap)
            probabilities, label_index = decided.probabilities, decided.label_index
            previous_index, transition, face_state = decided.previous_label_index, decided.transition, decided.state
        geometry = FaceGeometry.from_landmarks(landmarks)
        # Expressions read the unsmoothed mesh (a blink is over before smoothing lets it through);
        # their hysteresis keeps them steady.
        expressions = self.expressions.update(face.track_id, face.landmarks, frame.timestamp_s)
        return FaceResult(
            track_id=face.track_id,
            landmarks=landmarks,
            geometry=geometry,
            box=landmark_box(landmarks),
            probabilities=probabilities,
            labels=self.classifier.labels,
            label=self.classifier.labels[label_index],
            confidence=float(probabilities[label_index]),
            previous_label=self.classifier.labels[previous_index] if previous_index is not None else None,
            transition=transition,
            calibrated=self.reference_for(face.track_id) is not None,
            expressions=expressions,
            state=face_state,
            raw_probabilities=None if frame.is_still else raw,
        )

    def settle(self, result: FrameResult) -> FrameResult:
        """`result` as if its frame had been shown for ever (a paused or ended video): every
        face's evidence becomes its frame's own probabilities and its label their biggest,
        without a pop (see LabelSmoother.settle). The tracks' smoothing continues from there."""
        if result.frame.is_still:
            return result
        faces = []
        for face in result.faces:
            state = self.smoothing.get(face.track_id).labels.settle(face.frame_probabilities, result.frame.timestamp_s)
            faces.append(dataclasses.replace(
                face, probabilities=state.probabilities, label=face.labels[state.label_index],
                confidence=float(state.probabilities[state.label_index]), previous_label=None, transition=1.0,
                state=state.state))
        return dataclasses.replace(result, faces=faces)
