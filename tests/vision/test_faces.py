"""Face detector and face-mesh landmarker on a real photo (tests/data/astronaut.png).

Set ARFILTER_UPDATE_TEST_DATA=1 to rewrite tests/data/astronaut_landmarks.npy from the
current models (after checking the result by eye).
"""

from __future__ import annotations

import math
import os
import pathlib

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.errors import ModelError
from arfilter.vision import detector as face_detector
from arfilter.vision import landmarker as face_landmarker
from arfilter.vision.geometry import FaceGeometry

DATA = pathlib.Path(__file__).parent.parent / "data"
LANDMARKS_FILE = DATA / "astronaut_landmarks.npy"
# Iris centres read off a zoomed, gridded crop of the photo (image-left, image-right eye).
KNOWN_LEFT_EYE = (202.5, 100.5)
KNOWN_RIGHT_EYE = (246.0, 103.0)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(DATA / "astronaut.png").convert("RGB"))


@pytest.fixture(scope="module")
def detector() -> face_detector.FaceDetector:
    return face_detector.FaceDetector.create()


@pytest.fixture(scope="module")
def landmarker() -> face_landmarker.FaceLandmarker:
    return face_landmarker.FaceLandmarker.create()


def find_landmarks(image, detector, landmarker) -> tuple[list[face_detector.Detection], np.ndarray, float]:
    """Detector, then the mesh twice (second pass from its own crop), as the tracker does for new faces."""
    detections = detector.infer(image)
    landmarks, _ = landmarker.infer(image, face_landmarker.region_from_detection(detections[0]))
    landmarks, score = landmarker.infer(image, face_landmarker.region_from_landmarks(landmarks))
    return detections, landmarks, score


def rotate_clockwise(image: np.ndarray, degrees: float) -> np.ndarray:
    """Turn the image about its centre, clockwise on screen for positive degrees."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), -degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


# --- model files ------------------------------------------------------------------------------


def test_find_face_model_locates_package_files():
    for file_name in (*face_detector.DETECTOR_MODEL_FILES.values(), face_landmarker.LANDMARK_MODEL_FILE):
        path = face_detector.find_face_model(file_name)
        assert path.is_file() and path.name == file_name
        assert path.parent == pathlib.Path(face_detector.__file__).parent.parent / "models" / "mediapipe"


def test_missing_model_is_a_one_line_model_error(monkeypatch, tmp_path):
    with pytest.raises(ModelError) as error:
        face_detector.find_face_model("face_nothing.tflite")
    message = str(error.value)
    assert "\n" not in message
    assert "face_nothing.tflite" in message and "reinstall arfilter" in message
    monkeypatch.setattr(face_detector, "FACE_MODELS_DIR", tmp_path)
    with pytest.raises(ModelError, match=r"^face model .*face_landmark.tflite not found: reinstall arfilter"):
        face_landmarker.FaceLandmarker.create()


def test_corrupt_model_is_a_one_line_model_error(tmp_path):
    broken = tmp_path / "face_landmark.tflite"
    empty = tmp_path / "face_detection_short_range.tflite"
    empty.write_bytes(b"")
    broken.write_bytes(b"this is not a flatbuffer" * 10)
    for load, path in ((face_landmarker.FaceLandmarker, broken), (face_detector.FaceDetector, broken), (face_detector.FaceDetector, empty)):
        with pytest.raises(ModelError) as error:
            load(path)
        assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_wrong_model_for_the_job_is_rejected():
    with pytest.raises(ModelError, match="not a BlazeFace short_range detector"):
        face_detector.FaceDetector(face_detector.find_face_model("face_detection_full_range.tflite"))
    with pytest.raises(ModelError, match="not a 468-point face landmark model"):
        face_landmarker.FaceLandmarker(face_detector.find_face_model("face_detection_short_range.tflite"))


def test_bad_inputs_raise_value_errors(detector, landmarker, astronaut):
    with pytest.raises(ValueError, match="RGB uint8"):
        detector.infer(astronaut.astype(np.float32))
    with pytest.raises(ValueError, match="RGB uint8"):
        detector.infer(astronaut[:, :, 0])
    with pytest.raises(ValueError, match="positive size"):
        landmarker.infer(astronaut, face_landmarker.FaceRegion(center=(10.0, 10.0), size=0.0, angle_deg=0.0))
    with pytest.raises(ValueError, match="short_range"):
        face_detector.FaceDetectorOptions(model="long_range")
    with pytest.raises(ValueError, match="score_threshold"):
        face_detector.FaceDetectorOptions(score_threshold=1.5)


# --- post-processing pieces ---------------------------------------------------------------------


def test_anchor_layouts_match_the_models(detector):
    short = face_detector.generate_anchor_centers(face_detector.ANCHOR_SETTINGS["short_range"])
    full = face_detector.generate_anchor_centers(face_detector.ANCHOR_SETTINGS["full_range"])
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # 16x16 grid with 2 anchors per cell, then 8x8 with 6; centres at half cells.
    np.testing.assert_allclose(short[0], short[1])
    np.testing.assert_allclose(short[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(short[512], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(full[-1], [47.5 / 48, 47.5 / 48])


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=np.float32)
    keypoints = boxes[:, None, :2].repeat(6, axis=1)
    scores = np.array([0.9, 0.6, 0.7], dtype=np.float32)
    merged = face_detector.weighted_non_max_suppression(boxes, keypoints, scores, iou_threshold=0.3, max_results=5)
    assert [round(score, 2) for _, _, score in merged] == [0.9, 0.7]
    np.testing.assert_allclose(merged[0][0], [0.4, 0, 10.4, 10], atol=1e-5)  # score-weighted mean
    assert len(face_detector.weighted_non_max_suppression(boxes, keypoints, scores, 0.3, max_results=1)) == 1


def test_region_from_landmarks_turns_with_the_face():
    landmarks = np.load(LANDMARKS_FILE)
    upright = face_landmarker.region_from_landmarks(landmarks)
    angle = math.radians(25.0)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pivot = np.array([300.0, 200.0])
    turned_landmarks = landmarks.copy()
    turned_landmarks[:, :2] = (landmarks[:, :2] - pivot) @ rotation.T + pivot
    turned = face_landmarker.region_from_landmarks(turned_landmarks)
    assert turned.angle_deg == pytest.approx(upright.angle_deg + 25.0, abs=1e-3)
    assert turned.size == pytest.approx(upright.size, rel=1e-4)
    np.testing.assert_allclose(turned.center, rotation @ (np.array(upright.center) - pivot) + pivot, atol=1e-3)
    # The crop is the face box enlarged 1.5x around the face.
    assert 1.4 * np.ptp(landmarks[:, 0]) < upright.size < 1.7 * np.ptp(landmarks[:, 0])


# --- the models on a real photo -------------------------------------------------------------------


def test_astronaut_has_one_face_with_eyes_in_place(astronaut, detector, landmarker):
    detections, landmarks, score = find_landmarks(astronaut, detector, landmarker)
    assert len(detections) == 1
    detection = detections[0]
    assert detection.score > 0.8
    x, y, width, height = detection.box
    assert 170 < x < 190 and 70 < y < 90 and 80 < width < 110 and 80 < height < 110
    # BlazeFace keypoint 0 is the subject's right eye, on the image left.
    np.testing.assert_allclose(detection.keypoints[0], KNOWN_LEFT_EYE, atol=8)
    np.testing.assert_allclose(detection.keypoints[1], KNOWN_RIGHT_EYE, atol=8)

    assert landmarks.shape == (468, 3) and landmarks.dtype == np.float32
    assert score > 0.9
    geometry = FaceGeometry.from_landmarks(landmarks)
    np.testing.assert_allclose(geometry.left_eye, KNOWN_LEFT_EYE, atol=4)
    np.testing.assert_allclose(geometry.right_eye, KNOWN_RIGHT_EYE, atol=4)
    known_roll = math.degrees(math.atan2(KNOWN_RIGHT_EYE[1] - KNOWN_LEFT_EYE[1], KNOWN_RIGHT_EYE[0] - KNOWN_LEFT_EYE[0]))
    assert geometry.roll_deg == pytest.approx(known_roll, abs=3)


def test_saved_landmarks_match_the_models(astronaut, detector, landmarker):
    _, landmarks, _ = find_landmarks(astronaut, detector, landmarker)
    if os.environ.get("ARFILTER_UPDATE_TEST_DATA") == "1":
        np.save(LANDMARKS_FILE, landmarks.astype(np.float32))
    saved = np.load(LANDMARKS_FILE)
    assert saved.shape == (468, 3) and saved.dtype == np.float32
    assert np.abs(saved[:, :2] - landmarks[:, :2]).max() < 1.0


@pytest.mark.parametrize("degrees", [-30, -20, -10, 10, 20, 30])
def test_roll_follows_a_rotated_photo(astronaut, detector, landmarker, degrees):
    upright_roll = FaceGeometry.from_landmarks(np.load(LANDMARKS_FILE)).roll_deg
    detections, landmarks, score = find_landmarks(rotate_clockwise(astronaut, degrees), detector, landmarker)
    assert len(detections) == 1 and score > 0.9
    assert FaceGeometry.from_landmarks(landmarks).roll_deg == pytest.approx(upright_roll + degrees, abs=3)


def test_letterboxing_maps_back_to_frame_pixels(astronaut, detector, landmarker):
    """The same face in a tall and in a wide frame is found at the same place, shifted."""
    upright = np.load(LANDMARKS_FILE)
    for canvas_shape, offset in (((800, 512, 3), (0, 150)), ((512, 800, 3), (250, 0))):
        canvas = np.full(canvas_shape, 90, dtype=np.uint8)
        canvas[offset[1] : offset[1] + 512, offset[0] : offset[0] + 512] = astronaut
        detections, landmarks, _ = find_landmarks(canvas, detector, landmarker)
        assert len(detections) == 1
        shift = landmarks[:, :2] - np.asarray(offset, dtype=np.float32)
        assert np.abs(shift - upright[:, :2]).mean() < 1.5


def test_no_face_gives_no_detection_and_a_low_landmark_score(astronaut, detector, landmarker):
    assert detector.infer(np.full((480, 640, 3), 128, dtype=np.uint8)) == []
    # The bottom right of the photo is the helmet.
    _, score = landmarker.infer(astronaut, face_landmarker.FaceRegion(center=(420.0, 420.0), size=150.0, angle_deg=0.0))
    assert score < 0.1


def test_models_close_and_work_as_context_managers(astronaut):
    with face_detector.FaceDetector.create() as detector:
        assert not detector.closed and len(detector.infer(astronaut)) == 1
    assert detector.closed
    with pytest.raises(RuntimeError, match="FaceDetector is closed"):
        detector.infer(astronaut)
    landmarker = face_landmarker.FaceLandmarker.create()
    landmarker.close()
    landmarker.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="FaceLandmarker is closed"):
        landmarker.infer(astronaut, face_landmarker.FaceRegion(center=(220.0, 120.0), size=200.0, angle_deg=0.0))
