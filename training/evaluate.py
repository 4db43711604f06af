"""Evaluate an emotion model on labelled faces and write a JSON report and a confusion-matrix PNG.

    python training/evaluate.py --data ../shared/datasets/fer2013/test --model arfilter/models/emotion_int8.tflite \\
        --report report.json
    python training/evaluate.py --data my_photos/ --detect --model arfilter/models/emotion_int8.tflite --report me.json

`--data` is a folder with one sub-folder per label (your own faces, or one FER2013 split), or a
FER2013 root / fer2013.csv with `--split`. `--detect` takes full-frame photos through the app's
own face pipeline (detect, align, classify) first and lists the photos where it found no face.

Reports accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix and the
expected calibration error before (T = 1) and after the temperature stored in the metadata.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np

from arfilter.errors import ModelError
from arfilter.vision.labels import EMOTION_LABELS
from arfilter.vision.preprocessing import preprocess_faces, standardize_faces
from training.data import (
    DataError,
    FaceDataset,
    is_labelled_folder,
    labelled_image_paths,
    load_fer2013,
    load_image_folder,
)
from training.metrics import classification_report


def model_logits(model_path: str | Path, images: np.ndarray, flip_average: bool = False,
                 batch_size: int = 256) -> np.ndarray:
    """Logits of a .tflite (through LiteRT) or .keras model for uint8 face images (N, 48, 48).

    `flip_average` averages a .keras model's logits with those of the mirrored faces; exported
    .tflite files that use it have it inside their graph (metadata `test_time_flip`).
    """
    model_path = Path(model_path)
    if model_path.suffix == ".keras":
        import keras

        import training.model  # noqa: F401  (registers the custom standardisation layer)

        return keras_logits(keras.models.load_model(model_path, compile=False), images, flip_average, batch_size)
    from arfilter.vision.emotion import EmotionNetwork

    network = EmotionNetwork(model_path)
    faces = standardize_faces(preprocess_faces(images))  # exported graphs start after the standardisation layer
    return np.concatenate([network.infer(faces[start:start + batch_size]) for start in range(0, len(faces), batch_size)])


def keras_logits(model, images: np.ndarray, flip_average: bool = False, batch_size: int = 256) -> np.ndarray:
    """Logits of a loaded Keras model for uint8 face images (N, 48, 48), optionally flip-averaged."""
    faces = preprocess_faces(images)
    logits = np.asarray(model.predict(faces, batch_size=batch_size, verbose=0), np.float32)
    if flip_average:
        mirrored = np.asarray(model.predict(faces[:, :, ::-1], batch_size=batch_size, verbose=0), np.float32)
        logits = np.asarray((logits + mirrored) / 2, np.float32)
    return logits


def stored_calibration(metadata_path: Path, model_path: Path) -> tuple[float, np.ndarray, bool]:
    """(temperature, logit bias, flip averaging) the metadata stores; neutral values without metadata."""
    from arfilter.vision.emotion import EmotionMetadata

    if not metadata_path.is_file():
        return 1.0, np.zeros(len(EMOTION_LABELS), np.float32), False
    metadata = EmotionMetadata.load(metadata_path)
    return (metadata.temperatures.get(model_path.name, 1.0), np.asarray(metadata.logit_bias, np.float32),
            metadata.test_time_flip)


def save_confusion_png(report: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(report["confusion_matrix"], np.float64)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    labels = report["labels"]
    figure, axes = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    for row in range(len(labels)):
        for column in range(len(labels)):
            axes.text(column, row, f"{normalised[row, column]:.0%}\n{int(matrix[row, column])}", ha="center", va="center",
                      fontsize=7, color="white" if normalised[row, column] > 0.5 else "black")
    axes.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def load_split(data_path: Path, split: str) -> FaceDataset:
    """A plain labelled folder as it is, or one split of a FER2013 folder / CSV."""
    if is_labelled_folder(data_path):
        return load_image_folder(data_path)
    datasets = load_fer2013(data_path)
    if split not in datasets:
        raise DataError(f"{data_path}: no {split!r} split; available: {', '.join(sorted(datasets))}")
    return datasets[split]


def evaluate(data_path: Path, split: str, model_path: Path, metadata_path: Path | None = None) -> dict:
    dataset = load_split(data_path, split)
    metadata_path = metadata_path or model_path.with_name("emotion.json")
    temperature, logit_bias, flip_average = stored_calibration(metadata_path, model_path)
    logits = model_logits(model_path, dataset.images, flip_average) + logit_bias
    report = classification_report(logits, dataset.labels, EMOTION_LABELS, temperature)
    report.update({"model": str(model_path), "data": dataset.source, "split": split, "skipped": len(dataset.skipped)})
    return report


def evaluate_photos(data_path: Path, model_path: Path, metadata_path: Path | None = None) -> dict:
    """Full-frame photos through the app's own pipeline (detect, landmarks, align, classify), then scored.

    The largest face of each photo is the one scored; photos where no face is found are listed
    apart and left out of the figures, since the app would show no label for them either.
    """
    from arfilter.core.pipeline import Pipeline, PipelineOptions
    from arfilter.core.types import Frame
    from arfilter.vision.emotion import EmotionOptions

    metadata_path = metadata_path or model_path.with_name("emotion.json")
    options = PipelineOptions(emotion=EmotionOptions(metadata_path=metadata_path, model_file=model_path.name))
    pipeline = Pipeline(options)
    probabilities, labels, no_face, unreadable = [], [], [], []
    for index, (path, label_index) in enumerate(labelled_image_paths(data_path)):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            unreadable.append(str(path))
            continue
        result = pipeline.process(Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), index, str(path), 0.0, is_still=True))
        if not result.faces:
            no_face.append(str(path))
            continue
        largest = max(result.faces, key=lambda face: face.box[2] * face.box[3])
        probabilities.append(largest.probabilities)
        labels.append(label_index)
    if not labels:
        raise DataError(f"{data_path}: no face found in any readable photo ({len(no_face)} without a face); "
                        "pass photos with a visible face, or drop --detect for ready-cut face crops")
    # The pipeline's probabilities are calibrated already: their logs are logits at temperature 1.
    logits = np.log(np.maximum(np.asarray(probabilities, np.float64), 1e-12))
    report = classification_report(logits, np.asarray(labels, np.int64), EMOTION_LABELS, 1.0)
    report.update({"model": str(model_path), "data": str(data_path), "split": "photos (--detect)",
                   "no_face": no_face, "skipped": len(unreadable), "unreadable": unreadable})
    return report


def evaluation_parser(description: str | None, default_split: str) -> argparse.ArgumentParser:
    """The arguments every evaluation takes: the faces (--data, --split) and the model (--model)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True,
                        help="a folder with one sub-folder per label, or a FER2013 folder (train/ val/ test/) or fer2013.csv")
    parser.add_argument("--split", default=default_split, choices=("train", "val", "test"),
                        help="which FER2013 split (ignored for a plain labelled folder)")
    parser.add_argument("--model", type=Path, required=True, help=".tflite or .keras model")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = evaluation_parser(__doc__, "test")
    parser.add_argument("--detect", action="store_true",
                        help="the images are full-frame photos: find and align each face with the app's pipeline first")
    parser.add_argument("--metadata", type=Path, help="metadata JSON with the temperature (default: emotion.json beside the model)")
    parser.add_argument("--report", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument("--confusion-png", type=Path, help="confusion-matrix image (default: the report path with .png)")
    args = parser.parse_args(argv)
    try:
        if args.detect:
            report = evaluate_photos(args.data, args.model, args.metadata)
        else:
            report = evaluate(args.data, args.split, args.model, args.metadata)
    except (DataError, ModelError) as error:
        print(f"evaluate: error: {error}", file=sys.stderr)
        return 2
    try:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2))
        png = args.confusion_png or args.report.with_suffix(".png")
        save_confusion_png(report, png, f"{args.model.name} on {report['split']} (accuracy {report['accuracy']:.1%})")
    except OSError as error:
        print(f"evaluate: error: cannot write the report ({error}); pass a writable --report path", file=sys.stderr)
        return 2
    print(f"{report['data']} ({report['samples']} faces): accuracy {report['accuracy']:.2%}  macro-F1 {report['macro_f1']:.3f}  "
          f"ECE {report['ece_uncalibrated']:.3f} -> {report['ece']:.3f} (T={report['temperature']:.3f})")
    for label, scores in report["per_class"].items():
        print(f"  {label:9s} precision {scores['precision']:.2f}  recall {scores['recall']:.2f}  f1 {scores['f1']:.2f}  n={scores['support']}")
    if report.get("no_face"):
        print(f"no face found in {len(report['no_face'])} photo(s), left out of the figures; first: {report['no_face'][0]}")
    print(f"report: {args.report}  confusion matrix: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
