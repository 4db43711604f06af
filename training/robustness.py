"""Accuracy under the corruptions webcam and video frames bring: the model card's robustness table.

    python training/robustness.py --data ../shared/datasets/fer2013 --split val \\
        --model arfilter/models/emotion_int8.tflite --json robustness.json

Each corruption is applied to the 48x48 uint8 face before the shared preprocessing, at the
strengths the issue tracker fixed (0-255 scale), so models can be compared row by row.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

Corruption = Callable[[np.ndarray], np.ndarray]


def _jpeg(quality: int) -> Corruption:
    def apply(image: np.ndarray) -> np.ndarray:
        _ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE))
    return apply


def _gaussian_noise(sigma: float) -> Corruption:
    def apply(image: np.ndarray) -> np.ndarray:
        # Seeded by the image itself, so the table is the same on every run.
        rng = np.random.default_rng(int(image.sum()))
        return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 255).astype(np.uint8)
    return apply


def _motion_blur(length: int) -> Corruption:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length  # horizontal: the usual smear of a head turning

    def apply(image: np.ndarray) -> np.ndarray:
        return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return apply


def _gamma(gamma: float) -> Corruption:
    table = (np.linspace(0.0, 1.0, 256) ** gamma * 255.0).round().astype(np.uint8)

    def apply(image: np.ndarray) -> np.ndarray:
        return cv2.LUT(image, table)
    return apply


def _rotation(degrees: float) -> Corruption:
    def apply(image: np.ndarray) -> np.ndarray:
        size = image.shape[1], image.shape[0]
        matrix = cv2.getRotationMatrix2D(((size[0] - 1) / 2, (size[1] - 1) / 2), degrees, 1.0)
        return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return apply


CORRUPTIONS: dict[str, Corruption | None] = {
    "clean": None,
    "JPEG q30": _jpeg(30),
    "noise sigma 10": _gaussian_noise(10.0),
    "motion blur 7 px": _motion_blur(7),
    "gamma 0.5": _gamma(0.5),
    "gamma 2.0": _gamma(2.0),
    "rotation 15 deg": _rotation(15.0),
}


def corrupt(images: np.ndarray, corruption: Corruption | None) -> np.ndarray:
    return images if corruption is None else np.stack([corruption(image) for image in images])


def robustness_table(logits_of: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                     labels: np.ndarray) -> dict[str, float]:
    """Accuracy per corruption; `logits_of` maps uint8 faces (N, 48, 48) to logits (N, classes)."""
    return {name: float((logits_of(corrupt(images, corruption)).argmax(axis=1) == labels).mean())
            for name, corruption in CORRUPTIONS.items()}


def main(argv: list[str] | None = None) -> int:
    from training.data import DataError
    from training.evaluate import evaluation_parser, load_split, model_logits, stored_calibration

    parser = evaluation_parser(__doc__, "val")
    parser.add_argument("--json", type=Path, help="write the table here as JSON")
    args = parser.parse_args(argv)
    try:
        dataset = load_split(args.data, args.split)
    except DataError as error:
        print(f"robustness: error: {error}", file=sys.stderr)
        return 2
    _, logit_bias, flip_average = stored_calibration(args.model.with_name("emotion.json"), args.model)
    table = robustness_table(lambda faces: model_logits(args.model, faces, flip_average) + logit_bias,
                             dataset.images, dataset.labels)
    for name, accuracy in table.items():
        print(f"{name:18s} {accuracy:.2%}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
