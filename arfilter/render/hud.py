"""Heads-up display drawn with pygame onto a frame-sized surface.

Everything is drawn at frame resolution, before the frame is scaled into the window, so a
screenshot or a recording shows exactly the layout the user sees. Sizes scale with the
frame height (480 px = 1x). Text is set in DejaVu Sans, shipped with arfilter (licence in
arfilter/assets/fonts/): pygame's default font spaces letters unevenly ("ha ppy"), and a
system font would make the HUD look different on every machine. Nothing here needs a window: the functions take
any `pygame.Surface`, which keeps them testable with SDL's dummy video driver.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pygame

from arfilter.core.types import FaceResult
from arfilter.resources import HUD_FONT

Color = tuple[int, int, int]
Box = tuple[int, int, int, int]

REFERENCE_HEIGHT = 480  # frame height at which the HUD is drawn at 1x
# Below this pixel size DejaVu Sans stops being comfortably readable on a video frame.
MIN_FONT_SIZE = 11
# Long toasts wrap to at most this many lines; what is left is shortened with an ellipsis.
MAX_TOAST_LINES = 2
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class HudStyle:
    """Colours and sizes at 1x (a 480 px high frame)."""

    text: Color = (245, 245, 245)
    panel: tuple[int, int, int, int] = (18, 20, 28, 175)
    bar_track: Color = (70, 74, 86)
    bar: Color = (120, 170, 235)
    highlight: Color = (255, 205, 70)
    recording: Color = (235, 60, 60)
    font_size: int = 16
    small_font_size: int = 15
    title_font_size: int = 22
    padding: int = 6
    margin: int = 8  # gap between a face box and its bars, and from the frame edge
    bar_width: int = 56
    row_gap: int = 1


def _overlap(a: Box, b: Box) -> int:
    """Area shared by two (x, y, w, h) rectangles."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def head_region(box: Box) -> Box:
    """The face box grown to take in hair and what filter packs draw above the forehead.

    The face box comes from the landmarks, which stop at the brow; hats, horns and hair
    reach about half a face higher.
    """
    x, y, w, h = box
    return (round(x - 0.15 * w), round(y - 0.5 * h), round(1.3 * w), round(1.6 * h))


def place_panel(box: Box, panel_size: tuple[int, int], frame_size: tuple[int, int], margin: int,
                avoid: Sequence[Box] = (), keep: tuple[int, int] | None = None,
                clearance: Box | None = None, forbidden: Sequence[Box] = ()) -> tuple[int, int] | None:
    """Top-left corner for a panel that sits beside `box` without covering it.

    Sides are tried in the order right, left, below, above; along each side the panel may
    slide as long as it stays level with the face, starting aligned with its top (or left)
    edge. Every try is kept inside the frame. The winner covers the face least, then
    `avoid` (other faces, panels already drawn) least, then is earliest in that order, so
    the panel only ever covers a face when the face leaves no room at all.

    `keep` is the panel's previous offset from the box's top-left corner, tried first:
    while that spot is still free the panel moves with the face instead of hopping sides.
    `clearance` is a larger area around the face (see `head_region`) that the panel keeps
    clear of as well when it can; tries around it come before tries around `box`.
    `forbidden` areas (the stats readout) are never covered: tries that touch them are
    dropped, and when every try beside the face does, the panel goes to the free spot
    nearest the face anywhere in the frame. Returns None only when no spot in the frame is
    free of them (a frame too small for both).
    """
    panel_w, panel_h = panel_size
    frame_w, frame_h = frame_size
    tries = [(box[0] + keep[0], box[1] + keep[1])] if keep is not None else []
    for around in (clearance, box) if clearance is not None else (box,):
        tries += _tries_around(around, panel_size, margin)
    also_avoid = [*avoid, clearance] if clearance is not None else list(avoid)
    best: tuple[tuple[int, int, float], tuple[int, int]] | None = None
    step = max(4, margin)
    anywhere = [(x, y) for y in range(margin, max(margin, frame_h - margin - panel_h) + 1, step)
                for x in range(margin, max(margin, frame_w - margin - panel_w) + 1, step)]
    center = (box[0] + box[2] / 2, box[1] + box[3] / 2)
    for tried_anywhere, candidates in ((False, tries), (True, anywhere)):
        for try_x, try_y in candidates:
            position = (max(margin, min(try_x, frame_w - margin - panel_w)),
                        max(margin, min(try_y, frame_h - margin - panel_h)))
            panel = (*position, panel_w, panel_h)
            if any(_overlap(panel, area) for area in forbidden):
                continue
            distance = math.dist(center, (position[0] + panel_w / 2, position[1] + panel_h / 2)) if tried_anywhere else 0.0
            cost = (_overlap(panel, box), sum(_overlap(panel, other) for other in also_avoid), distance)
            if cost == (0, 0, 0.0):
                return position
            if best is None or cost < best[0]:
                best = (cost, position)
        if best is not None:
            return best[1]
    return None


def _tries_around(box: Box, panel_size: tuple[int, int], margin: int) -> list[tuple[int, int]]:
    """Panel corners beside `box`: right, left, below, above, each sliding along that side."""
    x, y, w, h = box
    panel_w, panel_h = panel_size

    def slides(start: int, low: int, high: int) -> list[int]:
        return sorted(range(low, high + 1, max(4, margin)), key=lambda value: abs(value - start)) or [start]

    side_ys = slides(y, y - panel_h + margin, y + h - margin)
    side_xs = slides(x, x - panel_w + margin, x + w - margin)
    return ([(x + w + margin, try_y) for try_y in side_ys] + [(x - margin - panel_w, try_y) for try_y in side_ys]
            + [(try_x, y + h + margin) for try_x in side_xs] + [(try_x, y - margin - panel_h) for try_x in side_xs])


def hud_scale(frame_height: int) -> float:
    """HUD size factor for a frame height: 1 at 480 px, bounded so text stays legible."""
    return max(0.75, min(3.0, frame_height / REFERENCE_HEIGHT))


@dataclass
class Toast:
    text: str
    shown_at: float
    duration_s: float


@dataclass
class Toasts:
    """Short messages that stay `duration_s` seconds and fade out over the last `fade_s`."""

    duration_s: float = 2.0
    fade_s: float = 0.6
    max_shown: int = 3
    items: list[Toast] = field(default_factory=list)

    def show(self, text: str, now: float | None = None, duration_s: float | None = None) -> None:
        """Add a message (for `duration_s`, default `self.duration_s`); the same message shown
        again restarts instead of stacking."""
        now = time.monotonic() if now is None else now
        self.items = [toast for toast in self.items if toast.text != text]
        self.items.append(Toast(text, now, self.duration_s if duration_s is None else duration_s))
        del self.items[: -self.max_shown]

    def visible(self, now: float | None = None) -> list[tuple[str, float]]:
        """(text, opacity 0..1) of the messages still on screen, oldest first."""
        now = time.monotonic() if now is None else now
        self.items = [toast for toast in self.items if now - toast.shown_at < toast.duration_s]
        return [(toast.text, min(1.0, (toast.duration_s - (now - toast.shown_at)) / self.fade_s))
                for toast in self.items]


class Hud:
    """Draws the HUD elements for frames of one height (fonts are sized once here)."""

    def __init__(self, frame_height: int = REFERENCE_HEIGHT, style: HudStyle = HudStyle()) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.style = style
        self.frame_height = frame_height
        self.scale = hud_scale(frame_height)
        self.font = self._font(style.font_size)
        self.small_font = self._font(style.small_font_size)
        self.title_font = self._font(style.title_font_size)
        self._label_widths: dict[tuple[str, ...], int] = {}  # per label set (the model's), measured once
        self.percent_width = self.small_font.size("100%")[0]
        self._panel_offsets: dict[int, tuple[int, int]] = {}  # track id -> panel offset from its box

    def _px(self, size: float) -> int:
        return max(1, round(size * self.scale))

    def _font(self, size: int) -> pygame.font.Font:
        """DejaVu Sans at `size` (1x), or pygame's own font if the shipped file is gone, so a
        broken installation still shows its HUD."""
        pixels = max(MIN_FONT_SIZE, self._px(size))
        try:
            return pygame.font.Font(str(HUD_FONT), pixels)
        except (OSError, FileNotFoundError, pygame.error):
            return pygame.font.Font(None, round(pixels * 1.4))

    def _panel(self, size: tuple[int, int], opacity: float = 1.0) -> pygame.Surface:
        panel = pygame.Surface(size, pygame.SRCALPHA)
        red, green, blue, alpha = self.style.panel
        pygame.draw.rect(panel, (red, green, blue, round(alpha * opacity)), panel.get_rect(), border_radius=self._px(6))
        return panel

    # ----------------------------------------------------------------- stats line

    def draw_stats(self, surface: pygame.Surface, fps: float | None, face_count: int, *, notes: Sequence[str] = (),
                   recording: bool = False) -> pygame.Rect:
        """FPS ("--" until measured), face count and short state notes ("paused", the filter
        pack) in the top-left corner, with a red dot while recording; returns the area drawn."""
        parts = ["-- fps" if fps is None else f"{fps:4.1f} fps", f"{face_count} face" + ("" if face_count == 1 else "s"), *notes]
        text = self.font.render("  |  ".join(parts), True, self.style.text)
        padding = self._px(self.style.padding)
        dot = self._px(6) if recording else 0
        dot_space = 2 * dot + padding if recording else 0
        panel = self._panel((text.get_width() + 2 * padding + dot_space, text.get_height() + 2 * padding))
        if recording:
            pygame.draw.circle(panel, self.style.recording, (padding + dot, panel.get_height() // 2), dot)
        panel.blit(text, (padding + dot_space, padding))
        margin = self._px(self.style.margin)
        return surface.blit(panel, (margin, margin))

    # ----------------------------------------------------------------- per-face bars

    def label_width(self, labels: tuple[str, ...]) -> int:
        """Width of the longest of the model's labels: the bars line up whatever the label set."""
        if labels not in self._label_widths:
            self._label_widths[labels] = max(self.small_font.size(label)[0] for label in labels)
        return self._label_widths[labels]

    def bars_panel_size(self, labels: tuple[str, ...]) -> tuple[int, int]:
        padding = self._px(self.style.padding)
        row = self.small_font.get_height() + self._px(self.style.row_gap)
        width = self.label_width(labels) + self._px(self.style.bar_width) + self.percent_width + 4 * padding
        height = len(labels) * row + 2 * padding
        return width, height

    def draw_all_face_bars(self, surface: pygame.Surface, faces: Sequence[FaceResult],
                           avoid: Sequence[Box] = (), forbidden: Sequence[Box] = ()) -> list[pygame.Rect]:
        """Bars for every face, each placed clear of all faces when there is room, and never on a
        `forbidden` area (the stats readout) or on a panel drawn before it: two panels over each
        other are both unreadable, while a panel moved further away still has its leader line."""
        drawn: list[pygame.Rect] = []
        tracked = {face.track_id for face in faces}
        self._panel_offsets = {track: offset for track, offset in self._panel_offsets.items() if track in tracked}
        for face in faces:
            others = [head_region(other.box) for other in faces if other is not face]
            panels = [(rect.x, rect.y, rect.width, rect.height) for rect in drawn]
            rect = self.draw_face_bars(surface, face, avoid=[*avoid, *others], forbidden=[*forbidden, *panels])
            if rect is not None:
                drawn.append(rect)
        return drawn

    def draw_face_bars(self, surface: pygame.Surface, face: FaceResult, avoid: Sequence[Box] = (),
                       forbidden: Sequence[Box] = ()) -> pygame.Rect | None:
        """One probability bar per label beside the face box (never on it), the shown label highlighted.

        `avoid` lists other rectangles to keep clear of when there is room; `forbidden` ones
        are never covered. Returns the panel's rectangle in surface coordinates, or None when
        the frame has no room for it outside the forbidden areas.
        """
        style = self.style
        width, height = self.bars_panel_size(face.labels)
        padding = self._px(style.padding)
        panel = self._panel((width, height))
        row_height = self.small_font.get_height() + self._px(style.row_gap)
        bar_x = padding + self.label_width(face.labels) + padding
        bar_width = self._px(style.bar_width)
        bar_height = max(2, self.small_font.get_height() - self._px(6))
        for row, (label, probability) in enumerate(zip(face.labels, face.probabilities, strict=True)):
            probability = float(min(1.0, max(0.0, probability))) if math.isfinite(probability) else 0.0
            color = style.highlight if label == face.label else style.text
            y = padding + row * row_height
            panel.blit(self.small_font.render(label, True, color), (padding, y))
            bar_top = y + (self.small_font.get_height() - bar_height) // 2
            pygame.draw.rect(panel, style.bar_track, (bar_x, bar_top, bar_width, bar_height))
            filled = round(bar_width * probability)
            if filled:
                pygame.draw.rect(panel, style.highlight if label == face.label else style.bar,
                                 (bar_x, bar_top, filled, bar_height))
            percent = self.small_font.render(f"{probability:.0%}", True, color)
            panel.blit(percent, (width - padding - percent.get_width(), y))
        position = place_panel(face.box, (width, height), surface.get_size(), self._px(style.margin), avoid,
                               keep=self._panel_offsets.get(face.track_id), clearance=head_region(face.box),
                               forbidden=forbidden)
        if position is None:
            return None
        self._panel_offsets[face.track_id] = (position[0] - face.box[0], position[1] - face.box[1])
        rect = surface.blit(panel, position)
        self._draw_leader(surface, rect, face.box)
        return rect

    def _draw_leader(self, surface: pygame.Surface, panel: pygame.Rect, box: Box) -> None:
        """A short line from the panel to its face, so crowded panels are not mistaken for a
        neighbour's: it joins the face box point nearest the panel's centre to the panel."""
        x, y, w, h = box
        on_box = (min(max(panel.centerx, x), x + w), min(max(panel.centery, y), y + h))
        on_panel = (min(max(on_box[0], panel.left), panel.right - 1), min(max(on_box[1], panel.top), panel.bottom - 1))
        width = self._px(2)
        pygame.draw.line(surface, self.style.highlight, on_panel, on_box, width)
        pygame.draw.circle(surface, self.style.highlight, on_box, 2 * width)

    # ----------------------------------------------------------------- messages

    def fit_lines(self, text: str, width: int, max_lines: int = MAX_TOAST_LINES) -> list[str]:
        """`text` broken into at most `max_lines` lines no wider than `width` pixels.

        Lines break at spaces; a word too long for a line (a file path) is cut in its
        middle with an ellipsis, keeping both ends (where it is and what it is called), and
        text beyond the last line is cut with an ellipsis.
        """
        font = self.font
        lines: list[str] = []
        words = text.split()
        while words and len(lines) < max_lines:
            line = words.pop(0)
            if font.size(line)[0] > width:
                line = self._shorten_middle(line, width)
            while words and font.size(f"{line} {words[0]}")[0] <= width:
                line = f"{line} {words.pop(0)}"
            lines.append(line)
        if words:
            last = f"{lines[-1]} {' '.join(words)}"
            while last and font.size(last + ELLIPSIS)[0] > width:
                last = last[:-1]
            lines[-1] = last.rstrip() + ELLIPSIS
        return lines

    def _shorten_middle(self, word: str, width: int) -> str:
        keep = len(word)
        while keep > 2:
            head, tail = word[: keep // 2], word[len(word) - (keep - keep // 2):]
            if self.font.size(head + ELLIPSIS + tail)[0] <= width:
                return head + ELLIPSIS + tail
            keep -= 1
        return ELLIPSIS

    def draw_toasts(self, surface: pygame.Surface, toasts: Toasts, now: float | None = None) -> list[pygame.Rect]:
        """Visible toasts stacked above the bottom edge, newest lowest, fading out; long ones
        wrap or shorten (`fit_lines`) to stay inside the frame."""
        padding = self._px(self.style.padding)
        margin = self._px(self.style.margin)
        bottom = surface.get_height() - margin
        drawn = []
        for text, opacity in reversed(toasts.visible(now)):
            lines = [self.font.render(line, True, self.style.text)
                     for line in self.fit_lines(text, surface.get_width() - 2 * (margin + padding))]
            line_height = self.font.get_linesize()
            text_width = max(line.get_width() for line in lines)
            panel = self._panel((text_width + 2 * padding, line_height * len(lines) + 2 * padding))
            for row, line in enumerate(lines):
                panel.blit(line, ((panel.get_width() - line.get_width()) // 2, padding + row * line_height))
            panel.set_alpha(round(255 * opacity))
            bottom -= panel.get_height()
            drawn.append(surface.blit(panel, ((surface.get_width() - panel.get_width()) // 2, bottom)))
            bottom -= padding
        return drawn

    def draw_banner(self, surface: pygame.Surface, text: str, *, dim: bool = True) -> pygame.Rect:
        """A message in the middle of the frame, over a dimmed frame (e.g. while the camera is lost)."""
        if dim:
            shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
            shade.fill((0, 0, 0, 140))
            surface.blit(shade, (0, 0))
        rendered = self.title_font.render(text, True, self.style.text)
        padding = self._px(2 * self.style.padding)
        panel = self._panel((rendered.get_width() + 2 * padding, rendered.get_height() + 2 * padding))
        panel.blit(rendered, (padding, padding))
        return surface.blit(panel, panel.get_rect(center=surface.get_rect().center))

    def draw_help(self, surface: pygame.Surface, entries: Sequence[tuple[str, str]]) -> pygame.Rect:
        """The key list, centred over a dimmed frame: `entries` are (keys, what they do)."""
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 150))
        surface.blit(shade, (0, 0))
        style = self.style
        padding = self._px(2 * style.padding)
        title = self.title_font.render("Keys", True, style.highlight)
        keys = [self.font.render(keys, True, style.highlight) for keys, _ in entries]
        actions = [self.font.render(action, True, style.text) for _, action in entries]
        key_width = max((key.get_width() for key in keys), default=0)
        action_width = max((action.get_width() for action in actions), default=0)
        line = self.font.get_linesize()
        width = max(title.get_width(), key_width + padding + action_width) + 2 * padding
        height = title.get_height() + padding // 2 + line * len(entries) + 2 * padding
        panel = self._panel((width, height))
        panel.blit(title, (padding, padding))
        for row, (key, action) in enumerate(zip(keys, actions)):
            y = padding + title.get_height() + padding // 2 + row * line
            panel.blit(key, (padding, y))
            panel.blit(action, (padding + key_width + padding, y))
        return surface.blit(panel, panel.get_rect(center=surface.get_rect().center))
