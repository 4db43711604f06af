"""HUD layout: panels clear of faces and props, shrinking when there is no room; toasts never over panels."""

from __future__ import annotations

import itertools

import pytest

from arfilter.render.layout import (
    LayoutOptions,
    PanelRequest,
    layout_hud,
    overlap,
    place_toasts,
    untracked_note,
)

FRAME = (640, 480)
PANEL = (150, 130)
STATS = (8, 8, 200, 28)


def clear(rect, boxes) -> bool:
    return not any(overlap(rect, box) for box in boxes)


def inside(rect, frame=FRAME) -> bool:
    return rect[0] >= 0 and rect[1] >= 0 and rect[0] + rect[2] <= frame[0] and rect[1] + rect[3] <= frame[1]


def test_panel_sits_beside_a_small_face_at_full_size():
    face = (250, 180, 120, 140)
    layout = layout_hud(FRAME, [PanelRequest(1, face, PANEL)], reserved=[STATS])
    (panel,) = layout.panels
    assert panel.scale == 1.0 and not panel.covers_face
    assert clear(panel.rect, [face, STATS]) and inside(panel.rect)
    assert panel.rect[0] == face[0] + face[2] + LayoutOptions().margin  # right of the face first


def test_close_up_panel_shrinks_instead_of_covering_the_face_or_the_hat():
    face = (120, 130, 380, 340)  # fills the frame below the hat, 112 px free left, 132 right
    hat = (150, 10, 320, 125)
    layout = layout_hud(FRAME, [PanelRequest(1, face, PANEL)], props=[hat], reserved=[STATS])
    (panel,) = layout.panels
    assert panel.scale < 1.0 and not panel.covers_face
    assert clear(panel.rect, [face, hat, STATS]) and inside(panel.rect)


def test_untracked_face_is_not_covered():
    tracked, untracked = (60, 150, 150, 170), (330, 150, 150, 170)  # the two-face demo with --max-faces 1
    layout = layout_hud(FRAME, [PanelRequest(1, tracked, PANEL)], faces=[tracked, untracked], reserved=[STATS])
    assert clear(layout.panels[0].rect, [tracked, untracked, STATS])
    assert untracked_note(2, 1, 1) == "1 face not tracked (max 1)"
    assert untracked_note(4, 1, 1) == "3 faces not tracked (max 1)"
    assert untracked_note(1, 1, 1) is None


def test_panels_never_overlap_each_other_or_faces_across_many_arrangements():
    faces_at = [(40, 150, 120, 140), (260, 160, 120, 140), (470, 140, 120, 140), (250, 10, 110, 120)]
    for count in range(1, 5):
        for faces in itertools.combinations(faces_at, count):
            requests = [PanelRequest(index, face, PANEL) for index, face in enumerate(faces)]
            layout = layout_hud(FRAME, requests, reserved=[STATS], toasts=[(300, 30), (200, 30)])
            rects = [panel.rect for panel in layout.panels]
            for panel in layout.panels:
                if not panel.covers_face:
                    assert clear(panel.rect, list(faces)), (faces, panel)
                assert clear(panel.rect, [STATS]) and inside(panel.rect)
            for first, second in itertools.combinations(rects, 2):
                assert not overlap(first, second)
            for toast in layout.toasts:
                assert clear(toast, [*rects, STATS]), (faces, toast, rects)


def test_kept_offset_wins_while_it_is_free():
    face = (250, 180, 120, 140)
    left_of_face = (-PANEL[0] - 8, 0)
    layout = layout_hud(FRAME, [PanelRequest(1, face, PANEL)], keep={1: left_of_face})
    assert layout.panels[0].rect[:2] == (face[0] + left_of_face[0], face[1])


def test_toasts_move_off_a_panel_at_the_bottom():
    panel = (245, 380, 150, 92)  # where the toast stack would go
    rects = place_toasts(FRAME, [(200, 30), (260, 30)], [panel, STATS])
    assert len(rects) == 2 and all(clear(rect, [panel, STATS]) for rect in rects)
    assert rects[1][1] > rects[0][1]  # the newest is lowest
    assert place_toasts(FRAME, [], [panel]) == ()


def test_a_frame_too_small_for_any_panel_leaves_it_out():
    layout = layout_hud((60, 40), [PanelRequest(1, (10, 10, 20, 20), PANEL)], reserved=[(0, 0, 60, 40)])
    assert layout.panels == ()


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="scales"):
        LayoutOptions(scales=(1.0, 0.0))
