"""What keeps `arfilter serve` up and private against pages, slow sockets and errors.

- `same_origin`: one rule for `/ws` and the HTTP API. A multipart POST needs no CORS
  preflight, so without it any page the user visits could drive the local server; a request
  whose Origin (or, when the browser sends no Origin, whose Sec-Fetch-Site) names another site
  is refused. Programs that send neither (curl, the bench, scripts) are let in.
- `HttpGuard`: ASGI middleware around the whole app: refuses cross-site API requests (403),
  marks API answers `Cache-Control: no-store` (an analysis of the user's photo must not sit in
  a cache), adds `nosniff` and `no-referrer` to every answer, and turns every error into the
  documented `{"error": ...}` body with one log line (no traceback flood, a client that leaves
  mid-upload is one line too). Pure ASGI: Starlette's BaseHTTPMiddleware turns a client that
  leaves into a second traceback ("No response returned").
- `BoundedH11Protocol`: uvicorn times out idle keep-alive connections but never a connection
  that has not finished sending its request headers; 1,100 such sockets once filled the file
  table. Here every request must arrive whole within `HEADER_TIMEOUT_S`.
- `quiet_loop_errors`: the event loop's own errors (accept() failing when file descriptors run
  out) as one line each, at most once per `LOOP_ERROR_INTERVAL_S` per kind.
- `csp_host`: the Host header put into the page's Content-Security-Policy only when it is a
  host name (a header such as `a; script-src *` must not extend the policy).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import resource
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import h11
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("arfilter.web")

HEADER_TIMEOUT_S = 10.0  # a request's line and headers arrive within this, or the connection closes
LOOP_ERROR_INTERVAL_S = 10.0
API_PREFIX = "/api/"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_EVERY_ANSWER = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
# A host name, IPv4 address or bracketed IPv6 address, with an optional port: nothing else
# reaches a header value that the page's policy is built from.
_HOST_PATTERN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$")


def same_origin(headers: Mapping[str, str]) -> bool:
    """Whether a request may come from the page it was sent by: no Origin (not a browser page,
    or a same-origin GET), or an Origin naming this very host; a browser that sends no Origin
    but says Sec-Fetch-Site cross-site is refused too."""
    origin = headers.get("origin")
    if origin is None:
        return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    if origin == "null":  # sandboxed frames and file:// pages
        return False
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def csp_host(host: str | None) -> str | None:
    """`host` when it is a plain host[:port] that may go into a policy, else None."""
    return host if host is not None and _HOST_PATTERN.match(host) else None


def client_name(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "a client"


def _error_body(status: int, message: str, headers: Mapping[str, str] | None = None) -> tuple[Message, Message]:
    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           (b"cache-control", b"no-store"), *_EVERY_ANSWER]
    raw += [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in (headers or {}).items()]
    return ({"type": "http.response.start", "status": status, "headers": raw},
            {"type": "http.response.body", "body": body})


class HttpGuard:
    """ASGI middleware for the HTTP side; WebSocket connections pass through (see `same_origin`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        path, method = scope["path"], scope["method"]
        is_api = path.startswith(API_PREFIX)
        if (is_api or method not in _SAFE_METHODS) and not same_origin(headers):
            log.warning("refused %s %s from %s: Origin %s is another site", method, path, client_name(scope),
                        headers.get("origin", headers.get("sec-fetch-site")))
            for message in _error_body(403, "requests from other sites' pages are not allowed"):
                await send(message)
            return
        started = False

        async def send_marked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                replaced = {b"cache-control"} if is_api else set()
                names = {name.lower() for name, _ in message["headers"]}
                extra = [(name, value) for name, value in _EVERY_ANSWER if name not in names]
                if is_api:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*(item for item in message["headers"]
                                                    if item[0].lower() not in replaced), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        except ClientDisconnect:
            log.warning("%s %s: %s left before sending the whole request", method, path, client_name(scope))
        except Exception as error:  # the answer is the documented error body, the log one line
            log.error("%s %s failed: %s", method, path, one_line(error))
            if not started:
                for message in _error_body(500, f"internal error ({type(error).__name__}); the server goes on"):
                    await send(message)


def one_line(error: BaseException) -> str:
    """An exception as one line: its type, message, and where it was raised (file:line)."""
    where = ""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    if trace is not None:
        where = f" at {trace.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{trace.tb_lineno}"
    message = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {message}{where}"


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request line and headers.

    Armed when the connection opens and after every response; when it fires while no request
    has been received since (h11 still waits for one), the connection is closed.
    """

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    _header_deadline: asyncio.TimerHandle | None = None

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._header_deadline_passed)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # a request is being handled; its response re-arms the deadline
        if self.conn.trailing_data[0]:  # part of a request arrived, the rest did not
            log.warning("closed the connection of %s: no complete request in %g s",
                        f"{self.client[0]}:{self.client[1]}" if self.client else "a client", self.header_timeout_s)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


def quiet_loop_errors(loop: asyncio.AbstractEventLoop,
                      clock: Callable[[], float] = time.monotonic) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """Install (and return) an event-loop error handler that logs one line per kind of error,
    at most once per LOOP_ERROR_INTERVAL_S, with the number of repeats left out."""
    last: dict[str, tuple[float, int]] = {}

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        kind = f"{context.get('message', 'event loop error')}: {one_line(error) if error else ''}".strip()
        now = clock()
        seen_at, repeats = last.get(kind, (-LOOP_ERROR_INTERVAL_S, 0))
        if now - seen_at < LOOP_ERROR_INTERVAL_S:
            last[kind] = (seen_at, repeats + 1)
            return
        suffix = f" (and {repeats} more like it)" if repeats else ""
        last[kind] = (now, 0)
        log.error("%s%s", kind, suffix)

    loop.set_exception_handler(handle)
    return handle


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard one (every connection is a file); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            return soft
    return soft
