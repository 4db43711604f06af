"""Command line: parse the flags, build the options, hand over to the app or the headless runner.

    python main.py                          # window on camera 0 (the demo if there is no camera)
    python main.py --source clip.mp4 --headless --json out.jsonl --record out.mp4
    python main.py serve                    # the lens as a web page: http://127.0.0.1:8000/
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from arfilter.errors import ArfilterError
from arfilter.sinks import OUTPUT_KINDS

EPILOG = """\
sources: a camera index (0, 1, ...) or device (/dev/video2), a network stream URL (rtsp://...,
http://...), "demo" (built in, no camera needed), a video file, an image file, or a folder of
images (each its own frame, sorted by path).
JSON lines (--json): {"frame", "source", "t_ms", "faces": [{"id", "box": [x, y, w, h], "roll_deg",
"label", "confidence", "probs": {label: p, ...}}]}
web app: arfilter serve [--host 127.0.0.1] [--port 8000] [--max-sessions 4] (see arfilter serve --help).
"""


def build_parser() -> argparse.ArgumentParser:
    """The flags; defaults come from the components' option dataclasses, keys from the key map."""
    from arfilter.app_options import AppOptions, KeyMap
    from arfilter.faces import DETECTOR_MODEL_FILES, FaceDetectorOptions
    from arfilter.pipeline import PipelineOptions
    from arfilter.tracking import TrackerOptions

    keys = "\n".join(textwrap.wrap(f"keys in the window: {KeyMap().describe()}.", 100))
    parser = argparse.ArgumentParser(
        prog="arfilter", description="Real-time AR emoji and filter lens driven by facial-emotion recognition.",
        epilog=f"{EPILOG}{keys}\n", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="0", help='camera index or /dev/video*, stream URL, "demo", video, image or folder (default: camera 0)')
    parser.add_argument("--headless", action="store_true", help="no window: process the source and write the outputs below")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    for output in OUTPUT_KINDS:
        parser.add_argument(output.flag, dest=output.name, type=Path, metavar=output.metavar, help=output.help)
    parser.add_argument("--max-faces", type=int, default=TrackerOptions.max_faces, metavar="N",
                        help=f"faces tracked at once (default: {TrackerOptions.max_faces})")
    parser.add_argument("--detector", choices=tuple(DETECTOR_MODEL_FILES), default=FaceDetectorOptions.model,
                        help="short_range for faces near the camera (fast), full_range for small or distant faces "
                             f"(default: {FaceDetectorOptions.model})")
    parser.add_argument("--pack", default=PipelineOptions.pack, metavar="NAME",
                        help=f"filter pack at start (default: {PipelineOptions.pack}); F cycles")
    parser.add_argument("--packs-dir", type=Path, action="append", default=[], metavar="DIR",
                        help="extra folder of filter packs (repeatable); ~/.config/arfilter/packs is always read")
    parser.add_argument("--list-packs", action="store_true", help="list the filter packs and where they come from, then exit")
    parser.add_argument("--list-cameras", action="store_true", help="list the cameras that open, then exit")
    parser.add_argument("--screenshot-dir", type=Path, default=AppOptions.screenshot_dir, metavar="DIR",
                        help=f"where S and R save screenshots and recordings (default: ./{AppOptions.screenshot_dir})")
    mirror = parser.add_mutually_exclusive_group()
    mirror.add_argument("--mirror", dest="mirror", action="store_true", default=None, help="mirror the image (default for cameras)")
    mirror.add_argument("--no-mirror", dest="mirror", action="store_false", help="do not mirror the image")
    parser.add_argument("--no-bars", action="store_true", help="start with the probability bars hidden (B toggles)")
    parser.add_argument("--model", type=Path, metavar="EMOTION.json", help="emotion model metadata (default: the shipped arfilter/models/emotion.json)")
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f"--max-frames must be at least 1, got {args.max_frames}")
    if args.max_faces < 1:
        parser.error(f"--max-faces must be at least 1, got {args.max_faces}")
    if not args.headless and (args.max_frames or any(getattr(args, output.name) for output in OUTPUT_KINDS)):
        flags = ", ".join(output.flag for output in OUTPUT_KINDS)
        parser.error(f"{flags} and --max-frames need --headless (in the window, R records and S takes screenshots)")


def _pipeline_options(args: argparse.Namespace):
    from arfilter.emotion import EmotionOptions
    from arfilter.faces import FaceDetectorOptions
    from arfilter.pipeline import PipelineOptions
    from arfilter.tracking import TrackerOptions

    emotion = EmotionOptions(metadata_path=args.model) if args.model else EmotionOptions()
    return PipelineOptions(tracker=TrackerOptions(max_faces=args.max_faces), emotion=emotion,
                           user_packs_dirs=tuple(args.packs_dir), pack=args.pack), FaceDetectorOptions(model=args.detector)


def _build_pipeline(args: argparse.Namespace):
    from arfilter.pipeline import Pipeline
    from arfilter.tracking import FaceTracker

    options, detector_options = _pipeline_options(args)
    pipeline = Pipeline(options, tracker=FaceTracker.create(options.tracker, detector_options))
    for error in pipeline.pack_errors:
        print(f"arfilter: warning: skipped filter pack: {error}", file=sys.stderr)
    return pipeline


def _list_packs(args: argparse.Namespace) -> int:
    from arfilter.packs import discover_packs

    options, _ = _pipeline_options(args)
    packs, errors = discover_packs(options.builtin_packs_dir, options.user_packs_dirs)
    for pack in packs:
        print(f"{pack.name:12s} {pack.description}  [{pack.source_folder}]")
    for error in errors:
        print(f"arfilter: warning: skipped filter pack: {error}", file=sys.stderr)
    return 0


def _list_cameras() -> int:
    from arfilter.sources import list_cameras

    cameras = list_cameras()
    if not cameras:
        print("no camera opens; use --source demo, a video file, an image or a folder")
    for index in cameras:
        print(f"camera {index}: --source {index}")
    return 0


def _run_headless(args: argparse.Namespace) -> int:
    from arfilter.headless import run_headless
    from arfilter.sinks import open_sinks
    from arfilter.sources import open_source

    pipeline = _build_pipeline(args)
    with open_source(args.source, mirror=args.mirror) as source:
        sinks = open_sinks({output.name: getattr(args, output.name) for output in OUTPUT_KINDS}, source)
        summary = run_headless(pipeline, source, sinks, max_frames=args.max_frames)
    print(summary.describe())
    return 0


def _run_window(args: argparse.Namespace) -> int:
    from arfilter.app import display_unavailable_reason, run_app, run_headless_fallback
    from arfilter.app_options import AppOptions
    from arfilter.sources import open_source

    pipeline = _build_pipeline(args)
    options = AppOptions(screenshot_dir=args.screenshot_dir, mirror=args.mirror, show_bars=not args.no_bars)
    reason = display_unavailable_reason()
    if reason is not None:
        return run_headless_fallback(pipeline, options, reason=reason)
    return run_app(pipeline, lambda: open_source(args.source, mirror=args.mirror), options)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        from arfilter.web.serve import serve_main

        return serve_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    try:
        if args.list_packs:
            return _list_packs(args)
        if args.list_cameras:
            return _list_cameras()
        if args.headless:
            return _run_headless(args)
        return _run_window(args)
    except ArfilterError as error:
        print(f"arfilter: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arfilter: interrupted; outputs written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
