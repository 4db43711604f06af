"""FER2013 loaders for the two forms users have: image folders and the original CSV.

Both return a `FaceDataset` of uint8 48x48 images and integer labels in EMOTION_LABELS order.
Bad inputs never crash a run halfway: a missing folder or an unknown label folder is a
one-line `DataError` up front; unreadable images and malformed CSV rows are skipped and
counted in `FaceDataset.skipped`, so a caller can report them.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from arfilter.bounded import ImageLimits, ImageRefusedError, check_readable_file, read_image_file
from arfilter.vision.labels import EMOTION_LABELS, FER2013_CSV_CODES
from arfilter.vision.preprocessing import INPUT_SIZE

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

# fer2013.csv `Usage` values and the split names used everywhere else.
CSV_USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
SPLITS = ("train", "val", "test")
# Bounds on what is read: fer2013.csv is 290 MB; a face image is a few kB (a phone photo a few MB).
MAX_CSV_BYTES = 2 * 1024**3
TRAINING_IMAGE_LIMITS = ImageLimits(max_bytes=32 * 1024**2, max_side_px=8192, max_pixels=50_000_000)


class DataError(ValueError):
    """The dataset cannot be used as given; the message names the file and the fix."""


@dataclass
class FaceDataset:
    """Images (N, 48, 48) uint8 and labels (N,) int64 indexing EMOTION_LABELS."""

    images: np.ndarray
    labels: np.ndarray
    source: str
    skipped: list[str] = field(default_factory=list)  # one human-readable reason per skipped item
    paths: list[str] = field(default_factory=list)  # the file of each image (image folders only; empty for the CSV)

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(EMOTION_LABELS))


def _to_face_image(image: np.ndarray) -> np.ndarray:
    if image.shape != (INPUT_SIZE, INPUT_SIZE):
        image = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    return image


def labelled_image_paths(split_dir: str | Path) -> list[tuple[Path, int]]:
    """`(path, label index)` for every image in `split_dir/<label>/`, checked once for both readers."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise DataError(f"{split_dir}: folder not found; pass the folder that holds one sub-folder per label")
    label_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir())
    if not label_dirs:
        raise DataError(f"{split_dir}: no label folders inside; expected sub-folders named {', '.join(EMOTION_LABELS)}")
    unknown = [p.name for p in label_dirs if p.name.lower() not in EMOTION_LABELS]
    if unknown:
        raise DataError(f"{split_dir}: unknown label folder(s) {', '.join(unknown)}; expected only {', '.join(EMOTION_LABELS)}")
    return [(path, EMOTION_LABELS.index(label_dir.name.lower()))
            for label_dir in label_dirs for path in sorted(label_dir.iterdir())
            if path.suffix.lower() in IMAGE_SUFFIXES]


def load_image_folder(split_dir: str | Path) -> FaceDataset:
    """Load `split_dir/<label>/*.jpg` as 48x48 faces; labels are the folder names (case-insensitive)."""
    images, labels, skipped, paths = [], [], [], []
    for path, label_index in labelled_image_paths(split_dir):
        try:  # bounded: a huge or special file named like a face is skipped, not read
            image = read_image_file(path, TRAINING_IMAGE_LIMITS, grayscale=True)
        except ImageRefusedError as refused:
            skipped.append(f"{path}: unreadable image ({refused.message.removeprefix(f'image {path}: ')})")
            continue
        images.append(_to_face_image(image))
        labels.append(label_index)
        paths.append(str(path))
    if not images:
        raise DataError(f"{split_dir}: no readable images in the label folders")
    return FaceDataset(np.stack(images), np.asarray(labels, np.int64), str(split_dir), skipped, paths)


def is_labelled_folder(path: str | Path) -> bool:
    """A folder of label sub-folders itself (a user's own faces, or one FER2013 split), not a dataset root."""
    path = Path(path)
    return path.is_dir() and any(child.is_dir() and child.name.lower() in EMOTION_LABELS for child in path.iterdir())


def _rows(reader: csv.DictReader, csv_path: Path, skipped: list[str]) -> Iterator[dict[str, Any]]:
    """The rows of `reader`; a line the csv module itself refuses (a NUL byte, a field over its
    size limit) is skipped and counted like any other bad row."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            skipped.append(f"{csv_path}:{reader.line_num}: not a CSV row ({error})")


def load_csv(csv_path: str | Path) -> dict[str, FaceDataset]:
    """Load fer2013.csv (`emotion,pixels,Usage`) into train/val/test datasets.

    Rows with a bad pixel count, non-numeric pixels or an unknown code are skipped and counted.
    """
    csv_path = Path(csv_path)
    check_readable_file(csv_path, "FER2013 CSV", MAX_CSV_BYTES, DataError, "pass the path of fer2013.csv")
    per_split: dict[str, tuple[list, list]] = {split: ([], []) for split in SPLITS}
    skipped: list[str] = []
    # A byte that is not UTF-8 spoils its row (skipped below), not the whole file.
    with csv_path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}; expected emotion,pixels,Usage")
        for row_number, row in enumerate(_rows(reader, csv_path, skipped), start=2):
            where = f"{csv_path}:{row_number}"
            try:
                code = int(row["emotion"])
                # int64 parsing: a 23-digit value is an OverflowError, a missing column (a short last line) None
                pixels = np.array(row["pixels"].split(), dtype=np.int64)
            except (TypeError, ValueError, AttributeError, OverflowError):
                skipped.append(f"{where}: emotion or pixels are missing or not integers")
                continue
            if code not in FER2013_CSV_CODES:
                skipped.append(f"{where}: unknown emotion code {code}")
                continue
            if pixels.size != INPUT_SIZE * INPUT_SIZE:
                skipped.append(f"{where}: {pixels.size} pixels, expected {INPUT_SIZE * INPUT_SIZE}")
                continue
            if pixels.min() < 0 or pixels.max() > 255:
                skipped.append(f"{where}: pixel values outside 0..255")
                continue
            split = CSV_USAGE_TO_SPLIT.get((row.get("Usage") or "Training").strip(), "train")
            per_split[split][0].append(pixels.astype(np.uint8).reshape(INPUT_SIZE, INPUT_SIZE))
            per_split[split][1].append(EMOTION_LABELS.index(FER2013_CSV_CODES[code]))
    datasets = {}
    for split, (images, labels) in per_split.items():
        if images:
            datasets[split] = FaceDataset(np.stack(images), np.asarray(labels, np.int64), f"{csv_path} ({split})", [])
    if not datasets:
        raise DataError(f"{csv_path}: no usable rows ({len(skipped)} skipped)")
    # Attach the skip log to the training split (or whichever exists) so it is reported once.
    next(iter(datasets.values())).skipped.extend(skipped)
    return datasets


def split_off_validation(dataset: FaceDataset, fraction: float, seed: int) -> tuple[FaceDataset, FaceDataset]:
    """Stratified split of a training set, for downloads that ship only train/ and test/."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(dataset), bool)
    for label in np.unique(dataset.labels):
        indices = np.flatnonzero(dataset.labels == label)
        chosen = rng.choice(indices, size=max(1, round(len(indices) * fraction)), replace=False)
        val_mask[chosen] = True
    paths = np.asarray(dataset.paths, dtype=object)
    train = FaceDataset(dataset.images[~val_mask], dataset.labels[~val_mask], f"{dataset.source} (train part)", dataset.skipped,
                        list(paths[~val_mask]) if dataset.paths else [])
    val = FaceDataset(dataset.images[val_mask], dataset.labels[val_mask], f"{dataset.source} (held-out {fraction:.0%})", [],
                      list(paths[val_mask]) if dataset.paths else [])
    return train, val


def load_fer2013(data_path: str | Path, validation_fraction: float = 0.1, seed: int = 0) -> dict[str, FaceDataset]:
    """Load FER2013 from a CSV file or a folder with train/ [val/] test/ image folders.

    Without a val/ (PublicTest) folder or rows, a stratified `validation_fraction` of train is held
    out, so model selection never looks at the test split.
    """
    data_path = Path(data_path)
    if data_path.is_file():
        datasets = load_csv(data_path)
    elif data_path.is_dir():
        if (data_path / "fer2013.csv").is_file() and not (data_path / "train").is_dir():
            datasets = load_csv(data_path / "fer2013.csv")
        else:
            datasets = {split: load_image_folder(data_path / split) for split in SPLITS if (data_path / split).is_dir()}
            if "train" not in datasets:
                raise DataError(f"{data_path}: no train/ folder; expected train/, val/ (optional) and test/ with one sub-folder per label")
    else:
        raise DataError(f"{data_path}: not found; pass a FER2013 folder (train/ val/ test/) or fer2013.csv")
    if "train" not in datasets:
        raise DataError(f"{data_path}: no training data found")
    if "val" not in datasets:
        datasets["train"], datasets["val"] = split_off_validation(datasets["train"], validation_fraction, seed)
    return datasets


def dataset_fingerprint(datasets: dict[str, FaceDataset]) -> str:
    """Short content hash, recorded in the model metadata to say exactly what was trained on."""
    digest = hashlib.sha256()
    for split in sorted(datasets):
        digest.update(split.encode())
        digest.update(datasets[split].images.tobytes())
        digest.update(datasets[split].labels.tobytes())
    return digest.hexdigest()[:16]


def sharpness(images: np.ndarray) -> float:
    """Median over images of mean |horizontal gradient| / contrast: about 0.26 for sharp FER2013 faces."""
    images = images.astype(np.float32)
    contrast = images.std(axis=(1, 2))
    usable = contrast > 1.0  # flat images say nothing about sharpness
    gradient = np.abs(np.diff(images[usable], axis=2)).mean(axis=(1, 2))
    return float(np.median(gradient / contrast[usable])) if usable.any() else 0.0


SHARPNESS_TOLERANCE = 0.2  # the damaged copy of FER2013 we once had was at 0.36x val's sharpness


def check_sharpness(train: FaceDataset, val: FaceDataset, tolerance: float = SHARPNESS_TOLERANCE) -> None:
    """Stop before training when the two splits clearly differ in sharpness.

    A damaged or re-encoded download (one copy of FER2013's training split had every image
    blurred) trains a model that misreads sharp faces; this costs a second to find out, where
    training would cost an hour. Raises a one-line `DataError` naming both splits and the figures.
    """
    def spread(images: np.ndarray, count: int = 4000) -> np.ndarray:  # every label, not the first folder only
        return images[:: max(1, len(images) // count)]

    train_sharpness, val_sharpness = sharpness(spread(train.images)), sharpness(spread(val.images))
    if val_sharpness <= 0:
        return
    ratio = train_sharpness / val_sharpness
    if abs(ratio - 1.0) > tolerance:
        softer = "blurrier" if ratio < 1 else "sharper"
        raise DataError(f"the training split ({train.source}) is much {softer} than the validation split ({val.source}): "
                        f"sharpness {train_sharpness:.3f} vs {val_sharpness:.3f} (ratio {ratio:.2f}, allowed "
                        f"{1 - tolerance:.2f}-{1 + tolerance:.2f}); the download looks damaged, fetch the dataset again")
