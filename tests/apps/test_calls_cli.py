"""The command line of issue 22: --virtual-camera (through a fake pyvirtualcam backend), --virtual-camera-size,
--background, and the one line each bad input gets."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from arfilter.apps import cli
from tests.faults import one_error, run_cli


@pytest.fixture
def fake_call(fake_backend, monkeypatch):
    """--virtual-camera goes to the fake backend instead of the platform's."""
    real = cli.virtual_camera_options
    monkeypatch.setattr(cli, "virtual_camera_options",
                        lambda args: dataclasses.replace(real(args), backend="arfilter-fake"))
    return fake_backend


def test_headless_virtual_camera_sends_every_frame_at_a_steady_size(capsys, fake_call, tmp_path):
    code, out, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "5", "--virtual-camera",
                             "--virtual-camera-size", "640x360")
    assert code == 0, err
    backend = fake_call.opened[0]
    assert (backend.width, backend.height, backend.fps) == (640, 360, 30.0)  # the demo's rate
    assert len(backend.frames) == 5 and backend.closed
    assert out == "" and any("virtual camera /dev/video-fake (5 frames)" in line for line in err)  # messages: stderr
    assert not any("nothing was written" in line for line in err)


def test_the_call_gets_the_lens_as_the_headless_outputs_do(capsys, fake_call, tmp_path):
    """Not mirrored, colours in order: the frame sent equals the annotated image written beside it, letterboxed."""
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--virtual-camera",
                           "--virtual-camera-size", "640x480", "--out-dir", tmp_path)
    assert code == 0, err
    written = cv2.cvtColor(cv2.imread(str(tmp_path / "frame_000000.png")), cv2.COLOR_BGR2RGB)
    sent = fake_call.opened[0].frames[0]
    assert np.array_equal(sent, written)


def test_headless_without_a_virtual_camera_is_one_error_naming_what_to_install(capsys, fake_call):
    fake_call.fail_open = "No v4l2 loopback device found at /dev/video[0-99]. Did you run 'modprobe v4l2loopback'?"
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "2", "--virtual-camera")
    one_error(code, err, "no virtual camera found", "modprobe v4l2loopback devices=1 exclusive_caps=1")


def test_a_device_held_by_another_program_is_one_error(capsys, fake_call):
    fake_call.fail_open = "Device /dev/video4 is busy"
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "2", "--virtual-camera")
    one_error(code, err, "held by another program")


@pytest.mark.parametrize("size", ["1280", "720p", "1280x", "1281x720"])
def test_a_size_that_is_not_wxh_is_one_error(capsys, size):
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--virtual-camera",
                           "--virtual-camera-size", size)
    one_error(code, err, "--virtual-camera-size", size, "1280x720")


def test_an_unknown_background_image_is_one_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--background",
                           tmp_path / "beach.jpg", "--json", tmp_path / "out.jsonl")
    one_error(code, err, "--background", "beach.jpg", "no such image file", "blur, none")
    assert not (tmp_path / "out.jsonl").exists()


def test_background_blur_headless(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--out-dir", tmp_path / "blur",
                           "--background", "blur")
    assert code == 0, err
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--out-dir", tmp_path / "none")
    blurred, plain = (cv2.imread(str(tmp_path / name / "frame_000000.png")) for name in ("blur", "none"))
    assert blurred.shape == plain.shape and not np.array_equal(blurred, plain)


def test_help_lists_every_new_flag_and_key(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--virtual-camera ", "--virtual-camera-size WxH", "--background blur|none|IMAGE", ".gif",
                  "G record a GIF of the next 4 s", "K background", "V start / stop the virtual camera",
                  "C next camera"):
        assert words in text, words
