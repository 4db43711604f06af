"""FaceTracker on synthetic videos: the astronaut's face pasted onto a plain background."""

from __future__ import annotations

import pathlib

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.core.tracking import FaceTracker, SceneCutDetector, TrackerOptions
from arfilter.vision import detector as face_detector
from arfilter.vision import landmarker as face_landmarker

DATA = pathlib.Path(__file__).parent.parent / "data"
BACKGROUND_RGB = (70, 110, 90)
FACE_CROP = (135, 30, 180)  # x, y, size of a square around the head in astronaut.png
# Where landmark 1 (nose tip) sits inside the 180-px face crop.
NOSE_IN_CROP = np.load(DATA / "astronaut_landmarks.npy")[1, :2] - np.array(FACE_CROP[:2], dtype=np.float32)


class CountingModel:
    """Passes calls through to a model and counts them, to check what the tracker spends."""

    def __init__(self, model) -> None:
        self.model = model
        self.calls = 0

    def infer(self, *args):
        self.calls += 1
        return self.model.infer(*args)


@pytest.fixture(scope="module")
def face_crop() -> np.ndarray:
    image = np.asarray(Image.open(DATA / "astronaut.png").convert("RGB"))
    x, y, size = FACE_CROP
    return image[y : y + size, x : x + size]


@pytest.fixture(scope="module")
def models() -> tuple[face_detector.FaceDetector, face_landmarker.FaceLandmarker]:
    return face_detector.FaceDetector.create(), face_landmarker.FaceLandmarker.create()


@pytest.fixture()
def counted(models):
    detector, landmarker = models
    return CountingModel(detector), CountingModel(landmarker)


def make_frame(face_crop: np.ndarray, positions, size: int = 180, shape=(512, 512)) -> np.ndarray:
    """A plain frame with the face pasted (scaled to `size`) with its top-left corner at each position.

    Faces may hang over the frame edge; the part outside is cut off.
    """
    frame = np.empty((*shape, 3), dtype=np.uint8)
    frame[:] = BACKGROUND_RGB
    face = face_crop if size == face_crop.shape[0] else cv2.resize(face_crop, (size, size), interpolation=cv2.INTER_AREA)
    for x, y in positions:
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + size, shape[1]), min(y + size, shape[0])
        if x1 > x0 and y1 > y0:
            frame[y0:y1, x0:x1] = face[y0 - y : y1 - y, x0 - x : x1 - x]
    return frame


def nose(face) -> np.ndarray:
    return face.landmarks[1, :2]


def test_moving_face_keeps_its_id_and_skips_the_detector(face_crop, counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker, TrackerOptions(max_faces=1))
    for step in range(20):
        position = (20 + 14 * step, 150 + 3 * step)
        tracked = tracker.update(make_frame(face_crop, [position]))
        assert [face.track_id for face in tracked] == [1]
        np.testing.assert_allclose(nose(tracked[0]), NOSE_IN_CROP + position, atol=3)
        assert tracked[0].landmark_score > 0.9 and tracked[0].landmarks.shape == (468, 3)
    # With its only slot filled the tracker never needs the detector again: one landmark run a
    # frame, plus the second pass on the first frame.
    assert detector.calls == 1
    assert landmarker.calls == 20 + 1


def test_detector_reruns_every_n_frames_while_slots_are_free(face_crop, counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker, TrackerOptions(max_faces=4, detect_every_n_frames=5))
    for _ in range(11):
        tracker.update(make_frame(face_crop, [(150, 150)]))
    assert detector.calls == 3  # frames 0, 5 and 10
    assert landmarker.calls == 11 + 1  # the repeat detections overlap the track and are not re-added


def test_two_faces_keep_two_distinct_ids(face_crop, counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker, TrackerOptions(detect_every_n_frames=3))
    ids_by_side = None
    for step in range(12):
        positions = [(10 + 5 * step, 40), (330 - 5 * step, 300)]
        tracked = tracker.update(make_frame(face_crop, positions, size=170))
        assert len(tracked) == 2
        by_side = {("left" if nose(face)[0] < 256 else "right"): face.track_id for face in tracked}
        assert sorted(by_side.values()) == [1, 2]
        ids_by_side = ids_by_side or by_side
        assert by_side == ids_by_side


def test_face_that_leaves_is_dropped_and_a_new_face_gets_a_new_id(face_crop, counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker)
    seen = []
    for step in range(14):
        tracked = tracker.update(make_frame(face_crop, [(300 + 20 * step, 150)]))
        seen.append([face.track_id for face in tracked])
    assert seen[0] == [1] and seen[-1] == []
    # Once gone it stays gone: ids are dropped, never flicker back.
    first_gone = seen.index([])
    assert all(ids == [1] for ids in seen[:first_gone]) and all(ids == [] for ids in seen[first_gone:])
    assert [face.track_id for face in tracker.update(make_frame(face_crop, [(100, 100)]))] == [2]


def test_fast_jump_keeps_the_id(face_crop, counted):
    """A face that jumps out of its crop is found again by the detector in the same frame."""
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker, TrackerOptions(max_faces=1))
    assert [face.track_id for face in tracker.update(make_frame(face_crop, [(100, 150)]))] == [1]
    tracked = tracker.update(make_frame(face_crop, [(220, 150)]))
    assert detector.calls == 2  # the track was lost and the face detected again
    assert [face.track_id for face in tracked] == [1]
    np.testing.assert_allclose(nose(tracked[0]), NOSE_IN_CROP + (220, 150), atol=3)  # noqa: RUF005 (array + offset)


def test_still_images_are_not_tracked_across(face_crop, counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker)
    frame = make_frame(face_crop, [(150, 150)])
    assert [face.track_id for face in tracker.update(frame, is_still=True)] == [1]
    assert [face.track_id for face in tracker.update(frame, is_still=True)] == [2]
    assert detector.calls == 2
    tracker.reset()
    assert [face.track_id for face in tracker.update(frame)] == [3]


def test_empty_frames_cost_one_detector_run(counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker)
    blank = np.full((480, 640, 3), 128, dtype=np.uint8)
    for _ in range(3):
        assert tracker.update(blank) == []
    assert detector.calls == 3 and landmarker.calls == 0


def test_largest_faces_win_the_slots(face_crop, counted):
    detector, landmarker = counted
    tracker = FaceTracker(detector, landmarker, TrackerOptions(max_faces=1))
    frame = make_frame(face_crop, [(10, 10)], size=130)
    frame[250:470, 250:470] = make_frame(face_crop, [(0, 0)], size=220, shape=(220, 220))
    tracked = tracker.update(frame)
    assert len(tracked) == 1 and nose(tracked[0])[0] > 250


def test_twenty_faces_cost_at_most_max_faces_landmark_runs(face_crop, models):
    """Cost is bounded by max_faces however many faces are in view."""
    _, landmarker = models
    detector = CountingModel(face_detector.FaceDetector.create(face_detector.FaceDetectorOptions(model="full_range")))
    landmarker = CountingModel(landmarker)
    tracker = FaceTracker(detector, landmarker, TrackerOptions(max_faces=3))
    crowd = make_frame(face_crop, [(160 * column, 160 * row) for row in range(4) for column in range(5)], 160, (640, 800))
    assert len(detector.model.infer(crowd)) == 20
    tracked = tracker.update(crowd)
    assert len(tracked) == 3 and landmarker.calls <= 2 * 3
    landmarker.calls = 0
    for _ in range(4):
        assert [face.track_id for face in tracker.update(crowd)] == [1, 2, 3]
    assert landmarker.calls == 4 * 3 and detector.calls == 1  # slots full: no more detector runs


def test_false_detections_cost_a_bounded_number_of_landmark_runs(counted):
    """Ten "faces" on a blank frame: the mesh rejects each, and only max_faces are tried."""

    class BlankFaceDetector:
        def infer(self, image_rgb):
            return [
                face_detector.Detection(box=(40.0 * i, 40.0 * i, 30.0, 30.0), score=0.9, keypoints=np.zeros((6, 2), np.float32))
                for i in range(10)
            ]

    _, landmarker = counted
    tracker = FaceTracker(BlankFaceDetector(), landmarker, TrackerOptions(max_faces=2))
    assert tracker.update(np.full((512, 512, 3), 128, dtype=np.uint8)) == []
    assert landmarker.calls == 2


def test_tracker_options_are_validated():
    with pytest.raises(ValueError, match="max_faces"):
        TrackerOptions(max_faces=0)
    with pytest.raises(ValueError, match="detect_every_n_frames"):
        TrackerOptions(detect_every_n_frames=0)


def other_shot(face_crop: np.ndarray, position, size: int = 180) -> np.ndarray:
    """A frame from an unrelated video: a dark, textured set with the mirrored, warmer face."""
    rng = np.random.default_rng(5)
    frame = cv2.GaussianBlur(rng.integers(0, 90, (512, 512, 3), dtype=np.uint8), (0, 0), 4.0)
    frame[..., 0] = np.clip(frame[..., 0].astype(int) + 60, 0, 255)
    face = cv2.resize(cv2.flip(face_crop, 1), (size, size), interpolation=cv2.INTER_AREA)
    warm = np.clip(face.astype(np.float32) * (1.1, 0.95, 0.85), 0, 255).astype(np.uint8)
    x, y = position
    frame[y : y + size, x : x + size] = warm
    return frame


@pytest.mark.parametrize("detect_cuts", [True, False])
def test_a_scene_cut_ends_every_track_and_the_next_shot_gets_new_ids(face_crop, models, detect_cuts):
    """Two unrelated videos spliced: the second shot's face sits where the first one's was, so
    a tracker that follows its crop across the cut would carry the old id onto it."""
    detector, landmarker = models
    options = TrackerOptions(max_faces=2) if detect_cuts else TrackerOptions(max_faces=2, scene_cut_change=1.0)
    tracker = FaceTracker(detector, landmarker, options)
    first = [tracker.update(make_frame(face_crop, [(150 + 3 * step, 160)])) for step in range(10)]
    second = [tracker.update(other_shot(face_crop, (185 + 3 * step, 170))) for step in range(10)]
    assert all([face.track_id for face in faces_] == [1] for faces_ in first)
    assert all(len(faces_) == 1 for faces_ in second)
    after = {face.track_id for faces_ in second for face in faces_}
    if detect_cuts:
        assert after == {2}, "faces after the cut must get a new id"
        assert tracker.scene_cuts == 1
    else:
        assert after == {1}, "without cut detection the old track slides onto the new face (the bug this guards)"


def test_fast_motion_and_lighting_drift_are_not_scene_cuts(face_crop):
    detector = SceneCutDetector(TrackerOptions().scene_cut_change, TrackerOptions().scene_cut_content)
    # The face crosses a third of the frame in 5 frames while the light slowly dims.
    for step in range(6):
        frame = make_frame(face_crop, [(40 + 35 * step, 150 + 10 * step)])
        dimmed = (frame.astype(np.float32) * (1.0 - 0.02 * step)).astype(np.uint8)
        assert not detector.is_cut(dimmed)
    assert detector.is_cut(other_shot(face_crop, (200, 160)))


def test_faces_followed_in_parallel_lanes_match_one_lane(face_crop) -> None:
    """Two lanes (two landmark interpreters, two threads) give the same tracks as one, in the same order."""
    positions = [(20, 20), (300, 20), (20, 300), (300, 300)]
    frames = [make_frame(face_crop, [(x + step, y) for x, y in positions]) for step in range(0, 12, 3)]
    results = []
    for lanes in (1, 2):
        with FaceTracker.create(TrackerOptions(follow_lanes=lanes)) as tracker:
            results.append([tracker.update(frame) for frame in frames])
    one, two = results
    assert [len(faces) for faces in two] == [len(faces) for faces in one] and len(one[-1]) == 4
    for faces_one, faces_two in zip(one, two):
        assert [face.track_id for face in faces_one] == [face.track_id for face in faces_two]
        for a, b in zip(faces_one, faces_two):
            assert np.allclose(a.landmarks, b.landmarks, atol=1e-3)
