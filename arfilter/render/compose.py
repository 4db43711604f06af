"""The one composer: a FrameResult drawn as people see it, for every front end and every output.

The window, the web page, the recordings (R and --record), the screenshots and the headless
outputs all draw through `Composer`, so what a user sees in one place is what they get in
another: the background blurred or replaced (`--background`), the current pack on every face on
top of it (the lens), then whichever HUD layers the caller asks for (probability bars beside each face, the stats line). Transient chrome (toasts, help, banners)
is the window's own and is drawn by it on a copy, never into what is saved.

pygame (the HUD's text) is imported only when a HUD layer is first drawn: a headless run that
saves the lens alone never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from arfilter.core.types import FrameResult
from arfilter.render.background import BackgroundCompositor, BackgroundOptions, with_background
from arfilter.render.layout import untracked_note
from arfilter.render.packs import PackSet

if TYPE_CHECKING:
    from arfilter.render.hud import Hud
    from arfilter.vision.segmentation import SelfieSegmenter

# pygame's font rendering goes through one FreeType library shared by all fonts; drawing from
# several threads at once (the web server's sessions) is not documented as safe and takes about
# a millisecond, so HUD drawing is serialised across composers.
_FONT_LOCK = threading.Lock()


@dataclass(frozen=True)
class Stats:
    """The stats line: frames shown per second (None until measured) and the source's own rate
    (None for a camera), state notes, and while recording its length so far."""

    fps: float | None
    notes: tuple[str, ...] = ()
    recording_s: float | None = None
    source_fps: float | None = None


@dataclass(frozen=True)
class HudLayers:
    """Which HUD layers go on top of the lens: the bars beside each face (the frame's own
    probabilities with `raw`, else the smoothed ones the label is decided from), the stats line."""

    bars: bool = False
    stats: Stats | None = None
    raw: bool = False

    @property
    def empty(self) -> bool:
        return not self.bars and self.stats is None


LENS_ONLY = HudLayers()


class Composer:
    """Draws results: the current pack of `packs`, then the HUD layers asked for.

    Keeps one `Hud` per frame height (fonts are sized to the frame), so a camera that changes
    resolution gets a HUD at its new size. One composer serves one stream (a window, a web
    session); composers of different streams may run in different threads.
    """

    def __init__(self, packs: PackSet, background: BackgroundCompositor | None = None) -> None:
        self.packs = packs
        self.background = background  # blurs or replaces what is not the person, under the pack
        self._hud: Hud | None = None

    @property
    def background_options(self) -> BackgroundOptions:
        return self.background.options if self.background is not None else BackgroundOptions()

    def set_background(self, options: BackgroundOptions, segmenter: Callable[[], SelfieSegmenter]) -> None:
        """Blur, replace or keep the background from the next frame on; `segmenter` is called only the first
        time a background other than "none" is asked for. BackgroundError for a picture that cannot be used."""
        if self.background is not None:
            self.background.set_options(options)
        elif options.mode != "none":
            self.background = BackgroundCompositor(segmenter(), options)

    def lens(self, result: FrameResult) -> np.ndarray:
        """A copy of the frame with its background blurred or replaced (if asked) and the current pack
        on every face, and nothing else. Call it once per frame: the background keeps state over time."""
        return self.packs.render(with_background(result, self.background))

    def compose(self, result: FrameResult, layers: HudLayers = LENS_ONLY, *, lens: np.ndarray | None = None) -> np.ndarray:
        """The lens with `layers` drawn on top, as a new RGB array; `lens` reuses an image from `lens()`."""
        return self.compose_with_areas(result, layers, lens=lens)[0]

    def compose_with_areas(self, result: FrameResult, layers: HudLayers = LENS_ONLY, *,
                           lens: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
        """`compose`, and the (x, y, w, h) of every HUD panel drawn: chrome drawn later (the
        window's toasts) keeps clear of them."""
        image = self.lens(result) if lens is None else np.ascontiguousarray(lens).copy()
        if layers.empty or (layers.stats is None and not result.faces):
            return image, []
        import pygame

        note = untracked_note(len(result.untracked) + len(result.faces), len(result.faces), len(result.faces))
        areas: list[tuple[int, int, int, int]] = []
        with _FONT_LOCK:
            hud = self._hud_for(image.shape[0])
            # A surface over the array's own memory: the HUD lands in `image`, no copies.
            surface = pygame.image.frombuffer(image.data, (image.shape[1], image.shape[0]), "RGB")
            stats = layers.stats
            if stats is None and layers.bars and note is not None:  # the page: no stats line, the note alone
                rect = hud.draw_notes(surface, [note])
                areas.append((rect.x, rect.y, rect.width, rect.height))
            if stats is not None:
                notes = (*stats.notes, *(("bars: this frame",) if layers.raw and layers.bars else ()),
                         *((note,) if note is not None else ()))
                rect = hud.draw_stats(surface, stats.fps, len(result.faces), notes=notes, recording_s=stats.recording_s,
                                      source_fps=stats.source_fps)
                areas.append((rect.x, rect.y, rect.width, rect.height))
            if layers.bars:
                panels = hud.draw_all_face_bars(surface, result.faces, untracked=result.untracked,
                                                props=self.packs.prop_boxes(result), forbidden=list(areas),
                                                raw=layers.raw)
                areas += [(rect.x, rect.y, rect.width, rect.height) for rect in panels]
            del surface
        return image, areas

    def hud(self, frame_height: int) -> Hud:
        """The HUD for frames of this height, for chrome the caller draws itself (the window's toasts)."""
        with _FONT_LOCK:
            return self._hud_for(frame_height)

    def _hud_for(self, frame_height: int) -> Hud:
        from arfilter.render.hud import Hud

        if self._hud is None or self._hud.frame_height != frame_height:
            self._hud = Hud(frame_height)
        return self._hud
