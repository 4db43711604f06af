"""Choose an ensemble on val: each candidate checkpoint and every subset of them, clean and corrupted.

    python training/compare_members.py --data ../shared/datasets/fer2013 \\
        --checkpoint runs/a/best.keras --checkpoint runs/b/best.keras --checkpoint runs/c/best.keras

Members trained with the light augmentation are more accurate on clean faces and weaker under
noise, JPEG and motion blur than members trained with the webcam recipe; averaging trades one
against the other. This prints both for every subset (flip-averaged logits, as shipped when the
export chooses flip averaging), so the members passed to `export.py` are chosen on val alone.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from arfilter.vision.labels import EMOTION_LABELS
from training.metrics import confusion_matrix, per_class_scores
from training.robustness import CORRUPTIONS, corrupt

MACRO_F1 = "clean macro-F1"


def subset_table(logits: dict[str, dict[str, np.ndarray]], labels: np.ndarray) -> list[tuple[tuple[str, ...], dict[str, float]]]:
    """Accuracy per condition, and clean macro-F1, of every non-empty subset's averaged logits.

    `logits[member][condition]` holds one member's logits on the val faces under that condition.
    Macro-F1 is there because accuracy alone favours members that are right on happy and neutral
    faces; the issue's targets weigh fear and sad as much as happy.
    """
    members = list(logits)
    rows = []
    for size in range(1, len(members) + 1):
        for subset in itertools.combinations(members, size):
            predicted = {condition: np.mean([logits[member][condition] for member in subset], axis=0).argmax(axis=1)
                         for condition in CORRUPTIONS}
            row = {condition: float((predicted[condition] == labels).mean()) for condition in CORRUPTIONS}
            clean = confusion_matrix(labels, predicted["clean"], len(EMOTION_LABELS))
            row[MACRO_F1] = float(per_class_scores(clean)["f1"].mean())
            rows.append((subset, row))
    return rows


def main(argv: list[str] | None = None) -> int:
    import keras

    import training.model  # noqa: F401  (registers the custom layers)
    from training.data import DataError
    from training.evaluate import keras_logits, load_split

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a FER2013 folder (its val split is used)")
    parser.add_argument("--checkpoint", type=Path, action="append", required=True, help="a candidate member; repeat it")
    args = parser.parse_args(argv)
    missing = [str(checkpoint) for checkpoint in args.checkpoint if not checkpoint.is_file()]
    if missing:
        print(f"compare_members: error: checkpoint {missing[0]} not found; pass trained .keras files", file=sys.stderr)
        return 2
    try:
        val = load_split(args.data, "val")
    except DataError as error:
        print(f"compare_members: error: {error}", file=sys.stderr)
        return 2
    corrupted = {condition: corrupt(val.images, corruption) for condition, corruption in CORRUPTIONS.items()}
    logits = {}
    for checkpoint in args.checkpoint:
        model = keras.models.load_model(checkpoint, compile=False)
        logits[checkpoint.parent.name] = {condition: keras_logits(model, faces, True) for condition, faces in corrupted.items()}
    print("members | " + " | ".join(CORRUPTIONS) + " | " + MACRO_F1)
    for subset, row in subset_table(logits, val.labels):
        print(" + ".join(subset) + " | " + " | ".join(f"{row[condition]:.2%}" for condition in CORRUPTIONS)
              + f" | {row[MACRO_F1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
