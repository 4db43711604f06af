"""Per-track temporal smoothing: steady labels and overlays that neither jitter nor lag.

Three filters, all driven by the frame timestamps so their behaviour does not change with
the frame rate:
- an exponential moving average of the class probabilities,
- hysteresis on the label shown (a new label must lead by a margin for a hold time),
- a One-Euro filter on the landmarks (Casiez et al., CHI 2012): heavy smoothing when the
  head is still, little when it moves fast, measured in units of the face's own size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmoothingOptions:
    """Every smoothing parameter, with what it trades.

    probability_time_constant_s: EMA time constant. Longer steadies the bars and labels but
        delays a real change of expression.
    switch_margin: how far a new label's smoothed probability must lead the shown one.
        Larger means fewer flips between two close labels, and a change needs to be clearer.
    switch_hold_s: how long the lead must last. Longer suppresses blips, adds delay.
    crossfade_s: duration of the overlay cross-fade between labels.
    landmark_min_cutoff_hz: One-Euro cutoff when still. Lower removes more jitter, but a slow
        drift lags more.
    landmark_beta: how quickly the cutoff rises with speed (per face-width per second). Higher
        removes lag in fast moves, lets more jitter through when moving.
    landmark_derivative_cutoff_hz: smoothing of the speed estimate itself.
    """

    probability_time_constant_s: float = 0.10
    switch_margin: float = 0.10
    switch_hold_s: float = 0.08
    crossfade_s: float = 0.25
    landmark_min_cutoff_hz: float = 1.5
    landmark_beta: float = 2.0
    landmark_derivative_cutoff_hz: float = 1.0


def _smoothing_factor(dt: float, cutoff_hz: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter over an array of any shape; `scale` normalises speed (e.g. face size in pixels)."""

    def __init__(self, min_cutoff_hz: float, beta: float, derivative_cutoff_hz: float):
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.derivative_cutoff_hz = derivative_cutoff_hz
        self._value: np.ndarray | None = None
        self._derivative: np.ndarray | None = None
        self._time: float | None = None

    def __call__(self, value: np.ndarray, time_s: float, scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, np.float32)
        if self._value is None or self._time is None or time_s <= self._time:
            self._value, self._derivative, self._time = value.copy(), np.zeros_like(value), time_s
            return value
        dt = time_s - self._time
        self._time = time_s
        derivative = (value - self._value) / (dt * max(scale, 1e-6))
        alpha_derivative = _smoothing_factor(dt, self.derivative_cutoff_hz)
        self._derivative = self._derivative + alpha_derivative * (derivative - self._derivative)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(self._derivative)
        alpha = 1.0 / (1.0 + 1.0 / (2.0 * math.pi * cutoff * dt))
        self._value = self._value + alpha * (value - self._value)
        return self._value


@dataclass
class LabelState:
    """What the overlay needs to draw the label and its cross-fade."""

    probabilities: np.ndarray
    label_index: int
    previous_label_index: int | None
    transition: float


class LabelSmoother:
    """EMA of probabilities plus hysteresis on the shown label, for one track."""

    def __init__(self, options: SmoothingOptions):
        self.options = options
        self._probabilities: np.ndarray | None = None
        self._time: float | None = None
        self._shown: int = 0
        self._previous: int | None = None
        self._switched_at: float = -math.inf
        self._candidate: int | None = None
        self._candidate_since: float = 0.0

    def update(self, probabilities: np.ndarray, time_s: float) -> LabelState:
        probabilities = np.asarray(probabilities, np.float32)
        if self._probabilities is None or self._time is None or time_s <= self._time:
            # A fresh start (or a clock that went back): nothing to fade from, no pending switch.
            self._probabilities = probabilities.copy()
            self._shown = int(np.argmax(probabilities))
            self._previous, self._switched_at, self._candidate = None, -math.inf, None
        else:
            weight = 1.0 - math.exp(-(time_s - self._time) / self.options.probability_time_constant_s)
            self._probabilities = self._probabilities + weight * (probabilities - self._probabilities)
            self._apply_hysteresis(time_s)
        self._time = time_s
        transition = min(1.0, (time_s - self._switched_at) / self.options.crossfade_s) if self.options.crossfade_s > 0 else 1.0
        previous = self._previous if transition < 1.0 else None
        return LabelState(self._probabilities.copy(), self._shown, previous, transition if previous is not None else 1.0)

    def _apply_hysteresis(self, time_s: float) -> None:
        assert self._probabilities is not None  # update() sets them before calling
        leader = int(np.argmax(self._probabilities))
        leads = leader != self._shown and (
            self._probabilities[leader] - self._probabilities[self._shown] >= self.options.switch_margin)
        if not leads:
            self._candidate = None
            return
        if self._candidate != leader:
            self._candidate, self._candidate_since = leader, time_s
        if time_s - self._candidate_since >= self.options.switch_hold_s:
            self._previous, self._shown = self._shown, leader
            self._switched_at = time_s
            self._candidate = None


class TrackSmoother:
    """Landmark and label smoothing for one tracked face."""

    def __init__(self, options: SmoothingOptions):
        self.landmarks = OneEuroFilter(options.landmark_min_cutoff_hz, options.landmark_beta,
                                       options.landmark_derivative_cutoff_hz)
        self.labels = LabelSmoother(options)


class SmoothingBank:
    """One TrackSmoother per live track id; tracks that disappear are forgotten."""

    def __init__(self, options: SmoothingOptions = SmoothingOptions()):
        self.options = options
        self._tracks: dict[int, TrackSmoother] = {}

    def get(self, track_id: int) -> TrackSmoother:
        if track_id not in self._tracks:
            self._tracks[track_id] = TrackSmoother(self.options)
        return self._tracks[track_id]

    def keep_only(self, track_ids: set[int]) -> None:
        for track_id in set(self._tracks) - track_ids:
            del self._tracks[track_id]

    def reset(self) -> None:
        self._tracks.clear()
