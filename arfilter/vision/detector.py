"""Face detection with MediaPipe's BlazeFace, run with LiteRT, and what every face model shares.

The models are MediaPipe's (Apache-2.0), carried in arfilter/models/mediapipe/ with their
licence and NOTICE (scripts/vendor_face_models.py says where they come from and why); all
pre- and post-processing is our own NumPy/OpenCV so that nothing from MediaPipe is imported.
Settings (anchors, decoding scales, NMS) follow MediaPipe's graphs
`modules/face_detection/face_detection_{short,full}_range.pbtxt` and `face_detection.pbtxt`,
because the models were trained for exactly those.

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
from arfilter.resources import FACE_MODELS_DIR
from arfilter.vision.litert import LiteRTModel, load_interpreter

FACE_MODEL_REMEDY = "reinstall arfilter (or restore arfilter/models/mediapipe/ from git)"

DetectorModel = Literal["short_range", "full_range"]
DETECTOR_MODEL_FILES: dict[DetectorModel, str] = {
    "short_range": "face_detection_short_range.tflite",
    "full_range": "face_detection_full_range.tflite",
}

# Detection keypoints in the order BlazeFace outputs them. "Right"/"left" are the subject's:
# the right eye appears on the image left in an unmirrored frame.
DETECTION_KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")


def find_face_model(file_name: str) -> pathlib.Path:
    """The path of a face model file shipped inside the package (arfilter/models/mediapipe/)."""
    path = FACE_MODELS_DIR / file_name
    if not path.is_file():
        raise ModelError(f"face model {path} not found: {FACE_MODEL_REMEDY}")
    return path


def load_face_interpreter(model_path: str | pathlib.Path, num_threads: int) -> Interpreter:
    return load_interpreter(model_path, num_threads, "face model", FACE_MODEL_REMEDY)


def check_rgb_image(image_rgb: np.ndarray) -> None:
    if not isinstance(image_rgb, np.ndarray) or image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        description = f"{image_rgb.dtype} {image_rgb.shape}" if isinstance(image_rgb, np.ndarray) else type(image_rgb).__name__
        raise ValueError(f"face models need an RGB uint8 image of shape (H, W, 3), got {description}")
    if image_rgb.shape[0] < 1 or image_rgb.shape[1] < 1:
        raise ValueError(f"face models need a non-empty image, got shape {image_rgb.shape}")


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -80.0, 80.0)))




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
    max_detections: at most this many detections are returned, most confident first. It bounds
        the detector's own output (NMS work), not the faces tracked: that is TrackerOptions.max_faces.
    num_threads: LiteRT CPU threads. On an idle 2-core machine 2 threads are ~1.4x faster;
        with another busy process (training, the rest of the app) 1 thread is faster and
        steadier, hence the default.
    """

    model: DetectorModel = "short_range"
    score_threshold: float = 0.5
    nms_iou_threshold: float = 0.3
    max_detections: int = 20
    num_threads: int = 1

    def __post_init__(self) -> None:
        if self.model not in DETECTOR_MODEL_FILES:
            raise ValueError(f"unknown face detector model {self.model!r}; use one of {', '.join(DETECTOR_MODEL_FILES)}")
        if not 0.0 < self.score_threshold < 1.0:
            raise ValueError(f"score_threshold must be between 0 and 1, got {self.score_threshold}")
        if not 0.0 < self.nms_iou_threshold <= 1.0:
            raise ValueError(f"nms_iou_threshold must be in (0, 1], got {self.nms_iou_threshold}")
        if self.max_detections < 1:
            raise ValueError(f"max_detections must be at least 1, got {self.max_detections}")


@dataclass(frozen=True)
class AnchorSettings:
    """MediaPipe SsdAnchorsCalculator settings for one BlazeFace variant.

    With fixed_anchor_size all anchors are 1x1, so only their centres matter; layers that
    share a stride share a grid, each contributing `anchors_per_layer` anchors per cell
    (2 when interpolated_scale_aspect_ratio is set, else 1).
    """

    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int


ANCHOR_SETTINGS = {
    "short_range": AnchorSettings(input_size=128, strides=(8, 16, 16, 16), anchors_per_layer=2),
    "full_range": AnchorSettings(input_size=192, strides=(4,), anchors_per_layer=1),
}


def generate_anchor_centers(settings: AnchorSettings) -> np.ndarray:
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


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
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
        cluster = remaining & (box_iou(boxes[index], boxes) > iou_threshold)
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
        self._interpreter = load_face_interpreter(model_path, self.options.num_threads)
        settings = ANCHOR_SETTINGS[self.options.model]
        self._input_size = settings.input_size
        self._anchors = generate_anchor_centers(settings)
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
        """All faces in the frame, most confident first (at most options.max_detections)."""
        check_rgb_image(image_rgb)
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
        scores = sigmoid(logits[keep])
        merged = weighted_non_max_suppression(
            boxes, keypoints, scores, self.options.nms_iou_threshold, self.options.max_detections
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
