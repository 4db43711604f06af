"""Expression triggers: each ratio answers its expression, turns the head without changing,
and the enter/exit thresholds keep a trigger held near its threshold from flickering."""

from __future__ import annotations

import numpy as np
import pytest

from arfilter.core.expressions import (
    EXPRESSIONS,
    ExpressionOptions,
    ExpressionState,
    Trigger,
    expression_ratios,
    update_expressions,
)
from arfilter.render.mesh import face_mesh

LOWER_LIP = (14, 87, 178, 88, 95, 317, 402, 318, 324, 15, 16, 17, 84, 181, 91, 146, 314, 405, 321, 375, 152, 148, 377)
UPPER_LIDS = (159, 158, 160, 386, 385, 387)
BROWS = (105, 66, 334, 296, 70, 63, 107, 336, 300, 293)


def face(yaw_deg: float = 0.0, **moves: float) -> np.ndarray:
    """The canonical face, frontal or turned, with its lower jaw dropped (`mouth`), its upper
    lids lowered (`lids`), its brows raised (`brows`) or its mouth corners pulled up and out
    (`smile`), each in interocular distances."""
    landmarks = face_mesh().posed(0.0, interocular_px=100.0).astype(np.float64)
    landmarks[list(LOWER_LIP), 1] += 100.0 * moves.get("mouth", 0.0)
    landmarks[list(UPPER_LIDS), 1] += 100.0 * moves.get("lids", 0.0)
    landmarks[list(BROWS), 1] -= 100.0 * moves.get("brows", 0.0)
    for corner, side in ((61, -1.0), (291, 1.0)):
        landmarks[corner] += 100.0 * moves.get("smile", 0.0) * np.array([0.5 * side, -0.4, 0.0])
    if yaw_deg:
        angle = np.radians(yaw_deg)
        turn = np.array([[np.cos(angle), 0.0, -np.sin(angle)], [0.0, 1.0, 0.0], [np.sin(angle), 0.0, np.cos(angle)]])
        landmarks = landmarks @ turn.T
    return landmarks


def settle(landmarks: np.ndarray, frames: int = 5) -> ExpressionState:
    state = ExpressionState()
    for index in range(frames):
        state = update_expressions(state, landmarks, index / 30)
    return state


def test_a_resting_face_shows_no_expression_and_each_movement_its_own() -> None:
    rest = face()
    assert settle(rest).active == frozenset()
    state = settle(rest)
    for name, moves in {"mouth_open": {"mouth": 0.45}, "smile": {"smile": 0.35}, "eyebrows_raised": {"brows": 0.12},
                        "eyes_closed": {"lids": 0.06}}.items():
        moved = update_expressions(state, face(**moves), 1.0)
        assert name in moved.active, (name, expression_ratios(face(**moves))[name])
        assert moved.active <= {name, "smile" if name == "mouth_open" else name}


def test_ratios_do_not_change_as_the_head_turns() -> None:
    frontal, turned = expression_ratios(face(mouth=0.3)), expression_ratios(face(40.0, mouth=0.3))
    for name in EXPRESSIONS:
        assert turned[name] == pytest.approx(frontal[name], rel=1e-6)


def test_hysteresis_keeps_a_trigger_from_flickering_near_its_threshold() -> None:
    options = ExpressionOptions(triggers={"mouth_open": Trigger(enter=0.30, exit=0.22)})
    gaps = np.array([0.05, 0.31, 0.28, 0.31, 0.27, 0.29, 0.25, 0.21, 0.29, 0.26, 0.31])
    baseline_gap = expression_ratios(face())["mouth_open"]
    state, history = ExpressionState(), []
    for index, gap in enumerate(gaps):
        state = update_expressions(state, face(mouth=gap - baseline_gap), index / 30, options)
        history.append("mouth_open" in state.active)
    # On at the first 0.31, held through the dips to 0.25, off below 0.22, on again only above 0.30.
    assert history == [False, True, True, True, True, True, True, False, False, False, True]


def test_relative_triggers_learn_the_tracks_resting_face() -> None:
    """Brows that simply sit high on this face are its rest, not a raise, once the track has seen them."""
    high_brows = face(brows=0.12)
    state = ExpressionState()
    for index in range(300):  # 10 s at 30 fps
        state = update_expressions(state, high_brows, index / 30)
    assert "eyebrows_raised" not in state.active
    raised = update_expressions(state, face(brows=0.24), 10.0)
    assert "eyebrows_raised" in raised.active


def test_a_trigger_with_thresholds_the_wrong_way_round_is_refused() -> None:
    with pytest.raises(ValueError, match="exit threshold"):
        Trigger(enter=0.2, exit=0.3)
