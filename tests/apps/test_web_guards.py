"""The HTTP guards of `arfilter serve` on a small app: cross-site refusals, error bodies, no-store,
the policy's host, the request-header deadline and the event loop's one-line errors."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from arfilter.apps.web.guards import (
    BoundedH11Protocol,
    HttpGuard,
    csp_host,
    one_line,
    quiet_loop_errors,
    same_origin,
)


def small_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/echo")
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"size": len(await request.body())})

    @app.get("/api/fail")
    async def fail() -> JSONResponse:
        raise RuntimeError("boom\nsecond line")

    app.add_middleware(HttpGuard)
    return app


@pytest.fixture
def client():
    with TestClient(small_app(), base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_cross_site_post_is_refused_with_one_log_line(client, caplog):
    with caplog.at_level(logging.WARNING, "arfilter.web"):
        response = client.post("/api/echo", content=b"x", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "other sites" in response.json()["error"]
    assert len(caplog.records) == 1 and "evil.example" in caplog.records[0].getMessage()


def test_same_origin_and_originless_requests_pass(client):
    assert client.post("/api/echo", content=b"xy", headers={"Origin": "http://127.0.0.1:8000"}).json() == {"size": 2}
    answer = client.post("/api/echo", content=b"xyz")
    assert answer.json() == {"size": 3} and answer.headers["cache-control"] == "no-store"


def test_sec_fetch_site_cross_site_without_origin_is_refused():
    assert not same_origin({"host": "127.0.0.1:8000", "sec-fetch-site": "cross-site"})
    assert not same_origin({"host": "127.0.0.1:8000", "origin": "null"})
    assert same_origin({"host": "127.0.0.1:8000"})


def test_an_unexpected_error_is_an_error_body_and_one_log_line(client, caplog):
    with caplog.at_level(logging.ERROR, "arfilter.web"):
        response = client.get("/api/fail")
    assert response.status_code == 500 and response.json()["error"].startswith("internal error (RuntimeError)")
    assert len(caplog.records) == 1 and "\n" not in caplog.records[0].getMessage()


def test_the_policy_takes_only_a_plain_host():
    assert csp_host("127.0.0.1:8000") == "127.0.0.1:8000"
    assert csp_host("[::1]:8000") == "[::1]:8000"
    assert csp_host("example.org") == "example.org"
    assert csp_host("a; script-src *; frame-ancestors *") is None
    assert csp_host("a b") is None and csp_host(None) is None


def test_one_line_names_type_message_and_place():
    try:
        raise ValueError("a\nb")
    except ValueError as error:
        line = one_line(error)
    assert line.startswith("ValueError: a b at test_web_guards.py:") and "\n" not in line


def test_loop_errors_are_one_line_per_kind_and_interval(caplog):
    loop = asyncio.new_event_loop()
    now = [0.0]
    try:
        handle = quiet_loop_errors(loop, clock=lambda: now[0])
        with caplog.at_level(logging.ERROR, "arfilter.web"):
            for _ in range(1000):
                handle(loop, {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many")})
            now[0] = 11.0
            handle(loop, {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many")})
    finally:
        loop.close()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and "999 more" in lines[1]


def test_a_connection_that_never_finishes_its_headers_is_closed():
    uvicorn = pytest.importorskip("uvicorn")
    BoundedH11Protocol.header_timeout_s = 0.5
    config = uvicorn.Config(small_app(), host="127.0.0.1", port=0, log_config=None, lifespan="off",
                            http=BoundedH11Protocol)
    server = uvicorn.Server(config)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.settimeout(5)
        start = time.monotonic()
        assert slow.recv(100) == b""  # closed by the server
        assert time.monotonic() - start < 3
        slow.close()
        with socket.create_connection(("127.0.0.1", port)) as good:
            good.sendall(b"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nab")
            good.settimeout(5)
            answer = b""
            while b'{"size":2}' not in answer and (chunk := good.recv(1000)):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"size":2}')
    finally:
        BoundedH11Protocol.header_timeout_s = 10.0
        server.should_exit = True
        thread.join(10)
