"""The 468-point face mesh (MediaPipe's face landmark model), run with LiteRT.

Pre- and post-processing are our own; the crop (ROI expansion and rotation) follows MediaPipe's
`modules/face_landmark/face_detection_front_detection_to_roi.pbtxt` and
`face_landmark_landmarks_to_roi.pbtxt`, because the model was trained on exactly those crops.
Coordinates are frame pixels with pixel centres at integers, as in arfilter.vision.detector.
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass

import cv2
import numpy as np

from arfilter.errors import ModelError
from arfilter.vision.detector import (
    Detection,
    box_iou,
    check_rgb_image,
    find_face_model,
    load_face_interpreter,
    sigmoid,
)
from arfilter.vision.litert import LiteRTModel

LANDMARK_MODEL_FILE = "face_landmark.tflite"
NUM_LANDMARKS = 468
# MediaPipe expands the tight face box by 1.5 so that the crop holds the whole head and, when
# tracking, still holds it after a frame's worth of motion.
ROI_SCALE = 1.5
# Outer eye corners of the face mesh (image-left, image-right), used to turn the next ROI.
LANDMARK_ROTATION_INDICES = (33, 263)


@dataclass(frozen=True)
class FaceRegion:
    """A rotated square crop of the frame that the landmark model looks at.

    center: (x, y) frame pixels. size: side length in frame pixels. angle_deg: direction of
    the crop's x axis in image coordinates (y down), i.e. positive = turned clockwise on
    screen, the same convention as roll_deg; the crop is rotated so the face appears upright.
    """

    center: tuple[float, float]
    size: float
    angle_deg: float

    def bounding_box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the unrotated square; cheap overlap tests ignore the rotation."""
        half = self.size / 2.0
        return (self.center[0] - half, self.center[1] - half, self.center[0] + half, self.center[1] + half)

    def iou(self, other: FaceRegion) -> float:
        return float(box_iou(np.array(self.bounding_box()), np.array([other.bounding_box()]))[0])


def region_from_detection(detection: Detection, scale: float = ROI_SCALE) -> FaceRegion:
    """Landmark crop for a fresh detection (MediaPipe FaceDetectionFrontDetectionToRoi).

    Turned by the eye line (keypoints 0 -> 1, image-left eye to image-right eye) and made a
    square of `scale` times the box's long side around the box centre.
    """
    x, y, width, height = detection.box
    eye_vector = detection.keypoints[1] - detection.keypoints[0]
    angle = math.degrees(math.atan2(float(eye_vector[1]), float(eye_vector[0])))
    return FaceRegion(center=(x + width / 2.0, y + height / 2.0), size=max(width, height) * scale, angle_deg=angle)


def region_from_landmarks(landmarks: np.ndarray, scale: float = ROI_SCALE) -> FaceRegion:
    """Landmark crop for the next frame from this frame's landmarks (MediaPipe landmarks-to-ROI).

    Turned by the outer eye corners (33 -> 263). Unlike MediaPipe the box is measured in the
    turned frame, so a rolled head does not get a larger, blurrier crop than an upright one.
    """
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    start, end = LANDMARK_ROTATION_INDICES
    eye_vector = points[end] - points[start]
    angle = math.atan2(float(eye_vector[1]), float(eye_vector[0]))
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    to_face_axes = np.array([[cos_a, sin_a], [-sin_a, cos_a]])
    turned = points @ to_face_axes.T
    low, high = turned.min(axis=0), turned.max(axis=0)
    center = to_face_axes.T @ ((low + high) / 2.0)
    return FaceRegion(
        center=(float(center[0]), float(center[1])), size=float((high - low).max() * scale), angle_deg=math.degrees(angle)
    )


@dataclass(frozen=True)
class FaceLandmarkerOptions:
    """How the face mesh runs.

    num_threads: LiteRT CPU threads, as in FaceDetectorOptions (1 by default: with the rest of
        the lens busy on the other core, one thread is faster and steadier).
    """

    num_threads: int = 1

    def __post_init__(self) -> None:
        if self.num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {self.num_threads}")


class FaceLandmarker(LiteRTModel):
    """MediaPipe face mesh: a face crop in, 468 3-D landmarks and a face-presence score out.

    Faces are run one at a time: batching several
    crops into one invoke (resize_tensor_input) measured no faster per face (~1.2-1.4 ms
    either way), so it would only add complexity.
    """

    def __init__(self, model_path: str | pathlib.Path, options: FaceLandmarkerOptions | None = None) -> None:
        self.options = options or FaceLandmarkerOptions()
        self.model_path = pathlib.Path(model_path)
        self._interpreter = load_face_interpreter(model_path, self.options.num_threads)
        input_detail = self._interpreter.get_input_details()[0]
        outputs = self._interpreter.get_output_details()
        output_sizes = sorted(int(np.prod(detail["shape"])) for detail in outputs)
        if len(input_detail["shape"]) != 4 or input_detail["shape"][3] != 3 or output_sizes != [1, NUM_LANDMARKS * 3]:
            raise ModelError(
                f"face model {self.model_path} is not a {NUM_LANDMARKS}-point face landmark model "
                f"(input {list(input_detail['shape'])}, output sizes {output_sizes}): use {LANDMARK_MODEL_FILE}"
            )
        self._input_size = int(input_detail["shape"][1])
        self._input_index = input_detail["index"]
        self._landmarks_index = next(d["index"] for d in outputs if int(np.prod(d["shape"])) == NUM_LANDMARKS * 3)
        self._score_index = next(d["index"] for d in outputs if int(np.prod(d["shape"])) == 1)

    @classmethod
    def create(cls, options: FaceLandmarkerOptions | None = None) -> FaceLandmarker:
        """Landmarker with face_landmark.tflite shipped in the package."""
        return cls(find_face_model(LANDMARK_MODEL_FILE), options)

    def infer(self, image_rgb: np.ndarray, region: FaceRegion) -> tuple[np.ndarray, float]:
        """Landmarks (468, 3) float32 in frame pixels (z in the same scale) and a 0..1 face score.

        A low score means the crop holds no face (the track is lost); the landmarks are then
        meaningless.
        """
        check_rgb_image(image_rgb)
        if not region.size > 0 or not all(math.isfinite(value) for value in (*region.center, region.size, region.angle_deg)):
            raise ValueError(f"face region must have a finite centre and angle and a positive size, got {region}")
        input_tensor, crop_matrix = self._preprocess(image_rgb, region)
        interpreter = self._require_open()
        interpreter.set_tensor(self._input_index, input_tensor)
        interpreter.invoke()
        raw_landmarks = interpreter.get_tensor(self._landmarks_index).reshape(NUM_LANDMARKS, 3)
        raw_score = float(interpreter.get_tensor(self._score_index).reshape(()))
        return self._postprocess(raw_landmarks, crop_matrix, region), float(sigmoid(np.array(raw_score)))

    def _crop_matrix(self, region: FaceRegion) -> np.ndarray:
        """2x3 affine taking frame pixels to crop pixels: the rotated square onto the model input."""
        scale = self._input_size / region.size
        matrix = np.asarray(cv2.getRotationMatrix2D(region.center, region.angle_deg, scale), np.float64)
        # getRotationMatrix2D keeps `center` fixed; move it to the centre of the crop instead.
        # Pixel centres are at integers on both sides, so the crop centre is (size - 1) / 2.
        matrix[:, 2] += (self._input_size - 1) / 2.0 - np.asarray(region.center)
        return matrix

    def _preprocess(self, image_rgb: np.ndarray, region: FaceRegion) -> tuple[np.ndarray, np.ndarray]:
        """One warpAffine does crop, rotation and resize; edges are replicated like MediaPipe's crop."""
        matrix = self._crop_matrix(region)
        crop = cv2.warpAffine(
            image_rgb,
            matrix,
            (self._input_size, self._input_size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        # The mesh model takes [0, 1] input (unlike BlazeFace's [-1, 1]), as in MediaPipe's
        # face_landmark_cpu.pbtxt. Checked on the astronaut photo: landmarks land on the face
        # and the roll of rotated copies is recovered (tests/vision/test_faces.py).
        return (crop * np.float32(1.0 / 255.0))[None], matrix

    def _postprocess(self, raw_landmarks: np.ndarray, crop_matrix: np.ndarray, region: FaceRegion) -> np.ndarray:
        # Model coordinates put 0 at the crop's left edge; pixel centres are at +0.5.
        inverse = cv2.invertAffineTransform(crop_matrix)
        crop_points = raw_landmarks[:, :2] - 0.5
        landmarks = np.empty((NUM_LANDMARKS, 3), dtype=np.float32)
        landmarks[:, :2] = crop_points @ inverse[:, :2].T + inverse[:, 2]
        landmarks[:, 2] = raw_landmarks[:, 2] * (region.size / self._input_size)
        return landmarks
