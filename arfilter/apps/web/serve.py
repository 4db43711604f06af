"""`arfilter serve`: the serve flags, and running uvicorn on the lenses the command line built.

    python main.py serve                       # http://127.0.0.1:8000/ on this machine only
    python main.py serve --host 0.0.0.0 --port 8080 --max-sessions 2 --pack shades

The lens flags (--pack, --packs-dir, --max-faces, --detector, --model) are defined once, in the
command line's parent parser (arfilter.apps.cli), so they mean exactly the same here.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from arfilter.apps.lens import Lens, LensFactory
from arfilter.apps.web.options import LOCAL_HOSTS, ServeOptions
from arfilter.errors import ArfilterError


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags only `serve` has; the lens flags come from the command line's shared parent parser."""
    defaults = ServeOptions()
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


def serve_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ServeOptions:
    """The parsed serve flags as options; an out-of-range value is a usage error naming the flag."""
    if args.max_sessions < 1:
        parser.error(f"--max-sessions must be at least 1, got {args.max_sessions}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {args.port}")
    return ServeOptions(host=args.host, port=args.port, max_sessions=args.max_sessions,
                        allowed_hosts=tuple(args.allowed_host))


def serve(options: ServeOptions, factory: LensFactory) -> int:
    """Build the first lens now (a broken model or an unknown pack stops the command before the
    server starts), then serve until Ctrl-C; the live slots build theirs when first needed."""
    ready = [factory.build()]
    try:
        return run_server(options, lambda: ready.pop() if ready else factory.build())
    except KeyboardInterrupt:  # uvicorn shuts down cleanly on Ctrl-C, then raises it again
        print("arfilter: stopped serving", file=sys.stderr)
        return 0


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


# Connections (and requests in progress) beyond this get 503 at once instead of a file
# descriptor each until the process runs out: every client of a local lens fits far below it.
MAX_CONNECTIONS = 512
KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 16 * 1024  # h11's limit on a request's line and headers


def uvicorn_config(app: Any, options: ServeOptions) -> Any:
    """uvicorn's settings: bounded headers, header and keep-alive deadlines, a connection cap."""
    from arfilter.apps.web.guards import BoundedH11Protocol

    # log_config None: uvicorn leaves logging alone (no access log; warnings reach stderr as one line).
    return uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off", http=BoundedH11Protocol,
                          ws_max_size=options.limits.max_bytes + 64 * 1024, timeout_graceful_shutdown=2,
                          timeout_keep_alive=KEEP_ALIVE_S, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                          limit_concurrency=MAX_CONNECTIONS,
                          # Frames are JPEGs, which deflate cannot shrink: compressing them only costs time.
                          ws_per_message_deflate=False)


class _QuietServer(uvicorn.Server):
    """uvicorn's server with the event loop's own errors (accept() failing when file descriptors
    run out under a flood) as one line per kind, not a traceback each."""

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        from arfilter.apps.web.guards import quiet_loop_errors

        quiet_loop_errors(asyncio.get_running_loop())
        await super().serve(sockets=sockets)


def run_server(options: ServeOptions, factory: Callable[[], Lens]) -> int:
    """Serve until Ctrl-C (uvicorn stops cleanly on SIGINT/SIGTERM)."""
    from arfilter.apps.web.app import create_app
    from arfilter.apps.web.guards import raise_open_file_limit

    raise_open_file_limit()  # every connection is a file descriptor
    sock = listen(options.host, options.port)
    port = sock.getsockname()[1]
    if options.host not in LOCAL_HOSTS:
        print(f"arfilter: warning: serving on {options.host}:{port}: anyone who can reach this machine can use "
              "the page and the API; browsers open the camera only on https or localhost", file=sys.stderr)
    shown_host = f"[{options.host}]" if ":" in options.host else options.host
    print(f"arfilter: serving the live page at http://{shown_host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    with sock:
        _QuietServer(uvicorn_config(create_app(factory, options), options)).run(sockets=[sock])
    return 0
