"""How far a headless run has got: a bar on a terminal, plain lines in a log.

"47 frames, 23.0 frames/s" does not say whether to wait or to fetch a coffee. On a terminal
the run shows tqdm's bar (percentage, frames done of the total, rate, time left); tqdm is
already installed with the LiteRT runtime, and redraws one line in place. In a log (stderr is
a file or a pipe) a bar would be a flood of carriage returns, so the same facts are one plain
line every `interval_s` seconds. A source of unknown length (a camera, a stream) shows the
count and the rate only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from tqdm import tqdm


@dataclass(frozen=True)
class ProgressOptions:
    """interval_s: seconds between plain lines in a log (shorter is chattier)."""

    interval_s: float = 2.0

    def __post_init__(self) -> None:
        if not self.interval_s > 0:
            raise ValueError(f"interval_s must be positive, got {self.interval_s}")


def describe_progress(done: int, total: int | None, elapsed_s: float, unit: str = "frame") -> str:
    """One plain line: "120/900 frames (13%), 23.0 frames/s, 0:34 left" (no total: count and rate)."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    if total is None or total <= 0:
        return f"{done} {unit}s, {rate:.1f} {unit}s/s"
    left = tqdm.format_interval((total - done) / rate) if rate > 0 and done <= total else "?"
    return f"{done}/{total} {unit}s ({min(done, total) / total:.0%}), {rate:.1f} {unit}s/s, {left} left"


class Progress:
    """Counts processed frames and shows how far the run is; `close()` ends the bar's line."""

    def __init__(self, total: int | None, stream: TextIO, *, description: str = "",
                 options: ProgressOptions = ProgressOptions(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total if total is not None and total > 0 else None
        self.stream = stream
        self.description = description
        self.options = options
        self.clock = clock
        self.done = 0
        self._start = self._last_line = clock()
        self._bar: tqdm | None = None
        if _is_terminal(stream):
            self._bar = tqdm(total=self.total, file=stream, desc=description or None, unit="frame",
                             dynamic_ncols=True, leave=True, mininterval=0.25)

    def update(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self.clock()
        if now - self._last_line >= self.options.interval_s:
            self._last_line = now
            prefix = f"{self.description}: " if self.description else ""
            self._print(prefix + describe_progress(self.done, self.total, now - self._start))

    def _print(self, line: str) -> None:
        try:
            print(line, file=self.stream, flush=True)
        except OSError:
            pass  # the log is gone (a closed terminal): the run itself goes on

    def close(self) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            try:
                bar.close()
            except OSError:
                pass

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
