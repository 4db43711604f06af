"""HUD drawing on off-screen surfaces (no window needed)."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"

import numpy as np
import pygame
import pytest

from arfilter.core.types import FaceResult
from arfilter.render.hud import Hud, HudStyle, Toasts
from arfilter.render.layout import place_panel
from arfilter.vision.labels import EMOTION_LABELS
from tests.fakes import make_face

BACKGROUND = (90, 90, 90)


@pytest.fixture(autouse=True)
def fonts():
    pygame.font.init()
    yield
    pygame.font.quit()


def face(box: tuple[int, int, int, int], label: str = "happy", track_id: int = 1) -> FaceResult:
    return make_face(label=label, track_id=track_id, box=box, confidence=0.70)


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return pygame.Rect(a).colliderect(pygame.Rect(b))


EDGE_BOXES = [
    (0, 0, 150, 180),  # top-left corner
    (490, 0, 150, 180),  # top-right corner
    (0, 300, 150, 180),  # bottom-left corner
    (490, 300, 150, 180),  # bottom-right corner
    (250, 0, 140, 160),  # top edge
    (250, 320, 140, 160),  # bottom edge
    (600, 200, 40, 50),  # small, at the right edge
    (-40, 150, 160, 200),  # partly outside on the left
    (560, 150, 160, 200),  # partly outside on the right
    (120, 40, 400, 420),  # a face so big that no side is free: the panel must still stay in the frame
]


def has_free_side(box, panel_size, frame_size, margin) -> bool:
    x, y, w, h = box
    (panel_w, panel_h), (frame_w, frame_h) = panel_size, frame_size
    return (frame_w - (x + w) - 2 * margin >= panel_w or x - 2 * margin >= panel_w
            or frame_h - (y + h) - 2 * margin >= panel_h or y - 2 * margin >= panel_h)


@pytest.mark.parametrize("frame_size", [(640, 480), (1280, 720), (320, 240)])
@pytest.mark.parametrize("box", EDGE_BOXES)
def test_bars_stay_inside_the_frame_and_off_the_face(box, frame_size) -> None:
    scale_x, scale_y = frame_size[0] / 640, frame_size[1] / 480
    box = (round(box[0] * scale_x), round(box[1] * scale_y), round(box[2] * scale_x), round(box[3] * scale_y))
    surface = pygame.Surface(frame_size)
    hud = Hud(frame_size[1])
    panel = hud.draw_all_face_bars(surface, [face(box)])[0]
    assert surface.get_rect().contains(panel), f"panel {panel} leaves the {frame_size} frame"
    if has_free_side(box, panel.size, frame_size, hud._px(hud.style.margin)):
        assert not overlaps(tuple(panel), box), f"panel {panel} covers the face {box}"


def test_placement_never_covers_random_faces_when_there_is_room() -> None:
    rng = np.random.default_rng(3)
    frame, panel_size, margin = (640, 480), (180, 140), 8
    for _ in range(300):
        w, h = int(rng.integers(30, 260)), int(rng.integers(30, 300))
        box = (int(rng.integers(-w // 2, 640 - w // 2)), int(rng.integers(-h // 2, 480 - h // 2)), w, h)
        x, y = place_panel(box, panel_size, frame, margin)
        panel = (x, y, *panel_size)
        assert margin <= x <= 640 - margin - panel_size[0] and margin <= y <= 480 - margin - panel_size[1]
        assert not overlaps(panel, box), f"{panel} covers {box}"


def test_panels_of_neighbouring_faces_avoid_each_other() -> None:
    surface = pygame.Surface((640, 480))
    faces = [face((80, 130, 130, 150), "happy", 1), face((330, 110, 120, 140), "sad", 2)]
    panels = Hud(480).draw_all_face_bars(surface, faces)
    assert len(panels) == 2 and not panels[0].colliderect(panels[1])
    for panel in panels:
        assert surface.get_rect().contains(panel)
        assert not any(overlaps(tuple(panel), other.box) for other in faces)


def test_bars_follow_the_face() -> None:
    hud = Hud(480)
    left = hud.draw_all_face_bars(pygame.Surface((640, 480)), [face((100, 100, 120, 140))])[0]
    moved = hud.draw_all_face_bars(pygame.Surface((640, 480)), [face((160, 180, 120, 140))])[0]
    assert (moved.x - left.x, moved.y - left.y) == (60, 80)


def test_bars_keep_their_side_while_it_stays_free() -> None:
    surface = pygame.Surface((640, 480))
    hud = Hud(480)
    at_edge = hud.draw_all_face_bars(surface, [face((500, 100, 120, 140), track_id=7)])[0]
    assert at_edge.right <= 500  # no room on the right: the bars go left
    moved = hud.draw_all_face_bars(surface, [face((300, 110, 120, 140), track_id=7)])[0]
    assert moved.right <= 300 and (moved.x - at_edge.x, moved.y - at_edge.y) == (-200, 10)
    fresh = Hud(480).draw_all_face_bars(surface, [face((300, 110, 120, 140), track_id=7)])[0]
    assert fresh.left >= 420  # a face seen for the first time gets the preferred right side


def test_face_pixels_are_untouched_and_the_shown_label_is_highlighted() -> None:
    box = (200, 150, 140, 170)
    surface = pygame.Surface((640, 480))
    surface.fill(BACKGROUND)
    hud = Hud(480)
    panel = hud.draw_all_face_bars(surface, [face(box, "sad")])[0]
    pixels = pygame.surfarray.array3d(surface).transpose(1, 0, 2)
    x, y, w, h = box
    inner = pixels[y + 6: y + h - 6, x + 6: x + w - 6]  # the leader line only touches the box edge
    assert (inner == BACKGROUND).all()
    highlight = np.all(pixels == HudStyle().highlight, axis=2)
    inside = highlight[panel.top + 3: panel.bottom - 3, panel.left + 3: panel.right - 3]
    rows = np.nonzero(inside.any(axis=1))[0] + panel.top + 3
    row_height = (panel.height - 2 * hud._px(hud.style.padding)) / len(EMOTION_LABELS)
    shown_rows = {int((row - panel.top - hud._px(hud.style.padding)) // row_height) for row in rows}
    assert shown_rows == {EMOTION_LABELS.index("sad")}


def test_stats_sit_in_the_top_left_corner() -> None:
    surface = pygame.Surface((640, 480))
    rect = Hud(480).draw_stats(surface, 29.7, 2, notes=["emoji"], recording_s=12.0)
    assert rect.left < 20 and rect.top < 20 and rect.right < 640 and rect.bottom < 80


def test_toasts_fade_and_disappear() -> None:
    toasts = Toasts(duration_s=2.0, fade_s=0.6)
    toasts.show("Screenshot saved to x.png", now=10.0)
    assert toasts.visible(10.5) == [("Screenshot saved to x.png", 1.0)]
    (_, opacity), = toasts.visible(11.7)
    assert 0.0 < opacity < 1.0
    assert toasts.visible(12.1) == []


def test_repeated_toast_restarts_instead_of_stacking() -> None:
    toasts = Toasts()
    toasts.show("Camera lost, retrying...", now=0.0)
    toasts.show("Recording...", now=0.5)
    toasts.show("Camera lost, retrying...", now=1.0)
    assert [text for text, _ in toasts.visible(2.5)] == ["Camera lost, retrying..."]


def test_toasts_and_help_draw_inside_the_frame() -> None:
    surface = pygame.Surface((640, 480))
    hud = Hud(480)
    toasts = Toasts()
    toasts.show("first", now=0.0)
    toasts.show("second", now=0.1)
    drawn = hud.draw_toasts(surface, toasts, now=0.2)
    assert len(drawn) == 2 and all(surface.get_rect().contains(rect) for rect in drawn)
    assert drawn[1].bottom <= 480 and drawn[0].bottom <= drawn[1].top  # newest lowest
    entries = [("B", "show / hide the emotion bars"), ("Q / Esc", "quit")]
    assert surface.get_rect().contains(hud.draw_help(surface, entries))


def test_bars_never_cover_the_stats_readout_and_stay_on_screen() -> None:
    """Random faces and window sizes: wherever the face is (even right under the stats), the
    bars panel keeps off the stats box and off the other panels, and inside the frame."""
    rng = np.random.default_rng(12)
    for _ in range(150):
        frame_size = (int(rng.integers(320, 1400)), int(rng.integers(240, 900)))
        surface = pygame.Surface(frame_size)
        hud = Hud(frame_size[1])
        stats = tuple(hud.draw_stats(surface, 29.7, 2, notes=["emoji", "paused"], recording_s=12.0))
        faces = []
        for track_id in range(1, int(rng.integers(1, 4)) + 1):
            w = int(rng.integers(30, max(31, frame_size[0] // 2)))
            h = int(w * rng.uniform(1.0, 1.3))
            x = int(rng.integers(-w // 3, frame_size[0] - w // 2))
            y = int(rng.integers(-h // 3, frame_size[1] - h // 2))
            faces.append(face((x, y, w, h), track_id=track_id))
        drawn = hud.draw_all_face_bars(surface, faces, forbidden=[stats])
        panel_w, panel_h = hud.bars_panel_size(EMOTION_LABELS)
        capacity = (frame_size[0] // (panel_w + 16)) * ((frame_size[1] - stats[3]) // (panel_h + 16))
        if capacity >= 2 * len(faces):
            assert len(drawn) == len(faces), "every face gets its bars when the frame has room"
        assert drawn, "at least one face gets its bars"
        for index, rect in enumerate(drawn):
            assert not rect.colliderect(pygame.Rect(stats)), (frame_size, [f.box for f in faces], rect, stats)
            assert surface.get_rect().contains(rect)
            assert rect.collidelist(drawn[:index]) == -1, "a bars panel covers another one"


@pytest.mark.parametrize("frame_size", [(320, 240), (640, 480), (1920, 1080)])
def test_a_long_toast_wraps_and_shortens_to_fit(frame_size) -> None:
    surface = pygame.Surface(frame_size)
    hud = Hud(frame_size[1])
    toasts = Toasts()
    long_path = "/home/someone/projects/arfilter/screenshots/a/very/deep/folder/screenshot-20261122-053011-123.png"
    toasts.show(f"Screenshot saved to {long_path}", now=0.0)
    toasts.show("End of /media/videos/a-long-holiday-video-of-the-whole-family-at-the-seaside-2026.mp4; press Q to quit", now=0.0)
    drawn = hud.draw_toasts(surface, toasts, now=0.1)
    assert len(drawn) == 2
    for rect in drawn:
        assert surface.get_rect().contains(rect)
    lines = hud.fit_lines(f"Screenshot saved to {long_path}", frame_size[0] - 40)
    assert 1 <= len(lines) <= 3 and all(hud.font.size(line)[0] <= frame_size[0] - 40 for line in lines)
    assert lines[0].startswith("Screenshot saved")
    assert long_path in "".join(lines), "the whole path is shown, broken after its slashes"


def test_the_hud_font_ships_with_its_licence() -> None:
    from arfilter.resources import HUD_FONT

    assert HUD_FONT.is_file() and (HUD_FONT.parent / "LICENSE-DejaVu.txt").is_file()


def test_a_held_label_underlines_the_leader_and_raw_shows_the_frame_own_bars() -> None:
    """HELD: the shown label stays highlighted, and the bigger bar's name is underlined, so the
    panel says why they differ; `raw` draws the frame's own probabilities instead."""
    box = (200, 150, 140, 170)

    def panel_pixels(state: str, raw: bool = False, raw_probabilities=None) -> np.ndarray:
        shown = face(box, "sad")
        shown.probabilities = np.array([0.51, 0.02, 0.02, 0.02, 0.1, 0.29, 0.04], np.float32)  # angry leads
        shown.state, shown.raw_probabilities = state, raw_probabilities
        surface = pygame.Surface((640, 480))
        surface.fill(BACKGROUND)
        rect = Hud(480).draw_all_face_bars(surface, [shown], raw=raw)[0]
        return pygame.surfarray.array3d(surface).transpose(1, 0, 2)[rect.top:rect.bottom, rect.left:rect.right]

    steady, held = panel_pixels("steady"), panel_pixels("held")
    changed_rows = np.nonzero(np.any(steady != held, axis=(1, 2)))[0]
    assert changed_rows.size and changed_rows.max() < held.shape[0] / len(EMOTION_LABELS) + 4, "only angry's row changes"
    frame_own = np.array([0.02, 0.02, 0.02, 0.02, 0.02, 0.88, 0.02], np.float32)
    assert not np.array_equal(panel_pixels("steady", raw=True, raw_probabilities=frame_own), steady)
