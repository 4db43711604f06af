"""The emotion model and its contract: metadata schema, the bare network, and the classifier.

`EmotionMetadata` is the one description of an exported model (arfilter/models/emotion.json):
label order, input size, preprocessing, which .tflite file to run and how to calibrate its
logits. training/export.py writes it, the app and training/evaluate.py read it, and it is
validated once, on reading, so every later step can trust it. `EmotionClassifier` runs a
model for the app: frame and the faces' landmarks in, calibrated probabilities out, with the
face alignment and preprocessing the metadata describes inside it. A model with another input
size or label set therefore changes this module's inputs (its metadata), nothing downstream:
the labels travel with every result.

No TensorFlow import on this path: the network runs through LiteRT.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from arfilter.bounded import echo, load_json
from arfilter.checks import is_finite_number
from arfilter.errors import ModelError
from arfilter.lifecycle import Closeable
from arfilter.resources import MODELS_DIR
from arfilter.vision.geometry import named_point
from arfilter.vision.litert import LiteRTModel, load_interpreter
from arfilter.vision.preprocessing import (
    EYE_LINE_Y,
    INTEROCULAR_FRACTION,
    align_face_crop,
    preprocess_faces,
    standardize_faces,
)

DEFAULT_METADATA_PATH = MODELS_DIR / "emotion.json"
METADATA_FORMAT = "arfilter-emotion/1"
REMEDY = "re-export the model with training/export.py (or reinstall arfilter for the shipped one)"
# Calibration temperatures of a softmax classifier are of order 1; far outside this range the
# probabilities are all 0 and 1 (or overflow to NaN), which only a broken file would ask for.
TEMPERATURE_RANGE = (0.05, 20.0)
MAX_ABS_LOGIT_BIAS = 50.0
MAX_INPUT_SIZE = 512
# The schema's own keys; every other top-level key (metrics, training data, commands) is
# provenance, kept as written for the model card.
_SCHEMA_KEYS = ("format", "labels", "input_size", "preprocessing", "model_file", "logit_bias", "test_time_flip",
                "temperatures")


@dataclass(frozen=True)
class EmotionMetadata:
    """What an exported emotion model is and how to run it (the schema of emotion.json).

    labels: output order of the network. input_size: side of the square grayscale input.
    preprocessing: how faces are prepared (recorded for people; `alignment` sets the crop).
    model_file: the .tflite file the app runs, beside the metadata. temperatures: the
    calibration temperature of each exported file. logit_bias: added to the logits before the
    temperature (lifts rare classes). test_time_flip: whether the graph averages mirrored faces.
    """

    labels: tuple[str, ...]
    input_size: int
    model_file: str
    temperatures: Mapping[str, float]
    logit_bias: tuple[float, ...]
    preprocessing: Mapping[str, Any] = field(default_factory=dict)
    test_time_flip: bool = False
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def alignment(self) -> tuple[float, float]:
        """(eye_line_y, interocular_fraction): where the crop puts the eyes, as fractions of its side."""
        alignment = self.preprocessing.get("alignment", {})
        return (float(alignment.get("eye_line_y", EYE_LINE_Y)),
                float(alignment.get("interocular_fraction", INTEROCULAR_FRACTION)))

    def temperature_for(self, model_file: str) -> float:
        return self.temperatures[model_file]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, schema keys first, then the provenance as written."""
        return {
            "format": METADATA_FORMAT,
            "labels": list(self.labels),
            "input_size": self.input_size,
            "preprocessing": dict(self.preprocessing),
            "model_file": self.model_file,
            "logit_bias": list(self.logit_bias),
            "test_time_flip": self.test_time_flip,
            "temperatures": dict(self.temperatures),
            **self.provenance,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False))

    @classmethod
    def load(cls, path: str | Path) -> EmotionMetadata:
        """Read and validate `path`; every problem is one ModelError line naming the file and the field."""
        path = Path(path)
        return cls.from_dict(load_json(path, "emotion model metadata", ModelError, REMEDY), str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str = "emotion metadata") -> EmotionMetadata:
        """Validate a parsed metadata object; `where` names it in errors (usually its file)."""

        def bad(field_name: str, expected: str, value: Any) -> ModelError:
            return ModelError(f"{where}: {field_name} must be {expected}, got {echo(value)}; {REMEDY}")

        if not isinstance(data, dict) or data.get("format") != METADATA_FORMAT:
            raise ModelError(f"{where} is not arfilter emotion metadata (format {METADATA_FORMAT!r} expected); {REMEDY}")
        labels = data.get("labels")
        if (not isinstance(labels, list) or len(labels) < 2 or len(set(labels)) != len(labels)
                or not all(isinstance(label, str) and label for label in labels)):
            raise bad("labels", "a list of at least two distinct names", labels)
        input_size = data.get("input_size")
        if not isinstance(input_size, int) or isinstance(input_size, bool) or not 1 <= input_size <= MAX_INPUT_SIZE:
            raise bad("input_size", f"a whole number of pixels, 1..{MAX_INPUT_SIZE}", input_size)
        model_file = data.get("model_file")
        if not isinstance(model_file, str) or not model_file or PurePath(model_file).name != model_file:
            raise bad("model_file", "a file name beside the metadata", model_file)
        temperatures = data.get("temperatures")
        if not isinstance(temperatures, dict) or model_file not in temperatures:
            raise bad("temperatures", f"a table with an entry for model_file {echo(model_file)}", temperatures)
        low, high = TEMPERATURE_RANGE
        for name, temperature in temperatures.items():
            if not is_finite_number(temperature) or not low <= temperature <= high:
                raise bad(f"temperatures[{echo(name)}]", f"a finite number between {low:g} and {high:g}", temperature)
        logit_bias = data.get("logit_bias", [0.0] * len(labels))
        if (not isinstance(logit_bias, list) or len(logit_bias) != len(labels)
                or not all(is_finite_number(value) and abs(value) <= MAX_ABS_LOGIT_BIAS for value in logit_bias)):
            raise bad("logit_bias", f"a list of {len(labels)} finite numbers (one per label, |b| <= {MAX_ABS_LOGIT_BIAS:g})",
                      logit_bias)
        preprocessing = data.get("preprocessing", {})
        alignment = preprocessing.get("alignment", {}) if isinstance(preprocessing, dict) else None
        if not isinstance(alignment, dict) or not all(is_finite_number(value) and 0 < value < 1 for value in alignment.values()):
            raise bad("preprocessing.alignment", "a table of fractions between 0 and 1", alignment)
        test_time_flip = data.get("test_time_flip", False)
        if not isinstance(test_time_flip, bool):
            raise bad("test_time_flip", "true or false", test_time_flip)
        return cls(labels=tuple(labels), input_size=input_size, model_file=model_file,
                   temperatures={name: float(value) for name, value in temperatures.items()},
                   logit_bias=tuple(float(value) for value in logit_bias), preprocessing=preprocessing,
                   test_time_flip=test_time_flip,
                   provenance={key: value for key, value in data.items() if key not in _SCHEMA_KEYS})



@dataclass(frozen=True)
class EmotionOptions:
    """`num_threads` 1 is fastest for the one-to-four faces of a frame (threads cost more than they save)."""

    metadata_path: Path = DEFAULT_METADATA_PATH
    model_file: str | None = None  # override the metadata's choice, e.g. "emotion.tflite" for the float model
    num_threads: int = 1


class EmotionNetwork(LiteRTModel):
    """The bare .tflite network: preprocessed, standardised faces in, raw logits out (no metadata needed).

    Evaluation uses it on any exported file; the app goes through `EmotionClassifier`.
    """

    def __init__(self, model_path: str | Path, num_threads: int = 1) -> None:
        self.model_path = Path(model_path)
        self._interpreter = load_interpreter(self.model_path, num_threads, "emotion model", REMEDY)
        input_detail = self._interpreter.get_input_details()[0]
        output_detail = self._interpreter.get_output_details()[0]
        self.input_shape = tuple(int(size) for size in input_detail["shape"])  # (1, size, size, 1)
        self.num_outputs = int(output_detail["shape"][-1])
        self._input_index = input_detail["index"]
        self._output_index = output_detail["index"]
        self._batch_size = 1

    def infer(self, faces: np.ndarray) -> np.ndarray:
        """Logits (N, outputs); one invoke per batch, the batch size resized only when it changes."""
        interpreter = self._require_open()
        faces = np.ascontiguousarray(faces, np.float32)
        if faces.ndim != 4 or faces.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"faces must have shape (N, {', '.join(map(str, self.input_shape[1:]))}), got {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, self.num_outputs), np.float32)
        if len(faces) != self._batch_size:
            interpreter.resize_tensor_input(self._input_index, list(faces.shape))
            interpreter.allocate_tensors()
            self._batch_size = len(faces)
        interpreter.set_tensor(self._input_index, faces)
        interpreter.invoke()
        return interpreter.get_tensor(self._output_index).copy()


class EmotionClassifier(Closeable):
    """The app's emotion model: a frame and its faces' landmarks in, calibrated probabilities out.

    Owns the model's contract end to end: reads and validates the metadata, checks that the
    .tflite file's input and output shapes match it (at start, not at the first face), aligns
    and preprocesses each face the way the metadata says, and calibrates the logits.
    `labels` names the columns of every result.
    """

    def __init__(self, options: EmotionOptions = EmotionOptions(), metadata: EmotionMetadata | None = None) -> None:
        """`metadata`: the contents of `options.metadata_path` when the caller has read them already
        (the lens reads them once to check the packs against the labels, then builds classifiers)."""
        self.metadata_path = Path(options.metadata_path)
        self.metadata = metadata or EmotionMetadata.load(self.metadata_path)
        self.labels = self.metadata.labels
        model_file = options.model_file or self.metadata.model_file
        if model_file not in self.metadata.temperatures:
            raise ModelError(f"{self.metadata_path}: temperatures has no entry for {echo(model_file)}; {REMEDY}")
        self.model_path = self.metadata_path.parent / model_file
        self.temperature = self.metadata.temperature_for(model_file)
        self._logit_bias = np.asarray(self.metadata.logit_bias, np.float32)
        self._network = EmotionNetwork(self.model_path, options.num_threads)
        size = self.metadata.input_size
        if self._network.input_shape[1:] != (size, size, 1):
            self._network.close()
            raise ModelError(f"{self.model_path}: input shape {list(self._network.input_shape)} does not match "
                             f"input_size {size} in {self.metadata_path} (expected [1, {size}, {size}, 1]); {REMEDY}")
        if self._network.num_outputs != len(self.labels):
            self._network.close()
            raise ModelError(f"{self.model_path}: {self._network.num_outputs} outputs do not match the "
                             f"{len(self.labels)} labels in {self.metadata_path}; {REMEDY}")

    def infer(self, image_rgb: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray:
        """Calibrated probabilities (N, len(labels)) for the N faces whose (468, 2+) landmarks are given."""
        eye_line_y, interocular_fraction = self.metadata.alignment
        crops = [align_face_crop(image_rgb, named_point(points, "left_eye"), named_point(points, "right_eye"),
                                 size=self.metadata.input_size, eye_line_y=eye_line_y,
                                 interocular_fraction=interocular_fraction)
                 for points in landmarks]
        return self.infer_crops(crops)

    def infer_crops(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Calibrated probabilities for face crops already framed like the training data (e.g. FER2013's)."""
        if len(crops) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        return self._postprocess(self._network.infer(self._preprocess(crops)))

    def _preprocess(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """The shared preprocessing, then the standardisation the exported graphs start after."""
        return standardize_faces(preprocess_faces(list(crops), size=self.metadata.input_size))

    def _postprocess(self, logits: np.ndarray) -> np.ndarray:
        """softmax((logits + bias) / temperature)."""
        scaled = (logits + self._logit_bias) / self.temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        exp = np.exp(scaled)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    def close(self) -> None:
        self._network.close()

