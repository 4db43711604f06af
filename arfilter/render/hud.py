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

from arfilter.core.types import HELD, FaceResult
from arfilter.render.layout import LayoutOptions, PanelRequest, hat_region, layout_hud, place_toasts
from arfilter.resources import HUD_FONT

Color = tuple[int, int, int]
Box = tuple[int, int, int, int]

REFERENCE_HEIGHT = 480  # frame height at which the HUD is drawn at 1x
# Below this pixel size DejaVu Sans stops being comfortably readable on a video frame.
MIN_FONT_SIZE = 11
# Long toasts wrap to at most this many lines (a saved file's whole path fits); what is left is
# shortened with an ellipsis.
MAX_TOAST_LINES = 3
ELLIPSIS = "\u2026"


def _after_slashes(word: str) -> list[str]:
    """"/a/b/c.png" -> ["/", "a/", "b/", "c.png"]: a path cut where a line may break."""
    pieces = word.split("/")
    return [piece + "/" for piece in pieces[:-1]] + [pieces[-1]]


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
                   recording_s: float | None = None, source_fps: float | None = None) -> pygame.Rect:
        """The shown rate ("--" until measured) and the source's own when it has one ("24.1 of
        30 fps": a slow machine is told apart from a slow video), the face count and short state
        notes ("paused", the filter pack) in the top-left corner; while recording, a red dot and
        the recording's length. Returns the area drawn."""
        shown = "--" if fps is None else f"{fps:4.1f}"
        rate = f"{shown} of {source_fps:g} fps" if source_fps else f"{shown} fps"
        parts = [rate, f"{face_count} face" + ("" if face_count == 1 else "s"), *notes]
        if recording_s is not None:
            minutes, seconds = divmod(int(recording_s), 60)
            parts.insert(0, f"REC {minutes}:{seconds:02d}")
        return self.draw_notes(surface, parts, recording=recording_s is not None)

    def draw_notes(self, surface: pygame.Surface, parts: Sequence[str], *, recording: bool = False) -> pygame.Rect:
        """Short notes on one line in the top-left corner (a red dot first while recording)."""
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

    def draw_all_face_bars(self, surface: pygame.Surface, faces: Sequence[FaceResult], *, untracked: Sequence[Box] = (),
                           props: Sequence[Box] | None = None, forbidden: Sequence[Box] = (),
                           raw: bool = False) -> list[pygame.Rect]:
        """Bars beside every face, placed by `arfilter.render.layout.layout_hud`: clear of every
        face (`untracked` ones too) and of the pack's `props` (by default the region above each
        face where hats go), smaller when there is no room at full size, and never on a
        `forbidden` area (the stats readout) or on another panel. `raw` shows the frame's own
        probabilities instead of the smoothed ones the label is decided from. Returns the
        panels' rectangles."""
        tracked = {face.track_id for face in faces}
        self._panel_offsets = {track: offset for track, offset in self._panel_offsets.items() if track in tracked}
        if props is None:
            props = [hat_region(face.box) for face in faces]
        requests = [PanelRequest(face.track_id, face.box, self.bars_panel_size(face.labels)) for face in faces]
        layout = layout_hud(surface.get_size(), requests, faces=[*untracked], props=props, reserved=forbidden,
                            keep=self._panel_offsets, options=LayoutOptions(margin=self._px(self.style.margin)))
        by_id = {face.track_id: face for face in faces}
        drawn = []
        for placed in layout.panels:
            face = by_id[placed.track_id]
            panel = self._bars_panel(face, raw)
            if placed.scale < 1.0:
                panel = pygame.transform.smoothscale(panel, placed.rect[2:])
            self._panel_offsets[face.track_id] = (placed.rect[0] - face.box[0], placed.rect[1] - face.box[1])
            rect = surface.blit(panel, placed.rect[:2])
            self._draw_leader(surface, rect, face.box)
            drawn.append(rect)
        return drawn

    def _bars_panel(self, face: FaceResult, raw: bool) -> pygame.Surface:
        """One probability bar per label, the shown label highlighted; while the label is held
        (another one leads, not yet for long enough), the leader's name is underlined."""
        style = self.style
        width, height = self.bars_panel_size(face.labels)
        padding = self._px(style.padding)
        panel = self._panel((width, height))
        row_height = self.small_font.get_height() + self._px(style.row_gap)
        bar_x = padding + self.label_width(face.labels) + padding
        bar_width = self._px(style.bar_width)
        bar_height = max(2, self.small_font.get_height() - self._px(6))
        probabilities = face.frame_probabilities if raw else face.probabilities
        leader = face.labels[int(max(range(len(face.labels)), key=lambda index: face.probabilities[index]))]
        for row, (label, probability) in enumerate(zip(face.labels, probabilities, strict=True)):
            probability = float(min(1.0, max(0.0, probability))) if math.isfinite(probability) else 0.0
            color = style.highlight if label == face.label else style.text
            y = padding + row * row_height
            name = self.small_font.render(label, True, color)
            panel.blit(name, (padding, y))
            if face.state == HELD and label == leader:
                underline_y = y + self.small_font.get_ascent() + self._px(1)
                pygame.draw.line(panel, style.highlight, (padding, underline_y), (padding + name.get_width(), underline_y),
                                 self._px(1))
            bar_top = y + (self.small_font.get_height() - bar_height) // 2
            pygame.draw.rect(panel, style.bar_track, (bar_x, bar_top, bar_width, bar_height))
            filled = round(bar_width * probability)
            if filled:
                pygame.draw.rect(panel, style.highlight if label == face.label else style.bar,
                                 (bar_x, bar_top, filled, bar_height))
            percent = self.small_font.render(f"{probability:.0%}", True, color)
            panel.blit(percent, (width - padding - percent.get_width(), y))
        return panel

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

        Lines break at spaces; a file path too long for a line breaks after its slashes, so
        the whole path stays readable; a piece still too long is cut in its middle with an
        ellipsis, keeping both ends, and text beyond the last line is cut with an ellipsis.
        """
        font = self.font
        tokens: list[tuple[str, str]] = []  # (piece, what joins it to the piece before: a space or nothing)
        for word in text.split():
            pieces = [word] if font.size(word)[0] <= width else [piece for piece in _after_slashes(word) if piece]
            tokens += [(piece, " " if index == 0 else "") for index, piece in enumerate(pieces)]
        lines: list[str] = []
        while tokens and len(lines) < max_lines:
            line = tokens.pop(0)[0]
            if font.size(line)[0] > width:
                line = self._shorten_middle(line, width)
            while tokens and font.size(f"{line}{tokens[0][1]}{tokens[0][0]}")[0] <= width:
                piece, glue = tokens.pop(0)
                line = f"{line}{glue}{piece}"
            lines.append(line)
        if tokens:
            last = lines[-1] + "".join(glue + piece for piece, glue in tokens)
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

    def draw_toasts(self, surface: pygame.Surface, toasts: Toasts, now: float | None = None,
                    taken: Sequence[Box] = ()) -> list[pygame.Rect]:
        """Visible toasts stacked, newest lowest, fading out, where they touch nothing in `taken`
        (the bars, the stats; see `layout.place_toasts`): at the bottom of the frame when it is
        free. Long ones wrap or shorten (`fit_lines`) to stay inside the frame."""
        padding = self._px(self.style.padding)
        margin = self._px(self.style.margin)
        panels = []
        for text, opacity in toasts.visible(now):
            lines = [self.font.render(line, True, self.style.text)
                     for line in self.fit_lines(text, surface.get_width() - 2 * (margin + padding))]
            line_height = self.font.get_linesize()
            text_width = max(line.get_width() for line in lines)
            panel = self._panel((text_width + 2 * padding, line_height * len(lines) + 2 * padding))
            for row, line in enumerate(lines):
                panel.blit(line, ((panel.get_width() - line.get_width()) // 2, padding + row * line_height))
            panel.set_alpha(round(255 * opacity))
            panels.append(panel)
        spots = place_toasts(surface.get_size(), [panel.get_size() for panel in panels], taken,
                             LayoutOptions(margin=margin, toast_gap=padding))
        return [surface.blit(panel, spot[:2]) for panel, spot in zip(panels, spots)]

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
