"""Outputs of a run as sinks: an annotated video (H.264 MP4 or GIF), a folder of annotated images, JSON Lines,
a report.

Every sink follows the small `Sink` protocol (`write(result, image)`, `close()`,
`describe()`; see `arfilter.io.sinks.base`). The command line's output flags come from
`OUTPUT_KINDS`: adding an output is one sink class plus one row here, which also adds its
flag to `arfilter --help`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from arfilter.io.sinks.base import Sink
from arfilter.io.sinks.gif import GIF_SUFFIX, GifOptions, GifSink
from arfilter.io.sinks.images import ImageFolderSink
from arfilter.io.sinks.jsonl import JsonLinesSink, frame_record
from arfilter.io.sinks.report import ReportSink
from arfilter.io.sinks.video import VideoSink

if TYPE_CHECKING:
    from arfilter.io.sources import FrameSource

__all__ = ["HEADLESS_GIF", "OUTPUT_KINDS", "GifSink", "ImageFolderSink", "JsonLinesSink", "OutputKind", "ReportSink",
           "Sink", "VideoSink", "frame_record", "open_sinks"]


@dataclass(frozen=True)
class OutputKind:
    """One output the command line offers: its flag and how to open its sink on a path.

    `open(path, source, settings)` gets the run's settings as the user would name them
    ({"source": "clip.mp4", "pack": "emoji", ...}), for outputs that record how they were made.
    """

    name: str  # the key in `open_sinks`' outputs, and the flag's argparse dest
    flag: str
    metavar: str
    help: str
    open: Callable[[Path, FrameSource, Mapping[str, str]], Sink]
    is_folder: bool = False  # files named after the inputs go into it (checked against overwriting them)


# `--record out.gif`: a GIF is for sharing, so a headless one holds the first 10 s (shrunk to fit 5 MB).
HEADLESS_GIF = GifOptions(max_duration_s=10.0)


def open_recording(path: Path, source: FrameSource) -> Sink:
    """`--record`: an animated GIF for a .gif name, else an H.264 MP4 (which refuses other names in one line)."""
    if path.suffix.lower() == GIF_SUFFIX:
        return GifSink(path, HEADLESS_GIF)
    return VideoSink(path, source.fps)


# Opened in this order; the JSON file comes last because it is the only sink that creates its
# file on opening, so a bad video or image path fails before any file exists.
OUTPUT_KINDS: tuple[OutputKind, ...] = (
    OutputKind("record", "--record", "OUT.mp4", "headless: write the annotated video here (H.264; a .gif name "
               "writes an animated GIF of the first 10 s)", lambda path, source, settings: open_recording(path, source)),
    OutputKind("out_dir", "--out-dir", "DIR", "headless: write annotated images here",
               lambda path, source, settings: ImageFolderSink(path), is_folder=True),
    OutputKind("json", "--json", "OUT.jsonl", "headless: write one JSON line per processed frame",
               lambda path, source, settings: JsonLinesSink(path)),
    OutputKind("report", "--report", "REPORT.html",
               "headless: write a report of the video's emotions, an HTML page (or a PNG picture with .png)",
               lambda path, source, settings: ReportSink(path, settings)),
)


def open_sinks(outputs: Mapping[str, Path | None], source: FrameSource,
               settings: Mapping[str, str] | None = None) -> list[Sink]:
    """The sinks for `outputs` ({OutputKind.name: path}, None for not requested), in table order.

    If one cannot be opened, those already opened are closed before the error propagates.
    """
    sinks: list[Sink] = []
    try:
        for kind in OUTPUT_KINDS:
            path = outputs.get(kind.name)
            if path is not None:
                sinks.append(kind.open(path, source, settings or {}))
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
    return sinks
