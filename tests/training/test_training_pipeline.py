"""Train a few steps on generated data, export, reload: the .tflite matches Keras; evaluate.py reports correctly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arfilter.vision.labels import EMOTION_LABELS
from tests.training.test_training_data import write_image_folder
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
    from arfilter.vision.emotion import EmotionNetwork
    from arfilter.vision.preprocessing import standardize_faces

    _, models_dir = exported
    faces = np.random.default_rng(3).random((5, 48, 48, 1), dtype=np.float32)
    model = keras.models.load_model(models_dir / "emotion.keras", compile=False)
    keras_logits = model.predict(faces, verbose=0)
    if json.loads((models_dir / "emotion.json").read_text())["test_time_flip"]:  # the export chose flip averaging
        keras_logits = (keras_logits + model.predict(faces[:, :, ::-1], verbose=0)) / 2
    tflite_logits = EmotionNetwork(models_dir / "emotion.tflite").infer(standardize_faces(faces))
    np.testing.assert_allclose(tflite_logits, keras_logits, atol=1e-4)


def test_app_classifier_loads_export_without_tensorflow_calls(exported):
    from arfilter.vision.emotion import EmotionClassifier, EmotionOptions

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

    from arfilter.vision.emotion import EmotionNetwork
    from arfilter.vision.preprocessing import preprocess_faces, standardize_faces
    from training import export, train
    from training.evaluate import keras_logits

    root, _ = exported
    assert train.main(["--data", str(root), "--epochs", "1", "--batch-size", "16", "--seed", "1",
                       "--run-dir", str(tmp_path / "run1"), "--no-export"]) == 0
    checkpoints = [root / "run" / "best.keras", tmp_path / "run1" / "best.keras"]
    models_dir = tmp_path / "models"
    assert export.main(["--data", str(root), "--models-dir", str(models_dir), "--max-network-runs", "4",
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


@pytest.mark.parametrize("extra", [[], ["--teacher", "TEACHER", "--mixup", "0.4", "--cutmix", "1.0", "--depth", "1.5",
                                          "--network-input-size", "56", "--loss", "logit-adjusted"]],
                         ids=["plain", "distilled-mixed-deeper-upscaled-logit-adjusted"])
def test_resume_continues_a_stopped_run_exactly(exported, tmp_path, extra):
    """Stopped after epoch 1 and resumed, a run ends with the same weights and optimizer state as one uninterrupted.

    The second case adds every stateful-looking option: distillation targets (cached teacher
    logits), mixup and CutMix draws, a deeper network that upscales its input, and a custom loss
    that the checkpoint must restore.
    """
    import keras

    import training.model  # noqa: F401  (registers the custom layers)
    from training import train

    teacher = str(exported[1] / "emotion.keras")
    extra = [teacher if value == "TEACHER" else value for value in extra]
    for split, count in (("train", 6), ("val", 2)):
        write_image_folder(tmp_path / "data" / split, per_label=count, seed=len(split))
    common = ["--data", str(tmp_path / "data"), "--epochs", "2", "--batch-size", "8", "--no-export", "--width", "0.5", *extra]
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


def test_a_missing_teacher_is_named_before_anything_in_the_run_folder_changes(tmp_path, capsys):
    from training import train

    write_image_folder(tmp_path / "data" / "train", per_label=2, seed=1)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "best.keras").write_bytes(b"an earlier run's best weights")
    code = train.main(["--data", str(tmp_path / "data"), "--run-dir", str(run_dir), "--teacher", str(tmp_path / "gone.keras")])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "gone.keras: teacher model not found" in error[0]
    assert (run_dir / "best.keras").read_bytes() == b"an earlier run's best weights"


def test_class_weights_balance_the_classes_at_power_one_and_vanish_at_zero():
    from training.train import class_weights

    labels = np.repeat(np.arange(7), [40, 5, 30, 80, 50, 35, 25])
    np.testing.assert_allclose(class_weights(labels, 0.0), 1.0)
    balanced = class_weights(labels, 1.0)
    per_class_total = np.bincount(labels, weights=balanced[labels])
    np.testing.assert_allclose(per_class_total, per_class_total[0], rtol=1e-5)
    np.testing.assert_allclose(balanced[labels].mean(), 1.0, rtol=1e-5)  # the loss keeps its scale


def test_logit_adjusted_loss_is_cross_entropy_on_logits_shifted_by_the_log_prior():
    import keras

    from training.model import LogitAdjustedCrossEntropy

    prior = np.array([0.3, 0.02, 0.14, 0.25, 0.17, 0.07, 0.05])
    logits = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    targets = np.eye(7, dtype=np.float32)[[0, 1, 2, 5, 6]]
    adjusted = LogitAdjustedCrossEntropy(np.log(prior))
    expected = -np.log(softmax(logits + np.log(prior))[np.arange(5), targets.argmax(axis=1)]).mean()
    np.testing.assert_allclose(float(adjusted(targets, logits)), expected, rtol=1e-5)
    uniform = LogitAdjustedCrossEntropy(np.log(np.full(7, 1 / 7)))
    plain = keras.losses.CategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(float(uniform(targets, logits)), float(plain(targets, logits)), rtol=1e-5)
    # a rare class's logit must beat its prior: the same logits cost more when the label is rare
    assert float(adjusted(targets[1:2], logits[1:2])) > float(plain(targets[1:2], logits[1:2]))


def test_distillation_targets_mix_the_labels_with_the_teachers_softened_probabilities():
    from training.train import training_targets

    labels = np.array([0, 2])
    np.testing.assert_array_equal(training_targets(labels), np.eye(7)[labels])
    teacher = np.zeros((2, 7), np.float32)
    teacher[0, 0] = 4.0
    teacher[1, 6] = 4.0  # the teacher disagrees with the second label
    targets = training_targets(labels, teacher, weight=0.5, temperature=2.0)
    np.testing.assert_allclose(targets[0], 0.5 * np.eye(7)[0] + 0.5 * softmax(teacher[:1], 2.0)[0], rtol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert targets[1].argmax() == 2  # at weight 0.5 the label still leads


@pytest.mark.parametrize("options", [{"mixup": 0.4}, {"cutmix": 1.0}, {"mixup": 0.4, "cutmix": 1.0}],
                         ids=["mixup", "cutmix", "both"])
def test_mixed_faces_carry_their_targets_and_weights_in_the_proportion_of_their_pixels(options):
    """Each face is mixed with the one before it in the batch; its target and weight follow its share of the pixels."""
    import tensorflow as tf

    from training.augment import mix_pairs

    count = 64
    values = np.linspace(0.0, 1.0, count, dtype=np.float32)  # every face one flat grey, so shares are readable
    images = np.broadcast_to(values[:, None, None, None], (count, 48, 48, 1)).copy()
    targets = np.eye(7, dtype=np.float32)[np.arange(count) % 7]
    weights = np.arange(1, count + 1, dtype=np.float32)
    arguments = (tf.constant(images), tf.constant(targets), tf.constant(weights), tf.constant([3, 5]))
    mixed_images, mixed_targets, mixed_weights = (np.asarray(x) for x in mix_pairs(*arguments, **options))
    again = np.asarray(mix_pairs(*arguments, **options)[0])
    np.testing.assert_array_equal(mixed_images, again)  # stateless: the same seed, the same mixes

    partner = np.roll(np.arange(count), 1)
    own = (mixed_images.mean(axis=(1, 2, 3)) - values[partner]) / (values - values[partner])
    np.testing.assert_allclose(mixed_targets, own[:, None] * targets + (1 - own[:, None]) * targets[partner], atol=1e-4)
    np.testing.assert_allclose(mixed_weights, own * weights + (1 - own) * weights[partner], rtol=1e-4)
    assert (own > 0.999).sum() >= count // 5 and (own < 0.95).sum() >= count // 5  # some whole, some mixed
    if "mixup" not in options:  # CutMix pastes pixels: each one is the face's own or its partner's
        pixels = mixed_images[..., 0]
        from_self = np.isclose(pixels, values[:, None, None])
        from_partner = np.isclose(pixels, values[partner][:, None, None])
        assert np.all(from_self | from_partner)


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
    members = [build_model() for _ in range(6 // 2 + 1)]
    choice, rows = test_time_ablations(members, [f"m{index}" for index in range(len(members))], val, min_gain=-1.0,
                                       max_network_runs=6)
    assert choice in ("none", "split")
    assert any("exceed" in row["decision"] for row in rows)
    choice, _ = test_time_ablations(members[:1], ["m0"], val, min_gain=-1.0, max_network_runs=6)  # flip fits and may win
    assert choice == "flip"
    assert MAX_NETWORK_RUNS == 1  # the live model (v3): one network, never mirrored
    choice, _ = test_time_ablations(members[:1], ["m0"], val, min_gain=-1.0)
    assert choice == "none"


def test_member_comparison_averages_every_subset():
    from training.compare_members import MACRO_F1, subset_table
    from training.robustness import CORRUPTIONS

    labels = np.arange(7).repeat(2)
    right = np.eye(7)[labels] * 2.0
    wrong = np.roll(np.eye(7)[labels], 1, axis=1)  # every face called the next class
    logits = {"a": dict.fromkeys(CORRUPTIONS, right), "b": dict.fromkeys(CORRUPTIONS, wrong)}
    table = dict(subset_table(logits, labels))
    assert set(table) == {("a",), ("b",), ("a", "b")}
    assert table[("a",)]["clean"] == 1.0 and table[("b",)]["clean"] == 0.0
    assert table[("a", "b")]["clean"] == 1.0  # the confident member outweighs the unsure one
    assert table[("a",)][MACRO_F1] == 1.0 and table[("b",)][MACRO_F1] == 0.0


def test_step_time_reports_the_network_that_train_py_would_build(capsys):
    from training import step_time
    from training.model import ModelConfig, build_model

    assert step_time.main(["--batch-size", "4", "--width", "0.5", "--depth", "1.5"]) == 0
    line = capsys.readouterr().out.strip()
    expected = build_model(ModelConfig().scaled(0.5, 1.5)).count_params()
    assert line.startswith(f"{expected:,} parameters; ") and "ms per step of 4;" in line


@pytest.mark.parametrize("flag, value", [("--distill-weight", "1.5"), ("--mixup", "-1"), ("--cutmix", "-0.5"),
                                         ("--erase-probability", "2"), ("--depth", "0"),
                                         ("--network-input-size", "32"), ("--distill-temperature", "0")])
def test_out_of_range_training_options_are_refused_in_one_line_naming_the_flag(flag, value, capsys):
    from training import train

    with pytest.raises(SystemExit) as stopped:
        train.parse_args([flag, value])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"error: {flag} " in error and ": must be " in error
