"""Per-track temporal smoothing: steady labels and overlays that neither jitter nor lag.

Labels: a frame-by-frame classifier reads mouth shapes of speech as surprise, happy or fear,
and a better model is *more* confident frame by frame, so it flips more, not less. The label
model here therefore treats every frame as weak evidence and asks for sustained evidence
before it changes what is shown:

- Evidence is an exponential average of log-probabilities (a product of experts over the
  last fraction of a second, not an average of probabilities): one confident odd frame moves
  it by little, a consistent run of frames moves it a lot.
- Margin and dwell: a challenger must lead the shown label by `switch_margin_nats`, and the
  lead is integrated over time; the switch happens when the integral reaches
  `switch_evidence`. A large lead (a real, clear change) switches in a few frames; a small
  lead (two close labels, an ambiguous face) needs a long horizon, and a lead that keeps
  dropping back never gets there.
- Speech guard: while the mouth opens and closes at speech rate (measured from the lip
  landmarks), the evidence horizon is longer and the margin larger. Holding an expression
  while talking is the common case; a mouth that is merely moving is not a new emotion.
- After a switch the new label is held at least `min_hold_s`, so two labels cannot ping-pong.
- A new track settles first: for `settle_s` the label simply follows the evidence and no
  overlay is drawn, then the overlay pops in. The first frames of a face (motion blur, a
  fade-in, half in view) are the least reliable, and a label taken from them would stick.

The shown change is a quick pop (`transition_s`), never a long cross-fade: see
`arfilter/packs.py` for how it is drawn.

Landmarks: a One-Euro filter (Casiez et al., CHI 2012): heavy smoothing when the head is
still, little when it moves fast, measured in units of the face's own size.

Everything is driven by the frame timestamps, so the behaviour does not change with the frame
rate (the clips this was measured on run at 10 to 30 frames/s).
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass

import numpy as np

from arfilter.core.types import HELD, SETTLING, STEADY


@dataclass(frozen=True)
class SmoothingOptions:
    """Every smoothing parameter, with what it trades.

    evidence_time_constant_s: horizon of the log-probability average. Longer steadies the
        label and the bars against mouth shapes and blinks, but a change takes longer to
        build up evidence.
    probability_floor: probabilities are clipped to at least this before the log, so one
        frame that calls a label impossible (p ~ 0) cannot veto it for a second. Lower lets
        confident frames count more.
    switch_margin_nats: lead (difference of averaged log-probabilities) a challenger needs
        over the shown label before its lead counts at all. Larger ignores close calls
        between two labels; a change must then be clearer to be shown.
    switch_evidence: how much lead beyond the margin, integrated over time (nat-seconds),
        switches the label. Larger waits longer; a clear change (lead ~2 nats) needs
        switch_evidence / 2 seconds, a marginal one much longer.
    settle_s: how long a new track shows no overlay while its label follows the evidence
        freely. Longer gives a surer first label, but a face waits longer for its overlay.
    min_hold_s: a label just switched to is kept at least this long. Longer prevents ping-pong
        between two labels; it delays only a second change that follows a first one closely.
    speech_motion_low / speech_motion_high: back-and-forth lip motion (per second, relative
        to the mean lip gap; see SpeechDetector) below which the face counts as not talking,
        and above which it counts as surely talking. Lower catches quieter speech, but also
        treats a laugh as talking.
    speech_horizon_gain: how much longer the evidence horizon gets while talking (1 + gain
        times). Higher is steadier during speech, slower to show a change made while talking.
    speech_margin_gain: how much larger the switch margin gets while talking (1 + gain times).
    speech_open_frame_weight: while talking, how much a frame with the mouth at its widest
        counts towards the evidence (frames with the mouth closed count fully, between them
        in proportion). Lower ignores the syllables' mouth shapes better; the expression
        is then read mostly between syllables, from fewer frames.
    speech_window_s: how far back the talking estimate looks. Shorter notices the start and
        the end of speech sooner, but a single open-and-close then reads as talking.
    speech_release_s: how slowly the talking estimate falls back after the lips stop moving
        (time constant). Longer bridges the pauses between words; a change of expression
        right after talking then takes longer to show.
    transition_s: duration of the pop that replaces one overlay with the next. Longer is
        softer but the two labels share the screen for longer.
    landmark_min_cutoff_hz: One-Euro cutoff when still. Lower removes more jitter, but a slow
        drift lags more.
    landmark_beta: how quickly the cutoff rises with speed (per face-width per second). Higher
        removes lag in fast moves, lets more jitter through when moving. At 2 the glasses
        trailed the eyes by up to 11% of the face width on the large head motion of the
        face-videos clip 10; 15 keeps them within 5% (bench.stability).
    landmark_derivative_cutoff_hz: smoothing of the speed estimate itself.
    """

    evidence_time_constant_s: float = 0.18
    probability_floor: float = 0.02
    switch_margin_nats: float = 0.2
    switch_evidence: float = 0.04
    settle_s: float = 0.25
    min_hold_s: float = 0.6
    speech_motion_low: float = 0.8
    speech_motion_high: float = 2.0
    speech_horizon_gain: float = 2.0
    speech_margin_gain: float = 5.0
    speech_open_frame_weight: float = 0.2
    speech_window_s: float = 0.6
    speech_release_s: float = 1.0
    transition_s: float = 0.15
    landmark_min_cutoff_hz: float = 1.5
    landmark_beta: float = 15.0
    landmark_derivative_cutoff_hz: float = 1.0

    def __post_init__(self) -> None:
        for name in ("evidence_time_constant_s", "probability_floor", "switch_evidence", "speech_window_s", "speech_release_s",
                     "landmark_min_cutoff_hz", "landmark_derivative_cutoff_hz"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("switch_margin_nats", "settle_s", "min_hold_s", "speech_horizon_gain", "speech_margin_gain", "speech_open_frame_weight", "transition_s",
                     "landmark_beta"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be zero or more, got {getattr(self, name)}")
        if not 0 <= self.speech_motion_low < self.speech_motion_high:
            raise ValueError("speech_motion_low must be at least 0 and below speech_motion_high, "
                             f"got {self.speech_motion_low} and {self.speech_motion_high}")


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
    """What the overlay and the HUD need for one face in one frame.

    `probabilities` are the decision's evidence turned back into a distribution: what the
    bars show and the label is decided from, so the label is their biggest unless `state`
    says why not (`arfilter.core.types`: SETTLING while a new track settles, HELD while a
    challenger leads but has not built up enough lead to switch). `transition` runs 0 -> 1
    over `transition_s` after a switch, while `previous_label_index` names the label being
    replaced; a new track has `transition` 0 and no previous label while it settles
    (nothing drawn yet), then pops in. `speech` is the talking estimate, 0..1.
    """

    probabilities: np.ndarray
    label_index: int
    previous_label_index: int | None
    transition: float
    speech: float = 0.0
    state: str = STEADY

    @property
    def settled(self) -> bool:
        return self.state != SETTLING


class SpeechDetector:
    """How surely a face is talking, 0..1, from how its lip gap goes back and forth.

    Talking opens and closes the mouth several times a second. Over the last
    `speech_window_s` the detector takes the lip gap's total movement minus its net change:
    a mouth that opens into a smile or an "O" of surprise and stays there moves one way
    only and scores nothing, a mouth that opens and closes scores its whole movement. The
    rate is relative to the mean gap (plus a small constant), so a wide-open mouth that
    trembles is not talking and a small one that opens and closes is.
    """

    # Added to the gap before dividing: a closed mouth (gap ~0) must not turn jitter into speech.
    GAP_OFFSET = 0.05

    def __init__(self, options: SmoothingOptions) -> None:
        self.options = options
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        self.speech = 0.0
        self.openness = 0.0  # where the current lip gap sits in the window's range, 0 (closed) .. 1

    def update(self, mouth_gap: float | None, time_s: float) -> float:
        if mouth_gap is None or not math.isfinite(mouth_gap):
            return self.speech
        if self._samples and time_s <= self._samples[-1][0]:
            self._samples.clear()
        self._samples.append((time_s, mouth_gap))
        while time_s - self._samples[0][0] > self.options.speech_window_s:
            self._samples.popleft()
        if len(self._samples) < 3:
            self.speech, self.openness = 0.0, 0.0
            return self.speech
        # Talk pauses between words: the estimate falls back slowly, so a word spoken with the
        # mouth held open does not count as a new expression.
        dt = self._samples[-1][0] - self._samples[-2][0]
        released = self.speech * math.exp(-dt / self.options.speech_release_s)
        gaps = np.array([gap for _, gap in self._samples])
        self.openness = float((mouth_gap - gaps.min()) / (gaps.max() - gaps.min() + 1e-6))
        back_and_forth = float(np.abs(np.diff(gaps)).sum() - abs(gaps[-1] - gaps[0]))
        duration = self._samples[-1][0] - self._samples[0][0]
        motion = back_and_forth / duration / (float(gaps.mean()) + self.GAP_OFFSET)
        low, high = self.options.speech_motion_low, self.options.speech_motion_high
        self.speech = max(released, min(1.0, max(0.0, (motion - low) / (high - low))))
        return self.speech


class LabelSmoother:
    """Log-probability evidence with margin-and-dwell switching and a speech guard, for one track."""

    def __init__(self, options: SmoothingOptions):
        self.options = options
        self.speech = SpeechDetector(options)
        self._evidence: np.ndarray | None = None
        self._time: float | None = None
        self._shown = 0
        self._previous: int | None = None
        self._switched_at = -math.inf
        self._started_at = 0.0
        self._challenger: int | None = None
        self._lead = 0.0  # integrated lead of the challenger beyond the margin, nat-seconds

    def _log(self, probabilities: np.ndarray) -> np.ndarray:
        """Log-probabilities for the evidence, floored so that no frame can veto a label."""
        return np.log(np.maximum(np.asarray(probabilities, np.float64), self.options.probability_floor))

    def update(self, probabilities: np.ndarray, time_s: float, mouth_gap: float | None = None) -> LabelState:
        """Take one frame's calibrated probabilities (and the lip gap in interocular distances,
        for the speech guard) and return what to show."""
        log_probabilities = self._log(probabilities)
        speech = self.speech.update(mouth_gap, time_s)
        if self._evidence is None or self._time is None or time_s <= self._time:
            # A fresh start (or a clock that went back): nothing to fade from, no pending switch.
            self._evidence = log_probabilities
            self._shown = int(np.argmax(log_probabilities))
            self._started_at, dt = time_s, 0.0
            self._previous, self._challenger, self._lead = None, None, 0.0
            # The overlay pops in when settling ends, as if switched to from nothing then.
            self._switched_at = time_s + self.options.settle_s if self.options.settle_s > 0 else -math.inf
        else:
            dt = time_s - self._time
            horizon = self.options.evidence_time_constant_s * (1.0 + self.options.speech_horizon_gain * speech)
            # While talking, a frame with the mouth open mid-syllable says more about the
            # syllable than about the emotion: it counts for less.
            weight = 1.0 - speech * self.speech.openness * (1.0 - self.options.speech_open_frame_weight)
            rate = weight * dt / horizon
            self._evidence = self._evidence + (1.0 - math.exp(-rate)) * (log_probabilities - self._evidence)
        self._time = time_s
        settled = time_s - self._started_at >= self.options.settle_s
        if not settled:
            self._shown = int(np.argmax(self._evidence))
        elif dt > 0.0:
            self._weigh_challenger(time_s, dt, speech)
        return self._state(time_s, speech, SETTLING if not settled else None)

    def _state(self, time_s: float, speech: float, state: str | None = None) -> LabelState:
        assert self._evidence is not None
        transition = 1.0
        if self.options.transition_s > 0:
            transition = min(1.0, max(0.0, (time_s - self._switched_at) / self.options.transition_s))
        previous = self._previous if transition < 1.0 else None
        distribution = np.exp(self._evidence - self._evidence.max())
        if state is None:
            state = STEADY if int(np.argmax(self._evidence)) == self._shown else HELD
        return LabelState((distribution / distribution.sum()).astype(np.float32), self._shown, previous, transition,
                          speech, state)

    def settle(self, probabilities: np.ndarray, time_s: float) -> LabelState:
        """The state a frame shown for ever would reach: the evidence becomes this frame's,
        the label its biggest, at once and without a pop. A paused or ended video shows
        this, so a frozen frame never keeps a label its bars contradict."""
        self._evidence = self._log(probabilities)
        if self._time is None:
            self._started_at = time_s
        self._time = time_s
        self._shown = int(np.argmax(self._evidence))
        self._previous, self._challenger, self._lead = None, None, 0.0
        self._switched_at = -math.inf
        self._started_at = min(self._started_at, time_s - self.options.settle_s)
        return self._state(time_s, self.speech.speech)

    def _weigh_challenger(self, time_s: float, dt: float, speech: float) -> None:
        assert self._evidence is not None
        evidence = self._evidence
        leader = int(np.argmax(evidence))
        margin = self.options.switch_margin_nats * (1.0 + self.options.speech_margin_gain * speech)
        lead = float(evidence[leader] - evidence[self._shown]) - margin
        if leader == self._shown or lead <= 0.0:
            self._challenger, self._lead = None, 0.0
            return
        if self._challenger != leader:
            self._challenger, self._lead = leader, 0.0
        self._lead += lead * dt
        if self._lead >= self.options.switch_evidence and time_s - self._switched_at >= self.options.min_hold_s:
            self._previous, self._shown = self._shown, leader
            self._switched_at = time_s
            self._challenger, self._lead = None, 0.0


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

    def forget_landmarks(self) -> None:
        """Restart every track's landmark filter but keep its label evidence (a mirrored view:
        the points jump to the other side, the expression stays)."""
        for smoother in self._tracks.values():
            smoother.landmarks = OneEuroFilter(self.options.landmark_min_cutoff_hz, self.options.landmark_beta,
                                               self.options.landmark_derivative_cutoff_hz)

    def keep_only(self, track_ids: set[int]) -> None:
        for track_id in set(self._tracks) - track_ids:
            del self._tracks[track_id]

    def reset(self) -> None:
        self._tracks.clear()
