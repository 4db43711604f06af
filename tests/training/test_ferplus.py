"""FER+ votes as soft targets (training/ferplus.py, train.py --targets), the single-network export, the threshold choice.

Everything runs on generated data (a tiny image folder and a ferplus.csv written here); one test reads
the real ferplus.csv and skips when ../shared is absent.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.vision.labels import EMOTION_LABELS
from training.ferplus import (
    VOTE_COLUMNS,
    class_weights_from_targets,
    majority_labels,
    read_ferplus,
    soft_targets,
    vote_distribution,
    votes_for,
)

SHARED_FER2013 = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "fer2013"
# A FER2013 label and the FER+ label its votes favour (FER+ column names).
FERPLUS_NAME = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "neutral": "neutral",
                "sad": "sadness", "surprise": "surprise"}


def write_faces(root: Path, per_label: int, seed: int) -> list[str]:
    """Random 48x48 faces in root/<label>/; returns their paths relative to root's parent (split/label/file)."""
    rng = np.random.default_rng(seed)
    paths = []
    for label in EMOTION_LABELS:
        (root / label).mkdir(parents=True, exist_ok=True)
        for index in range(per_label):
            cv2.imwrite(str(root / label / f"{index}.png"), rng.integers(0, 256, (48, 48), dtype=np.uint8))
            paths.append(f"{root.name}/{label}/{index}.png")
    return paths


def write_ferplus(path: Path, rows: list[tuple[str, str, list[int]]]) -> None:
    """rows: (relative path, match, 10 vote counts in VOTE_COLUMNS order)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "ferplus_image", "match", *VOTE_COLUMNS])
        for relative, match, votes in rows:
            writer.writerow([relative, relative.split("/")[1], "fer0000000.png", match, *votes])


def votes(**counts: int) -> list[int]:
    return [counts.get(column, 0) for column in VOTE_COLUMNS]


def make_dataset(root: Path, per_label: int = 4) -> Path:
    """train/ val/ test/ folders and a ferplus.csv whose majority is the *next* label (so the two label sets differ)."""
    rows = []
    for split, count in (("train", per_label), ("val", 2), ("test", 2)):
        for relative in write_faces(root / split, count, seed=len(split)):
            label = relative.split("/")[1]
            other = EMOTION_LABELS[(EMOTION_LABELS.index(label) + 1) % len(EMOTION_LABELS)]
            rows.append((relative, "unique", votes(**{FERPLUS_NAME[other]: 7, FERPLUS_NAME[label]: 2, "unknown": 1})))
    rows[0] = (rows[0][0], "none", votes())  # a row FER+ dropped: keeps its FER2013 label
    write_ferplus(root / "ferplus.csv", rows)
    return root


def test_vote_shares_drop_contempt_unknown_and_not_a_face_and_follow_our_label_order(tmp_path):
    write_ferplus(tmp_path / "ferplus.csv", [
        ("train/angry/0.png", "unique", votes(anger=6, sadness=2, contempt=1, NF=1)),
        ("train/angry/1.png", "none", votes()),
        ("train/sad/0.png", "unique", votes(contempt=8, unknown=2)),  # no vote in our 7 classes
    ])
    table = read_ferplus(tmp_path / "ferplus.csv")
    found = votes_for(["/data/fer/train/angry/0.png", "train/angry/1.png", "x/train/sad/0.png", "train/happy/9.png"], table)
    assert found.valid.tolist() == [True, False, True, False]
    shares, usable = vote_distribution(found)
    assert usable.tolist() == [True, False, False, False]
    expected = np.zeros(len(EMOTION_LABELS))
    expected[EMOTION_LABELS.index("angry")], expected[EMOTION_LABELS.index("sad")] = 0.75, 0.25
    np.testing.assert_allclose(shares[0], expected)


def test_rows_without_usable_votes_fall_back_to_the_fer2013_label_and_mix_halves_the_two(tmp_path):
    write_ferplus(tmp_path / "ferplus.csv", [
        ("train/angry/0.png", "unique", votes(neutral=10)),
        ("train/sad/0.png", "none", votes()),
        ("train/fear/0.png", "unique", votes(unknown=10)),
    ])
    found = votes_for(["train/angry/0.png", "train/sad/0.png", "train/fear/0.png"], read_ferplus(tmp_path / "ferplus.csv"))
    labels = np.asarray([EMOTION_LABELS.index(name) for name in ("angry", "sad", "fear")])
    targets, fallback = soft_targets("ferplus", labels, found)
    assert fallback == 2
    assert EMOTION_LABELS[targets[0].argmax()] == "neutral" and targets[0].max() == 1.0
    np.testing.assert_array_equal(targets[1:], np.eye(len(EMOTION_LABELS))[labels[1:]])
    mixed, _ = soft_targets("mix", labels, found)
    assert mixed[0, EMOTION_LABELS.index("neutral")] == 0.5 and mixed[0, EMOTION_LABELS.index("angry")] == 0.5
    one_hot, none_fell_back = soft_targets("fer2013", labels, None)
    assert none_fell_back == 0 and (one_hot.argmax(axis=1) == labels).all()
    np.testing.assert_allclose(targets.sum(axis=1), 1.0)


def test_majority_leaves_out_ties_and_non_emotion_majorities(tmp_path):
    write_ferplus(tmp_path / "ferplus.csv", [
        ("test/angry/0.png", "unique", votes(anger=5, sadness=4, unknown=1)),
        ("test/angry/1.png", "unique", votes(anger=4, sadness=4, neutral=2)),  # tie
        ("test/angry/2.png", "unique", votes(contempt=6, anger=4)),  # contempt is not one of ours
        ("test/angry/3.png", "unique", votes(NF=10)),
        ("test/angry/4.png", "none", votes()),
    ])
    found = votes_for([f"test/angry/{index}.png" for index in range(5)], read_ferplus(tmp_path / "ferplus.csv"))
    assert majority_labels(found).tolist() == [EMOTION_LABELS.index("angry"), -1, -1, -1, -1]


def test_soft_class_weights_lift_the_rare_vote_mass():
    targets = np.zeros((10, len(EMOTION_LABELS)), np.float32)
    targets[:9, EMOTION_LABELS.index("happy")] = 1.0
    targets[9, EMOTION_LABELS.index("disgust")] = 1.0
    weights = class_weights_from_targets(targets, 0.5)
    assert weights[EMOTION_LABELS.index("disgust")] == pytest.approx(3 * weights[EMOTION_LABELS.index("happy")])


@pytest.mark.skipif(not (SHARED_FER2013 / "ferplus.csv").is_file(),
                    reason="needs ../shared/datasets/fer2013/ferplus.csv (the shared datasets are not mounted)")
def test_the_real_ferplus_file_gives_3349_majority_faces_on_test():
    table = read_ferplus(SHARED_FER2013 / "ferplus.csv")
    paths = [key for key in table if key.startswith("test/")]
    assert len(paths) == 3589
    assert int((majority_labels(votes_for(paths, table)) >= 0).sum()) == 3349


pytest.importorskip("tensorflow", reason="training tests need TensorFlow (pip install -e .[train])")


@pytest.fixture(scope="module")
def ferplus_run(tmp_path_factory):
    """One short epoch on FER+ targets from generated data, exported as one network."""
    from training import export, train

    root = make_dataset(tmp_path_factory.mktemp("ferplus"))
    assert train.main(["--data", str(root), "--epochs", "1", "--batch-size", "8", "--width", "0.5", "--targets", "ferplus",
                       "--run-dir", str(root / "run"), "--no-export"]) == 0
    assert export.main(["--data", str(root), "--checkpoint", str(root / "run" / "best.keras"),
                        "--models-dir", str(root / "models")]) == 0
    return root


def test_a_ferplus_run_selects_on_the_ferplus_majority_and_records_its_targets(ferplus_run):
    command = json.loads((ferplus_run / "run" / "command.json").read_text())
    assert command["args"]["targets"] == "ferplus" and command["args"]["select_on"] == "ferplus"
    assert (ferplus_run / "run" / "history.csv").is_file()


def test_the_export_is_one_network_run_once_per_face_with_a_neutral_threshold(ferplus_run):
    from arfilter.vision.emotion import EmotionMetadata

    metadata = json.loads((ferplus_run / "models" / "emotion.json").read_text())
    assert metadata["ensemble_members"] == 1 and metadata["network_runs_per_face"] == 1
    assert metadata["test_time"] == "none" and metadata["test_time_flip"] is False
    assert metadata["macs_per_face"] > 0 and "FER+ majority" in metadata["selected_on"]
    assert 0 < metadata["neutral_reference"]["log_threshold"] <= 10
    assert "test_ferplus_accuracy" in metadata["metrics"][metadata["model_file"]]
    EmotionMetadata.load(ferplus_run / "models" / "emotion.json")  # the app's own validation accepts it


def test_the_export_refuses_more_networks_than_the_live_budget(ferplus_run, capsys):
    from training import export

    checkpoint = str(ferplus_run / "run" / "best.keras")
    assert export.main(["--data", str(ferplus_run), "--checkpoint", checkpoint, "--checkpoint", checkpoint,
                        "--models-dir", str(ferplus_run / "refused")]) == 2
    assert "--max-network-runs" in capsys.readouterr().err
    assert not (ferplus_run / "refused").exists()


def test_a_ferplus_run_resumes_exactly(tmp_path):
    import keras

    import training.model  # noqa: F401  (registers the custom layers)
    from training import train

    root = make_dataset(tmp_path / "data", per_label=3)
    common = ["--data", str(root), "--epochs", "2", "--batch-size", "8", "--width", "0.5", "--targets", "ferplus",
              "--no-export"]
    assert train.main([*common, "--run-dir", str(tmp_path / "whole")]) == 0
    assert train.main([*common, "--run-dir", str(tmp_path / "split"), "--stop-after", "1"]) == 0
    assert train.main([*common, "--run-dir", str(tmp_path / "split"), "--resume"]) == 0
    whole = keras.models.load_model(tmp_path / "whole" / "last.keras").get_weights()
    split = keras.models.load_model(tmp_path / "split" / "last.keras").get_weights()
    for a, b in zip(whole, split):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_threshold_choice_keeps_neutral_recall_over_the_floor():
    from training.neutral_rule import choose_threshold

    rng = np.random.default_rng(0)
    neutral = EMOTION_LABELS.index("neutral")
    labels = np.repeat(np.arange(len(EMOTION_LABELS)), 40)
    probabilities = rng.dirichlet(np.ones(len(EMOTION_LABELS)), size=len(labels)) * 0.5
    probabilities[np.arange(len(labels)), labels] += 0.5
    references = np.tile(np.eye(len(EMOTION_LABELS))[neutral] * 0.6 + 0.4 / len(EMOTION_LABELS), (len(labels), 1))
    neutral_faces = labels == neutral
    # A neutral face's reference is the same face photographed again: each class a little more or less likely.
    again = probabilities[neutral_faces] * np.exp(rng.normal(0, 0.2, probabilities[neutral_faces].shape))
    references[neutral_faces] = again / again.sum(axis=1, keepdims=True)
    threshold, curve = choose_threshold(probabilities, references, labels)
    chosen = next(row for row in curve if row["threshold"] == threshold)
    assert chosen["neutral_recall"] >= 0.9
    assert chosen["balanced_accuracy"] == max(row["balanced_accuracy"] for row in curve if row["neutral_recall"] >= 0.9)
