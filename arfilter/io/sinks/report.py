"""The report sink (`--report report.html` or `--report report.png`): a video's emotions at a glance.

Reading thousands of JSON lines is not how most people want to learn what happened in a
clip. The report shows, for every tracked face, a timeline of the emotion probabilities
(stacked, so the biggest share is the biggest band), the label that was shown below it,
a thumbnail of the face wherever the label changed, and the share of time spent in each
emotion; the run's settings close the page, so a report says how it was made.

The charts are drawn by matplotlib (a maintained charting library, already used by the
training scripts; imported only when a report is written). The HTML file embeds each chart
as an SVG image and needs nothing else: no script, no font, no network. A PNG report is the
same charts stacked in one picture. The file is written once, at `close()`, through a
temporary file and a rename, so an interrupted run leaves the whole report of what it saw
or nothing, never half a file.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from arfilter.core.types import FaceResult, FrameResult
from arfilter.errors import OutputError
from arfilter.io.paths import prepare_folder
from arfilter.io.safe_write import write_atomically

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

REPORT_SUFFIXES = (".html", ".htm", ".png")

# One colour per FER2013 label, chosen to read as the emotion (and to stay apart for the
# common colour-vision deficiencies as far as seven colours can); labels of another model
# take matplotlib's tab10 colours in order.
LABEL_COLORS: dict[str, str] = {
    "angry": "#d62728",
    "disgust": "#2ca02c",
    "fear": "#9467bd",
    "happy": "#f2c12e",
    "neutral": "#9a9a9a",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
}
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
SETTLING_COLOR = "#e6e6e6"


@dataclass(frozen=True)
class ReportOptions:
    """What the report keeps and how big it draws it.

    thumbnail_px: side of a face thumbnail. Larger shows the expression better, but the
        thumbnails of close label changes then overlap sooner (overlapping ones are left out).
    max_thumbnails: thumbnails kept per face; beyond it every second one is dropped, so a
        long, changeable clip keeps thumbnails spread over its whole length.
    max_points: timeline samples drawn per face; longer runs are averaged into this many
        bins (a chart cannot show more points than it has pixels, and the file stays small).
    chart_width_in / face_height_in: size of one face's chart (matplotlib inches, 100 px each).
    """

    thumbnail_px: int = 64
    max_thumbnails: int = 16
    max_points: int = 1200
    chart_width_in: float = 11.0
    face_height_in: float = 3.6

    def __post_init__(self) -> None:
        for name in ("thumbnail_px", "max_thumbnails", "max_points"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.chart_width_in <= 0 or self.face_height_in <= 0:
            raise ValueError("chart_width_in and face_height_in must be positive")


@dataclass(frozen=True)
class Thumbnail:
    """The face where its shown label changed to `label`."""

    time_s: float
    label: str
    image: np.ndarray  # (thumbnail_px, thumbnail_px, 3) uint8 RGB


@dataclass
class FaceTimeline:
    """Everything the report keeps about one track, frame by frame."""

    track_id: int
    labels: tuple[str, ...]
    times: list[float] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)
    shown: list[str | None] = field(default_factory=list)  # the label shown, None while the face settles
    thumbnails: list[Thumbnail] = field(default_factory=list)

    def durations(self) -> np.ndarray:
        """How long each sample stands for: until the next one, the last (and a lone one) for a typical step."""
        times = np.asarray(self.times, np.float64)
        steps = np.diff(times)
        typical = float(np.median(steps[steps > 0])) if np.any(steps > 0) else 1.0
        # A gap longer than a few steps is time the face was not followed, not time in a label.
        return np.clip(np.append(steps, typical), 0.0, 3.0 * typical)

    def shares(self) -> dict[str, float]:
        """Share of the face's settled time spent in each label (0..1, in the model's label order)."""
        durations = self.durations()
        totals = dict.fromkeys(self.labels, 0.0)
        for label, duration in zip(self.shown, durations):
            if label is not None and label in totals:
                totals[label] += float(duration)
        whole = sum(totals.values())
        return {label: (total / whole if whole > 0 else 0.0) for label, total in totals.items()}

    def segments(self) -> list[tuple[float, float, str | None]]:
        """(start, duration, label) runs of the shown label."""
        durations = self.durations()
        runs: list[tuple[float, float, str | None]] = []
        for time_s, duration, label in zip(self.times, durations, self.shown):
            if runs and runs[-1][2] == label:
                start, length, _ = runs[-1]
                runs[-1] = (start, length + float(duration), label)
            else:
                runs.append((time_s, float(duration), label))
        return runs


def label_colors(labels: Sequence[str]) -> list[str]:
    """A colour per label: the emotion's own for FER2013 labels, tab10's in order for others."""
    others = iter(TAB10 * (len(labels) // len(TAB10) + 1))
    return [LABEL_COLORS.get(label) or next(others) for label in labels]


def face_thumbnail(image: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray | None:
    """A square crop around the face box (with some hair and chin), `size` px a side; None when off-frame."""
    x, y, w, h = box
    side = round(1.4 * max(w, h))
    centre_x, centre_y = x + w / 2, y + h / 2
    left, top = round(centre_x - side / 2), round(centre_y - side / 2)
    height, width = image.shape[:2]
    crop = image[max(0, top):min(height, top + side), max(0, left):min(width, left + side)]
    if crop.size == 0 or side < 2:
        return None
    padded = np.zeros((side, side, 3), np.uint8)  # a face at the edge stays centred, the outside black
    padded[max(0, -top):max(0, -top) + crop.shape[0], max(0, -left):max(0, -left) + crop.shape[1]] = crop
    return cv2.resize(padded, (size, size), interpolation=cv2.INTER_AREA)


class ReportSink:
    """Collects every face's probabilities and labels, and writes the report when closed.

    `settings` are the run's settings as the user would name them ({"source": "clip.mp4",
    "pack": "emoji", ...}), shown at the end of the report.
    """

    needs_image = False  # thumbnails come from the frame itself: the report shows faces, not the lens

    def __init__(self, path: Path, settings: Mapping[str, str] = {}, options: ReportOptions = ReportOptions()) -> None:
        suffix = path.suffix.lower()
        if suffix not in REPORT_SUFFIXES:
            raise OutputError(f"--report {path}: a report is an HTML page or a PNG picture; pass a name ending in "
                              f".html or .png, e.g. --report {path.with_suffix('.html')}")
        prepare_folder(path.parent, "report", for_file=path)
        self.path = path
        self.settings = dict(settings)
        self.options = options
        self.faces: dict[int, FaceTimeline] = {}
        self.frames = 0
        self.source = ""
        self.first_time_s: float | None = None
        self.last_time_s = 0.0
        self.x_label = "time (s)"
        self._written = False

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        self.frames += 1
        self.source = self.source or result.frame.source
        self.x_label = "image" if result.frame.is_still else "time (s)"  # stills are numbered, not timed
        time_s = result.frame.timestamp_s if not result.frame.is_still else float(result.frame.index)
        if self.first_time_s is None:
            self.first_time_s = time_s
        self.last_time_s = time_s
        for face in result.faces:
            self._add(face, time_s, result.frame.image)

    def _add(self, face: FaceResult, time_s: float, frame_image: np.ndarray) -> None:
        timeline = self.faces.setdefault(face.track_id, FaceTimeline(face.track_id, face.labels))
        shown = face.label if face.settled else None
        changed = shown is not None and shown != next((label for label in reversed(timeline.shown) if label), None)
        timeline.times.append(time_s)
        timeline.probabilities.append(np.asarray(face.probabilities, np.float32))
        timeline.shown.append(shown)
        if changed and shown is not None:
            thumbnail = face_thumbnail(frame_image, face.box, self.options.thumbnail_px)
            if thumbnail is not None:
                timeline.thumbnails.append(Thumbnail(time_s, shown, thumbnail))
                if len(timeline.thumbnails) > self.options.max_thumbnails:
                    del timeline.thumbnails[1::2]

    def span(self) -> tuple[float, float]:
        """(start, end) of the run in seconds, the shared time axis of every face's chart."""
        ends = [timeline.times[-1] + float(timeline.durations()[-1]) for timeline in self.faces.values()]
        start = self.first_time_s or 0.0
        end = max([self.last_time_s, *ends])
        return start, (end if end > start else start + 1.0)

    def close(self) -> None:
        if self._written:
            return
        self._written = True
        data = render_png(self) if self.path.suffix.lower() == ".png" else render_html(self).encode()
        write_atomically(self.path, data, "--report")

    def describe(self) -> str:
        faces = len(self.faces)
        return f"{self.path.resolve()} (report of {faces} face{'' if faces == 1 else 's'})"


# --------------------------------------------------------------------------- drawing


def _binned(timeline: FaceTimeline, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, probabilities (labels x samples)), averaged into at most `max_points` bins."""
    times = np.asarray(timeline.times, np.float64)
    probabilities = np.stack(timeline.probabilities).astype(np.float64)
    if len(times) > max_points:
        bins = np.array_split(np.arange(len(times)), max_points)
        times = np.array([times[b].mean() for b in bins])
        probabilities = np.stack([probabilities[b].mean(axis=0) for b in bins])
    return times, probabilities.T


def draw_face(figure: Figure | SubFigure, timeline: FaceTimeline, options: ReportOptions,
              span: tuple[float, float], x_label: str = "time (s)") -> None:
    """One face's chart: stacked probabilities over time, the shown label, thumbnails, share of time.

    `span` is the whole run's (start, end): every face is drawn on the same time axis, so
    two faces' charts line up.
    """
    colors = label_colors(timeline.labels)
    grid = figure.add_gridspec(3, 2, width_ratios=(5, 1), height_ratios=(1.6, 4, 0.5), hspace=0.06, wspace=0.05)
    thumbs = figure.add_subplot(grid[0, 0])
    stack = figure.add_subplot(grid[1, 0], sharex=thumbs)
    track = figure.add_subplot(grid[2, 0], sharex=thumbs)
    share = figure.add_subplot(grid[1:, 1])
    times, probabilities = _binned(timeline, options.max_points)
    start, end = span
    if len(times) == 1:  # one sample: a band as wide as its duration
        times, probabilities = np.array([start, end]), np.repeat(probabilities, 2, axis=1)
    stack.stackplot(times, probabilities, colors=colors, labels=timeline.labels, linewidth=0)
    stack.set_ylim(0, 1)
    stack.set_xlim(start, end)
    stack.set_ylabel("probability")
    stack.tick_params(labelbottom=False)
    color_of = dict(zip(timeline.labels, colors))
    for segment_start, length, label in timeline.segments():
        track.broken_barh([(segment_start, length)], (0, 1), color=color_of.get(label or "", SETTLING_COLOR))
    track.set_yticks([0.5], ["shown"])
    track.set_ylim(0, 1)
    track.set_xlabel(x_label)
    name = figure.add_subplot(grid[0, 1])
    name.axis("off")
    name.text(0.05, 0.5, f"face {timeline.track_id}", fontsize=13, fontweight="bold", va="center")
    thumbs.set_zorder(3)  # thumbnails may reach over the chart's top edge
    thumbs.patch.set_visible(False)
    thumbs.set_ylim(0, 1)
    thumbs.set_yticks([])
    thumbs.tick_params(labelbottom=False, bottom=False)
    for spine in ("top", "right", "left", "bottom"):
        thumbs.spines[spine].set_visible(False)
    _place_thumbnails(thumbs, timeline, options, start, end)
    shares = timeline.shares()
    share.barh(range(len(timeline.labels)), [100 * shares[label] for label in timeline.labels], color=colors)
    share.set_yticks(range(len(timeline.labels)), timeline.labels, fontsize=8)
    share.yaxis.tick_right()
    share.invert_yaxis()
    share.set_xlim(0, 100)
    share.set_xlabel("% of time shown", fontsize=8)
    share.tick_params(axis="x", labelsize=8)


def _place_thumbnails(axes: Axes, timeline: FaceTimeline, options: ReportOptions, start: float, end: float) -> None:
    """Thumbnails at their label changes; one that would overlap the previous one is left out."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    width_px = axes.get_position().width * options.chart_width_in * 100  # the timeline's width in pixels
    width_s = (options.thumbnail_px + 8) * max(end - start, 1e-9) / width_px  # with its frame
    last_x: float | None = None
    for thumbnail in timeline.thumbnails:
        x = min(thumbnail.time_s, end - width_s)  # one near the end stays over the chart
        if last_x is not None and x - last_x < width_s:
            continue
        last_x = x
        box = AnnotationBbox(OffsetImage(thumbnail.image), (x, 0.5), frameon=True, box_alignment=(0.0, 0.5), pad=0.1,
                             zorder=5, bboxprops={"edgecolor": label_colors([thumbnail.label])[0], "linewidth": 2})
        axes.add_artist(box)


def _figure(width_in: float, height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=100, layout=None)


def _save(figure: Figure, fmt: str) -> bytes:
    from matplotlib import rc_context

    buffer = io.BytesIO()
    # Fixed hash salt and no date: the same run writes the same file.
    with rc_context({"svg.hashsalt": "arfilter", "svg.fonttype": "path"}):
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else {"Software": None})
    return buffer.getvalue()


def face_chart(timeline: FaceTimeline, options: ReportOptions, span: tuple[float, float],
               x_label: str = "time (s)") -> bytes:
    """One face's chart as an SVG file."""
    figure = _figure(options.chart_width_in, options.face_height_in)
    figure.subplots_adjust(left=0.07, right=0.93, top=0.9, bottom=0.14)
    draw_face(figure, timeline, options, span, x_label)
    return _save(figure, "svg")


def render_png(report: ReportSink) -> bytes:
    """Every face's chart stacked in one PNG, under a title naming the source and the settings."""
    options = report.options
    faces = [report.faces[track] for track in sorted(report.faces)]
    header_in = 0.7
    rows = max(1, len(faces))
    figure = _figure(options.chart_width_in, header_in + options.face_height_in * rows)
    parts = figure.subfigures(rows + 1, 1, height_ratios=(header_in, *[options.face_height_in] * rows), squeeze=False)
    header, panels = parts[0, 0], list(parts[1:, 0])
    header.text(0.02, 0.62, f"Emotions in {report.source or 'the source'}: {_overview(report)}", fontsize=13)
    header.text(0.02, 0.2, "; ".join(f"{key} {value}" for key, value in report.settings.items()), fontsize=8,
                color="#444444")
    for panel, timeline in zip(panels, faces):
        panel.subplots_adjust(left=0.07, right=0.93, top=0.9, bottom=0.14)
        draw_face(panel, timeline, options, report.span(), report.x_label)
    if not faces:
        panels[0].text(0.5, 0.5, f"No face was found in {report.frames} frame(s).", ha="center", fontsize=14)
    return _save(figure, "png")


def _overview(report: ReportSink) -> str:
    duration = max(0.0, report.last_time_s - (report.first_time_s or 0.0))
    faces = len(report.faces)
    return f"{faces} face{'' if faces == 1 else 's'} in {report.frames} frame(s), {duration:.1f} s"


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1160px; padding: 0 1rem; color: #1b1d23; }
h1 { font-size: 1.45rem; margin-bottom: .2rem; }
.overview { color: #4a4f5c; margin-top: 0; }
section.face { border-top: 1px solid #d9dce3; padding-top: .6rem; margin-top: 1.2rem; }
img.timeline { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: .9rem; }
td, th { padding: .15rem .7rem .15rem 0; text-align: left; }
td.share { font-variant-numeric: tabular-nums; text-align: right; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .35em; vertical-align: -.05em; }
"""


def render_html(report: ReportSink) -> str:
    """The report as one HTML page with every chart embedded (SVG images as data URLs)."""
    options = report.options
    escape = html.escape
    title = f"Emotions in {report.source or 'the source'}"
    parts = [
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} (arfilter report)</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>", f'<p class="overview">{escape(_overview(report))}</p>',
    ]
    if not report.faces:
        parts.append(f"<p>No face was found in {report.frames} frame(s).</p>")
    for track in sorted(report.faces):
        timeline = report.faces[track]
        shares = timeline.shares()
        top = max(shares, key=lambda label: shares[label])
        chart = base64.b64encode(face_chart(timeline, options, report.span(), report.x_label)).decode()
        seen = (f"seen in image {timeline.times[0]:.0f}" if report.x_label == "image"
                else f"seen from {timeline.times[0]:.1f} s to {timeline.times[-1]:.1f} s")
        mostly = f"; mostly {top} ({shares[top]:.0%} of the time)" if shares[top] > 0 else "; no label settled"
        rows = "".join(
            f'<tr><td><span class="swatch" style="background:{color}"></span>{escape(label)}</td>'
            f'<td class="share">{shares[label]:.0%}</td></tr>'
            for label, color in zip(timeline.labels, label_colors(timeline.labels)))
        parts += [
            f'<section class="face" id="face-{track}">', f"<h2>Face {track}</h2>",
            f"<p>{escape(seen + mostly)}</p>",
            f'<img class="timeline" alt="Emotion timeline of face {track}: probabilities over time, the label shown, '
            f'the face at each label change, and the share of time in each emotion" src="data:image/svg+xml;base64,{chart}">',
            f'<table class="shares"><tr><th>emotion</th><th>time shown</th></tr>{rows}</table>', "</section>",
        ]
    settings = "".join(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>" for key, value in report.settings.items())
    parts += ['<section class="settings">', "<h2>Settings</h2>", f"<table>{settings}</table>", "</section>",
              "</body>", "</html>", ""]
    return "\n".join(parts)
