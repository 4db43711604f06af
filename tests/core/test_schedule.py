"""The per-face emotion schedule: who is classified on which frame, and what the pipeline shows in between."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from arfilter.core.pipeline import Pipeline, PipelineOptions
from arfilter.core.schedule import EmotionSchedule, EmotionScheduleOptions, expression_shape
from arfilter.core.types import Frame, TrackedFace
from arfilter.vision.geometry import NAMED_POINT_INDICES
from arfilter.vision.labels import EMOTION_LABELS

LANDMARKS = np.load(Path(__file__).parent.parent / "data" / "astronaut_landmarks.npy").astype(np.float32)


def face(track_id: int, landmarks: np.ndarray = LANDMARKS) -> TrackedFace:
    return TrackedFace(track_id=track_id, landmarks=landmarks, landmark_score=0.9)


def mouth_opened(by_px: float) -> np.ndarray:
    moved = LANDMARKS.copy()
    moved[NAMED_POINT_INDICES["mouth_center"][1], 1] += by_px  # the lower lip's inner edge
    return moved


def test_a_new_face_is_classified_at_once_then_at_the_scheduled_rate() -> None:
    schedule = EmotionSchedule(EmotionScheduleOptions(classify_hz=10.0))
    times = [index / 30.0 for index in range(31)]  # one second at 30 frames/s
    classified = []
    for time_s in times:
        if schedule.due([face(1)], time_s):
            classified.append(time_s)
            schedule.record(face(1), np.full(7, 1 / 7, np.float32), time_s)
    assert classified[0] == 0.0
    assert len(classified) == 10 or len(classified) == 11
    assert all(later - earlier >= 0.1 - 1e-9 for earlier, later in itertools.pairwise(classified))


def test_a_changed_expression_is_classified_before_its_turn() -> None:
    schedule = EmotionSchedule(EmotionScheduleOptions(classify_hz=2.0))
    schedule.record(face(1), np.full(7, 1 / 7, np.float32), 0.0)
    assert schedule.due([face(1)], 0.1) == []
    assert schedule.due([face(1, mouth_opened(1.0))], 0.1) == [], "a pixel of jitter is no change"
    assert schedule.due([face(1, mouth_opened(40.0))], 0.1) == [0], "the mouth opened: classify now"


def test_moving_and_scaling_the_face_is_not_a_change_of_expression() -> None:
    moved = LANDMARKS.copy()
    moved[:, :2] = moved[:, :2] * 1.3 + np.array([50.0, -20.0])
    assert np.allclose(expression_shape(moved), expression_shape(LANDMARKS), atol=1e-4)


def test_a_crowd_is_staggered_most_overdue_first() -> None:
    schedule = EmotionSchedule(EmotionScheduleOptions(classify_hz=10.0, max_per_frame=2))
    for track, time_s in ((1, 0.0), (2, 0.02), (3, 0.04), (4, 0.06)):
        schedule.record(face(track), np.full(7, 1 / 7, np.float32), time_s)
    crowd = [face(track) for track in (1, 2, 3, 4)]
    assert schedule.due(crowd, 0.2) == [0, 1], "all four are due; the two waiting longest go first"
    assert schedule.due([*crowd, face(5), face(6), face(7)], 0.2) == [4, 5, 6], "new faces always, over the limit"


def test_stills_and_a_zero_rate_classify_every_face() -> None:
    schedule = EmotionSchedule(EmotionScheduleOptions(classify_hz=0.0))
    schedule.record(face(1), np.full(7, 1 / 7, np.float32), 0.0)
    assert schedule.due([face(1), face(2)], 0.01) == [0, 1]
    schedule = EmotionSchedule()
    schedule.record(face(1), np.full(7, 1 / 7, np.float32), 0.0)
    assert schedule.due([face(1)], 0.01, is_still=True) == [0]


@pytest.mark.parametrize("bad", [{"classify_hz": -1.0}, {"shape_change": 0.0}, {"max_per_frame": 0}])
def test_options_are_checked(bad) -> None:
    with pytest.raises(ValueError):
        EmotionScheduleOptions(**bad)


class FixedTracker:
    untracked: tuple[tuple[int, int, int, int], ...] = ()  # no face left out

    def __init__(self, track_ids: tuple[int, ...]) -> None:
        self.track_ids = track_ids

    def update(self, image: np.ndarray, is_still: bool = False) -> list[TrackedFace]:
        return [face(track) for track in self.track_ids]

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class CountingClassifier:
    labels = EMOTION_LABELS

    def __init__(self) -> None:
        self.faces_classified = 0

    def infer(self, image: np.ndarray, landmarks: list[np.ndarray]) -> np.ndarray:
        self.faces_classified += len(landmarks)
        happy = np.full((len(landmarks), 7), 0.01, np.float32)
        happy[:, EMOTION_LABELS.index("happy")] = 0.94
        return happy

    def close(self) -> None:
        pass


def test_the_pipeline_classifies_four_faces_at_the_scheduled_rate_and_shows_every_face_every_frame() -> None:
    classifier = CountingClassifier()
    pipeline = Pipeline(PipelineOptions(schedule=EmotionScheduleOptions(classify_hz=12.0, max_per_frame=4)),
                        tracker=FixedTracker((1, 2, 3, 4)), classifier=classifier)  # type: ignore[arg-type]
    image = np.zeros((48, 64, 3), np.uint8)
    results = [pipeline.process(Frame(image=image, index=index, source="test", timestamp_s=index / 30.0))
               for index in range(60)]
    assert all(len(result.faces) == 4 for result in results)
    assert all(face.label == "happy" for face in results[-1].faces)
    assert 4 * 2 * 10 <= classifier.faces_classified <= 4 * 2 * 12 + 4, "about 12 per face per second, not 30"


def test_a_face_read_relative_to_its_own_neutral_face() -> None:
    """calibrate(track): its latest reading becomes the person's neutral; the same face then reads neutral,
    and the reference goes with the track."""
    classifier = CountingClassifier()  # always 94% happy: a person whose resting face the model calls happy
    pipeline = Pipeline(PipelineOptions(), tracker=FixedTracker((1,)), classifier=classifier)  # type: ignore[arg-type]
    image = np.zeros((48, 64, 3), np.uint8)

    def frame(index: int) -> Frame:
        return Frame(image=image, index=index, source="test", timestamp_s=index / 30.0)

    before = [pipeline.process(frame(index)) for index in range(30)]
    assert before[-1].faces[0].label == "happy" and not before[-1].faces[0].calibrated
    assert pipeline.calibrate(1) and not pipeline.calibrate(99)
    after = [pipeline.process(frame(index)) for index in range(30, 90)]
    assert after[-1].faces[0].calibrated and after[-1].faces[0].label == "neutral"
    assert pipeline.clear_calibration(1) and not pipeline.clear_calibration(1)
