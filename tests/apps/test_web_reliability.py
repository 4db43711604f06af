"""Issue 21's cases against `arfilter serve`: cross-site use, bombs, concurrency, error bodies,
broken packs, portrait photos, idle sessions and per-request face ids."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from arfilter.apps.lens import LensFactory, LensOptions, build_lens
from arfilter.apps.web.app import ServeOptions, create_app
from tests.faults import corrupt_pixels_keep_checksums, write_pack

PHOTO = Path(__file__).resolve().parent.parent / "data" / "astronaut.png"
BASE = "http://127.0.0.1:8000"
WS_URL = "ws://127.0.0.1:8000/ws"


def photo_jpeg(orientation: int | None = None, size: tuple[int, int] | None = None) -> bytes:
    image = Image.open(PHOTO).convert("RGB")
    if size is not None:
        image = image.resize(size)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def header_bomb_jpeg(side: int = 4096) -> bytes:
    """A few hundred bytes of JPEG whose header declares `side` x `side` px."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "JPEG", quality=10)
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = side.to_bytes(2, "big") * 2
    return bytes(data)


def zeros_png(side: int = 4096) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client():
    app = create_app(build_lens, ServeOptions())
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_cross_site_multipart_post_is_refused(client):
    files = {"image": ("a.jpg", photo_jpeg(), "image/jpeg")}
    response = client.post("/api/analyze", files=files, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "error" in response.json()
    assert client.post("/api/analyze", files=files, headers={"Origin": BASE}).status_code == 200


def test_a_jpeg_that_declares_4096_px_in_600_bytes_is_refused_at_once(client):
    start = time.perf_counter()
    response = client.post("/api/analyze", content=header_bomb_jpeg(), headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 413 and "decompression bomb" in response.json()["error"]
    assert time.perf_counter() - start < 0.2


def test_concurrent_bombs_are_decoded_a_few_at_a_time(client, monkeypatch):
    import arfilter.bounded as bounded

    running, peak, lock = [0], [0], threading.Lock()
    real = cv2.imdecode

    def counting(*args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.02)
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(bounded.cv2, "imdecode", counting)
    body = photo_jpeg(size=(1600, 1600))

    def post(_: int) -> int:
        return client.post("/api/analyze", content=body, headers={"Content-Type": "image/jpeg"}).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(post, range(32)))
    assert statuses == [200] * 32
    assert peak[0] <= 2


def test_a_portrait_phone_photo_is_analysed(client):
    response = client.post("/api/analyze", content=photo_jpeg(orientation=6, size=(640, 480)), headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text


def test_api_errors_are_error_bodies_and_answers_are_not_cached(client):
    assert client.get("/nowhere").json().keys() == {"error"}
    assert client.get("/api/analyze").status_code == 405 and client.get("/api/analyze").json().keys() == {"error"}
    invalid = client.post("/api/analyze?render=maybe", content=photo_jpeg(), headers={"Content-Type": "image/jpeg"})
    assert invalid.status_code == 422 and invalid.json().keys() == {"error"}
    assert client.get("/api/packs").headers["cache-control"] == "no-store"
    analysed = client.post("/api/analyze", content=photo_jpeg(), headers={"Content-Type": "image/jpeg"})
    assert analysed.headers["cache-control"] == "no-store"


def test_face_ids_start_at_one_for_every_request(client):
    ids = []
    for _ in range(3):
        response = client.post("/api/analyze", content=photo_jpeg(), headers={"Content-Type": "image/jpeg"})
        ids.append([face["id"] for face in response.json()["faces"]])
    assert ids == [[1], [1], [1]]


def test_the_policy_is_not_built_from_an_unchecked_host():
    app = create_app(build_lens, ServeOptions(host="0.0.0.0"))
    with TestClient(app, base_url="http://a") as test_client:
        policy = test_client.get("/", headers={"Host": "a; script-src *; frame-ancestors *"}).headers[
            "content-security-policy"]
    assert "script-src *" not in policy and "frame-ancestors 'none'" in policy


@pytest.fixture
def late_pack_client(tmp_path):
    """A server whose pack "late" passes loading but cannot be decoded when chosen."""
    folder = write_pack(tmp_path / "packs" / "late", "late", images=["big.png"])
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 4), dtype=np.uint8)).save(folder / "big.png")
    corrupt_pixels_keep_checksums(folder / "big.png")
    factory = LensFactory(LensOptions(user_packs_dirs=(tmp_path / "packs",)))
    assert factory.pack_errors == []
    app = create_app(factory.build, ServeOptions())
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as test_client:
        yield test_client, tmp_path


def test_a_broken_pack_chosen_over_the_api_is_an_error_without_paths_and_is_dropped(late_pack_client):
    client, tmp_path = late_pack_client
    response = client.post("/api/analyze?render=1&pack=late", content=photo_jpeg(),
                           headers={"Content-Type": "image/jpeg"})
    assert response.status_code in (400, 422, 500) and "late" in response.json()["error"]
    assert str(tmp_path) not in response.text and "/" not in response.json()["error"].replace("/api", "")
    assert "late" not in [pack["name"] for pack in client.get("/api/packs").json()["packs"]]
    ok = client.post("/api/analyze?render=1", content=photo_jpeg(), headers={"Content-Type": "image/jpeg"})
    assert ok.status_code == 200


def test_a_broken_pack_chosen_on_the_live_page_is_an_error_and_the_session_goes_on(late_pack_client):
    client, tmp_path = late_pack_client
    with client.websocket_connect(WS_URL) as ws:
        json.loads(ws.receive_text())
        ws.send_text(json.dumps({"type": "options", "pack": "late"}))
        answer = json.loads(ws.receive_text())
        assert answer["type"] == "error" and "late" in answer["message"] and str(tmp_path) not in answer["message"]
        ws.send_bytes(photo_jpeg())
        result = ws.receive_bytes()
        assert result[:4] and json.loads(result[4:4 + int.from_bytes(result[:4], "big")])["type"] == "result"


def test_a_portrait_phone_frame_is_processed_on_the_live_page(client):
    with client.websocket_connect(WS_URL) as ws:
        json.loads(ws.receive_text())
        ws.send_bytes(photo_jpeg(orientation=6, size=(320, 240)))
        result = ws.receive_bytes()
    header = json.loads(result[4:4 + int.from_bytes(result[:4], "big")])
    assert header["type"] == "result"


def test_an_idle_live_connection_is_closed_and_frees_its_slot():
    app = create_app(build_lens, ServeOptions(max_sessions=1, idle_timeout_s=0.5))
    with TestClient(app, base_url=BASE) as client:
        with client.websocket_connect(WS_URL) as ws:
            json.loads(ws.receive_text())
            idle = json.loads(ws.receive_text())
            assert idle["type"] == "idle"
            with pytest.raises(WebSocketDisconnect):
                ws.receive_text()
        with client.websocket_connect(WS_URL) as ws:
            assert json.loads(ws.receive_text())["type"] == "options"


def test_an_upload_abandoned_mid_body_is_one_log_line(caplog):
    uvicorn = pytest.importorskip("uvicorn")
    from arfilter.apps.web.serve import uvicorn_config

    app = create_app(build_lens, ServeOptions())
    server = uvicorn.Server(uvicorn_config(app, ServeOptions()))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    with caplog.at_level(logging.INFO):
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.05)
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                               b"Content-Length: 100000\r\n\r\n" + b"\xff" * 1000)
                time.sleep(0.3)
            time.sleep(0.5)
        finally:
            server.should_exit = True
            thread.join(10)
    lines = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(lines) == 1 and "left before" in lines[0], lines
    assert all(record.exc_info is None for record in caplog.records)
