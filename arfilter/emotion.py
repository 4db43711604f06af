"""Emotion classification of aligned face crops through the LiteRT interpreter.

The model is described by its metadata file (`models/emotion.json`, written by
training/export.py): label order, input size, preprocessing, which .tflite file to run and
the temperature that calibrates its probabilities. No TensorFlow import on this path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arfilter.errors import ModelError
from arfilter.labels import EMOTION_LABELS
from arfilter.litert import load_interpreter
from arfilter.resources import MODELS_DIR
from arfilter.preprocessing import INPUT_SIZE, preprocess_faces, standardize_faces

DEFAULT_METADATA_PATH = MODELS_DIR / "emotion.json"
METADATA_FORMAT = "arfilter-emotion/1"


@dataclass(frozen=True)
class EmotionModelInfo:
    """The parts of the metadata inference needs."""

    labels: tuple[str, ...]
    model_path: Path
    temperature: float
    input_size: int
    logit_bias: tuple[float, ...]  # added to the logits before the temperature (lifts rare classes; chosen on val)

    @classmethod
    def load(cls, metadata_path: str | Path, model_file: str | None = None) -> "EmotionModelInfo":
        metadata_path = Path(metadata_path)
        try:
            metadata = json.loads(metadata_path.read_text())
        except FileNotFoundError:
            raise ModelError(f"emotion model metadata {metadata_path} not found; retrain with training/train.py "
                             "or restore models/ from git") from None
        except (OSError, ValueError) as error:
            raise ModelError(f"emotion model metadata {metadata_path} is unreadable ({error}); restore it from git") from None
        if not isinstance(metadata, dict) or metadata.get("format") != METADATA_FORMAT:
            raise ModelError(f"{metadata_path} is not arfilter emotion metadata (format {METADATA_FORMAT!r} expected)")
        try:
            chosen = model_file or metadata["model_file"]
            labels = tuple(metadata["labels"])
            temperature = float(metadata["temperatures"][chosen])
            input_size = int(metadata["input_size"])
            logit_bias = tuple(float(value) for value in metadata.get("logit_bias", [0.0] * len(labels)))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"{metadata_path}: missing or invalid field {error}; restore it from git") from None
        if labels != EMOTION_LABELS:
            raise ModelError(f"{metadata_path}: labels {list(labels)} differ from arfilter's {list(EMOTION_LABELS)}; "
                             "re-export the model with training/export.py")
        if input_size != INPUT_SIZE or temperature <= 0 or len(logit_bias) != len(labels):
            raise ModelError(f"{metadata_path}: input size, temperature or logit_bias is not usable; "
                             "re-export the model with training/export.py")
        return cls(labels, metadata_path.parent / chosen, temperature, input_size, logit_bias)


@dataclass(frozen=True)
class EmotionOptions:
    """`num_threads` 1 is fastest for the one-to-four faces of a frame (threads cost more than they save)."""

    metadata_path: Path = DEFAULT_METADATA_PATH
    model_file: str | None = None  # override the metadata's choice, e.g. "emotion.tflite" for the float model
    num_threads: int = 1


class EmotionNetwork:
    """The bare .tflite network: preprocessed, standardised faces in, raw logits out (no metadata needed)."""

    def __init__(self, model_path: str | Path, num_threads: int = 1):
        self.model_path = Path(model_path)
        self._interpreter = load_interpreter(self.model_path, num_threads, "emotion model",
                                             "restore models/ from git or re-export with training/export.py")
        self._input_index = self._interpreter.get_input_details()[0]["index"]
        self._output_index = self._interpreter.get_output_details()[0]["index"]
        self._batch_size = 1

    def infer(self, faces: np.ndarray) -> np.ndarray:
        """Logits (N, 7); one invoke per batch, the batch size resized only when it changes."""
        faces = np.ascontiguousarray(faces, np.float32)
        if faces.ndim != 4 or faces.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 1):
            raise ValueError(f"faces must have shape (N, {INPUT_SIZE}, {INPUT_SIZE}, 1), got {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, self._interpreter.get_output_details()[0]["shape"][-1]), np.float32)
        if len(faces) != self._batch_size:
            self._interpreter.resize_tensor_input(self._input_index, list(faces.shape))
            self._interpreter.allocate_tensors()
            self._batch_size = len(faces)
        self._interpreter.set_tensor(self._input_index, faces)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output_index).copy()


class EmotionClassifier:
    """Maps a batch of preprocessed faces (N, 48, 48, 1) float32 to calibrated probabilities (N, 7)."""

    def __init__(self, options: EmotionOptions = EmotionOptions()):
        self.info = EmotionModelInfo.load(options.metadata_path, options.model_file)
        self.labels = self.info.labels
        self._network = EmotionNetwork(self.info.model_path, options.num_threads)

    def infer(self, faces: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for a batch from `preprocess`: softmax((logits + bias) / temperature)."""
        return self._postprocess(self._network.infer(faces))

    def preprocess(self, crops: list[np.ndarray]) -> np.ndarray:
        """The shared preprocessing, then the standardisation the exported graph expects."""
        return standardize_faces(preprocess_faces(crops))

    def _postprocess(self, logits: np.ndarray) -> np.ndarray:
        scaled = (logits + np.asarray(self.info.logit_bias, np.float32)) / self.info.temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        exp = np.exp(scaled)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
