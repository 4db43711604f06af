"""Progress of a headless run: a bar on a terminal, plain lines with percentage, rate and time left in a log."""

from __future__ import annotations

import io

from arfilter.apps.progress import Progress, ProgressOptions, describe_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_line_says_done_total_percent_rate_and_time_left():
    assert describe_progress(120, 900, 10.0) == "120/900 frames (13%), 12.0 frames/s, 01:05 left"
    assert describe_progress(47, None, 2.0) == "47 frames, 23.5 frames/s"
    assert describe_progress(0, 900, 0.0) == "0/900 frames (0%), 0.0 frames/s, ? left"


def test_log_gets_a_line_every_interval_not_every_frame():
    log, clock = io.StringIO(), Clock()
    progress = Progress(300, log, description="clip.mp4", options=ProgressOptions(interval_s=2.0), clock=clock)
    for _ in range(100):
        clock.now += 0.0625  # 16 frames/s (exact in binary): 6.25 s in all
        progress.update()
    progress.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0] == "clip.mp4: 32/300 frames (11%), 16.0 frames/s, 00:16 left"
    assert "\r" not in log.getvalue()


def test_terminal_gets_a_bar_with_percentage():
    terminal = Terminal()
    with Progress(50, terminal) as progress:
        for _ in range(50):
            progress.update()
    shown = terminal.getvalue()
    assert "100%" in shown and "50/50" in shown and "\r" in shown
