"""Bounded reading: every kind of file the app reads is refused in one line when it is not a
regular file of a sane size, and images are refused by their header before decoding."""

from __future__ import annotations

import io
import json
import os
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.bounded import (
    ImageLimits,
    ImageRefusedError,
    check_readable_file,
    decode_image_data,
    echo,
    image_header,
    load_json,
    read_bounded,
    read_image_file,
)
from arfilter.errors import ModelError


def jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_a_sparse_3_gb_file_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "b.jpg"
    with open(big, "wb") as file:
        file.truncate(3 * 1024**3)
    start = time.perf_counter()
    with pytest.raises(ImageRefusedError, match=r"image .*b\.jpg is 3072\.0 MB; at most 256\.0 MB"):
        read_image_file(big)
    assert time.perf_counter() - start < 0.5


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pack.toml"
    os.mkfifo(fifo)
    with pytest.raises(ModelError, match="is not a regular file"):
        read_bounded(fifo, "manifest", 1024, ModelError)


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: tmp / "missing.json", "not found"),
    (lambda tmp: tmp, "is a folder"),
])
def test_missing_files_and_folders_are_one_line(tmp_path, make, expected):
    with pytest.raises(ModelError, match=expected) as caught:
        check_readable_file(make(tmp_path), "model metadata", 1024, ModelError, "re-export it")
    assert "\n" not in str(caught.value) and str(caught.value).endswith("; re-export it")


def test_deeply_nested_json_is_one_line(tmp_path):
    path = tmp_path / "emotion.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="nested too deeply"):
        load_json(path, "emotion model metadata", ModelError)


def test_non_utf8_json_is_one_line(tmp_path):
    path = tmp_path / "emotion.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ModelError, match="not UTF-8"):
        load_json(path, "emotion model metadata", ModelError)


def test_echo_caps_what_an_error_quotes():
    assert len(echo(list(range(100_000)))) < 80
    assert len(echo("x" * 100_000)) < 80
    assert echo({"a": [1.5]}) == "{'a': [1.5]}"


def test_a_portrait_phone_jpeg_decodes_turned():
    data = jpeg(60, 40, orientation=6)
    assert image_header(data).shown_size == (40, 60)
    assert decode_image_data(data, ImageLimits()).shape == (60, 40, 3)


def test_a_header_that_declares_far_more_pixels_than_its_bytes_hold_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("L", (4096, 4096)).save(buffer, "PNG")  # zeros: about 50 kB
    with pytest.raises(ImageRefusedError, match="decompression bomb") as caught:
        decode_image_data(buffer.getvalue(), ImageLimits(max_side_px=4096))
    assert caught.value.too_large


def test_a_flat_full_hd_screenshot_is_not_a_bomb():
    ok, png = cv2.imencode(".png", np.full((1080, 1920, 3), 200, np.uint8))
    assert ok and decode_image_data(png.tobytes(), ImageLimits()).shape == (1080, 1920, 3)


def test_a_truncated_image_is_refused():
    data = jpeg(640, 480)
    with pytest.raises(ImageRefusedError, match=r"corrupt or truncated|not an image"):
        decode_image_data(data[: len(data) // 3], ImageLimits())


def test_json_round_trip(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"labels": ["a", "b"]}))
    assert load_json(path, "metadata") == {"labels": ["a", "b"]}
