"""FER2013 loaders on tiny generated datasets in both forms, including every bad-input case."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.vision.labels import EMOTION_LABELS
from training.data import DataError, load_csv, load_fer2013, load_image_folder, split_off_validation


def write_image_folder(root: Path, per_label: int = 3, labels=EMOTION_LABELS, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for label in labels:
        (root / label).mkdir(parents=True, exist_ok=True)
        for index in range(per_label):
            cv2.imwrite(str(root / label / f"{index}.png"), rng.integers(0, 256, (48, 48), dtype=np.uint8))


def write_csv(path: Path, rows: list[tuple]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        writer.writerows(rows)


def pixels(value: int, count: int = 2304) -> str:
    return " ".join([str(value)] * count)


def test_image_folder_labels_follow_folder_names(tmp_path):
    write_image_folder(tmp_path / "train", per_label=2)
    dataset = load_image_folder(tmp_path / "train")
    assert dataset.images.shape == (14, 48, 48) and dataset.images.dtype == np.uint8
    assert dataset.class_counts().tolist() == [2] * 7


def test_image_folder_resizes_other_sizes(tmp_path):
    (tmp_path / "happy").mkdir()
    cv2.imwrite(str(tmp_path / "happy" / "big.png"), np.full((96, 96), 200, np.uint8))
    dataset = load_image_folder(tmp_path)
    assert dataset.images.shape == (1, 48, 48) and dataset.labels.tolist() == [EMOTION_LABELS.index("happy")]


def test_unreadable_image_is_skipped_and_counted(tmp_path):
    write_image_folder(tmp_path, per_label=1)
    (tmp_path / "sad" / "broken.jpg").write_bytes(b"not a jpeg")
    dataset = load_image_folder(tmp_path)
    assert len(dataset) == 7
    assert len(dataset.skipped) == 1 and "broken.jpg" in dataset.skipped[0]


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nowhere.*not found"):
        load_image_folder(tmp_path / "nowhere")


def test_unknown_label_folder_is_named(tmp_path):
    write_image_folder(tmp_path, per_label=1)
    (tmp_path / "contempt").mkdir()
    with pytest.raises(DataError, match=r"unknown label folder.*contempt"):
        load_image_folder(tmp_path)


def test_kaggle_layout_without_val_holds_out_part_of_train(tmp_path):
    write_image_folder(tmp_path / "train", per_label=10)
    write_image_folder(tmp_path / "test", per_label=2)
    datasets = load_fer2013(tmp_path, validation_fraction=0.2)
    assert set(datasets) == {"train", "val", "test"}
    assert len(datasets["val"]) == 14 and len(datasets["train"]) == 56  # stratified: 2 of 10 per class
    assert datasets["val"].class_counts().tolist() == [2] * 7


def test_split_is_disjoint(tmp_path):
    write_image_folder(tmp_path, per_label=10)
    dataset = load_image_folder(tmp_path)
    train, val = split_off_validation(dataset, 0.3, seed=1)
    train_rows = {image.tobytes() for image in train.images}
    assert not any(image.tobytes() in train_rows for image in val.images)


def test_csv_codes_map_to_labels_and_usage_to_splits(tmp_path):
    path = tmp_path / "fer2013.csv"
    write_csv(path, [(0, pixels(1), "Training"), (6, pixels(2), "Training"), (4, pixels(3), "PublicTest"),
                     (3, pixels(4), "PrivateTest")])
    datasets = load_csv(path)
    assert [EMOTION_LABELS[i] for i in datasets["train"].labels] == ["angry", "neutral"]
    assert [EMOTION_LABELS[i] for i in datasets["val"].labels] == ["sad"]
    assert [EMOTION_LABELS[i] for i in datasets["test"].labels] == ["happy"]
    assert datasets["test"].images[0, 0, 0] == 4


@pytest.mark.parametrize(
    "row, reason",
    [
        ((3, pixels(5, 2303), "Training"), "2303 pixels, expected 2304"),
        ((9, pixels(5), "Training"), "unknown emotion code 9"),
        (("x", pixels(5), "Training"), "not integers"),
        ((3, pixels(300), "Training"), "outside 0..255"),
    ],
)
def test_bad_csv_rows_are_skipped_with_a_reason(tmp_path, row, reason):
    path = tmp_path / "fer2013.csv"
    write_csv(path, [(3, pixels(7), "Training"), row])
    datasets = load_csv(path)
    assert len(datasets["train"]) == 1
    assert len(datasets["train"].skipped) == 1
    assert reason in datasets["train"].skipped[0] and "fer2013.csv:3" in datasets["train"].skipped[0]


def test_csv_without_columns_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing column"):
        load_csv(path)


def test_load_fer2013_accepts_csv_path_and_folder_holding_csv(tmp_path):
    path = tmp_path / "fer2013.csv"
    write_csv(path, [(code, pixels(code), usage) for code in range(7) for usage in ("Training", "PublicTest", "PrivateTest")])
    from_file = load_fer2013(path)
    from_folder = load_fer2013(tmp_path)
    assert len(from_file["train"]) == len(from_folder["train"]) == 7


def test_missing_dataset_path_is_named(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_fer2013(tmp_path / "absent")


def _textures(count: int, seed: int) -> np.ndarray:
    """Face-like texture: noise low-passed a little, so a further blur is measurable."""
    rng = np.random.default_rng(seed)
    return np.stack([cv2.GaussianBlur(rng.integers(0, 256, (48, 48), dtype=np.uint8), (0, 0), 0.7) for _ in range(count)])


def test_sharpness_guard_refuses_a_blurred_training_split_and_names_both():
    from training.data import FaceDataset, check_sharpness

    labels = np.zeros(100, np.int64)
    val = FaceDataset(_textures(100, 1), labels, "data/val")
    blurred = FaceDataset(np.stack([cv2.GaussianBlur(image, (0, 0), 2.0) for image in _textures(100, 0)]), labels,
                          "data/train")
    with pytest.raises(DataError, match=r"data/train.*blurrier.*data/val.*sharpness 0\.\d+ vs 0\.\d+") as error:
        check_sharpness(blurred, val)
    assert "\n" not in str(error.value)


def test_sharpness_guard_accepts_matching_splits():
    from training.data import FaceDataset, check_sharpness

    labels = np.zeros(100, np.int64)
    check_sharpness(FaceDataset(_textures(100, 0), labels, "train"), FaceDataset(_textures(100, 1), labels, "val"))
