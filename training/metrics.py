"""Classification and calibration metrics in plain NumPy, so they are easy to check by hand."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = np.asarray(logits, np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(true_labels), np.asarray(predicted_labels)), 1)
    return matrix


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros_like(true_positive), where=actual > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual}


def expected_calibration_error(probabilities: np.ndarray, true_labels: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: the support-weighted gap between confidence and accuracy over equal-width bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(true_labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        in_bin = bin_index == index
        if in_bin.any():
            error += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(error)


def negative_log_likelihood(logits: np.ndarray, true_labels: np.ndarray, temperature: float) -> float:
    probabilities = softmax(logits, temperature)
    return float(-np.log(probabilities[np.arange(len(true_labels)), true_labels] + 1e-12).mean())


def fit_temperature(logits: np.ndarray, true_labels: np.ndarray) -> float:
    """The temperature that minimises validation NLL (a 1-D convex problem in log T: grid, then refine)."""
    candidates = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    for _ in range(3):
        losses = [negative_log_likelihood(logits, true_labels, t) for t in candidates]
        best = int(np.argmin(losses))
        low, high = candidates[max(best - 1, 0)], candidates[min(best + 1, len(candidates) - 1)]
        candidates = np.linspace(low, high, 21)
    return float(candidates[int(np.argmin([negative_log_likelihood(logits, true_labels, t) for t in candidates]))])


def classification_report(logits: np.ndarray, true_labels: np.ndarray, label_names: tuple[str, ...],
                          temperature: float = 1.0) -> dict:
    """Everything evaluate.py reports, as plain JSON-ready Python values."""
    true_labels = np.asarray(true_labels)
    probabilities = softmax(logits, temperature)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(true_labels, predicted, len(label_names))
    scores = per_class_scores(matrix)
    return {
        "samples": len(true_labels),
        "accuracy": float((predicted == true_labels).mean()),
        "macro_f1": float(scores["f1"].mean()),
        "per_class": {
            name: {key: round(float(scores[key][index]), 4) for key in ("precision", "recall", "f1")}
            | {"support": int(scores["support"][index])}
            for index, name in enumerate(label_names)
        },
        "confusion_matrix": matrix.tolist(),
        "labels": list(label_names),
        "temperature": float(temperature),
        "ece_uncalibrated": expected_calibration_error(softmax(logits), true_labels),
        "ece": expected_calibration_error(probabilities, true_labels),
        "nll": negative_log_likelihood(logits, true_labels, temperature),
    }


def median_latency_ms(model_path: Path, repeats: int = 500) -> float:
    """Median single-face latency of an exported graph through LiteRT on one thread (what the app pays per face)."""
    from arfilter.vision.emotion import EmotionNetwork
    from arfilter.vision.preprocessing import INPUT_SIZE

    with EmotionNetwork(model_path, num_threads=1) as network:
        face = np.random.default_rng(0).random((1, INPUT_SIZE, INPUT_SIZE, 1), dtype=np.float32)
        for _ in range(50):
            network.infer(face)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            network.infer(face)
            timings.append(time.perf_counter() - start)
    return float(np.median(timings) * 1000)
