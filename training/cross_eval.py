"""Evaluate an exported emotion model beyond FER2013: the model card's v3 evaluation, in one JSON report.

    python training/cross_eval.py --model arfilter/models/emotion_int8.tflite --report runs/eval-v3.json
    python training/cross_eval.py --model runs/v23/emotion_int8.tflite --report runs/eval-v23.json   # any export

For the model (calibrated as its emotion.json says, beside it or `--metadata`):
- FER2013 test (PrivateTest) with its own labels: accuracy, macro-F1, per-class recall, ECE;
- FER+ test with the strict majority of its 10 votes (ties, contempt, unknown, not-a-face left out);
- `posed-faces-tw` through the app's own detect-align-classify path (the app's `Pipeline` on each photo as a
  still; the largest face), accuracy, balanced accuracy (mean recall), per-class recall; then again with each
  performer's neutral photos as reference (`arfilter.vision.neutral`; the photo scored is never its own reference:
  a neutral photo's reference is the performer's *other* neutral photos, and a photo without any is left out);
- robustness: accuracy on FER2013 test and FER+ test under JPEG q30, noise sigma 10, 7 px motion blur;
- cost: ms per face (LiteRT, 1 thread, this host, with its instruction set), network runs per face and
  multiply-accumulates per face (host-independent).

The posed set is measured, never used to choose anything. The aligned posed crops are cached in
`--cache` (they depend on the detector and landmarker, not on the emotion model).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np

from arfilter.vision.labels import EMOTION_LABELS
from arfilter.vision.neutral import NeutralOptions, NeutralReference, apply
from training.metrics import classification_report, expected_calibration_error, median_latency_ms, softmax

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
FER2013 = SHARED / "fer2013"
POSED = SHARED / "posed-faces-tw"
ROBUSTNESS = ("JPEG q30", "noise sigma 10", "motion blur 7 px")


def cpu_features() -> dict[str, object]:
    """The instruction-set features that decide int8 speed, from /proc/cpuinfo (Linux) or the platform."""
    flags: set[str] = set()
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": model, "avx2": "avx2" in flags, "fma": "fma" in flags, "avx512f": "avx512f" in flags,
            "avx512_vnni": "avx512_vnni" in flags, "avx_vnni": "avx_vnni" in flags, "cores": os.cpu_count()}


class _CropRecorder:
    """An emotion model for the app's Pipeline that keeps the aligned crops it is given (uniform scores)."""

    labels = EMOTION_LABELS

    def __init__(self, eye_line_y: float, interocular_fraction: float) -> None:
        self.alignment = eye_line_y, interocular_fraction
        self.crops: list[np.ndarray] = []

    def infer(self, image_rgb, landmarks):
        from arfilter.vision.geometry import named_point
        from arfilter.vision.preprocessing import align_face_crop

        self.crops = [align_face_crop(image_rgb, named_point(points, "left_eye"), named_point(points, "right_eye"),
                                      eye_line_y=self.alignment[0], interocular_fraction=self.alignment[1])
                      for points in landmarks]
        return np.full((len(landmarks), len(EMOTION_LABELS)), 1.0 / len(EMOTION_LABELS), np.float32)

    def close(self) -> None:
        pass


def posed_crops(folder: Path, cache: Path, alignment: tuple[float, float]) -> dict[str, np.ndarray]:
    """{crops (N, 48, 48) uint8, labels, performers, files, no_face} for the posed set, cached."""
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        if tuple(data["alignment"]) == alignment:
            return {key: data[key] for key in data.files}
    from arfilter.core.pipeline import Pipeline
    from arfilter.core.types import Frame

    recorder = _CropRecorder(*alignment)
    pipeline = Pipeline(classifier=recorder)
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    crops, labels, performers, files, no_face = [], [], [], [], []
    for index, row in enumerate(rows):
        image = cv2.imread(str(folder / row["file"]), cv2.IMREAD_COLOR)
        if image is None:
            no_face.append(row["file"])
            continue
        result = pipeline.process(Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), index, row["file"], 0.0, is_still=True))
        if not result.faces:
            no_face.append(row["file"])
            continue
        largest = max(range(len(result.faces)), key=lambda i: result.faces[i].box[2] * result.faces[i].box[3])
        crops.append(recorder.crops[largest])
        labels.append(EMOTION_LABELS.index(row["label"]))
        performers.append(row["performer"])
        files.append(row["file"])
    pipeline.close()
    data = {"crops": np.stack(crops), "labels": np.asarray(labels, np.int64), "performers": np.asarray(performers),
            "files": np.asarray(files), "no_face": np.asarray(no_face, dtype=str), "alignment": np.asarray(alignment)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **data)
    return data


def recall_report(predicted: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    recalls = {label: float((predicted[labels == index] == index).mean()) if (labels == index).any() else float("nan")
               for index, label in enumerate(EMOTION_LABELS)}
    present = [value for value in recalls.values() if value == value]
    return {"samples": len(labels), "accuracy": float((predicted == labels).mean()),
            "balanced_accuracy": float(np.mean(present)), "min_recall": float(min(present)), "recall": recalls}


def with_reference(probabilities: np.ndarray, labels: np.ndarray, performers: np.ndarray,
                   options: NeutralOptions) -> tuple[np.ndarray, np.ndarray]:
    """(predicted labels, kept mask) with each performer's other neutral photos as the reference."""
    neutral = EMOTION_LABELS.index("neutral")
    predicted = np.full(len(labels), -1, np.int64)
    for index in range(len(labels)):
        others = (performers == performers[index]) & (labels == neutral)
        others[index] = False
        if not others.any():
            continue
        reference = NeutralReference.from_probs(probabilities[others], EMOTION_LABELS)
        predicted[index] = int(apply(probabilities[index], reference, options).argmax())
    kept = predicted >= 0
    return predicted, kept


def macs_per_face(model_path: Path) -> int:
    """Multiply-accumulates of one invocation of a .tflite graph's CONV_2D / DEPTHWISE / FULLY_CONNECTED ops."""
    from arfilter.vision.litert import load_interpreter

    interpreter = load_interpreter(model_path, 1, "emotion model", "re-export it with training/export.py")
    details = {tensor["index"]: tensor for tensor in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():
        name = op["op_name"]
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        weight = details[op["inputs"][1]]["shape"]
        output = details[op["outputs"][0]]["shape"]
        if name == "CONV_2D":  # weights (out, kh, kw, in), output (1, h, w, out)
            total += int(np.prod(output[1:3]) * np.prod(weight))
        elif name == "DEPTHWISE_CONV_2D":  # weights (1, kh, kw, out)
            total += int(np.prod(output[1:3]) * np.prod(weight))
        else:  # weights (out, in)
            total += int(np.prod(weight))
    return total


def evaluate_model(model_path: Path, metadata_path: Path, fer2013: Path = FER2013, posed: Path = POSED,
                   cache: Path = PROJECT_ROOT / "runs" / "cache" / "posed_crops.npz",
                   threshold: float | None = None) -> dict[str, object]:
    from arfilter.vision.emotion import EmotionClassifier, EmotionMetadata, EmotionOptions
    from training.data import load_image_folder
    from training.evaluate import model_logits
    from training.ferplus import majority_labels, read_ferplus, votes_for
    from training.robustness import CORRUPTIONS, corrupt

    metadata = EmotionMetadata.load(metadata_path)
    temperature = metadata.temperature_for(model_path.name)
    bias = np.asarray(metadata.logit_bias, np.float32)
    options = NeutralOptions.from_metadata(metadata.provenance)
    if threshold is not None:
        options = NeutralOptions(threshold=threshold)
    report: dict[str, object] = {"model": str(model_path), "metadata": str(metadata_path), "temperature": temperature,
                                 "host": cpu_features()}
    test = load_image_folder(fer2013 / "test")
    majority = majority_labels(votes_for(test.paths, read_ferplus(fer2013 / "ferplus.csv")))
    has_majority = majority >= 0

    def logits_of(images: np.ndarray) -> np.ndarray:
        return model_logits(model_path, images, metadata.test_time_flip) + bias

    logits = logits_of(test.images)
    fer = classification_report(logits, test.labels, EMOTION_LABELS, temperature)
    fer_summary = {key: fer[key] for key in ("samples", "accuracy", "macro_f1", "ece_uncalibrated", "ece")}
    fer_summary["recall"] = {label: scores["recall"] for label, scores in fer["per_class"].items()}
    report["fer2013_test"] = fer_summary
    probabilities = softmax(logits, temperature)
    fp_labels = majority[has_majority]
    fp = recall_report(logits[has_majority].argmax(axis=1), fp_labels)
    fp["ece"] = expected_calibration_error(probabilities[has_majority], fp_labels)
    report["ferplus_test"] = fp
    robustness: dict[str, dict[str, float]] = {}
    for name in ROBUSTNESS:
        corrupted = logits_of(corrupt(test.images, CORRUPTIONS[name])).argmax(axis=1)
        robustness[name] = {"fer2013": float((corrupted == test.labels).mean()),
                            "ferplus": float((corrupted[has_majority] == fp_labels).mean())}
    report["robustness_test"] = robustness

    if posed.is_dir():
        data = posed_crops(posed, cache, metadata.alignment)
        classifier = EmotionClassifier(EmotionOptions(metadata_path=metadata_path, model_file=model_path.name))
        posed_probabilities = classifier.infer_crops(list(data["crops"]))
        classifier.close()
        labels, performers = data["labels"], data["performers"]
        plain = recall_report(posed_probabilities.argmax(axis=1), labels)
        plain["no_face"] = len(data["no_face"])
        predicted, kept = with_reference(posed_probabilities, labels, performers, options)
        referenced = recall_report(predicted[kept], labels[kept])
        referenced.update({"threshold": options.threshold, "left_out_without_reference": int((~kept).sum())})
        # The same faces without the reference, so the two rows compare like with like.
        same_faces = recall_report(posed_probabilities[kept].argmax(axis=1), labels[kept])
        report["posed_faces_tw"] = {"no_reference": plain, "with_reference": referenced,
                                    "no_reference_same_faces": same_faces}
        np.save(Path(str(cache).replace(".npz", f"_{model_path.parent.name}_{model_path.stem}_probs.npy")),
                posed_probabilities)
    report["cost"] = {"ms_per_face_1thread": median_latency_ms(model_path), "macs_per_face": macs_per_face(model_path),
                      "network_runs_per_face": int(metadata.provenance.get("network_runs_per_face",
                                                                           (2 if metadata.test_time_flip else 1)
                                                                           * int(metadata.provenance.get("ensemble_members", 1))))}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="an exported .tflite")
    parser.add_argument("--metadata", type=Path, help="its emotion.json (default: beside the model)")
    parser.add_argument("--data", type=Path, default=FER2013, help="FER2013 folder with test/ and ferplus.csv")
    parser.add_argument("--posed", type=Path, default=POSED, help="posed-faces-tw folder (skipped when absent)")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / "runs" / "cache" / "posed_crops.npz")
    parser.add_argument("--threshold", type=float, help="neutral-reference threshold (default: the metadata's)")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--name", help="with --into: the column this model gets in the model card (e.g. v3, v2.3)")
    parser.add_argument("--into", type=Path,
                        help="merge the report into this JSON table of reports by --name (the model card's "
                             "arfilter/models/cross_evaluation.json)")
    args = parser.parse_args(argv)
    report = evaluate_model(args.model, args.metadata or args.model.with_name("emotion.json"), args.data, args.posed,
                            args.cache, args.threshold)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2))
    print(json.dumps({key: value for key, value in report.items() if key != "host"}, indent=1))
    print("host:", report["host"])
    if args.into:
        table = json.loads(args.into.read_text()) if args.into.is_file() else {}
        table[args.name or args.model.parent.name] = report
        args.into.write_text(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
