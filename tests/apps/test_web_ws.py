"""The live protocol of `arfilter serve` (/ws), with FastAPI's test client and the real pipeline on
frames of the built-in demo (two faces)."""

from __future__ import annotations

import asyncio
import json
import struct
import time

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from arfilter.apps.lens import build_lens
from arfilter.apps.web.app import BUSY_CLOSE_CODE, ServeOptions, create_app
from arfilter.apps.web.session import LatestFrame
from arfilter.core.smoothing import SmoothingOptions
from arfilter.io.sources.demo_scene import DemoRenderer


@pytest.fixture(scope="module")
def demo_jpegs() -> list[bytes]:
    renderer = DemoRenderer()
    return [cv2.imencode(".jpg", cv2.cvtColor(renderer.render(index), cv2.COLOR_RGB2BGR))[1].tobytes()
            for index in range(0, 12, 2)]


# The test client's own host name ("testserver") is refused by a server bound to 127.0.0.1.
WS_URL = "ws://127.0.0.1:8000/ws"


def make_client(max_sessions: int = 4) -> TestClient:
    app = create_app(build_lens, ServeOptions(max_sessions=max_sessions))
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.fixture(scope="module")
def client():
    with make_client() as test_client:
        yield test_client


def split_result(message: bytes) -> tuple[dict, np.ndarray]:
    (length,) = struct.unpack(">I", message[:4])
    header = json.loads(message[4:4 + length])
    image = cv2.imdecode(np.frombuffer(message[4 + length:], np.uint8), cv2.IMREAD_COLOR)
    return header, image


def test_a_frame_in_a_result_out(client, demo_jpegs):
    with client.websocket_connect(WS_URL) as ws:
        hello = json.loads(ws.receive_text())
        assert hello["type"] == "options" and hello["pack"] == "emoji" and "shades" in hello["packs"]
        ws.send_bytes(demo_jpegs[0])
        first, _ = split_result(ws.receive_bytes())
        # A new face's overlay pops in once its label has settled (SmoothingOptions.settle_s).
        smoothing = SmoothingOptions()
        time.sleep(smoothing.settle_s + smoothing.transition_s + 0.05)
        ws.send_bytes(demo_jpegs[0])
        header, image = split_result(ws.receive_bytes())
    assert first["type"] == "result" and first["frame"] == 0 and first["pack"] == "emoji"
    assert header["type"] == "result" and header["frame"] == 1 and header["pack"] == "emoji"
    assert len(header["faces"]) == 2
    assert {"id", "box", "roll_deg", "label", "confidence", "probs"} <= set(header["faces"][0])
    assert image.shape == (480, 640, 3)
    plain = cv2.imdecode(np.frombuffer(demo_jpegs[0], np.uint8), cv2.IMREAD_COLOR)
    for face in header["faces"]:  # the emoji covers each face: its pixels changed a lot
        x, y, w, h = face["box"]
        region = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
        assert np.abs(image[region].astype(int) - plain[region].astype(int)).mean() > 30


def test_options_change_pack_bars_and_image(client, demo_jpegs):
    with client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "options", "pack": "shades", "bars": False, "image": False}))
        settings = json.loads(ws.receive_text())
        assert settings["pack"] == "shades" and settings["bars"] is False and settings["image"] is False
        ws.send_bytes(demo_jpegs[1])
        result = json.loads(ws.receive_text())  # image off: the JSON alone, as text
        assert result["type"] == "result" and result["pack"] == "shades" and len(result["faces"]) == 2


def test_each_connection_tracks_on_its_own(client, demo_jpegs):
    """A second connection sending frames without faces in between must not disturb the first
    connection's tracks (a shared tracker would lose them and hand out new ids)."""
    no_face = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))[1].tobytes()
    with client.websocket_connect(WS_URL) as first, client.websocket_connect(WS_URL) as second:
        first.receive_text()
        second.receive_text()
        ids = []
        for jpeg in demo_jpegs:
            first.send_bytes(jpeg)
            header, _ = split_result(first.receive_bytes())
            ids.append(sorted(face["id"] for face in header["faces"]))
            second.send_bytes(no_face)
            assert split_result(second.receive_bytes())[0]["faces"] == []
    assert len(ids[0]) == 2 and all(frame_ids == ids[0] for frame_ids in ids)
    assert header["frame"] == len(demo_jpegs) - 1


@pytest.mark.parametrize("message", [
    "not json", "[1, 2]", pytest.param("[" * 100_000, id="nested-100000-deep"), json.dumps({"type": "launch"}), json.dumps({"type": "options", "pack": "../../etc/passwd"}),
    json.dumps({"type": "options", "bars": "yes"}), json.dumps({"type": "options", "path": "/tmp/x"}),
])
def test_malformed_text_gets_an_error_and_the_session_goes_on(client, demo_jpegs, message):
    with client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_text(message)
        answer = json.loads(ws.receive_text())
        assert answer["type"] == "error" and answer["about"] == "message" and answer["message"]
        ws.send_bytes(demo_jpegs[0])
        header, _ = split_result(ws.receive_bytes())
        assert header["pack"] == "emoji" and len(header["faces"]) == 2  # nothing changed


@pytest.mark.parametrize("frame", [b"", b"garbage bytes", b"\xff\xd8\xff\xe0" + b"\0" * 64])
def test_malformed_frames_get_an_error_and_the_session_goes_on(client, demo_jpegs, frame):
    with client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_bytes(frame)
        answer = json.loads(ws.receive_text())
        assert answer["type"] == "error" and answer["about"] == "frame"
        ws.send_bytes(demo_jpegs[0])
        assert len(split_result(ws.receive_bytes())[0]["faces"]) == 2


def test_an_oversized_frame_is_refused(client):
    wide = cv2.imencode(".png", np.zeros((4, 5000, 3), np.uint8))[1].tobytes()
    with client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_bytes(wide)
        assert "4096 px" in json.loads(ws.receive_text())["message"]


def test_sessions_are_capped_with_a_busy_message(demo_jpegs):
    with make_client(max_sessions=1) as client:
        with client.websocket_connect(WS_URL) as first:
            first.receive_text()
            with client.websocket_connect(WS_URL) as second:
                busy = json.loads(second.receive_text())
                assert busy["type"] == "busy" and "busy" in busy["message"] and busy["retry_s"] > 0
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive_text()
                assert closed.value.code == BUSY_CLOSE_CODE
            first.send_bytes(demo_jpegs[0])  # the first session is unaffected
            assert len(split_result(first.receive_bytes())[0]["faces"]) == 2
        for _ in range(50):  # the slot is free again once the server has seen the first one go
            with client.websocket_connect(WS_URL) as again:
                if json.loads(again.receive_text())["type"] == "options":
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the live slot was not freed after the first session closed")


def test_other_sites_pages_may_not_connect(client):
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(WS_URL, headers={"origin": "http://evil.example"}) as ws:
        ws.receive_text()
    with client.websocket_connect(WS_URL, headers={"origin": "http://127.0.0.1:8000"}) as ws:
        assert json.loads(ws.receive_text())["type"] == "options"


def test_latest_frame_drops_instead_of_queueing():
    async def scenario() -> tuple[bytes | None, int, bytes | None]:
        latest = LatestFrame()
        for frame in (b"1", b"2", b"3"):
            latest.put(frame)
        newest = await latest.take()
        dropped = latest.dropped
        latest.close()
        return newest, dropped, await latest.take()

    newest, dropped, after_close = asyncio.run(scenario())
    assert newest == b"3" and dropped == 2 and after_close is None


def test_frames_sent_faster_than_processed_are_dropped(client, demo_jpegs):
    with client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "options", "image": False}))
        ws.receive_text()
        for _ in range(5):
            for jpeg in demo_jpegs:
                ws.send_bytes(jpeg)
        results = []
        while sum(result["dropped"] for result in results) + len(results) < 5 * len(demo_jpegs):
            results.append(json.loads(ws.receive_text()))
    assert len(results) < 5 * len(demo_jpegs)  # some were dropped, none queued up...
    assert results[-1]["frame"] == len(results) - 1  # ...and the results count only processed frames


def test_calibrate_takes_the_faces_in_view_as_neutral_and_again_forgets_it(client, demo_jpegs):
    with client.websocket_connect(WS_URL) as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "calibrate"}))
        assert "no face to take as neutral yet" in json.loads(ws.receive_text())["message"]
        for jpeg in demo_jpegs[:3]:
            ws.send_bytes(jpeg)
            header, _ = split_result(ws.receive_bytes())
        faces = len(header["faces"])
        ws.send_text(json.dumps({"type": "calibrate"}))
        assert json.loads(ws.receive_text()) == {"type": "calibration", "state": "set", "faces": faces}
        ws.send_bytes(demo_jpegs[3])
        header, _ = split_result(ws.receive_bytes())
        assert header["faces"] and all(face["calibrated"] for face in header["faces"])
        ws.send_text(json.dumps({"type": "calibrate"}))
        assert json.loads(ws.receive_text())["state"] == "cleared"
