"""The emotion model's contract: its metadata is validated once, with one line naming the file and the
field; the .tflite must match it; and the labels it names travel with every result."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from arfilter.core.types import FaceResult, Frame, FrameResult
from arfilter.errors import ModelError
from arfilter.io.sinks.jsonl import frame_record
from arfilter.resources import FACE_MODELS_DIR, MODELS_DIR
from arfilter.vision.emotion import DEFAULT_METADATA_PATH, EmotionClassifier, EmotionMetadata, EmotionOptions
from arfilter.vision.geometry import FaceGeometry

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """The shipped metadata and model files in a folder of their own, to break."""
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(DEFAULT_METADATA_PATH, folder / "emotion.json")
    metadata = json.loads(DEFAULT_METADATA_PATH.read_text())
    shutil.copy(MODELS_DIR / metadata["model_file"], folder / metadata["model_file"])
    return folder / "emotion.json"


def rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))  # NaN is written as bare NaN, as a careless editor would


def one_line_error(path: Path) -> str:
    with pytest.raises(ModelError) as error:
        EmotionClassifier(EmotionOptions(metadata_path=path))
    message = str(error.value)
    assert "\n" not in message and str(path.name) in message and "re-export" in message
    return message


def test_shipped_metadata_round_trips_through_the_schema(tmp_path: Path) -> None:
    metadata = EmotionMetadata.load(DEFAULT_METADATA_PATH)
    assert metadata.input_size == 48 and len(metadata.labels) == 7 and metadata.model_file.endswith(".tflite")
    metadata.write(tmp_path / "emotion.json")
    assert json.loads((tmp_path / "emotion.json").read_text()) == json.loads(DEFAULT_METADATA_PATH.read_text())


@pytest.mark.parametrize("field_name, change", [
    ("temperatures[", lambda d: d["temperatures"].update({d["model_file"]: math.nan})),
    ("temperatures[", lambda d: d["temperatures"].update({d["model_file"]: 1e-9})),
    ("temperatures[", lambda d: d["temperatures"].update({d["model_file"]: -1.0})),
    ("logit_bias", lambda d: d.update(logit_bias=[math.nan] * 7)),
    ("logit_bias", lambda d: d.update(logit_bias=[0.0] * 6)),
    ("labels", lambda d: d.update(labels=["happy", "happy"])),
    ("input_size", lambda d: d.update(input_size=0)),
    ("model_file", lambda d: d.update(model_file="../elsewhere.tflite")),
    ("temperatures", lambda d: d.update(temperatures={})),
    ("preprocessing.alignment", lambda d: d["preprocessing"].update(alignment={"eye_line_y": 2.0})),
])
def test_bad_metadata_is_one_line_naming_the_field(model_copy: Path, field_name: str, change) -> None:
    rewrite(model_copy, change)
    assert f": {field_name}" in one_line_error(model_copy)


def test_model_file_that_does_not_match_the_metadata_is_refused_at_start(model_copy: Path) -> None:
    shutil.copy(FACE_MODELS_DIR / "face_detection_short_range.tflite", model_copy.parent / "face.tflite")
    rewrite(model_copy, lambda d: (d.update(model_file="face.tflite"), d["temperatures"].update({"face.tflite": 1.0})))
    message = one_line_error(model_copy)
    assert "face.tflite: input shape [1, 128, 128, 3] does not match input_size 48" in message
    rewrite(model_copy, lambda d: d.update(model_file=json.loads(DEFAULT_METADATA_PATH.read_text())["model_file"],
                                           labels=["a", "b", "c"], logit_bias=[0.0] * 3))
    assert "7 outputs do not match the 3 labels" in one_line_error(model_copy)


def test_labels_travel_with_the_results(model_copy: Path) -> None:
    """A model whose metadata names its outputs differently: the names reach the results and the JSON."""
    names = ["wut", "ew", "eek", "yay", "meh", "boo", "wow"]
    rewrite(model_copy, lambda d: d.update(labels=names))
    classifier = EmotionClassifier(EmotionOptions(metadata_path=model_copy))
    assert classifier.labels == tuple(names)
    image = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(DATA / "astronaut.png").convert("RGB"))
    landmarks = np.load(DATA / "astronaut_landmarks.npy")
    probabilities = classifier.infer(image, [landmarks])
    assert probabilities.shape == (1, 7) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    index = int(probabilities[0].argmax())
    face = FaceResult(track_id=1, landmarks=landmarks, geometry=FaceGeometry.from_landmarks(landmarks), box=(0, 0, 1, 1),
                      probabilities=probabilities[0], labels=classifier.labels, label=names[index],
                      confidence=float(probabilities[0, index]))
    record = frame_record(FrameResult(frame=Frame(image=image, index=0, source="x", timestamp_s=0.0), faces=[face]))
    assert list(record["faces"][0]["probs"]) == names and record["faces"][0]["label"] == names[index]


def test_classifier_closes_and_works_as_a_context_manager() -> None:
    with EmotionClassifier() as classifier:
        assert classifier.infer_crops([np.full((48, 48), 128, np.uint8)]).shape == (1, 7)
    with pytest.raises(RuntimeError, match="closed"):
        classifier.infer_crops([np.full((48, 48), 128, np.uint8)])
    assert classifier.infer_crops([]).shape == (0, 7)  # no face: no model call
