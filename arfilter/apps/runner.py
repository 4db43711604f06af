"""Run the lens without a window: every processed frame goes to every sink.

Sinks are opened (and their destinations checked) before the first frame, written as frames
arrive (so an interrupted run keeps everything up to that point), and closed on every way out,
Ctrl-C, SIGTERM and SIGHUP included (see arfilter.io.signals), so each output is complete: the
MP4 plays, every JSON line parses, every image is whole. Closing runs in a
`deferred_signals()` section, so a second signal cannot cut the finalising short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from arfilter.apps.lens import Lens
from arfilter.apps.progress import Progress
from arfilter.core.types import FrameResult
from arfilter.errors import SourceError
from arfilter.io.signals import deferred_signals
from arfilter.io.sinks import Sink
from arfilter.io.sources import WHAT_TO_PASS, FrameSource


@dataclass
class RunSummary:
    frames: int = 0
    faces: int = 0
    skipped_frames: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the source's damage report, one line each
    ended_early: bool = False  # the source stopped before the end its header announced

    def describe(self) -> str:
        rate = self.frames / self.seconds if self.seconds > 0 else 0.0
        skipped = f", skipped {self.skipped_frames} unreadable frame(s)" if self.skipped_frames else ""
        written = "".join(f"\nwrote {output}" for output in self.outputs)
        return (f"processed {self.frames} frame(s) with {self.faces} face(s) in {self.seconds:.1f} s "
                f"({rate:.1f} frames/s){skipped}{written}")


def run_headless(lens: Lens, source: FrameSource, sinks: Sequence[Sink], *, max_frames: int | None = None,
                 draw: Callable[[FrameResult], np.ndarray] | None = None,
                 progress: TextIO | None = sys.stderr) -> RunSummary:
    """Process `source` to its end (or `max_frames`), handing every frame to every sink; closes the sinks.

    `draw` makes the image the sinks get (default: `lens.render`, the current pack on every
    face); it runs only when a sink needs an image. `progress` is where the progress shows
    (a bar on a terminal, a line every few seconds otherwise; None: nowhere).
    """
    draw = draw or lens.render
    needs_image = any(sink.needs_image for sink in sinks)
    summary = RunSummary()
    start = time.monotonic()
    total = min(filter(None, (source.frame_count, max_frames)), default=None)
    meter = Progress(total, progress) if progress is not None else None
    try:
        for frame in source:
            result = lens.process(frame)
            image = draw(result) if needs_image else None
            for sink in sinks:
                sink.write(result, image)
            summary.frames += 1
            summary.faces += len(result.faces)
            if meter is not None:
                meter.update()
            if max_frames is not None and summary.frames >= max_frames:
                break
        if summary.frames == 0:
            raise SourceError(f"{source.name} gave no readable frame ({source.skipped_frames} could not be decoded); "
                              f"{WHAT_TO_PASS}")
    finally:
        if meter is not None:
            meter.close()
        summary.seconds = time.monotonic() - start
        summary.skipped_frames = source.skipped_frames
        summary.warnings = source.damage_report()
        summary.ended_early = source.ended_early is not None
        with deferred_signals():
            close_all(sinks)
        summary.outputs.extend(sink.describe() for sink in sinks)
    return summary


def close_all(sinks: Sequence[Sink]) -> None:
    """Close every sink even when one fails to; the first failure is raised afterwards."""
    failure: BaseException | None = None
    for sink in sinks:
        try:
            sink.close()
        except Exception as error:  # the other sinks must still be finalised
            failure = failure or error
    if failure is not None:
        raise failure
