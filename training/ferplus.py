"""FER+ votes (`ferplus.csv` beside the FER2013 folders) as soft training targets and majority labels.

FER+ (Barsoum et al. 2016) asked 10 annotators per FER2013 image to pick one of neutral,
happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF (not a face). Here:

- **vote distribution** (`vote_distribution`): the votes over our 7 classes, normalised; votes for
  contempt, unknown and NF are dropped (none of them is one of our classes).
- **rows without a usable distribution** (`match` == `none`, no row for the file, or every vote in a
  dropped class) **fall back to the FER2013 one-hot label** (they are kept, not dropped, so every
  training face still counts; 0.6% of train).
- **majority label** (`majority_labels`): the class with strictly the most of all 10 votes; ties and a
  majority for contempt, unknown or NF give -1 (left out of the FER+ accuracy): 3,349 of the 3,589
  test faces.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arfilter.vision.labels import EMOTION_LABELS

FERPLUS_FILE = "ferplus.csv"
# The 10 FER+ vote columns in file order, and the label each of the first 7 maps to.
VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
FERPLUS_TO_LABEL = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                    "anger": "angry", "disgust": "disgust", "fear": "fear"}
TARGET_KINDS = ("fer2013", "ferplus", "mix")


class FerPlusError(ValueError):
    """ferplus.csv is missing or malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class FerPlusVotes:
    """Vote counts (N, 10) in VOTE_COLUMNS order for N files; `valid[i]` is False for rows without votes."""

    counts: np.ndarray
    valid: np.ndarray


def split_key(path: str | Path) -> str:
    """`train/angry/x.jpg` for any path ending in split/label/file (the key ferplus.csv uses)."""
    parts = Path(path).parts[-3:]
    return "/".join(parts)


def read_ferplus(csv_path: str | Path) -> dict[str, np.ndarray | None]:
    """{`split/label/file`: 10 vote counts, or None where `match` is `none`}."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FerPlusError(f"{csv_path}: file not found; FER+ targets need ferplus.csv beside train/ val/ test/")
    votes: dict[str, np.ndarray | None] = {}
    with csv_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"path", "match", *VOTE_COLUMNS} - set(reader.fieldnames or [])
        if missing:
            raise FerPlusError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            if row["match"] == "none":
                votes[split_key(row["path"])] = None
                continue
            try:
                votes[split_key(row["path"])] = np.array([int(row[column] or 0) for column in VOTE_COLUMNS], np.int64)
            except ValueError as error:
                raise FerPlusError(f"{csv_path}: {row['path']}: vote counts are not integers ({error})") from None
    return votes


def votes_for(paths: list[str], table: dict[str, np.ndarray | None]) -> FerPlusVotes:
    """The votes of each file, in the order given; files without a row or with `match` none are invalid."""
    counts = np.zeros((len(paths), len(VOTE_COLUMNS)), np.int64)
    valid = np.zeros(len(paths), bool)
    for index, path in enumerate(paths):
        row = table.get(split_key(path))
        if row is not None:
            counts[index], valid[index] = row, True
    return FerPlusVotes(counts, valid)


def _emotion_columns() -> list[int]:
    """Column index in VOTE_COLUMNS for each of EMOTION_LABELS."""
    by_label = {label: VOTE_COLUMNS.index(column) for column, label in FERPLUS_TO_LABEL.items()}
    return [by_label[label] for label in EMOTION_LABELS]


def vote_distribution(votes: FerPlusVotes) -> tuple[np.ndarray, np.ndarray]:
    """((N, 7) vote shares in EMOTION_LABELS order, (N,) bool usable); unusable rows are all zeros."""
    emotion_votes = votes.counts[:, _emotion_columns()].astype(np.float64)
    totals = emotion_votes.sum(axis=1)
    usable = votes.valid & (totals > 0)
    shares = np.zeros_like(emotion_votes)
    shares[usable] = emotion_votes[usable] / totals[usable, None]
    return shares.astype(np.float32), usable


def majority_labels(votes: FerPlusVotes) -> np.ndarray:
    """(N,) label index of the strict majority of all 10 votes; -1 for ties, non-emotion majorities, no votes."""
    labels = np.full(len(votes.counts), -1, np.int64)
    columns = _emotion_columns()
    for index, (row, valid) in enumerate(zip(votes.counts, votes.valid)):
        if not valid or row.max() <= 0:
            continue
        top = int(row.argmax())
        if (row == row[top]).sum() > 1 or top not in columns:
            continue
        labels[index] = columns.index(top)
    return labels


def soft_targets(kind: str, labels: np.ndarray, votes: FerPlusVotes | None, fer2013_share: float = 0.5) -> tuple[np.ndarray, int]:
    """((N, 7) training targets, number of faces that fell back to the FER2013 one-hot label).

    `fer2013`: one-hot FER2013 labels; `ferplus`: the FER+ vote shares; `mix`: `fer2013_share` of
    the one-hot label plus the rest from the vote shares. Faces without usable votes get the one-hot label.
    """
    if kind not in TARGET_KINDS:
        raise ValueError(f"targets {kind!r}: expected one of {', '.join(TARGET_KINDS)}")
    one_hot = np.eye(len(EMOTION_LABELS), dtype=np.float32)[labels]
    if kind == "fer2013":
        return one_hot, 0
    if votes is None:
        raise ValueError(f"targets {kind!r} need the FER+ votes")
    shares, usable = vote_distribution(votes)
    targets = shares if kind == "ferplus" else (1.0 - fer2013_share) * shares + fer2013_share * one_hot
    targets = np.where(usable[:, None], targets, one_hot).astype(np.float32)
    return targets, int((~usable).sum())


def class_weights_from_targets(targets: np.ndarray, power: float) -> np.ndarray:
    """Per-class weights (mean mass / class mass) ** power, normalised to average 1 over the target mass."""
    mass = np.maximum(targets.sum(axis=0).astype(np.float64), 1.0)
    prior = mass / mass.sum()
    weights = (prior.mean() / prior) ** power
    return (weights / np.average(weights, weights=prior)).astype(np.float32)
