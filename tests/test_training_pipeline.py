"""Train a few steps on generated data, export, reload: the .tflite matches Keras; evaluate.py reports correctly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arfilter.labels import EMOTION_LABELS
from tests.test_training_data import write_image_folder
from training.metrics import classification_report, expected_calibration_error, fit_temperature, softmax

pytest.importorskip("tensorflow", reason="training tests need TensorFlow (pip install -e .[train])")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny dataset, one short epoch, and a full export into a temporary models folder."""
    from training import train

    root = tmp_path_factory.mktemp("fer")
    for split, count in (("train", 12), ("val", 4), ("test", 4)):
        write_image_folder(root / split, per_label=count, seed=len(split))
    models_dir = root / "models"
    code = train.main(["--data", str(root), "--epochs", "1", "--batch-size", "16", "--run-dir", str(root / "run"),
                       "--models-dir", str(models_dir)])
    assert code == 0
    return root, models_dir


def test_export_writes_every_file_and_metadata(exported):
    _, models_dir = exported
    metadata = json.loads((models_dir / "emotion.json").read_text())
    assert metadata["labels"] == list(EMOTION_LABELS)
    assert metadata["input_size"] == 48 and metadata["preprocessing"]["input_size"] == 48
    assert (models_dir / metadata["model_file"]).is_file()
    assert metadata["temperatures"][metadata["model_file"]] > 0
    assert metadata["parameters"] > 0 and "train.py" in metadata["training_command"]
    for name in ("emotion.keras", "emotion.tflite", "confusion_test.png", "training_curve.png"):
        assert (models_dir / name).is_file(), name


def test_float_tflite_matches_keras(exported):
    import keras

    import training.model  # noqa: F401  (registers the custom layer)
    from arfilter.emotion import EmotionNetwork
    from arfilter.preprocessing import standardize_faces

    _, models_dir = exported
    faces = np.random.default_rng(3).random((5, 48, 48, 1), dtype=np.float32)
    model = keras.models.load_model(models_dir / "emotion.keras", compile=False)
    keras_logits = model.predict(faces, verbose=0)
    if json.loads((models_dir / "emotion.json").read_text())["test_time_flip"]:  # the export chose flip averaging
        keras_logits = (keras_logits + model.predict(faces[:, :, ::-1], verbose=0)) / 2
    tflite_logits = EmotionNetwork(models_dir / "emotion.tflite").infer(standardize_faces(faces))
    np.testing.assert_allclose(tflite_logits, keras_logits, atol=1e-4)


def test_app_classifier_loads_export_without_tensorflow_calls(exported):
    from arfilter.emotion import EmotionClassifier, EmotionOptions

    _, models_dir = exported
    classifier = EmotionClassifier(EmotionOptions(metadata_path=models_dir / "emotion.json"))
    probabilities = classifier.infer_crops(np.random.default_rng(4).integers(0, 256, (3, 48, 48), dtype=np.uint8))
    assert probabilities.shape == (3, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_evaluate_cli_report_is_consistent(exported, tmp_path):
    from training import evaluate

    root, models_dir = exported
    report_path = tmp_path / "report.json"
    assert evaluate.main(["--data", str(root), "--split", "test", "--model", str(models_dir / "emotion.tflite"),
                          "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    matrix = np.array(report["confusion_matrix"])
    assert matrix.sum() == report["samples"] == 28
    assert report["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    assert report_path.with_suffix(".png").is_file()


def test_classification_report_on_hand_computed_case():
    # True:      0 0 1 1 2 2     Predicted: 0 1 1 1 2 0
    true = np.array([0, 0, 1, 1, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0])
    logits = np.full((6, 3), -5.0)
    logits[np.arange(6), predicted] = 5.0
    report = classification_report(logits, true, ("a", "b", "c"))
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["per_class"]["a"]["precision"] == pytest.approx(0.5)
    assert report["per_class"]["b"]["recall"] == pytest.approx(1.0)
    assert report["per_class"]["c"]["recall"] == pytest.approx(0.5)
    # macro-F1: a: P=.5 R=.5 F=.5; b: P=2/3 R=1 F=.8; c: P=1 R=.5 F=2/3
    assert report["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3, abs=1e-4)


def test_ece_of_perfectly_calibrated_bins_is_zero_and_of_overconfidence_is_the_gap():
    probabilities = np.array([[0.8, 0.2]] * 10)
    labels = np.array([0] * 8 + [1] * 2)  # 80% right at 80% confidence
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0, abs=1e-9)
    assert expected_calibration_error(np.array([[0.9, 0.1]] * 10), labels) == pytest.approx(0.1)


def test_temperature_fit_recovers_the_generating_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4000, 7))
    labels = np.array([rng.choice(7, p=p) for p in softmax(logits, 2.0)])
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.1)


def test_logit_bias_lifts_under_predicted_classes_within_the_accuracy_budget():
    from training.export import choose_logit_bias

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, 3000)
    logits = rng.normal(0, 1, (3000, 7))
    logits[np.arange(3000), labels] += 2.5
    disgust, fear = EMOTION_LABELS.index("disgust"), EMOTION_LABELS.index("fear")
    logits[:, disgust] -= 1.5  # the model under-predicts disgust, and fear less so
    logits[:, fear] -= 0.75
    bias = choose_logit_bias(logits, labels)
    before = classification_report(logits, labels, EMOTION_LABELS)
    after = classification_report(logits + bias, labels, EMOTION_LABELS)
    others = np.delete(bias, [disgust, fear])
    assert bias[disgust] > bias[fear] > others.max()
    for label in ("disgust", "fear"):
        assert after["per_class"][label]["recall"] > before["per_class"][label]["recall"]
    assert after["macro_f1"] > before["macro_f1"] and after["accuracy"] >= before["accuracy"] - 0.005


def test_logit_bias_puts_every_class_recall_over_the_floor_before_macro_f1():
    from training.export import MIN_CLASS_RECALL, choose_logit_bias

    rng = np.random.default_rng(2)
    labels = rng.integers(0, 7, 3000)
    logits = rng.normal(0, 1, (3000, 7))
    logits[np.arange(3000), labels] += 2.0
    fear = EMOTION_LABELS.index("fear")
    logits[:, fear] -= 2.0  # fear is rarely predicted: recall far under the floor
    before = classification_report(logits, labels, EMOTION_LABELS)
    assert before["per_class"]["fear"]["recall"] < MIN_CLASS_RECALL
    after = classification_report(logits + choose_logit_bias(logits, labels, max_accuracy_loss=0.05), labels, EMOTION_LABELS)
    assert min(scores["recall"] for scores in after["per_class"].values()) >= MIN_CLASS_RECALL


def test_an_ensemble_exports_as_one_graph_averaging_its_members(exported, tmp_path):
    """Two checkpoints in, one .tflite out whose logits are the mean of the two networks'."""
    import keras

    from arfilter.emotion import EmotionNetwork
    from arfilter.preprocessing import preprocess_faces, standardize_faces
    from training import export, train
    from training.evaluate import keras_logits

    root, _ = exported
    assert train.main(["--data", str(root), "--epochs", "1", "--batch-size", "16", "--seed", "1",
                       "--run-dir", str(tmp_path / "run1"), "--no-export"]) == 0
    checkpoints = [root / "run" / "best.keras", tmp_path / "run1" / "best.keras"]
    models_dir = tmp_path / "models"
    assert export.main(["--data", str(root), "--models-dir", str(models_dir),
                        *[argument for checkpoint in checkpoints for argument in ("--checkpoint", str(checkpoint))]]) == 0
    metadata = json.loads((models_dir / "emotion.json").read_text())
    assert metadata["ensemble_members"] == 2 and metadata["export_command"].count("--checkpoint") == 2
    assert metadata["training_command"].count("train.py") == 2

    faces = np.random.default_rng(4).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    members = [keras.models.load_model(checkpoint, compile=False) for checkpoint in checkpoints]
    assert not np.allclose(keras_logits(members[0], faces), keras_logits(members[1], faces), atol=1e-3)
    views = {"none": (faces, faces), "split": (faces, faces[:, :, ::-1])}.get(metadata["test_time"])
    if views is None:  # "flip": each network on both views
        expected = np.mean([keras_logits(member, faces, True) for member in members], axis=0)
    else:
        expected = np.mean([keras_logits(member, view) for member, view in zip(members, views)], axis=0)
    tflite = EmotionNetwork(models_dir / "emotion.tflite").infer(standardize_faces(preprocess_faces(faces)))
    np.testing.assert_allclose(tflite, expected, atol=1e-4)


def test_resume_continues_a_stopped_run_exactly(tmp_path):
    """Stopped after epoch 1 and resumed, a run ends with the same weights and optimizer state as one uninterrupted."""
    import keras

    import training.model  # noqa: F401  (registers the custom layers)
    from training import train

    for split, count in (("train", 6), ("val", 2)):
        write_image_folder(tmp_path / "data" / split, per_label=count, seed=len(split))
    common = ["--data", str(tmp_path / "data"), "--epochs", "2", "--batch-size", "8", "--no-export", "--width", "0.5"]
    assert train.main([*common, "--run-dir", str(tmp_path / "whole")]) == 0
    assert train.main([*common, "--run-dir", str(tmp_path / "split"), "--stop-after", "1"]) == 0
    assert train.main([*common, "--run-dir", str(tmp_path / "split"), "--resume"]) == 0
    whole = keras.models.load_model(tmp_path / "whole" / "last.keras")
    split = keras.models.load_model(tmp_path / "split" / "last.keras")
    assert int(split.optimizer.iterations.numpy()) == int(whole.optimizer.iterations.numpy()) == 2 * (42 // 8)
    for mine, theirs in zip(split.weights + split.optimizer.variables, whole.weights + whole.optimizer.variables):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), atol=1e-6, err_msg=mine.path)
    history = (tmp_path / "split" / "history.csv").read_text().splitlines()
    assert len(history) == 3  # header and one row per epoch, none repeated by the resume


def test_a_mirror_split_ensemble_shows_every_second_member_the_mirrored_face():
    from training.model import build_ensemble, build_model

    first, second = build_model(), build_model()
    faces = np.random.default_rng(5).random((3, 48, 48, 1), dtype=np.float32)
    ensemble = build_ensemble([first, second], mirror_split=True)
    expected = (first.predict(faces, verbose=0) + second.predict(faces[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(ensemble.predict(faces, verbose=0), expected, atol=1e-5)
    assert not np.allclose(expected, (first.predict(faces, verbose=0) + second.predict(faces, verbose=0)) / 2, atol=1e-4)


def test_flip_averaging_is_never_chosen_past_the_latency_budget():
    """Four networks with flip averaging would run eight times per face: the export keeps to the free choices."""
    from types import SimpleNamespace

    from training.export import MAX_NETWORK_RUNS, test_time_ablations
    from training.model import build_model

    rng = np.random.default_rng(6)
    val = SimpleNamespace(images=rng.integers(0, 256, (8, 48, 48), dtype=np.uint8), labels=rng.integers(0, 7, 8))
    members = [build_model() for _ in range(MAX_NETWORK_RUNS // 2 + 1)]
    choice, rows = test_time_ablations(members, [f"m{index}" for index in range(len(members))], val, min_gain=-1.0)
    assert choice in ("none", "split")
    assert any("exceed" in row["decision"] for row in rows)
    choice, _ = test_time_ablations(members[:1], ["m0"], val, min_gain=-1.0)  # one network: flip fits and is free to win
    assert choice == "flip"


def test_member_comparison_averages_every_subset():
    from training.compare_members import subset_table
    from training.robustness import CORRUPTIONS

    labels = np.array([0, 1])
    right, wrong = np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    logits = {"a": dict.fromkeys(CORRUPTIONS, right), "b": dict.fromkeys(CORRUPTIONS, wrong)}
    table = dict(subset_table(logits, labels))
    assert set(table) == {("a",), ("b",), ("a", "b")}
    assert table[("a",)]["clean"] == 1.0 and table[("b",)]["clean"] == 0.0
    assert table[("a", "b")]["clean"] == 1.0  # the confident member outweighs the unsure one
