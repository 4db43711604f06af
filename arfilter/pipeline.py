"""One frame through every stage: faces -> emotion -> smoothing -> overlay.

The window app and the headless runner both drive this class; it owns no loop and no
window, so it runs the same under a test, a benchmark or the pygame app.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arfilter.emotion import EmotionClassifier, EmotionOptions
from arfilter.errors import PackError
from arfilter.geometry import FaceGeometry, landmark_box
from arfilter.packs import BUILTIN_PACKS_DIR, FilterPack, discover_packs
from arfilter.smoothing import SmoothingBank, SmoothingOptions
from arfilter.tracking import FaceTracker, TrackerOptions
from arfilter.types import FaceResult, Frame, FrameResult, TrackedFace

DEFAULT_PACK = "emoji"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOptions:
    """Every stage's options in one place; the CLI fills this in and hands it over."""

    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    emotion: EmotionOptions = field(default_factory=EmotionOptions)
    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)
    builtin_packs_dir: Path = BUILTIN_PACKS_DIR
    user_packs_dirs: tuple[Path, ...] = ()
    pack: str = DEFAULT_PACK


class Pipeline:
    """Processes frames into FrameResults and draws the current filter pack on them.

    The stages can be injected (tests use fakes); by default they are built from `options`.
    """

    def __init__(self, options: PipelineOptions = PipelineOptions(), *, tracker: FaceTracker | None = None,
                 classifier: EmotionClassifier | None = None, packs: list[FilterPack] | None = None):
        self.options = options
        self.tracker = tracker or FaceTracker.create(options.tracker)
        self.classifier = classifier or EmotionClassifier(options.emotion)
        self.smoothing = SmoothingBank(options.smoothing)
        self.pack_errors: list[str] = []
        if packs is None:
            packs, self.pack_errors = discover_packs(options.builtin_packs_dir, options.user_packs_dirs)
        if not packs:
            raise PackError(f"no filter packs could be loaded from {options.builtin_packs_dir}; reinstall arfilter")
        self.packs = packs
        names = [pack.name for pack in packs]
        if options.pack not in names:
            raise PackError(f"no filter pack named {options.pack!r}; available: {', '.join(names)} (see --list-packs)")
        self._pack_index = names.index(options.pack)
        self.packs[self._pack_index].prepare()  # the chosen pack fails now, not at the first face

    @property
    def pack_names(self) -> list[str]:
        return [pack.name for pack in self.packs]

    @property
    def current_pack(self) -> str:
        return self.packs[self._pack_index].name

    def next_pack(self) -> str:
        """Switch to the next filter pack (wrapping around) and return its name.

        Packs are decoded when first chosen; one whose images turn out undecodable is dropped
        (its reason appended to `pack_errors`) and the one after it is taken instead.
        """
        current = self.packs[self._pack_index]
        while True:
            self._pack_index = (self._pack_index + 1) % len(self.packs)
            candidate = self.packs[self._pack_index]
            if candidate is current:
                return self.current_pack
            try:
                candidate.prepare()
                return self.current_pack
            except PackError as error:
                self.pack_errors.append(str(error))
                log.warning("skipped filter pack: %s", error)
                del self.packs[self._pack_index]
                self._pack_index -= 1

    def select_pack(self, name: str) -> None:
        """Switch to the pack called `name` (the web page picks packs by name, not in turn)."""
        if name not in self.pack_names:
            raise PackError(f"no filter pack named {name!r}; available: {', '.join(self.pack_names)}")
        self.packs[self.pack_names.index(name)].prepare()  # an undecodable pack is refused, not switched to
        self._pack_index = self.pack_names.index(name)

    def reset(self) -> None:
        """Forget all tracks and their smoothing, e.g. after a mirror toggle or a source change."""
        self.tracker.reset()
        self.smoothing.reset()

    def process(self, frame: Frame) -> FrameResult:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        tracked = self.tracker.update(frame.image, is_still=frame.is_still)
        after_faces = time.perf_counter()
        probabilities = self._classify(frame.image, tracked)
        after_emotion = time.perf_counter()
        faces = [self._smooth(face, face_probabilities, frame) for face, face_probabilities in zip(tracked, probabilities)]
        if frame.is_still:
            self.smoothing.reset()
        else:
            self.smoothing.keep_only({face.track_id for face in tracked})
        end = time.perf_counter()
        timings["faces"] = (after_faces - start) * 1000
        timings["emotion"] = (after_emotion - after_faces) * 1000
        timings["smoothing"] = (end - after_emotion) * 1000
        return FrameResult(frame=frame, faces=faces, timings_ms=timings)

    def render(self, result: FrameResult) -> np.ndarray:
        """A copy of the frame with the current pack drawn on every face."""
        start = time.perf_counter()
        canvas = result.frame.image.copy()
        self.packs[self._pack_index].render(canvas, result.faces)
        result.timings_ms["overlay"] = (time.perf_counter() - start) * 1000
        return canvas

    def _classify(self, image: np.ndarray, tracked: list[TrackedFace]) -> np.ndarray:
        """All faces of the frame through the emotion model in one batch."""
        return self.classifier.infer(image, [face.landmarks for face in tracked])

    def _smooth(self, face: TrackedFace, probabilities: np.ndarray, frame: Frame) -> FaceResult:
        landmarks = face.landmarks
        if frame.is_still:
            label_index, previous_index, transition = int(np.argmax(probabilities)), None, 1.0
        else:
            smoother = self.smoothing.get(face.track_id)
            scale = FaceGeometry.from_landmarks(landmarks).face_width
            landmarks = smoother.landmarks(landmarks, frame.timestamp_s, scale=scale)
            state = smoother.labels.update(probabilities, frame.timestamp_s)
            probabilities, label_index = state.probabilities, state.label_index
            previous_index, transition = state.previous_label_index, state.transition
        geometry = FaceGeometry.from_landmarks(landmarks)
        return FaceResult(
            track_id=face.track_id,
            landmarks=landmarks,
            box=landmark_box(landmarks),
            roll_deg=geometry.roll_deg,
            probabilities=probabilities,
            labels=self.classifier.labels,
            label=self.classifier.labels[label_index],
            confidence=float(probabilities[label_index]),
            previous_label=self.classifier.labels[previous_index] if previous_index is not None else None,
            transition=transition,
        )
