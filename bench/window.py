"""The window on a video at its own frame rate: does it hold the source's rate, and with how much CPU?

    python3 -m bench.window                         # four faces at 1280x720, 30 frames/s, 20 s
    python3 -m bench.window --source clip.mp4 --seconds 30

Runs the real window loop (`App.run`, pygame) on the clip: on the X display when DISPLAY is set
(Xvfb works), else on SDL's dummy driver (everything but the final blit to a screen). Reports the
frames shown per second against the source's rate, the frames dropped to keep up with the source's
clock, and the process's CPU time per wall second (all threads): below 1.0 on a 2-core machine means
the lens holds the camera rate with a core to spare. Target (2-core host without AVX-512): four
faces at 30 frames/s shown, CPU < 1.0.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import describe_context, format_table, machine_context, verdict, write_json
from bench.pipeline import make_clip

TARGET_CPU_CORES = 1.0


def run_window(source_spec: str, seconds: float, detector: str) -> dict[str, Any]:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from arfilter.apps.lens import LensOptions, build_lens
    from arfilter.apps.window.app import App
    from arfilter.apps.window.options import AppOptions
    from arfilter.core.pipeline import PipelineOptions
    from arfilter.core.tracking import TrackerOptions
    from arfilter.io.sources import open_source
    from arfilter.vision.detector import FaceDetectorOptions

    tracker = TrackerOptions(detector=FaceDetectorOptions(model="full_range" if detector == "full_range" else "short_range"))
    lens = build_lens(LensOptions(pipeline=PipelineOptions(tracker=tracker)))
    pygame.display.init()
    pygame.font.init()
    window = pygame.display.set_mode((1280, 720))
    with open_source(source_spec) as source:
        app = App(lens, source, AppOptions(first_hint_s=0.0), window)
        pygame.time.set_timer(pygame.QUIT, int(seconds * 1000), loops=1)
        cpu_start, wall_start = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        app.run()
        cpu_end, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - wall_start
        source_fps = source.fps
    pygame.quit()
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    return {"wall_s": wall, "cpu_cores": cpu / wall, "source_fps": source_fps, "frames_shown": app.frames_shown,
            "shown_fps": app.frames_shown / wall, "dropped_frames": app.dropped_frames,
            "faces_last_frame": len(app.result.faces) if app.result is not None else 0,
            "display": os.environ.get("DISPLAY") or "SDL dummy driver"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="a video file (default: a generated 1280x720 clip with four faces)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the window runs (default 20)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the report as JSON")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arfilter-bench-") as folder:
        source = arguments.source or str(make_clip(Path(folder), arguments.seconds + 5, faces=4))
        run = run_window(source, arguments.seconds, "short_range" if arguments.source else "full_range")
    context = machine_context()
    report = {"bench": "window", "source": arguments.source or "generated 1280x720 four-face clip",
              "machine": context, "run": run}
    print(f"window bench: {report['source']}, {arguments.seconds:g} s on {run['display']}")
    print(describe_context(context))
    holds = run["shown_fps"] >= 0.97 * run["source_fps"]
    print(format_table(("result", "value", "target", ""), [
        ("frames shown per second", f"{run['shown_fps']:.1f} of the source's {run['source_fps']:g}",
         f">= {0.97 * run['source_fps']:.1f}", verdict(holds)),
        ("frames dropped to keep the source's clock", str(run["dropped_frames"]), "", ""),
        ("CPU cores used (process, all threads)", f"{run['cpu_cores']:.2f}", f"< {TARGET_CPU_CORES:g} (a core to spare)",
         verdict(run["cpu_cores"] < TARGET_CPU_CORES)),
        ("faces in the last frame", str(run["faces_last_frame"]), "", ""),
    ]))
    write_json(arguments.json, report)


if __name__ == "__main__":
    main()
