"""The HTTP side of `arfilter serve`: the page, /api/packs and /api/analyze, with FastAPI's test client
and the real pipeline (the astronaut photo has one face)."""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
from fastapi.testclient import TestClient

from arfilter.apps.lens import build_lens
from arfilter.apps.web.app import ServeOptions, create_app
from arfilter.apps.web.uploads import ImageRejectedError, UploadLimits, decode_image

PHOTO = Path(__file__).parent.parent / "data" / "astronaut.png"


@pytest.fixture(scope="module")
def client():
    app = create_app(build_lens, ServeOptions())
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def photo_rgb() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)


def encode(image_rgb: np.ndarray, ext: str = ".jpg") -> bytes:
    return cv2.imencode(ext, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))[1].tobytes()


def png_bomb(width: int, height: int) -> bytes:
    """A 100-byte PNG claiming `width` x `height` px, with a few bytes of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_page_is_served_with_a_content_security_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "<canvas" in response.text and 'src="/app.js"' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/style.css").status_code == 200


def test_no_path_from_the_client_reaches_the_file_system(client):
    for path in ("/static/../../pyproject.toml", "/..%2f..%2fpyproject.toml", "/index.html", "/app.js/../cli.py"):
        assert client.get(path).status_code == 404
    page_script = client.get("/app.js").content
    for query in ("name=../../../pyproject.toml", "name=../app.py", "path=/etc/passwd", "file=../serve.py"):
        response = client.get(f"/app.js?{query}")  # query parameters choose nothing
        assert response.status_code == 200 and response.content == page_script
        assert client.get(f"/style.css?{query}").headers["content-type"].startswith("text/css")


def test_other_host_names_are_refused_on_a_local_server(client):
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    assert client.get("/api/packs", headers={"host": "evil.example:8000"}).status_code == 400
    assert client.get("/api/packs", headers={"host": "localhost:8000"}).status_code == 200


def test_a_reverse_proxy_name_can_be_allowed():
    app = create_app(build_lens, ServeOptions(allowed_hosts=("lens.example.org",)))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/", headers={"host": "lens.example.org"}).status_code == 200
        assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_packs_are_listed(client):
    packs = client.get("/api/packs").json()["packs"]
    assert {"emoji", "shades", "party"} <= {pack["name"] for pack in packs}
    assert all(pack["description"] for pack in packs)


@pytest.mark.parametrize("ext, content_type", [(".jpg", "image/jpeg"), (".png", "image/png")])
def test_analyze_one_face(client, ext, content_type):
    response = client.post("/api/analyze", content=encode(photo_rgb(), ext), headers={"content-type": content_type})
    assert response.status_code == 200
    record = response.json()
    assert set(record) == {"frame", "source", "t_ms", "untracked_faces", "faces"}
    (face,) = record["faces"]
    x, y, w, h = face["box"]
    assert 150 < x + w / 2 < 300 and 60 < y + h / 2 < 200  # the astronaut's face, not anywhere
    assert set(face["probs"]) == {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}
    assert face["label"] == max(face["probs"], key=face["probs"].get)
    assert abs(sum(face["probs"].values()) - 1.0) < 0.01


def test_face_ids_start_at_1_in_every_request(client):
    photo = encode(photo_rgb(), ".png")
    for _ in range(3):
        response = client.post("/api/analyze", content=photo, headers={"content-type": "image/png"})
        assert [face["id"] for face in response.json()["faces"]] == [1]


@pytest.mark.parametrize("image_format", ["WEBP", "BMP", "TIFF", "GIF"])
def test_every_documented_format_is_accepted(client, image_format):
    buffer = io.BytesIO()
    Image.fromarray(photo_rgb()).save(buffer, image_format)
    response = client.post("/api/analyze", content=buffer.getvalue(), headers={"content-type": "application/octet-stream"})
    assert response.status_code == 200, response.text
    assert len(response.json()["faces"]) == 1


def test_every_error_answers_json(client):
    for method, path, status in (("GET", "/nowhere", 404), ("DELETE", "/api/analyze", 405), ("GET", "/api/analyze", 405)):
        response = client.request(method, path)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json" and response.json()["error"], response.text
    invalid = client.post("/api/analyze?render=maybe", content=b"x")
    assert invalid.status_code == 422 and "render" in invalid.json()["error"]


def test_docs_page_and_schema(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "/api/analyze" in client.get("/openapi.json").json()["paths"]


def test_analyze_multipart_field(client):
    files = {"image": ("me.png", encode(photo_rgb(), ".png"), "image/png")}
    response = client.post("/api/analyze", files=files)
    assert response.status_code == 200 and len(response.json()["faces"]) == 1
    missing = client.post("/api/analyze", files={"photo": ("me.png", b"x", "image/png")})
    assert missing.status_code == 400 and "'image'" in missing.json()["error"]
    as_text = client.post("/api/analyze", data={"image": "not a file"}, files={"note": ("a.txt", b"x", "text/plain")})
    assert as_text.status_code == 400 and "file upload" in as_text.json()["error"]


def test_analyze_render_returns_the_annotated_png(client):
    photo = photo_rgb()
    response = client.post("/api/analyze?render=1&pack=shades", content=encode(photo, ".png"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    rendered = cv2.cvtColor(cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert rendered.shape == photo.shape
    changed = np.abs(rendered.astype(int) - photo.astype(int)).sum(axis=2) > 60
    ys, xs = np.nonzero(changed)
    assert changed.mean() > 0.003  # the sunglasses were drawn...
    assert 150 < xs.mean() < 300 and 60 < ys.mean() < 200  # ...on the face


def test_analyze_without_a_face(client):
    blank = np.full((480, 640, 3), 128, np.uint8)
    response = client.post("/api/analyze", content=encode(blank), headers={"content-type": "image/jpeg"})
    assert response.status_code == 200 and response.json()["faces"] == []


@pytest.mark.parametrize("body", [b"", b"hello, not an image", b"GIF89a" + b"\0" * 10, b"\x89PNG\r\n\x1a\n" + b"\0" * 30,
                                  b"%PDF-1.4 " + b"x" * 100])
def test_analyze_non_image_is_400_json(client, body):
    response = client.post("/api/analyze", content=body, headers={"content-type": "image/jpeg"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "image" in response.json()["error"]


def png_of(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("body", [
    pytest.param(png_of(np.zeros((1, 1, 3), np.uint8)), id="1x1"),
    pytest.param(png_of(np.zeros((50, 60), np.uint8)), id="grey"),
    pytest.param(png_of(np.zeros((50, 60, 4), np.uint8)), id="rgba"),
    pytest.param(cv2.imencode(".png", np.zeros((40, 40, 3), np.uint16))[1].tobytes(), id="16-bit"),
    pytest.param(png_of(np.zeros((4096, 2, 3), np.uint8)), id="4096x2"),
])
def test_odd_but_valid_images_are_analysed(client, body):
    assert client.post("/api/analyze", content=body).json()["faces"] == []
    rendered = client.post("/api/analyze?render=1", content=body)
    assert rendered.status_code == 200 and rendered.content.startswith(b"\x89PNG")


def test_the_largest_image_accepted_is_analysed(client):
    largest = cv2.imencode(".jpg", np.zeros((4096, 4096, 3), np.uint8))[1].tobytes()
    assert client.post("/api/analyze", content=largest).json()["faces"] == []


def test_analyze_truncated_jpeg_is_400(client):
    data = encode(photo_rgb())
    response = client.post("/api/analyze", content=data[: len(data) // 3])
    assert response.status_code == 400 and "corrupt or truncated" in response.json()["error"]


def test_analyze_unknown_pack_is_400(client):
    response = client.post("/api/analyze?render=1&pack=../../etc", content=encode(photo_rgb()))
    assert response.status_code == 400 and "no filter pack named" in response.json()["error"]


def test_oversized_body_is_413(client):
    response = client.post("/api/analyze", content=b"\xff" * (10 * 1024 * 1024 + 1), headers={"content-type": "image/jpeg"})
    assert response.status_code == 413 and "10 MB" in response.json()["error"]


def test_oversized_image_is_413_before_decoding(client):
    # 60000 x 60000 px would need 10 GB decoded; the header alone is refused.
    response = client.post("/api/analyze", content=png_bomb(60000, 60000), headers={"content-type": "image/png"})
    assert response.status_code == 413 and "4096 px" in response.json()["error"]
    wide = io.BytesIO()
    Image.new("RGB", (4097, 8)).save(wide, "PNG")
    assert client.post("/api/analyze", content=wide.getvalue()).status_code == 413


def test_decode_checks_the_header_before_decoding(monkeypatch):
    def must_not_decode(*args, **kwargs):
        raise AssertionError("decoded an image whose header is over the limit")

    monkeypatch.setattr(cv2, "imdecode", must_not_decode)
    with pytest.raises(ImageRejectedError) as rejected:
        decode_image(png_bomb(5000, 10), UploadLimits())
    assert rejected.value.status == 413


def test_concurrent_requests_all_answer_the_same(client):
    body = encode(photo_rgb())

    def post(_):
        response = client.post("/api/analyze", content=body, headers={"content-type": "image/jpeg"})
        return response.status_code, response.json()["faces"][0]["label"]

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(post, range(12)))
    assert len(set(answers)) == 1 and answers[0][0] == 200


def test_server_still_answers_after_bad_input(client):
    for body in (b"", b"junk", png_bomb(99999, 1), b"\xff\xd8\xff" + b"\0" * 50):
        assert client.post("/api/analyze", content=body).status_code in (400, 413)
    assert client.post("/api/analyze", content=encode(photo_rgb())).status_code == 200


def test_a_neutral_face_field_reads_the_image_relative_to_it(client):
    """The same photo as its own neutral face reads neutral; a neutral_face without a face is a 400 naming the field."""
    jpeg = encode(photo_rgb())
    plain = client.post("/api/analyze", files={"image": ("a.jpg", jpeg, "image/jpeg")}).json()
    relative = client.post("/api/analyze", files={"image": ("a.jpg", jpeg, "image/jpeg"),
                                                  "neutral_face": ("n.jpg", jpeg, "image/jpeg")}).json()
    assert plain["faces"][0]["calibrated"] is False
    assert relative["faces"][0]["calibrated"] is True and relative["faces"][0]["label"] == "neutral"
    blank = encode(np.full((64, 64, 3), 128, np.uint8))
    answer = client.post("/api/analyze", files={"image": ("a.jpg", jpeg, "image/jpeg"),
                                                "neutral_face": ("n.jpg", blank, "image/jpeg")})
    assert answer.status_code == 400 and "neutral_face" in answer.json()["error"]
    after = client.post("/api/analyze", files={"image": ("a.jpg", jpeg, "image/jpeg")}).json()
    assert after["faces"][0]["calibrated"] is False, "a request's reference does not outlive it"
