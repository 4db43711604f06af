"""Face detection (BlazeFace) and the 468-point face mesh, run with LiteRT.

The models are MediaPipe's (Apache-2.0), carried in arfilter/models/mediapipe/ with their
licence and NOTICE (scripts/vendor_face_models.py says where they come from and why); all
pre- and post-processing is our own NumPy/OpenCV so that nothing from MediaPipe is imported. Settings (anchors, decoding scales, NMS, ROI expansion) follow MediaPipe's graphs
`modules/face_detection/face_detection_{short,full}_range.pbtxt`, `face_detection.pbtxt`,
`modules/face_landmark/face_detection_front_detection_to_roi.pbtxt` and
`face_landmark_landmarks_to_roi.pbtxt`, because the models were trained for exactly those.

Coordinates: every point this module returns is in frame pixels with pixel centres at
integers (what OpenCV drawing and indexing use). The models themselves put 0 at the left
edge of their input, hence the half-pixel shifts below.
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from arfilter.errors import ModelError
from arfilter.litert import LiteRTModel, load_interpreter
from arfilter.resources import FACE_MODELS_DIR

FACE_MODEL_REMEDY = "reinstall arfilter (or restore arfilter/models/mediapipe/ from git)"

DetectorModel = Literal["short_range", "full_range"]
DETECTOR_MODEL_FILES: dict[DetectorModel, str] = {
    "short_range": "face_detection_short_range.tflite",
    "full_range": "face_detection_full_range.tflite",
}
LANDMARK_MODEL_FILE = "face_landmark.tflite"

# Detection keypoints in the order BlazeFace outputs them. "Right"/"left" are the subject's:
# the right eye appears on the image left in an unmirrored frame.
DETECTION_KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")
NUM_LANDMARKS = 468

# MediaPipe expands the tight face box by 1.5 so that the crop holds the whole head and, when
# tracking, still holds it after a frame's worth of motion.
ROI_SCALE = 1.5
# Outer eye corners of the face mesh (image-left, image-right), used to turn the next ROI.
LANDMARK_ROTATION_INDICES = (33, 263)


def find_face_model(file_name: str) -> pathlib.Path:
    """The path of a face model file shipped inside the package (arfilter/models/mediapipe/)."""
    path = FACE_MODELS_DIR / file_name
    if not path.is_file():
        raise ModelError(f"face model {path} not found: {FACE_MODEL_REMEDY}")
    return path


def _load_interpreter(model_path: str | pathlib.Path, num_threads: int) -> Interpreter:
    return load_interpreter(model_path, num_threads, "face model", FACE_MODEL_REMEDY)


def _check_image(image_rgb: np.ndarray) -> None:
    if not isinstance(image_rgb, np.ndarray) or image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        description = f"{image_rgb.dtype} {image_rgb.shape}" if isinstance(image_rgb, np.ndarray) else type(image_rgb).__name__
        raise ValueError(f"face models need an RGB uint8 image of shape (H, W, 3), got {description}")
    if image_rgb.shape[0] < 1 or image_rgb.shape[1] < 1:
        raise ValueError(f"face models need a non-empty image, got shape {image_rgb.shape}")


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -80.0, 80.0)))


# ---------------------------------------------------------------------------------------------
# Detector
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """One detected face: box (x, y, w, h) and 6 keypoints (DETECTION_KEYPOINT_NAMES) in frame pixels."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray  # (6, 2) float32


@dataclass(frozen=True)
class FaceDetectorOptions:
    """How faces are detected.

    model: "short_range" (128x128 input, faces within ~2 m of a webcam, fastest) or
        "full_range" (192x192 input, also finds small faces in the distance, ~3x slower).
    score_threshold: minimum face confidence; lower finds more profile/occluded faces but
        also more false faces (MediaPipe uses 0.5 short range, 0.6 full range).
    nms_iou_threshold: boxes overlapping more than this are merged into one face
        (weighted average); lower merges more aggressively, higher may report one face twice.
    max_faces: at most this many faces are returned, most confident first.
    num_threads: LiteRT CPU threads. On an idle 2-core machine 2 threads are ~1.4x faster;
        with another busy process (training, the rest of the app) 1 thread is faster and
        steadier, hence the default.
    """

    model: DetectorModel = "short_range"
    score_threshold: float = 0.5
    nms_iou_threshold: float = 0.3
    max_faces: int = 20
    num_threads: int = 1

    def __post_init__(self) -> None:
        if self.model not in DETECTOR_MODEL_FILES:
            raise ValueError(f"unknown face detector model {self.model!r}; use one of {', '.join(DETECTOR_MODEL_FILES)}")
        if not 0.0 < self.score_threshold < 1.0:
            raise ValueError(f"score_threshold must be between 0 and 1, got {self.score_threshold}")
        if not 0.0 < self.nms_iou_threshold <= 1.0:
            raise ValueError(f"nms_iou_threshold must be in (0, 1], got {self.nms_iou_threshold}")
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")


@dataclass(frozen=True)
class _AnchorSettings:
    """MediaPipe SsdAnchorsCalculator settings for one BlazeFace variant.

    With fixed_anchor_size all anchors are 1x1, so only their centres matter; layers that
    share a stride share a grid, each contributing `anchors_per_layer` anchors per cell
    (2 when interpolated_scale_aspect_ratio is set, else 1).
    """

    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int


_ANCHOR_SETTINGS = {
    "short_range": _AnchorSettings(input_size=128, strides=(8, 16, 16, 16), anchors_per_layer=2),
    "full_range": _AnchorSettings(input_size=192, strides=(4,), anchors_per_layer=1),
}


def _generate_anchor_centers(settings: _AnchorSettings) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1] input coordinates, in the order the model outputs them."""
    centers = []
    layer = 0
    while layer < len(settings.strides):
        stride = settings.strides[layer]
        layers_with_stride = 0
        while layer < len(settings.strides) and settings.strides[layer] == stride:
            layers_with_stride += 1
            layer += 1
        grid = math.ceil(settings.input_size / stride)
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij")
        cell_centers = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centers.append(np.repeat(cell_centers, layers_with_stride * settings.anchors_per_layer, axis=0))
    return np.concatenate(centers).astype(np.float32)


def _box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (x0, y0, x1, y1) box against (N, 4) boxes."""
    inter_w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0.0, None)
    inter_h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0.0, None)
    intersection = inter_w * inter_h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return intersection / np.maximum(area + areas - intersection, 1e-9)


def weighted_non_max_suppression(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float, max_results: int
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's WEIGHTED NMS: each cluster of overlapping boxes becomes their score-weighted mean.

    Averaging (instead of keeping only the best box) makes the box and keypoints steadier from
    frame to frame, which matters for the landmark crop built from them. The cluster keeps
    the best score. Boxes are (N, 4) x0, y0, x1, y1; keypoints (N, K, 2).
    """
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    remaining = np.ones(len(scores), dtype=bool)
    results: list[tuple[np.ndarray, np.ndarray, float]] = []
    for index in range(len(scores)):
        if len(results) >= max_results:
            break
        if not remaining[index]:
            continue
        cluster = remaining & (_box_iou(boxes[index], boxes) > iou_threshold)
        cluster[index] = True
        remaining &= ~cluster
        weights = scores[cluster] / scores[cluster].sum()
        box = (boxes[cluster] * weights[:, None]).sum(axis=0)
        points = (keypoints[cluster] * weights[:, None, None]).sum(axis=0)
        results.append((box, points, float(scores[index])))
    return results


class FaceDetector(LiteRTModel):
    """BlazeFace face detector: whole frame in, face boxes with 6 keypoints out."""

    def __init__(self, model_path: str | pathlib.Path, options: FaceDetectorOptions | None = None) -> None:
        self.options = options or FaceDetectorOptions()
        self.model_path = pathlib.Path(model_path)
        self._interpreter = _load_interpreter(model_path, self.options.num_threads)
        settings = _ANCHOR_SETTINGS[self.options.model]
        self._input_size = settings.input_size
        self._anchors = _generate_anchor_centers(settings)
        input_detail = self._interpreter.get_input_details()[0]
        outputs = self._interpreter.get_output_details()
        expected_input = [1, settings.input_size, settings.input_size, 3]
        output_shapes = sorted(tuple(detail["shape"]) for detail in outputs)
        expected_outputs = sorted([(1, len(self._anchors), 1), (1, len(self._anchors), 16)])
        if list(input_detail["shape"]) != expected_input or output_shapes != expected_outputs:
            raise ModelError(
                f"face model {self.model_path} is not a BlazeFace {self.options.model} detector "
                f"(input {list(input_detail['shape'])}, outputs {output_shapes}): check FaceDetectorOptions.model"
            )
        self._input_index = input_detail["index"]
        # Outputs are told apart by shape, not name: the model variants name them differently.
        self._regressors_index = next(d["index"] for d in outputs if d["shape"][-1] == 16)
        self._scores_index = next(d["index"] for d in outputs if d["shape"][-1] == 1)
        self._min_logit = math.log(self.options.score_threshold / (1.0 - self.options.score_threshold))

    @classmethod
    def create(cls, options: FaceDetectorOptions | None = None) -> FaceDetector:
        """Detector with the model file of `options.model` shipped in the package."""
        options = options or FaceDetectorOptions()
        return cls(find_face_model(DETECTOR_MODEL_FILES[options.model]), options)

    def infer(self, image_rgb: np.ndarray) -> list[Detection]:
        """All faces in the frame, most confident first (at most options.max_faces)."""
        _check_image(image_rgb)
        input_tensor, scale, pad_x, pad_y = self._preprocess(image_rgb)
        interpreter = self._require_open()
        interpreter.set_tensor(self._input_index, input_tensor)
        interpreter.invoke()
        regressors = interpreter.get_tensor(self._regressors_index)[0]
        logits = interpreter.get_tensor(self._scores_index)[0, :, 0]
        return self._postprocess(regressors, logits, scale, pad_x, pad_y)

    def _preprocess(self, image_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Letterbox the frame into the square input, as MediaPipe does (keep_aspect_ratio).

        Stretching would distort faces away from what the model was trained on. INTER_AREA
        avoids the aliasing a plain bilinear downscale by 4x or more would give.
        """
        height, width = image_rgb.shape[:2]
        fit = self._input_size / max(height, width)
        resized_width = max(1, min(self._input_size, round(width * fit)))
        resized_height = max(1, min(self._input_size, round(height * fit)))
        resized = cv2.resize(image_rgb, (resized_width, resized_height), interpolation=cv2.INTER_AREA)
        pad_x = (self._input_size - resized_width) // 2
        pad_y = (self._input_size - resized_height) // 2
        # Padding is black, i.e. -1 after normalisation, like MediaPipe's BORDER_ZERO.
        tensor = np.full((1, self._input_size, self._input_size, 3), -1.0, dtype=np.float32)
        tensor[0, pad_y : pad_y + resized_height, pad_x : pad_x + resized_width] = resized * (2.0 / 255.0) - 1.0
        scale = np.array([resized_width / width, resized_height / height], dtype=np.float32)
        return tensor, scale, pad_x, pad_y

    def _postprocess(
        self, regressors: np.ndarray, logits: np.ndarray, scale: np.ndarray, pad_x: int, pad_y: int
    ) -> list[Detection]:
        """Decode anchors -> boxes/keypoints, merge overlaps, map back to frame pixels."""
        keep = np.flatnonzero(logits >= self._min_logit)
        if keep.size == 0:
            return []
        raw = regressors[keep] / self._input_size  # offsets in units of the input size
        anchors = self._anchors[keep]
        centers = raw[:, 0:2] + anchors
        half_sizes = raw[:, 2:4] / 2.0
        boxes = np.concatenate([centers - half_sizes, centers + half_sizes], axis=1)
        keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        scores = _sigmoid(logits[keep])
        merged = weighted_non_max_suppression(
            boxes, keypoints, scores, self.options.nms_iou_threshold, self.options.max_faces
        )
        # Input units [0, 1] (0 = left edge) -> input pixels -> frame pixels (centres at integers).
        offset = np.array([pad_x, pad_y], dtype=np.float32)
        detections = []
        for box, points, score in merged:
            top_left = (box[:2] * self._input_size - offset) / scale - 0.5
            size = (box[2:] - box[:2]) * self._input_size / scale
            frame_points = (points * self._input_size - offset) / scale - 0.5
            detections.append(
                Detection(
                    box=(float(top_left[0]), float(top_left[1]), float(size[0]), float(size[1])),
                    score=score,
                    keypoints=frame_points.astype(np.float32),
                )
            )
        return detections


# ---------------------------------------------------------------------------------------------
# Landmarks
# ---------------------------------------------------------------------------------------------


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
        return float(_box_iou(np.array(self.bounding_box()), np.array([other.bounding_box()]))[0])


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


class FaceLandmarker(LiteRTModel):
    """MediaPipe face mesh: a face crop in, 468 3-D landmarks and a face-presence score out.

    num_threads as in FaceDetectorOptions. Faces are run one at a time: batching several
    crops into one invoke (resize_tensor_input) measured no faster per face (~1.2-1.4 ms
    either way), so it would only add complexity.
    """

    def __init__(self, model_path: str | pathlib.Path, num_threads: int = 1) -> None:
        self.model_path = pathlib.Path(model_path)
        self._interpreter = _load_interpreter(model_path, num_threads)
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
    def create(cls, num_threads: int = 1) -> FaceLandmarker:
        """Landmarker with face_landmark.tflite shipped in the package."""
        return cls(find_face_model(LANDMARK_MODEL_FILE), num_threads)

    def infer(self, image_rgb: np.ndarray, region: FaceRegion) -> tuple[np.ndarray, float]:
        """Landmarks (468, 3) float32 in frame pixels (z in the same scale) and a 0..1 face score.

        A low score means the crop holds no face (the track is lost); the landmarks are then
        meaningless.
        """
        _check_image(image_rgb)
        if not region.size > 0 or not all(math.isfinite(value) for value in (*region.center, region.size, region.angle_deg)):
            raise ValueError(f"face region must have a finite centre and angle and a positive size, got {region}")
        input_tensor, crop_matrix = self._preprocess(image_rgb, region)
        interpreter = self._require_open()
        interpreter.set_tensor(self._input_index, input_tensor)
        interpreter.invoke()
        raw_landmarks = interpreter.get_tensor(self._landmarks_index).reshape(NUM_LANDMARKS, 3)
        raw_score = float(interpreter.get_tensor(self._score_index).reshape(()))
        return self._postprocess(raw_landmarks, crop_matrix, region), float(_sigmoid(np.array(raw_score)))

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
        # and the roll of rotated copies is recovered (tests/test_faces.py).
        return (crop * np.float32(1.0 / 255.0))[None], matrix

    def _postprocess(self, raw_landmarks: np.ndarray, crop_matrix: np.ndarray, region: FaceRegion) -> np.ndarray:
        # Model coordinates put 0 at the crop's left edge; pixel centres are at +0.5.
        inverse = cv2.invertAffineTransform(crop_matrix)
        crop_points = raw_landmarks[:, :2] - 0.5
        landmarks = np.empty((NUM_LANDMARKS, 3), dtype=np.float32)
        landmarks[:, :2] = crop_points @ inverse[:, :2].T + inverse[:, 2]
        landmarks[:, 2] = raw_landmarks[:, 2] * (region.size / self._input_size)
        return landmarks
