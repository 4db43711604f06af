"""Where the HUD goes: a pure function from what is on the frame to where each panel is drawn.

The bars are there to explain the lens, so they must not hide it: a panel goes where there
is no face (tracked or not: a face the tracker left out is still someone's face) and no prop
(the hat, the crown a pack draws above a face), shrinks when the frame has no room for it at
full size, and only as a last resort covers a face, the least it can. Toasts are placed after
the panels and never over them (nor over the stats readout): a message that hides the bars
it talks about is no help. Nothing here draws or needs pygame, so the rules are tested on
rectangles, and the window, the page and a recording share one layout.

Boxes are (x, y, w, h) in frame pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]
Size = tuple[int, int]


def overlap(a: Box, b: Box) -> int:
    """Area shared by two (x, y, w, h) rectangles."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def hat_region(box: Box) -> Box:
    """The area above a face box where hair, hats and horns go.

    The face box comes from the landmarks, which stop at the brow; hats, horns and hair
    reach about half a face higher. Used where a pack's own prop boxes are not known.
    """
    x, y, w, h = box
    return (round(x - 0.15 * w), round(y - 0.5 * h), round(1.3 * w), round(0.5 * h))


def untracked_note(detected: int, tracked: int, max_faces: int) -> str | None:
    """"2 faces not tracked (max 1)" when the detector found more faces than are tracked, else None."""
    left_out = detected - tracked
    if left_out <= 0:
        return None
    return f"{left_out} face{'' if left_out == 1 else 's'} not tracked (max {max_faces})"


@dataclass(frozen=True)
class LayoutOptions:
    """margin: gap between a panel and its face, and from the frame edge (pixels).
    scales: panel sizes tried in turn (1 = full size); the smallest is the least a panel shrinks
        to before it may cover a face. Smaller steps find a bigger panel that fits, at more tries.
    toast_gap: space between stacked toasts, and between the stack and a panel.
    """

    margin: int = 8
    scales: tuple[float, ...] = (1.0, 0.85, 0.7, 0.55)
    toast_gap: int = 6

    def __post_init__(self) -> None:
        if self.margin < 0 or self.toast_gap < 0:
            raise ValueError("margin and toast_gap must be zero or more")
        if not self.scales or any(not 0 < scale <= 1 for scale in self.scales):
            raise ValueError(f"scales must be between 0 (excluded) and 1, got {self.scales}")


@dataclass(frozen=True)
class PanelRequest:
    """A panel to place: whose it is, the face box it belongs beside, and its full size."""

    track_id: int
    box: Box
    size: Size


@dataclass(frozen=True)
class PlacedPanel:
    track_id: int
    rect: Box
    scale: float  # of the requested size; the panel is drawn at this scale
    covers_face: bool  # True only when no spot in the frame was free of faces at the smallest scale


@dataclass(frozen=True)
class HudLayout:
    panels: tuple[PlacedPanel, ...]
    toasts: tuple[Box, ...]  # in the order the toast sizes were given


def layout_hud(frame_size: Size, panels: Sequence[PanelRequest], *, faces: Sequence[Box] = (),
               props: Sequence[Box] = (), reserved: Sequence[Box] = (), toasts: Sequence[Size] = (),
               keep: Mapping[int, tuple[int, int]] | None = None,
               options: LayoutOptions = LayoutOptions()) -> HudLayout:
    """Place every panel, then the toasts.

    `faces`: every face box on the frame, tracked or not (the panels' own faces are added).
    `props`: what the pack draws (hats, crowns); `reserved`: areas nothing may cover (the
    stats readout). `keep`: each panel's previous offset from its face box's corner, tried
    first so a panel follows its face instead of hopping sides. `toasts`: sizes of the
    visible toasts, oldest first; the newest sits lowest.

    Each panel is tried at each scale, largest first, in three passes: clear of faces and
    props; clear of faces only; and at the smallest scale anywhere, covering faces least. A
    panel never covers a reserved area or a panel placed before it (both would be unreadable);
    when even that leaves no room (a frame smaller than a panel), the panel is left out.
    """
    keep = keep or {}
    all_faces = [*faces, *(panel.box for panel in panels if panel.box not in faces)]
    placed: list[PlacedPanel] = []
    for request in panels:
        taken = [*reserved, *(panel.rect for panel in placed)]
        found = _place_one(request, frame_size, all_faces, props, taken, keep.get(request.track_id), options)
        if found is not None:
            placed.append(found)
    toast_rects = place_toasts(frame_size, toasts, [*reserved, *(panel.rect for panel in placed)], options)
    return HudLayout(tuple(placed), toast_rects)


def _place_one(request: PanelRequest, frame_size: Size, faces: Sequence[Box], props: Sequence[Box],
               taken: Sequence[Box], keep: tuple[int, int] | None, options: LayoutOptions) -> PlacedPanel | None:
    others = [face for face in faces if face != request.box]
    passes: list[tuple[float, list[Box], Sequence[Box]]] = [(scale, [*taken, *faces, *props], ())
                                                            for scale in options.scales]
    passes += [(scale, [*taken, *faces], props) for scale in options.scales]
    for scale, forbidden, avoid in passes:
        size = _scaled(request.size, scale)
        position = place_panel(request.box, size, frame_size, options.margin, avoid=avoid, keep=keep,
                               forbidden=forbidden)
        if position is not None:
            return PlacedPanel(request.track_id, (*position, *size), scale, covers_face=False)
    scale = options.scales[-1]
    size = _scaled(request.size, scale)
    position = place_panel(request.box, size, frame_size, options.margin, avoid=[*others, *props], keep=keep,
                           forbidden=taken)
    if position is None:
        return None
    rect = (*position, *size)
    return PlacedPanel(request.track_id, rect, scale, covers_face=any(overlap(rect, face) for face in faces))


def _scaled(size: Size, scale: float) -> Size:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def place_panel(box: Box, panel_size: Size, frame_size: Size, margin: int, *, avoid: Sequence[Box] = (),
                keep: tuple[int, int] | None = None, forbidden: Sequence[Box] = ()) -> tuple[int, int] | None:
    """Top-left corner for a panel beside `box`, or None when every spot in the frame touches `forbidden`.

    Sides are tried in the order right, left, below, above; along each side the panel may
    slide as long as it stays level with the face, starting aligned with its top (or left)
    edge; `keep` (the previous offset from the box's corner) comes before them. Every try is
    kept inside the frame. Tries that touch a `forbidden` area are dropped; of the others the
    winner covers `box` least, then `avoid` least, then is earliest. When every try beside
    the face is forbidden, the panel goes to the free spot nearest the face anywhere in the
    frame (a grid of `margin`-sized steps).
    """
    panel_w, panel_h = panel_size
    frame_w, frame_h = frame_size
    tries = [(box[0] + keep[0], box[1] + keep[1])] if keep is not None else []
    tries += _tries_around(box, panel_size, margin)
    step = max(4, margin)
    grid_x, grid_y = np.meshgrid(np.arange(margin, max(margin, frame_w - margin - panel_w) + 1, step),
                                 np.arange(margin, max(margin, frame_h - margin - panel_h) + 1, step))
    centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
    for anywhere, candidates in ((False, np.array(tries, np.int64).reshape(-1, 2)),
                                 (True, np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))):
        xs = np.clip(candidates[:, 0], margin, max(margin, frame_w - margin - panel_w))
        ys = np.clip(candidates[:, 1], margin, max(margin, frame_h - margin - panel_h))
        free = ~np.any([_overlaps(xs, ys, panel_size, area) > 0 for area in forbidden], axis=0) if forbidden \
            else np.ones(len(xs), bool)
        if not free.any():
            continue
        own = _overlaps(xs, ys, panel_size, box)
        soft = np.sum([_overlaps(xs, ys, panel_size, area) for area in avoid], axis=0) if avoid else np.zeros(len(xs))
        distance = (np.hypot(xs + panel_w / 2 - centre[0], ys + panel_h / 2 - centre[1]) if anywhere
                    else np.arange(len(xs), dtype=np.float64))
        order = np.lexsort((distance, soft, own))  # own overlap first, then `avoid`, then distance or try order
        best = order[free[order]][0]
        return int(xs[best]), int(ys[best])
    return None


def _overlaps(xs: np.ndarray, ys: np.ndarray, size: Size, area: Box) -> np.ndarray:
    """Overlap area of a panel of `size` at each (xs, ys) with `area`."""
    width = np.minimum(xs + size[0], area[0] + area[2]) - np.maximum(xs, area[0])
    height = np.minimum(ys + size[1], area[1] + area[3]) - np.maximum(ys, area[1])
    return np.maximum(0, width) * np.maximum(0, height)


def _tries_around(box: Box, panel_size: Size, margin: int) -> list[tuple[int, int]]:
    """Panel corners beside `box`: right, left, below, above, each sliding along that side."""
    x, y, w, h = box
    panel_w, panel_h = panel_size

    def slides(start: int, low: int, high: int) -> list[int]:
        return sorted(range(low, high + 1, max(4, margin)), key=lambda value: abs(value - start)) or [start]

    side_ys = slides(y, y - panel_h + margin, y + h - margin)
    side_xs = slides(x, x - panel_w + margin, x + w - margin)
    return ([(x + w + margin, try_y) for try_y in side_ys] + [(x - margin - panel_w, try_y) for try_y in side_ys]
            + [(try_x, y + h + margin) for try_x in side_xs] + [(try_x, y - margin - panel_h) for try_x in side_xs])


def place_toasts(frame_size: Size, sizes: Sequence[Size], taken: Sequence[Box],
                 options: LayoutOptions = LayoutOptions()) -> tuple[Box, ...]:
    """Toast rectangles (oldest first, the newest lowest), stacked and centred at the bottom of
    the frame, else at its top, else in a bottom or top corner: the first spot where the
    stack touches nothing in `taken` (the panels, the stats). When every spot does, the one
    that covers least."""
    if not sizes:
        return ()
    frame_w, frame_h = frame_size
    margin, gap = options.margin, options.toast_gap
    stack_w = max(width for width, _ in sizes)
    stack_h = sum(height for _, height in sizes) + gap * (len(sizes) - 1)
    bottom, top = frame_h - margin - stack_h, margin
    below_taken = max((area[1] + area[3] + gap for area in taken if area[1] < frame_h / 3), default=margin)
    centre, left, right = (frame_w - stack_w) // 2, margin, frame_w - margin - stack_w
    spots = [(centre, bottom), (centre, top), (centre, below_taken), (left, bottom), (right, bottom),
             (right, top), (left, below_taken)]
    padded = [(x - gap, y - gap, w + 2 * gap, h + 2 * gap) for x, y, w, h in taken]

    def stack_at(x: int, y: int) -> tuple[Box, ...]:
        rects = []
        lowest = y + stack_h
        for width, height in reversed(sizes):  # newest first, lowest
            lowest -= height
            rects.append((x + (stack_w - width) // 2, lowest, width, height))
            lowest -= gap
        return tuple(reversed(rects))

    def cost(spot: tuple[int, int]) -> int:
        return sum(overlap(rect, area) for rect in stack_at(*spot) for area in padded)

    return stack_at(*min(spots, key=cost))  # min keeps the first of equal costs

