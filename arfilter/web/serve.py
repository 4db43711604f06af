"""`arfilter serve`: parse the serve flags, load the pipeline once, run uvicorn.

    python main.py serve                       # http://127.0.0.1:8000/ on this machine only
    python main.py serve --host 0.0.0.0 --port 8080 --max-sessions 2 --pack shades

The pipeline flags of the main command (--pack, --packs-dir, --max-faces, --detector, --model)
are parsed by the main command's own parser, so they mean exactly the same here.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable

from arfilter.errors import ArfilterError
from arfilter.pipeline import Pipeline
from arfilter.web.app import LOCAL_HOSTS, ServeOptions

PIPELINE_FLAGS = ("--pack", "--packs-dir", "--max-faces", "--detector", "--model")


def build_serve_parser() -> argparse.ArgumentParser:
    defaults = ServeOptions()
    parser = argparse.ArgumentParser(
        prog="arfilter serve",
        description="Serve the lens as a web page (the browser's camera, over a WebSocket) and an HTTP API "
                    "(POST /api/analyze, GET /api/packs).",
        epilog=f"Also takes the pipeline flags of arfilter: {', '.join(PIPELINE_FLAGS)} (see arfilter --help).")
    parser.add_argument("--host", default=defaults.host,
                        help=f"address to listen on (default: {defaults.host}, this machine only; "
                             "0.0.0.0 serves every network the machine is on)")
    parser.add_argument("--port", type=int, default=defaults.port, help=f"TCP port (default: {defaults.port})")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="another host name to answer to besides 127.0.0.1 and localhost, e.g. the public "
                             "name of an https reverse proxy in front of the server (repeatable)")
    parser.add_argument("--max-sessions", type=int, default=defaults.max_sessions, metavar="N",
                        help=f"live page connections served at once; more get a 'busy' message "
                             f"(default: {defaults.max_sessions})")
    return parser


def _pipeline_args(rest: list[str], parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The main command's parse of the pipeline flags; any other main-command flag is refused."""
    from arfilter.cli import build_parser

    for token in rest:
        if token.startswith("-") and token.split("=", 1)[0] not in PIPELINE_FLAGS:
            parser.error(f"unrecognized argument {token}; serve takes --host, --port, --allowed-host, "
                         f"--max-sessions and {', '.join(PIPELINE_FLAGS)}")
    args = build_parser().parse_args(rest)
    if args.max_faces < 1:
        parser.error(f"--max-faces must be at least 1, got {args.max_faces}")
    return args


def pipeline_factory(args: argparse.Namespace) -> Callable[[], Pipeline]:
    """Builds pipelines that share one loaded copy of the packs; the first is built now, so a
    broken model or an unknown pack stops the command before the server starts."""
    from arfilter.cli import _pipeline_options
    from arfilter.emotion import EmotionMetadata
    from arfilter.packs import discover_packs
    from arfilter.tracking import FaceTracker

    options, detector_options = _pipeline_options(args)
    labels = EmotionMetadata.load(options.emotion.metadata_path).labels
    packs, errors = discover_packs(options.builtin_packs_dir, options.user_packs_dirs, labels)
    for error in errors:
        print(f"arfilter: warning: skipped filter pack: {error}", file=sys.stderr)

    def build() -> Pipeline:
        return Pipeline(options, tracker=FaceTracker.create(options.tracker, detector_options), packs=packs)

    ready = [build()]
    return lambda: ready.pop() if ready else build()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, opened here so that a taken port is one clear line, not a log trace."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        raise ArfilterError(f"cannot listen on {host}:{port} ({error.strerror or error}); "
                            "pass another --port or --host") from None
    return sock


def serve_main(argv: list[str]) -> int:
    parser = build_serve_parser()
    serve_args, rest = parser.parse_known_args(argv)
    args = _pipeline_args(rest, parser)
    if serve_args.max_sessions < 1:
        parser.error(f"--max-sessions must be at least 1, got {serve_args.max_sessions}")
    if not 0 <= serve_args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {serve_args.port}")
    options = ServeOptions(host=serve_args.host, port=serve_args.port, max_sessions=serve_args.max_sessions,
                           allowed_hosts=tuple(serve_args.allowed_host))
    try:
        return run_server(options, pipeline_factory(args))
    except ArfilterError as error:
        print(f"arfilter: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # uvicorn shuts down cleanly on Ctrl-C, then raises it again
        print("arfilter: stopped serving", file=sys.stderr)
        return 0


def run_server(options: ServeOptions, factory: Callable[[], Pipeline]) -> int:
    """Serve until Ctrl-C (uvicorn stops cleanly on SIGINT/SIGTERM)."""
    import uvicorn

    from arfilter.web.app import create_app

    sock = listen(options.host, options.port)
    port = sock.getsockname()[1]
    if options.host not in LOCAL_HOSTS:
        print(f"arfilter: warning: serving on {options.host}:{port}: anyone who can reach this machine can use "
              "the page and the API; browsers open the camera only on https or localhost", file=sys.stderr)
    shown_host = f"[{options.host}]" if ":" in options.host else options.host
    print(f"arfilter: serving the live page at http://{shown_host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    # log_config None: uvicorn leaves logging alone (no access log; warnings reach stderr as one line).
    config = uvicorn.Config(create_app(factory, options), log_config=None, log_level="warning", lifespan="off",
                            ws_max_size=options.limits.max_bytes + 64 * 1024, timeout_graceful_shutdown=2,
                            # Frames are JPEGs, which deflate cannot shrink: compressing them only costs time.
                            ws_per_message_deflate=False)
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
    return 0
