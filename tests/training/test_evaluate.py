"""training/evaluate.py on a user's own labelled folder, and on full-frame photos with --detect."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.resources import MODELS_DIR
from arfilter.vision.labels import EMOTION_LABELS
from training import evaluate

TEST_FACE = Path(__file__).parent.parent / "data" / "astronaut.png"
MODEL = MODELS_DIR / json.loads((MODELS_DIR / "emotion.json").read_text())["model_file"]


def test_plain_labelled_folder_gives_the_hand_computed_confusion_matrix(tmp_path, monkeypatch):
    for label in ("happy", "sad"):
        (tmp_path / "faces" / label).mkdir(parents=True)
        for index in range(2):
            cv2.imwrite(str(tmp_path / "faces" / label / f"{index}.png"), np.full((60, 60), 100 + index, np.uint8))
    happy, sad = EMOTION_LABELS.index("happy"), EMOTION_LABELS.index("sad")
    predicted = [happy, sad, happy, happy]  # files load happy/0, happy/1, sad/0, sad/1

    def fake_logits(model_path, images, flip_average=False):
        assert images.shape == (4, 48, 48)
        return np.eye(len(EMOTION_LABELS), dtype=np.float32)[predicted] * 5

    monkeypatch.setattr(evaluate, "model_logits", fake_logits)
    report_path = tmp_path / "report.json"
    assert evaluate.main(["--data", str(tmp_path / "faces"), "--model", str(MODEL), "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    matrix = np.array(report["confusion_matrix"])
    expected = np.zeros((7, 7), int)
    expected[happy, happy], expected[happy, sad], expected[sad, happy] = 1, 1, 2
    np.testing.assert_array_equal(matrix, expected)
    assert report["accuracy"] == pytest.approx(0.25)
    assert report["per_class"]["happy"]["recall"] == pytest.approx(0.5)
    assert report["per_class"]["happy"]["precision"] == pytest.approx(1 / 3, abs=1e-4)


def test_detect_runs_photos_through_the_face_pipeline_and_lists_photos_without_a_face(tmp_path, capsys):
    (tmp_path / "photos" / "happy").mkdir(parents=True)
    shutil.copy(TEST_FACE, tmp_path / "photos" / "happy" / "astronaut.png")
    cv2.imwrite(str(tmp_path / "photos" / "happy" / "wall.png"), np.full((240, 320, 3), 128, np.uint8))
    report_path = tmp_path / "report.json"
    code = evaluate.main(["--data", str(tmp_path / "photos"), "--detect", "--model", str(MODEL),
                          "--report", str(report_path)])
    assert code == 0
    report = json.loads(report_path.read_text())
    assert report["samples"] == 1  # the astronaut; the wall has no face
    assert [Path(path).name for path in report["no_face"]] == ["wall.png"]
    assert "no face found in 1 photo(s)" in capsys.readouterr().out
    assert report["confusion_matrix"][EMOTION_LABELS.index("happy")] != [0] * 7


def test_detect_with_no_face_anywhere_is_one_line(tmp_path, capsys):
    (tmp_path / "photos" / "sad").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "photos" / "sad" / "wall.png"), np.full((120, 160, 3), 90, np.uint8))
    code = evaluate.main(["--data", str(tmp_path / "photos"), "--detect", "--model", str(MODEL),
                          "--report", str(tmp_path / "r.json")])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("evaluate: error:") and "no face found" in error and "\n" not in error
