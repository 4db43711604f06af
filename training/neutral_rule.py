"""Choose the neutral-reference threshold (arfilter/vision/neutral.py) on FER2013 val, never on posed faces.

    python training/neutral_rule.py --model arfilter/models/emotion_int8.tflite

FER2013 has no identities, so val (faces with a FER+ majority label) is made into reference pairs:
- a neutral face's reference is the mean of `REFERENCE_PHOTOS` new "photos" of the same face (`RECAPTURE`:
  the light augmentation's framing, roll, scale, mirror and lighting, no occluders): the same person and
  expression captured again in the same session, which the rule must keep neutral;
- an expressive face's reference is the mean calibrated probabilities of all neutral val faces: a neutral face
  that carries no identity (the person's own neutral photo, as in the app, can only make the rises cleaner).
The threshold kept is the one with the best balanced accuracy among those whose neutral recall stays at or
above `NEUTRAL_RECALL_FLOOR`, so the rule never turns a calm face into an expression more often than that.
The curve is printed for the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from arfilter.vision.labels import EMOTION_LABELS
from arfilter.vision.neutral import NeutralOptions, NeutralReference, apply

NEUTRAL_RECALL_FLOOR = 0.90
REFERENCE_PHOTOS = 3
# How a "new photo" of a neutral face is made: the light recipe (framing, roll, scale, mirror, brightness,
# contrast, gamma), the variation between two frames of one session with one camera, which is how the app
# records a reference (key N, --neutral-face) and how posed sets are shot.
RECAPTURE = "light"
THRESHOLDS = tuple(np.round(np.arange(0.1, 3.01, 0.1), 2))  # nats (arfilter/vision/neutral.py)


def reference_pairs(images: np.ndarray, labels: np.ndarray, classify, photos: int = REFERENCE_PHOTOS,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """((N, C) probabilities of the faces, (N, C) their references) as described in the module docstring.

    `classify` maps uint8 faces (N, 48, 48) to calibrated probabilities (N, C).
    """
    import dataclasses

    import tensorflow as tf

    from arfilter.vision.preprocessing import preprocess_faces
    from training.augment import AUGMENTATIONS, augment_batch

    probabilities = np.asarray(classify(images), np.float64)
    neutral = EMOTION_LABELS.index("neutral")
    is_neutral = labels == neutral
    if not is_neutral.any():
        raise ValueError("no neutral faces to make references from")
    recapture = dataclasses.replace(AUGMENTATIONS[RECAPTURE], geometric_probability=1.0, erase_probability=0.0,
                                    glasses_probability=0.0, motion_blur_probability=0.0)
    references = np.repeat(probabilities[is_neutral].mean(axis=0, keepdims=True), len(labels), axis=0)
    faces = preprocess_faces(images[is_neutral])
    photos_of = []
    for photo in range(photos):
        augmented = augment_batch(tf.constant(faces), tf.constant([seed, photo], tf.int64), recapture).numpy()
        photos_of.append(classify(np.clip(augmented[..., 0] * 255.0 + 0.5, 0, 255).astype(np.uint8)))
    references[is_neutral] = np.mean(photos_of, axis=0)
    return probabilities, references


def scores_at(threshold: float, probabilities: np.ndarray, references: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy and neutral recall of the rule at `threshold`."""
    options = NeutralOptions(threshold=float(threshold))
    predicted = np.array([int(apply(row, NeutralReference(tuple(reference), EMOTION_LABELS), options).argmax())
                          for row, reference in zip(probabilities, references)])
    recalls = [float((predicted[labels == index] == index).mean()) for index in range(len(EMOTION_LABELS))
               if (labels == index).any()]
    neutral = EMOTION_LABELS.index("neutral")
    return {"threshold": float(threshold), "accuracy": float((predicted == labels).mean()),
            "balanced_accuracy": float(np.mean(recalls)),
            "neutral_recall": float((predicted[labels == neutral] == neutral).mean())}


def choose_threshold(probabilities: np.ndarray, references: np.ndarray, labels: np.ndarray,
                     floor: float = NEUTRAL_RECALL_FLOOR) -> tuple[float, list[dict[str, float]]]:
    """(threshold, the curve): the best balanced accuracy with neutral recall >= floor (the highest threshold if none)."""
    curve = [scores_at(threshold, probabilities, references, labels) for threshold in THRESHOLDS]
    allowed = [row for row in curve if row["neutral_recall"] >= floor] or [curve[-1]]
    best = max(allowed, key=lambda row: (row["balanced_accuracy"], row["threshold"]))
    return best["threshold"], curve


def choose_for_model(model_path: Path, data: Path, seed: int = 0) -> tuple[float, list[dict[str, float]], dict[str, float]]:
    """(threshold, curve, the no-reference scores) for an exported model on FER2013 val with FER+ majority labels."""
    from arfilter.vision.emotion import EmotionClassifier, EmotionOptions
    from training.data import load_image_folder
    from training.ferplus import majority_labels, read_ferplus, votes_for

    val = load_image_folder(data / "val")
    majority = majority_labels(votes_for(val.paths, read_ferplus(data / "ferplus.csv")))
    keep = majority >= 0
    classifier = EmotionClassifier(EmotionOptions(metadata_path=model_path.with_name("emotion.json"),
                                                  model_file=model_path.name))
    try:
        probabilities, references = reference_pairs(val.images[keep], majority[keep],
                                                    lambda faces: classifier.infer_crops(list(faces)), seed=seed)
    finally:
        classifier.close()
    labels = majority[keep]
    threshold, curve = choose_threshold(probabilities, references, labels)
    predicted = probabilities.argmax(axis=1)
    recalls = [float((predicted[labels == index] == index).mean()) for index in range(len(EMOTION_LABELS))]
    plain = {"accuracy": float((predicted == labels).mean()), "balanced_accuracy": float(np.mean(recalls)),
             "neutral_recall": recalls[EMOTION_LABELS.index("neutral")]}
    return threshold, curve, plain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="an exported .tflite with emotion.json beside it")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "fer2013")
    parser.add_argument("--json", type=Path, help="write the curve here")
    args = parser.parse_args(argv)
    threshold, curve, plain = choose_for_model(args.model, args.data)
    print(f"no reference: accuracy {plain['accuracy']:.4f}  balanced {plain['balanced_accuracy']:.4f}  "
          f"neutral recall {plain['neutral_recall']:.4f}")
    for row in curve:
        print(f"threshold {row['threshold']:.2f}: accuracy {row['accuracy']:.4f}  balanced {row['balanced_accuracy']:.4f}  "
              f"neutral recall {row['neutral_recall']:.4f}")
    print(f"chosen: {threshold}")
    if args.json:
        args.json.write_text(json.dumps({"threshold": threshold, "curve": curve, "no_reference": plain}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
