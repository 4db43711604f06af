"""The live protocol's sharing messages (background, GIF) with FastAPI's test client and the real lens."""

from __future__ import annotations

import io
import json
import struct
import time

import cv2
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
from fastapi.testclient import TestClient

from arfilter.apps.lens import LensFactory, LensOptions
from arfilter.apps.web.app import ServeOptions, create_app
from arfilter.io.sources.demo_scene import DemoRenderer
from arfilter.render.background import BackgroundOptions

WS_URL = "ws://127.0.0.1:8000/ws"


def client_for(options: LensOptions) -> TestClient:
    return TestClient(create_app(LensFactory(options).build, ServeOptions()), base_url="http://127.0.0.1:8000")


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return cv2.imencode(".jpg", cv2.cvtColor(DemoRenderer().render(0), cv2.COLOR_RGB2BGR))[1].tobytes()


def header_of(message: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack(">I", message[:4])
    return json.loads(message[4:4 + length]), message[4 + length:]


def test_background_choices_and_a_bad_one(tmp_path):
    picture = tmp_path / "beach.png"
    cv2.imwrite(str(picture), DemoRenderer().render(3))
    with client_for(LensOptions(background=BackgroundOptions(mode="blur"))) as client, \
            client.websocket_connect(WS_URL) as ws:
        hello = json.loads(ws.receive_text())
        assert hello["background"] == "blur" and hello["backgrounds"] == ["none", "blur"]
        ws.send_text(json.dumps({"type": "options", "background": "image"}))
        error = json.loads(ws.receive_text())
        assert error["type"] == "error" and error["message"] == "option background must be one of none, blur, got 'image'"
        ws.send_text(json.dumps({"type": "options", "background": "none"}))
        assert json.loads(ws.receive_text())["background"] == "none"
    with client_for(LensOptions(background=BackgroundOptions(mode="image", image_path=picture))) as client, \
            client.websocket_connect(WS_URL) as ws:
        assert json.loads(ws.receive_text())["backgrounds"] == ["none", "blur", "image"]


def test_a_gif_of_the_next_seconds_comes_back_as_one_binary_message(jpeg):
    with client_for(LensOptions()) as client, client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "gif"}))
        assert json.loads(ws.receive_text()) == {"type": "gif", "state": "recording", "seconds": 4.0}
        gif = None
        deadline = time.monotonic() + 30.0  # the clip spans 4 s of the server's clock, however fast frames go
        while time.monotonic() < deadline:
            ws.send_bytes(jpeg)
            header, payload = header_of(ws.receive_bytes())
            if header["type"] == "result":
                continue
            gif = (header, payload)
            break
        assert gif is not None, "no GIF within 30 s"
    header, payload = gif
    assert header["type"] == "gif" and header["bytes"] == len(payload) and 3.9 <= header["seconds"] <= 4.0
    with Image.open(io.BytesIO(payload)) as image:
        assert image.format == "GIF" and image.size == (480, 360)


def test_a_gif_needs_the_composited_frames():
    with client_for(LensOptions()) as client, client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "options", "image": False}))
        ws.receive_text()
        ws.send_text(json.dumps({"type": "gif"}))
        error = json.loads(ws.receive_text())
        assert error["type"] == "error" and "set the option image to true" in error["message"]
