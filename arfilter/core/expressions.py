"""Expression triggers: mouth open, eyebrows raised, eyes closed, smile, read from the face mesh.

A pack layer can appear on an expression as well as on an emotion (`when = "mouth_open"`).
Each expression is one ratio of landmark distances, measured in 3-D (the mesh's depth
included) so that it does not change as the head turns, and normalised by the distance
between the eyes so that it does not change with the face's size:

- mouth_open: the gap between the inner lips over the interocular distance;
- smile: the mouth's width over the interocular distance, plus twice how far the mouth corners
  sit above the lips' centre (a wide mouth alone is also a grimace; raised corners alone, a smirk);
- eyebrows_raised: the distance from the brows to the eye corners;
- eyes_closed: the eyelids' opening over the eyes' width (the eye aspect ratio).

Brows and eyelids differ from one person to the next more than they move, so those two are
relative to the track's own resting value (a slow average of the ratio while the expression
is off, slower still away from the trigger, so that eyes held wide for a while do not make
ordinary eyes read as closed); the mouth's ratios are absolute. Measured on the dev face videos: talking keeps the
lip gap under about 0.25 interocular distances, laughing and shouting reach 0.35 and more; a
resting mouth is 0.75-0.85 wide plus 0.12-0.18 of lift, a grin 1.2 and more. The face-mesh
model never quite shuts an eye: shut eyes lower its eye aspect ratio by only 10-15 %, hence a
relative threshold.

Each trigger has an enter and an exit threshold (hysteresis), so an expression held near its
threshold does not flicker on and off with the landmarks' jitter. The state is one small
frozen value per track; `update_expressions` is a pure function of it and the landmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from arfilter.vision.geometry import IMAGE_LEFT_EYE_INDICES, IMAGE_RIGHT_EYE_INDICES, INNER_LOWER_LIP, INNER_UPPER_LIP

MOUTH_CORNERS = (61, 291)
# Brow middles and eye corners, image-left then image-right: the corners do not move as the
# lids do, so a blink does not read as raised brows.
BROWS = ((105, 66), (334, 296))
# (upper lid, lower lid) pairs and (outer, inner) corners per eye.
EYELIDS = ((159, 145), (158, 153), (160, 144), (386, 374), (385, 380), (387, 373))
EYE_CORNERS = ((33, 133), (362, 263))


@dataclass(frozen=True)
class Trigger:
    """When an expression turns on and off: its ratio crosses `enter` to turn on and `exit` to
    turn off (above for `rising` triggers, below for falling ones); a `relative` trigger
    compares the ratio with the track's resting value rather than with a fixed number."""

    enter: float
    exit: float
    rising: bool = True
    relative: bool = False

    def __post_init__(self) -> None:
        if (self.exit >= self.enter) if self.rising else (self.exit <= self.enter):
            raise ValueError(f"a trigger's exit threshold must lie on the resting side of its enter threshold, got {self}")


TRIGGERS: dict[str, Trigger] = {
    "mouth_open": Trigger(enter=0.30, exit=0.22),
    "smile": Trigger(enter=1.22, exit=1.12),
    "eyebrows_raised": Trigger(enter=1.12, exit=1.06, relative=True),
    "eyes_closed": Trigger(enter=0.86, exit=0.92, rising=False, relative=True),
}
EXPRESSIONS = tuple(TRIGGERS)
# A relative trigger's rest follows the face this many times more slowly away from the trigger
# (wider eyes, lower brows) than towards it.
AWAY_SLOWDOWN = 4.0


@dataclass(frozen=True)
class ExpressionOptions:
    """The triggers, and how quickly a track's resting values follow the face (seconds: long
    enough that a held expression is not learnt as the new rest within its few seconds)."""

    triggers: dict[str, Trigger] = field(default_factory=lambda: dict(TRIGGERS))
    resting_time_s: float = 4.0


@dataclass(frozen=True)
class ExpressionState:
    """One track's expressions: those on now, the resting value of each relative ratio, and
    the time of the frame they were measured on."""

    active: frozenset[str] = frozenset()
    resting: tuple[tuple[str, float], ...] = ()
    time_s: float | None = None


def expression_ratios(landmarks: np.ndarray) -> dict[str, float]:
    """Each expression's ratio for one face's (468, 2 or 3) landmarks (see the module docstring)."""
    points = np.asarray(landmarks, np.float64)
    eyes = points[list(IMAGE_RIGHT_EYE_INDICES)].mean(axis=0) - points[list(IMAGE_LEFT_EYE_INDICES)].mean(axis=0)
    interocular = max(float(np.linalg.norm(eyes)), 1e-6)

    def distance(pairs: tuple[tuple[int, int], ...]) -> float:
        return float(np.mean([np.linalg.norm(points[a] - points[b]) for a, b in pairs]))

    lips = (points[INNER_UPPER_LIP] + points[INNER_LOWER_LIP]) / 2
    mouth_corners = points[list(MOUTH_CORNERS)].mean(axis=0)
    down = lips - points[[33, 133, 362, 263]].mean(axis=0)  # from the eyes to the mouth
    lift = float(np.dot(lips - mouth_corners, down / max(float(np.linalg.norm(down)), 1e-6)))
    return {
        "mouth_open": distance(((INNER_UPPER_LIP, INNER_LOWER_LIP),)) / interocular,
        "smile": (distance((MOUTH_CORNERS,)) + 2.0 * lift) / interocular,
        "eyebrows_raised": float(np.mean([np.linalg.norm(points[list(brow)].mean(axis=0) - points[list(corners)].mean(axis=0))
                                          for brow, corners in zip(BROWS, EYE_CORNERS)])) / interocular,
        "eyes_closed": distance(EYELIDS) / max(distance(EYE_CORNERS), 1e-6),
    }


def update_expressions(state: ExpressionState, landmarks: np.ndarray, time_s: float,
                       options: ExpressionOptions = ExpressionOptions()) -> ExpressionState:
    """The track's next state from this frame's landmarks, taken at `time_s`."""
    ratios = expression_ratios(landmarks)
    resting = dict(state.resting)
    elapsed = 0.0 if state.time_s is None else max(time_s - state.time_s, 0.0)
    active = set()
    for name, trigger in options.triggers.items():
        value = ratios[name]
        if trigger.relative:
            rest = resting.setdefault(name, value)
            value = value / rest if rest > 0 else 1.0
        threshold = trigger.exit if name in state.active else trigger.enter
        on = value >= threshold if trigger.rising else value <= threshold
        if on:
            active.add(name)
        elif trigger.relative:  # the rest follows the face only while the expression is off...
            change = ratios[name] - resting[name]
            # ...and slowly away from the trigger: wide eyes held a while must not make open eyes read as closed.
            towards_trigger = change > 0 if trigger.rising else change < 0
            time_s_constant = options.resting_time_s * (1.0 if towards_trigger else AWAY_SLOWDOWN)
            resting[name] += change * (1.0 - math.exp(-elapsed / time_s_constant) if time_s_constant > 0 else 1.0)
    return ExpressionState(active=frozenset(active), resting=tuple(sorted(resting.items())), time_s=time_s)


class ExpressionTracker:
    """Every track's expression state, for the pipeline: updated once per frame per face,
    forgotten with the track."""

    def __init__(self, options: ExpressionOptions = ExpressionOptions()) -> None:
        self.options = options
        self._states: dict[int, ExpressionState] = {}

    def update(self, track_id: int, landmarks: np.ndarray, time_s: float) -> frozenset[str]:
        """The expressions of track `track_id` on this frame."""
        state = update_expressions(self._states.get(track_id, ExpressionState()), landmarks, time_s, self.options)
        self._states[track_id] = state
        return state.active

    def keep_only(self, track_ids: set[int]) -> None:
        """Forget the tracks that have ended."""
        self._states = {track_id: state for track_id, state in self._states.items() if track_id in track_ids}

    def reset(self) -> None:
        self._states.clear()
