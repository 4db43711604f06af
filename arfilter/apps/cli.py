"""Command line: the one dispatcher. Parse the flags, build the lens, hand over to a front end.

    python main.py                          # window on camera 0 (the demo if there is no camera)
    python main.py --source clip.mp4 --headless --json out.jsonl --record out.mp4
    python main.py serve                    # the lens as a web page: http://127.0.0.1:8000/

The lens flags (model, packs, faces) are defined once, in `lens_flags()`, the parent parser of
both the main command and `serve`; defaults come from the components' option dataclasses.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from arfilter import __version__
from arfilter.apps.lens import LensFactory, LensOptions, build_lens, warn
from arfilter.apps.suggest import SuggestingParser
from arfilter.core.pipeline import PipelineOptions
from arfilter.core.tracking import TrackerOptions
from arfilter.errors import ArfilterError, OutputError
from arfilter.io.signals import Terminated, finalise_on_signals
from arfilter.io.sinks import OUTPUT_KINDS
from arfilter.io.virtual_camera import DEFAULT_SIZE, VirtualCameraOptions, parse_size
from arfilter.render.background import BackgroundOptions
from arfilter.render.packs import DEFAULT_PACK
from arfilter.vision.detector import DETECTOR_MODEL_FILES, FaceDetectorOptions
from arfilter.vision.emotion import EmotionOptions

DEFAULT_SOURCE = "0"  # camera 0; with no camera the window shows the demo
# The source stopped before the end its header announced: the outputs are complete for what
# was read, but the run did not see the whole input.
EXIT_ENDED_EARLY = 3

EPILOG = """\
sources: a camera index (0, 1, ...) or device (/dev/video2), a network stream URL (rtsp://...,
http://...), "demo" (built in, no camera needed), a video file, an image file, a folder of
images (each its own frame, sorted by path), or a folder of videos (with --headless --out-dir DIR:
each video's JSON Lines, recording and report go into DIR; complete ones are skipped).
JSON lines (--json): {"frame", "source", "t_ms", "untracked_faces", "faces": [{"id", "box": [x, y, w, h],
"roll_deg", "label", "confidence", "state", "probs": {label: p, ...}, "raw_probs": {label: p, ...},
"calibrated", "expressions": [mouth_open, ...]}]} ("calibrated": read relative to the person's neutral
face, see --neutral-face and N; "expressions": the expression triggers on, see docs/mesh-packs.md)
web app: arfilter serve (see arfilter serve --help).
"""


def lens_flags() -> SuggestingParser:
    """The lens flags, shared by the main command and `serve` (one definition per flag)."""
    from arfilter.apps.window.options import KeyMap

    parser = SuggestingParser(add_help=False)
    group = parser.add_argument_group("lens")
    group.add_argument("--max-faces", type=int, default=TrackerOptions.max_faces, metavar="N",
                       help=f"faces tracked at once (default: {TrackerOptions.max_faces})")
    group.add_argument("--detector", choices=tuple(DETECTOR_MODEL_FILES), default=FaceDetectorOptions.model,
                       help="short_range for faces near the camera (fast), full_range for small or distant faces "
                            f"(default: {FaceDetectorOptions.model})")
    group.add_argument("--pack", metavar="NAME",
                       help=f"filter pack at start (default: {DEFAULT_PACK}, or in the window the one shown last); F cycles")
    group.add_argument("--packs-dir", type=Path, action="append", default=[], metavar="DIR",
                       help="extra folder of filter packs (repeatable); ~/.config/arfilter/packs is always read")
    group.add_argument("--model", type=Path, metavar="EMOTION.json",
                       help="emotion model metadata (default: the shipped arfilter/models/emotion.json)")
    group.add_argument("--background", default="none", metavar="blur|none|IMAGE",
                       help="blur what is not the person, or replace it with a picture (default: none); "
                            f"{KeyMap().keys_for('background')} cycles in the window")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The main command's flags and the `serve` subcommand; keys come from the window's key map."""
    from arfilter.apps.web.serve import add_serve_arguments
    from arfilter.apps.window.options import AppOptions, KeyMap

    keys = "\n".join(textwrap.wrap(f"keys in the window: {KeyMap().describe()}.", 100))
    shared = lens_flags()
    parser = SuggestingParser(
        prog="arfilter", description="Real-time AR emoji and filter lens driven by facial-emotion recognition.",
        epilog=f"{EPILOG}{keys}\n", formatter_class=argparse.RawDescriptionHelpFormatter, parents=[shared])
    commands = parser.add_subparsers(dest="command", title="commands", metavar="{serve}",
                                     help="serve: the lens as a web page and an HTTP API (arfilter serve --help)")
    serve = commands.add_parser(
        "serve", parents=[shared], prog="arfilter serve",
        help="serve the lens as a web page and an HTTP API",
        description="Serve the lens as a web page (the browser's camera, over a WebSocket) and an HTTP API "
                    "(POST /api/analyze, GET /api/packs).")
    add_serve_arguments(serve)
    parser.add_argument("--version", action="version", version=f"arfilter {__version__}")
    parser.add_argument("--source", help='camera index or /dev/video*, stream URL, "demo", video, image or folder (default: camera 0)')
    parser.add_argument("--headless", action="store_true", help="no window: process the source and write the outputs below")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    for output in OUTPUT_KINDS:
        parser.add_argument(output.flag, dest=output.name, type=Path, metavar=output.metavar, help=output.help)
    parser.add_argument("--list-packs", action="store_true", help="list the filter packs and where they come from, then exit")
    parser.add_argument("--list-cameras", action="store_true", help="list the cameras that open, then exit")
    parser.add_argument("--screenshot-dir", type=Path, default=AppOptions.screenshot_dir, metavar="DIR",
                        help=f"where S and R save screenshots and recordings (default: ./{AppOptions.screenshot_dir})")
    mirror = parser.add_mutually_exclusive_group()
    mirror.add_argument("--mirror", dest="mirror", action="store_true", default=None, help="mirror the image (default for cameras)")
    mirror.add_argument("--no-mirror", dest="mirror", action="store_false", help="do not mirror the image")
    parser.add_argument("--no-bars", action="store_true", help="start with the probability bars hidden (B toggles)")
    parser.add_argument("--neutral-face", type=Path, metavar="IMAGE",
                        help="a photo of the person's neutral face: every face's emotion is then read relative to it "
                             "(for a one-person recording or photo folder; in the window, N does this live)")
    parser.add_argument("--capture-hud", action="store_true", default=None,
                        help="screenshots (S) and recordings (R) include the bars and stats (D toggles; default: the lens only)")
    calls = parser.add_argument_group("video calls")
    calls.add_argument("--virtual-camera", action="store_true",
                       help="send the lens (no HUD, not mirrored) to a virtual camera for Zoom, Meet, Teams, OBS...: "
                            "v4l2loopback on Linux, the OBS Virtual Camera on Windows and macOS; V toggles in the window")
    calls.add_argument("--virtual-camera-size", default="x".join(map(str, DEFAULT_SIZE)), metavar="WxH",
                       help=f"what the call receives, letterboxed (default: {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]})")
    parser.add_argument("--loop", action="store_true", help="in the window, play a video file over and over (L toggles)")
    parser.add_argument("--overwrite", action="store_true",
                        help="with a folder of videos, redo the videos whose outputs are already complete")
    parser.add_argument("--reset-settings", action="store_true",
                        help="forget the window's remembered choices (pack, bars, mirror, camera) and start with the defaults")
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.max_faces < 1:
        parser.error(f"--max-faces must be at least 1, got {args.max_faces}")
    if args.command is not None:
        return
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f"--max-frames must be at least 1, got {args.max_frames}")
    if not args.headless and (args.max_frames or any(getattr(args, output.name) for output in OUTPUT_KINDS)):
        flags = ", ".join(output.flag for output in OUTPUT_KINDS)
        parser.error(f"{flags} and --max-frames need --headless (in the window, R records and S takes screenshots)")


def lens_options(args: argparse.Namespace) -> LensOptions:
    """The lens flags as options (each knob's default lives in its options dataclass)."""
    emotion = EmotionOptions(metadata_path=args.model) if args.model else EmotionOptions()
    tracker = TrackerOptions(max_faces=args.max_faces, detector=FaceDetectorOptions(model=args.detector))
    return LensOptions(pipeline=PipelineOptions(tracker=tracker, emotion=emotion), pack=args.pack or DEFAULT_PACK,
                       user_packs_dirs=tuple(args.packs_dir), neutral_face=getattr(args, "neutral_face", None),
                       background=BackgroundOptions.from_argument(args.background))


def _list_packs(args: argparse.Namespace) -> int:
    factory = LensFactory(lens_options(args))  # packs are checked against the model's labels
    for pack in factory.packs:
        print(f"{pack.name:12s} {pack.description}  [{pack.source_folder}]")
    return 0


def _list_cameras() -> int:
    from arfilter.io.sources import list_cameras
    from arfilter.io.sources.cameras import real_cameras

    cameras = real_cameras(list_cameras())
    if not cameras:
        print("no camera opens; use --source demo, a video file, an image or a folder")
    for camera in cameras:
        print(f"{camera.describe()}  (--source {camera.index})")
    return 0


def virtual_camera_options(args: argparse.Namespace) -> VirtualCameraOptions:
    """--virtual-camera-size as options; a size that is not WxH is one error line."""
    return VirtualCameraOptions(size=parse_size(args.virtual_camera_size))


def run_settings(args: argparse.Namespace, source_spec: str) -> dict[str, str]:
    """The run's settings as a report shows them (the flags a user would pass to repeat it)."""
    options = lens_options(args)
    return {
        "source": source_spec,
        "pack": options.pack,
        "max faces": str(args.max_faces),
        "detector": args.detector,
        "emotion model": str(options.pipeline.emotion.metadata_path),
        "mirror": {None: "the source's default", True: "on", False: "off"}[args.mirror],
        "arfilter": __version__,
    }


def _run_headless(args: argparse.Namespace) -> int:
    from arfilter.apps.runner import close_all, run_headless
    from arfilter.io.guard import PlannedOutput, check_outputs
    from arfilter.io.sinks import open_sinks
    from arfilter.io.sinks.virtual_camera import VirtualCameraSink
    from arfilter.io.sources import open_source

    source_spec = args.source or DEFAULT_SOURCE
    if _is_video_folder(source_spec):
        return _run_video_folder(args, Path(source_spec).expanduser())
    outputs = {output.name: getattr(args, output.name) for output in OUTPUT_KINDS}
    planned = [PlannedOutput(output.flag, path, output.is_folder, Path(output.metavar).suffix)
               for output in OUTPUT_KINDS if (path := outputs[output.name]) is not None]
    check_outputs(source_spec, planned)  # the cheap check first: no model loads for a typo
    call_options = virtual_camera_options(args)
    factory = LensFactory(lens_options(args))
    check_outputs(source_spec, planned, factory.files_read())  # the model, the packs: anything the run reads
    lens = factory.build()
    with open_source(source_spec, mirror=args.mirror) as source:
        # The virtual camera opens first: with no window, a missing device is the run's one error line.
        call = [VirtualCameraSink(source.fps, call_options, mirrored=lambda: source.mirror, say=warn)] \
            if args.virtual_camera else []
        try:
            sinks = [*open_sinks(outputs, source, run_settings(args, source_spec)), *call]
        except BaseException:
            close_all(call)
            raise
        summary = run_headless(lens, source, sinks, max_frames=args.max_frames)
    for warning in summary.warnings:
        warn(warning)
    if not any(outputs.values()) and not args.virtual_camera:
        flags = ", ".join(f"{output.flag} {output.metavar}" for output in OUTPUT_KINDS)
        warn(f"nothing was written: add one of {flags} to keep the results")
    _say(summary.describe())  # a message: standard output carries results only (`--json -`)
    return EXIT_ENDED_EARLY if summary.ended_early else 0


# What each video of a folder gets under --out-dir, by output (OutputKind name): its suffix.
VIDEO_FOLDER_OUTPUTS = {"json": ".jsonl", "record": ".mp4", "report": ".html"}


def _is_video_folder(source_spec: str) -> bool:
    """A folder that holds videos and no images (a folder of images stays one run over its images)."""
    from arfilter.apps.batch import folder_videos
    from arfilter.io.sources.files import IMAGE_EXTENSIONS

    folder = Path(source_spec).expanduser()
    try:
        if not folder.is_dir() or any(path.suffix.lower() in IMAGE_EXTENSIONS for path in folder.iterdir()):
            return False
        return bool(folder_videos(folder))
    except (OSError, ArfilterError):
        return False  # opening the source reports it


def _run_video_folder(args: argparse.Namespace, folder: Path) -> int:
    """Each video of `folder` into its own JSON Lines, recording and report under --out-dir; one summary."""
    from arfilter.apps.batch import VideoRun, run_batch
    from arfilter.apps.runner import run_headless
    from arfilter.io.guard import PlannedOutput, check_outputs
    from arfilter.io.sinks import open_sinks
    from arfilter.io.sources import open_source

    others = [output.flag for output in OUTPUT_KINDS if output.name != "out_dir" and getattr(args, output.name)]
    if args.out_dir is None or others:
        raise OutputError(f"{folder} is a folder of videos: pass --out-dir DIR alone (each video's JSON Lines, "
                          f"recording and report go there, named after the video)"
                          + (f", not {', '.join(others)}" if others else ""))
    if args.out_dir.expanduser().resolve() == folder.resolve():
        raise OutputError(f"--out-dir {args.out_dir} is the folder of videos and its recordings could overwrite "
                          f"them; pass another folder, e.g. --out-dir {folder.resolve()}-annotated")
    lens = build_lens(lens_options(args))

    def process(video: Path, outputs: dict[str, Path]) -> VideoRun:
        check_outputs(str(video), [PlannedOutput(f"--out-dir {args.out_dir}: {path.name}", path)
                                   for path in outputs.values()])
        lens.reset()  # one video's tracks and smoothing must not run on into the next
        with open_source(str(video), mirror=args.mirror) as source:
            sinks = open_sinks(dict(outputs), source, run_settings(args, str(video)))
            summary = run_headless(lens, source, sinks, max_frames=args.max_frames)
        return VideoRun(summary.frames, tuple(summary.outputs), tuple(summary.warnings))

    batch = run_batch(folder, args.out_dir, VIDEO_FOLDER_OUTPUTS, process, overwrite=args.overwrite)
    print(batch.describe())
    return 2 if batch.failed else 0


def _run_window(args: argparse.Namespace) -> int:
    """The window, started with the choices remembered from the last run where no flag says otherwise."""
    from arfilter.apps.settings import Settings, load_settings, save_settings
    from arfilter.apps.window.launch import display_unavailable_reason, run_app, run_headless_fallback
    from arfilter.apps.window.options import AppOptions
    from arfilter.io.sources import open_source
    from arfilter.io.sources.camera import is_camera

    remembered = load_settings(warn=warn)
    source_spec = args.source or remembered.camera or DEFAULT_SOURCE
    reason = display_unavailable_reason()
    if reason is not None and args.source is not None:
        # The demo fallback is for a plain start; a source the user named must not be
        # silently replaced by the demo. Opening it first reports a bad source as such.
        open_source(source_spec, mirror=args.mirror).close()
        raise OutputError(f"no window can open ({reason}); to process {source_spec} without one, add --headless "
                          f"with --record OUT.mp4, --json OUT.jsonl, --report REPORT.html or --out-dir DIR")
    call_options = virtual_camera_options(args)
    factory = LensFactory(lens_options(args))
    pack = args.pack
    if pack is None and remembered.pack is not None:
        names = {name.lower() for name in (candidate.name for candidate in factory.packs)}
        if remembered.pack.lower() in names:
            pack = remembered.pack
        else:
            warn(f"the pack {remembered.pack!r} shown last is gone; starting with {DEFAULT_PACK}")
    lens = factory.build(pack)
    show_bars = not args.no_bars and remembered.show_bars is not False
    capture_hud = args.capture_hud if args.capture_hud is not None else bool(remembered.capture_hud)
    options = AppOptions(screenshot_dir=args.screenshot_dir, show_bars=show_bars, capture_hud=capture_hud, loop=args.loop,
                         virtual_camera=call_options, virtual_camera_on=args.virtual_camera)
    if reason is not None:
        return run_headless_fallback(lens, options, reason=reason)
    # A remembered mirror choice is a camera's: files and streams keep their own default.
    mirror = args.mirror if args.mirror is not None or not is_camera(source_spec) else remembered.mirror
    settings = [remembered if args.source is None or not is_camera(args.source)
                else remembered.updated(Settings(camera=args.source))]

    def remember(changes: Settings) -> None:
        settings[0] = settings[0].updated(changes)
        try:
            save_settings(settings[0])
        except ArfilterError as error:
            warn(f"{error}; the choice holds for this run only")

    if settings[0] != remembered:
        remember(Settings())
    return run_app(lens, lambda: open_source(source_spec, mirror=mirror), options, remember=remember)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from arfilter.apps.web.serve import serve, serve_options

    options = serve_options(args, parser)
    return serve(options, LensFactory(lens_options(args)))


def _reset_settings() -> None:
    from arfilter.apps.settings import reset_settings

    path = reset_settings()
    print(f"forgot the remembered window settings ({path} deleted)" if path is not None
          else "no remembered window settings to forget")


def _say(line: str) -> None:
    """Print to stderr even when the terminal is gone (SIGHUP from a closed SSH session)."""
    try:
        print(line, file=sys.stderr)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    _validate(parser, args)
    if args.command == "serve":
        try:
            return _serve(args, parser)
        except ArfilterError as error:
            _say(f"arfilter: error: {error}")
            return 2
    with finalise_on_signals():
        try:
            if args.reset_settings:
                _reset_settings()
            if args.list_packs:
                return _list_packs(args)
            if args.list_cameras:
                return _list_cameras()
            if args.headless:
                return _run_headless(args)
            return _run_window(args)
        except ArfilterError as error:
            _say(f"arfilter: error: {error}")
            return 2
        except KeyboardInterrupt as interrupt:
            signal_name = interrupt.signal_name if isinstance(interrupt, Terminated) else "SIGINT"
            _say(f"arfilter: interrupted by {signal_name}; the outputs written so far are complete and kept")
            return interrupt.exit_code if isinstance(interrupt, Terminated) else 130
        except BrokenPipeError:
            # The reader of stdout left (`arfilter --list-packs | head -1`): stop quietly, as a
            # command killed by SIGPIPE would, and keep the interpreter's final flush from failing too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + 13


if __name__ == "__main__":
    sys.exit(main())
