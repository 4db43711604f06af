"""Calibration to a person's own neutral face: "neutral unless some expression rose over the reference".

A classifier trained on FER2013 reads many subtle or posed expressions as neutral, and some people's
resting face as sad or angry. With a reference (the calibrated probabilities of the same person's
neutral face, recorded once: key N in the window, `--neutral-face` on the command line) the decision
becomes relative to that person:

    rise_k = log p_k - log r_k              for every class k but neutral (in nats: how many times more likely)
    label  = argmax_k rise_k                if max_k rise_k > threshold
             neutral                        otherwise

The rise is measured in log space because a posed expression the model barely believes still moves
its class by a large factor (fear from 0.5% to 5% is a rise of 2.3 nats) while it moves the
probabilities by little: measured as a difference of probabilities, such rises drowned under the
threshold (posed-faces-tw with references, v3: 49.5% balanced; in log space 58.4%, at the 1.4 nats
chosen on FER2013 val, not there). Probabilities are floored at `floor`
first, so a class the model calls impossible cannot rise from nothing to anything.

`apply` returns scores that give exactly that decision and can be smoothed like probabilities: each
non-neutral class gets its rise (clipped at 0), neutral gets the threshold, normalised to sum 1.
The threshold comes from the model's metadata (`neutral_reference.log_threshold` in emotion.json),
chosen on FER2013 val (see training/neutral_rule.py), never on the cross-dataset set.

Only NumPy and the standard library: the window, CLI, web page and API all call the same two functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_THRESHOLD = 0.75  # nats
DEFAULT_FLOOR = 1e-3
MAX_THRESHOLD = 10.0
NEUTRAL_LABEL = "neutral"


@dataclass(frozen=True)
class NeutralOptions:
    """threshold: how far (in nats) a class's log-probability must rise over the reference to beat neutral.
    floor: probabilities are clipped to at least this before the logarithm."""

    threshold: float = DEFAULT_THRESHOLD
    neutral_label: str = NEUTRAL_LABEL
    floor: float = DEFAULT_FLOOR

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= MAX_THRESHOLD:
            raise ValueError(f"neutral reference threshold must be in (0, {MAX_THRESHOLD:g}] nats, got {self.threshold!r}")
        if not 0.0 < self.floor < 1.0:
            raise ValueError(f"neutral reference floor must be between 0 and 1, got {self.floor!r}")

    @classmethod
    def from_metadata(cls, provenance: Mapping[str, Any]) -> NeutralOptions:
        """The `neutral_reference` table of emotion.json (EmotionMetadata.provenance); defaults when absent."""
        table = provenance.get("neutral_reference") or {}
        return cls(threshold=float(table.get("log_threshold", DEFAULT_THRESHOLD)),
                   neutral_label=str(table.get("neutral_label", NEUTRAL_LABEL)))


@dataclass(frozen=True)
class NeutralReference:
    """The mean calibrated probabilities of one person's neutral face (one or more frames or photos)."""

    probabilities: tuple[float, ...]
    labels: tuple[str, ...]

    @classmethod
    def from_probs(cls, probabilities: np.ndarray | Sequence[Sequence[float]], labels: Sequence[str]) -> NeutralReference:
        """From (len(labels),) probabilities or (N, len(labels)) of N frames/photos (averaged)."""
        array = np.asarray(probabilities, np.float64)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] != len(labels):
            raise ValueError(f"reference probabilities of shape {array.shape}: expected (N, {len(labels)})")
        if not np.isfinite(array).all():
            raise ValueError("reference probabilities must be finite")
        return cls(tuple(float(value) for value in array.mean(axis=0)), tuple(labels))


def apply(probabilities: np.ndarray, reference: NeutralReference | None,
          options: NeutralOptions = NeutralOptions()) -> np.ndarray:
    """Scores (N, C) (or (C,)) relative to the reference; the probabilities unchanged without one.

    The argmax is the class that rose most over the reference when that rise exceeds the threshold,
    else neutral. A face equal to its reference scores neutral 1.
    """
    if reference is None:
        return probabilities
    array = np.asarray(probabilities, np.float64)
    single = array.ndim == 1
    rows = array[None, :] if single else array
    labels = reference.labels
    if rows.shape[-1] != len(labels):
        raise ValueError(f"probabilities with {rows.shape[-1]} classes, reference with {len(labels)}")
    if options.neutral_label not in labels:
        raise ValueError(f"labels {labels} have no {options.neutral_label!r} class")
    neutral = labels.index(options.neutral_label)
    logs = np.log(np.maximum(rows, options.floor))
    scores = np.clip(logs - np.log(np.maximum(np.asarray(reference.probabilities), options.floor)), 0.0, None)
    scores[:, neutral] = options.threshold
    scores /= scores.sum(axis=1, keepdims=True)
    result = scores.astype(np.asarray(probabilities).dtype if np.asarray(probabilities).dtype.kind == "f" else np.float32)
    return result[0] if single else result
