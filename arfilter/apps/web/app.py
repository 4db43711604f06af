"""The ASGI app behind `arfilter serve`: the live page, its WebSocket, and the HTTP API.

    GET  /                  the live page (camera in the browser, filter on every face)
    GET  /app.js, /style.css  the page's script and style (package data, a fixed table)
    GET  /api/packs         the filter packs
    POST /api/analyze       an image in (JPEG/PNG body or multipart field `image`, optionally with
                            `neutral_face`: the same person's neutral face, which the image is
                            then read relative to), one frame of the JSON Lines schema out;
                            `?render=1` answers the annotated PNG
    WS   /ws                the live protocol, see below

Live protocol. The page sends each camera frame as a binary message (a JPEG, at most two
frames awaiting their result) and settings as
text (`{"type": "options", "pack": "shades", "bars": true, "mirror": true, "image": true, "raw": false,
"background": "blur"}`; `background` is one of the `backgrounds` the options reply lists);
`{"type": "screenshot", "hud": false}` answers `{"type": "screenshot", "png": BASE64}`, the frame shown
last as the window's S saves it (the lens alone unless `hud`).
The server answers each processed frame with one binary message: a 4-byte big-endian length,
a JSON header (the JSON Lines record plus `type`, `pack`, `dropped`, `server_ms`) and the
composited frame as a JPEG; with `image` false it answers the JSON header alone, as text.
`{"type": "gif"}` starts a GIF of the next 4 s of composited frames: the server answers
`{"type": "gif", "state": "recording", "seconds": 4}`, and when the clip is complete sends one
binary message of the same framing whose header is `{"type": "gif", "seconds", "bytes"}` and
whose payload is the GIF.
Malformed messages get `{"type": "error", "about": "frame" or "message", "message": ...}` and
the connection stays open. When
every live slot is taken, a new connection gets `{"type": "busy", ...}` and is closed with
code 1013 (try again later).

Why composited frames and not placements drawn by the page: the overlay then comes from the
one renderer the window, the recordings and the headless outputs use (sprite pyramids,
premultiplied blending, cross-fades, the HUD's bar placement), nothing is written twice in
JavaScript, and the screenshot button saves what the window would save. The measured cost
(`python -m bench.web`, in the README) is a few milliseconds of rendering and JPEG encoding
per frame and about 40 kB per frame down, which loopback and a home network carry easily.

Safety: bound to this machine (the default), only requests for 127.0.0.1, localhost or [::1]
are served; every image goes through `uploads.decode_image` (size, dimensions and compression
ratio checked from the header before decoding, a few decodes at a time); bodies are read with
a byte limit and a deadline; no endpoint takes a path from the client (the static files are a
fixed table, packs are chosen by name among those loaded) and no answer holds a server path;
the page carries a Content-Security-Policy built only from a checked host name; API requests
and WebSocket connections from other sites' pages are refused (`guards.same_origin`); a live
connection that sends nothing for `idle_timeout_s` is closed, freeing its slot; every error is
answered as `{"error": ...}` and logged as one line, never raised into the server (see guards).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import AsyncGenerator, Callable
from importlib import resources
from typing import Any

import anyio
import cv2
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.middleware.trustedhost import TrustedHostMiddleware

from arfilter import __version__
from arfilter.apps.lens import Lens, neutral_reference_of
from arfilter.apps.web.docs import add_docs
from arfilter.apps.web.guards import HttpGuard, client_name, csp_host, one_line, same_origin
from arfilter.apps.web.options import LOCAL_HOSTS, ServeOptions
from arfilter.apps.web.session import (
    LatestFrame,
    LensPool,
    LiveSession,
    SettingsError,
    broken_pack_message,
    error_message,
)
from arfilter.apps.web.uploads import (
    ImageRejectedError,
    UploadLimits,
    check_image,
    decode_image,
    too_large_body,
)
from arfilter.core.types import Frame
from arfilter.errors import ArfilterError, PackError
from arfilter.io.sinks.jsonl import frame_record

log = logging.getLogger(__name__)

# The page's files: the only files served, looked up by exact name (never a client path).
STATIC_FILES = {"/app.js": ("app.js", "text/javascript; charset=utf-8"),
                "/style.css": ("style.css", "text/css; charset=utf-8")}

# Everything the page needs comes from this server; no inline script or style, no framing.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                           "media-src 'self' blob: mediastream:; connect-src 'self' {ws}; base-uri 'none'; "
                           "form-action 'none'; frame-ancestors 'none'")

# Names under which a server bound to this machine only is reached. Requests naming another host
# are refused there: a web page elsewhere that rebinds its own domain name to 127.0.0.1 (DNS
# rebinding) cannot use the API from the user's browser.
BUSY_CLOSE_CODE = 1013  # "try again later"
POLICY_CLOSE_CODE = 1008
IDLE_CLOSE_CODE = 1001  # "going away"


@functools.cache
def static_text(name: str) -> bytes:
    """A file of the page, as package data (works from a checkout and from an installed wheel)."""
    return resources.files("arfilter.apps.web").joinpath("static", name).read_bytes()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_body(request: Request, limits: UploadLimits, timeout_s: float) -> bytes:
    """The request body, refused with 413 as soon as it passes `limits.max_bytes`: by its
    Content-Length before reading anything, or while reading a chunked body; 408 when it does
    not arrive whole within `timeout_s` (a slow sender holds nothing for long)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large_body(int(declared), limits)
    chunks, size = [], 0
    with anyio.move_on_after(timeout_s) as deadline:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_large_body(size, limits)
            chunks.append(chunk)
    if deadline.cancelled_caught:
        raise ImageRejectedError(408, f"the body did not arrive within {timeout_s:g} s; send it at once")
    return b"".join(chunks)


async def _single_chunk(data: bytes) -> AsyncGenerator[bytes, None]:
    yield data


async def image_from_multipart(request: Request, body: bytes) -> tuple[bytes, bytes | None]:
    """The bytes of the file sent in the multipart field `image`, and of the optional `neutral_face`
    (a photo of the same person's neutral face: the image is then read relative to it)."""
    parser = MultiPartParser(request.headers, _single_chunk(body), max_files=2, max_fields=8,
                             max_part_size=len(body) + 1)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise ImageRejectedError(400, f"the multipart body cannot be read ({error.message}); "
                                 "send the image in a field named 'image'") from None
    try:
        value, neutral = form.get("image"), form.get("neutral_face")
        if neutral is not None and not isinstance(neutral, UploadFile):
            raise ImageRejectedError(400, "the field 'neutral_face' must be a file upload, "
                                     "e.g. curl -F image=@photo.jpg -F neutral_face=@relaxed.jpg")
        if isinstance(value, UploadFile):
            return await value.read(), (await neutral.read() if neutral is not None else None)
        if isinstance(value, str):  # a text field: its bytes were decoded as text, the image is lost
            raise ImageRejectedError(400, "the field 'image' must be a file upload, e.g. curl -F image=@photo.jpg")
        raise ImageRejectedError(400, "the multipart body has no field named 'image'; send the image in that field")
    finally:
        await form.close()


class _Server:
    """The state shared by all requests: the analysis lens, the live slots, the pack list."""

    def __init__(self, lens_factory: Callable[[], Lens], options: ServeOptions) -> None:
        self.options = options
        self.lens_factory = lens_factory
        self.pool = LensPool(lens_factory, options.max_sessions)
        self.live_sessions = 0
        self._analyze_lens: Lens | None = None
        self._analyze_lock = threading.Lock()  # one lens, one image at a time

    def analyze(self, data: bytes, pack: str | None, render: bool, neutral: bytes | None = None) -> dict[str, Any] | bytes:
        """Runs in a worker thread: decode, analyse as a still, answer the record or the PNG. With
        `neutral` (a photo of the same person's neutral face) every face is read relative to it.

        Decoding happens under the analysis lock: however many requests the thread pool runs,
        one upload at a time is in memory (4096 x 4096 px is 50 MB decoded); what the headers
        alone refuse (bombs) is refused before waiting for it."""
        check_image(data, self.options.limits)
        if neutral is not None:
            check_image(neutral, self.options.limits)
        with self._analyze_lock:
            image = decode_image(data, self.options.limits)
            neutral_image = decode_image(neutral, self.options.limits) if neutral is not None else None
        with self._analyze_lock:
            image = decode_image(data, self.options.limits)
            if self._analyze_lens is None:
                self._analyze_lens = self.lens_factory()
            lens = self._analyze_lens
            offered = len(lens.packs.names)
            try:
                lens.packs.select(pack or lens.packs.initial)  # any case; a typo gets the closest name
            except PackError as error:
                if len(lens.packs.names) < offered:  # undecodable, now dropped: named without server paths
                    raise ImageRejectedError(422, broken_pack_message(pack or lens.packs.initial,
                                                                      lens.packs.names)) from None
                raise ImageRejectedError(400, str(error)) from None
            reference = None
            if neutral_image is not None:
                reference = neutral_reference_of(lens, neutral_image)
                if reference is None:
                    raise ImageRejectedError(400, "no face found in neutral_face; send a photo where the face is clearly visible")
            lens.pipeline.shared_reference = reference
            try:
                result = lens.process(Frame(image=image, index=0, source="upload", timestamp_s=0.0, is_still=True))
            finally:
                lens.pipeline.shared_reference = None
            if not render:
                record = frame_record(result)
                for number, face in enumerate(record["faces"], start=1):
                    face["id"] = number  # each request is its own image: its faces are 1, 2, ...
                return record
            annotated = lens.packs.render(result)
        ok, png = cv2.imencode(".png", cv2.cvtColor(annotated, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError("PNG encoding failed")
        return png.tobytes()

    def packs(self) -> list[dict[str, str]]:
        with self._analyze_lock:
            if self._analyze_lens is None:
                self._analyze_lens = self.lens_factory()
            return [{"name": pack.name, "description": pack.description, "author": pack.author, "licence": pack.licence}
                    for pack in self._analyze_lens.packs.available]


def _static_endpoint(name: str, media_type: str) -> Callable[[], Response]:
    """An endpoint without parameters for one page file. (FastAPI reads an endpoint's parameters,
    defaults included, from the query string: the file name must not be one of them.)"""

    def serve_static() -> Response:
        return Response(static_text(name), media_type=media_type, headers={"Cache-Control": "no-cache"})

    return serve_static


def _answer_errors_as_json(app: FastAPI) -> None:
    """Every error, FastAPI's own included (404, 405, 422, 500), answers `{"error": "..."}`:
    a client reads one shape whatever went wrong."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = {404: f"no such page or endpoint: {request.url.path}; the API is POST /api/analyze and "
                        "GET /api/packs, documented at /docs",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(error.status_code, str(error.detail))
        return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                             for problem in error.errors())
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=422)

    @app.exception_handler(Exception)
    async def failure(request: Request, error: Exception) -> JSONResponse:
        log.error("request %s %s failed: %s", request.method, request.url.path, one_line(error))  # one line
        return JSONResponse({"error": f"the server failed on this request ({type(error).__name__}); "
                                      "it is logged, and other requests are not affected"}, status_code=500)


def create_app(lens_factory: Callable[[], Lens], options: ServeOptions | None = None) -> FastAPI:
    """The app; `lens_factory` builds one fully loaded Lens per live slot and one for the API."""
    options = options or ServeOptions()
    server = _Server(lens_factory, options)
    app = FastAPI(title="arfilter", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = server
    add_docs(app)
    _answer_errors_as_json(app)
    if options.host in LOCAL_HOSTS:
        app.add_middleware(TrustedHostMiddleware,
                           allowed_hosts=["127.0.0.1", "localhost", "[::1]", *options.allowed_hosts])
    app.add_middleware(HttpGuard)  # added last: outermost, so it also answers what the others raise

    @app.get("/")
    async def page(request: Request) -> Response:
        host = csp_host(request.headers.get("host"))
        # Without a checked host name, 'self' alone (browsers match ws: and wss: of the page's host with it).
        csp = CONTENT_SECURITY_POLICY.format(ws=f"ws://{host} wss://{host}" if host else "")
        return Response(static_text("index.html"), media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"})

    for route, (name, media_type) in STATIC_FILES.items():
        app.add_api_route(route, _static_endpoint(name, media_type), methods=["GET"], include_in_schema=False)

    @app.get("/api/packs")
    async def packs() -> JSONResponse:
        return JSONResponse({"packs": await run_in_threadpool(server.packs)})

    @app.post("/api/analyze")
    async def analyze(request: Request, render: bool = False, pack: str | None = None) -> Response:
        try:
            body = await read_body(request, options.limits, options.body_timeout_s)
            neutral = None
            if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
                body, neutral = await image_from_multipart(request, body)
            answer = await run_in_threadpool(server.analyze, body, pack, render, neutral)
        except ImageRejectedError as rejected:
            log.warning("refused POST /api/analyze from %s: %s", client_name(request.scope), rejected.message)
            return _error(rejected.status, rejected.message)
        except ArfilterError as error:  # the details (paths) go to the log, not to the client
            log.error("analyze failed: %s", error)
            return _error(500, f"the image could not be analysed ({type(error).__name__}); the server goes on")
        if isinstance(answer, bytes):
            return Response(answer, media_type="image/png")
        return JSONResponse(answer)

    @app.websocket("/ws")
    async def live(websocket: WebSocket) -> None:
        if not same_origin(websocket.headers):
            log.warning("refused /ws from %s: Origin %s is another site", client_name(websocket.scope),
                        websocket.headers.get("origin"))
            await websocket.close(code=POLICY_CLOSE_CODE, reason="connections from other sites are not allowed")
            return
        await websocket.accept()
        if server.live_sessions >= options.max_sessions:
            in_use = ("its one live session is in use" if options.max_sessions == 1
                      else f"all {options.max_sessions} live sessions are in use")
            await websocket.send_text(json.dumps({"type": "busy", "retry_s": options.busy_retry_s,
                                                  "message": f"the server is busy: {in_use}"}))
            await websocket.close(code=BUSY_CLOSE_CODE, reason="busy")
            return
        server.live_sessions += 1
        try:
            # Shielded: a connection cancelled while its lens loads must still count it out.
            with anyio.CancelScope(shield=True):
                lens = await run_in_threadpool(server.pool.take)
            try:
                await _run_session(websocket, LiveSession(lens, options.limits, options.jpeg_quality),
                                   options.idle_timeout_s)
            finally:
                server.pool.give_back(lens)  # cheap, and no frame of it is in flight any more
        finally:
            server.live_sessions -= 1

    return app


async def _run_session(websocket: WebSocket, session: LiveSession, idle_timeout_s: float) -> None:
    """Receive on this coroutine, process on another: frames arriving while one is processed
    replace each other in `LatestFrame` instead of queueing. A client that sends nothing for
    `idle_timeout_s` is told so and closed: answering pings does not keep a slot."""
    latest = LatestFrame()
    send_lock = asyncio.Lock()  # results and option replies come from two coroutines

    async def send(message: str | bytes) -> None:
        async with send_lock:
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)

    async def process_frames() -> None:
        while (data := await latest.take()) is not None:
            dropped, latest.dropped = latest.dropped, 0
            try:
                answer = await run_in_threadpool(session.process, data, dropped)
            except ImageRejectedError as rejected:
                answer = error_message(rejected.message, "frame")
            except Exception as error:  # one bad frame must not end the session or the server
                log.exception("live frame failed")
                answer = error_message(f"this frame could not be processed ({type(error).__name__}); "
                                       "the next one will be tried", "frame")
            try:
                await send(answer)
                for extra in session.take_outbox():  # a GIF finished with this frame
                    await send(extra)
            except (WebSocketDisconnect, RuntimeError):
                return

    await send(json.dumps(session.describe()))
    worker = asyncio.create_task(process_frames())
    try:
        while True:
            with anyio.move_on_after(idle_timeout_s) as idle:
                message = await websocket.receive()
            if idle.cancelled_caught:
                await send(json.dumps({"type": "idle", "message": f"nothing received for {idle_timeout_s:g} s; the "
                                       "connection is closed to free its slot, reconnect to go on"}))
                await websocket.close(code=IDLE_CLOSE_CODE, reason="idle")
                break
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                latest.put(message["bytes"])
            elif message.get("text") is not None:
                await send(await run_in_threadpool(_control, session, message["text"]))
    except (WebSocketDisconnect, RuntimeError):  # RuntimeError: replying on a socket already closed
        pass
    finally:
        latest.close()
        with anyio.CancelScope(shield=True):  # the lens goes back only when no frame is in flight
            await worker


def _control(session: LiveSession, text: str) -> str:
    """Answer a text message: settings applied, or an error saying what was wrong. Runs in a
    worker thread, as settings wait for the frame in process to finish (see LiveSession)."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's stack
        return error_message("text messages must be JSON such as {\"type\": \"options\", \"pack\": \"emoji\"}; "
                             "send camera frames as binary JPEG messages", "message")
    if not isinstance(message, dict) or message.get("type") not in ("options", "gif", "screenshot", "calibrate"):
        return error_message("unknown message; send {\"type\": \"options\", ...}, {\"type\": \"gif\"}, "
                             "{\"type\": \"screenshot\"}, {\"type\": \"calibrate\"} or a binary JPEG frame", "message")
    try:
        if message["type"] == "screenshot":
            return json.dumps(session.screenshot(message.get("hud") is True))
        if message["type"] == "calibrate":
            return json.dumps(session.calibrate())
        return json.dumps(session.apply(message) if message["type"] == "options" else session.start_gif())
    except SettingsError as error:
        return error_message(str(error), "message")

