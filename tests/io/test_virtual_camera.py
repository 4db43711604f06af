"""The virtual camera, driven through a fake pyvirtualcam backend: what a call receives, and a device that comes and goes."""

from __future__ import annotations

import numpy as np
import pytest
import pyvirtualcam

from arfilter.io.virtual_camera import (
    VirtualCamera,
    VirtualCameraError,
    VirtualCameraOptions,
    describe_failure,
    parse_size,
    setup_hint,
)


def left_red(height: int = 480, width: int = 640) -> np.ndarray:
    """RGB: red on the left half, blue on the right: colour order and mirroring both show."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (255, 0, 0)
    image[:, width // 2:] = (0, 0, 255)
    return image


def fake_camera(fps: float = 30.0, size: tuple[int, int] = (1280, 720), **kw) -> tuple[VirtualCamera, list[str]]:
    said: list[str] = []
    return VirtualCamera(fps, VirtualCameraOptions(size=size, backend="arfilter-fake", **kw), say=said.append), said


def test_the_call_gets_a_steady_size_in_rgb_at_the_source_rate(fake_backend):
    camera, said = fake_camera(fps=25.0)
    assert camera.open() == "/dev/video-fake"
    backend = fake_backend.opened[0]
    assert (backend.width, backend.height, backend.fps) == (1280, 720, 25.0)
    assert backend.fourcc == pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.RGB.value)
    for size in ((480, 640), (720, 1280), (1080, 1920), (300, 300)):  # whatever the source, the call sees 1280x720
        camera.send(left_red(*size))
    assert [frame.shape for frame in backend.frames] == [(720, 1280, 3)] * 4
    assert camera.frames_sent == 4 and said == []


def test_colour_order_and_letterbox(fake_backend):
    camera, _ = fake_camera()
    camera.open()
    camera.send(left_red())  # 640x480 -> 960x720 in the middle of 1280x720
    frame = fake_backend.opened[0].frames[0]
    assert (frame[:, :150] == 0).all() and (frame[:, -150:] == 0).all()  # black bars
    assert tuple(frame[360, 300]) == (255, 0, 0) and tuple(frame[360, 1000]) == (0, 0, 255)


def test_a_mirrored_preview_is_unmirrored_for_the_call(fake_backend):
    camera, _ = fake_camera(size=(640, 480))
    camera.open()
    camera.send(left_red(), mirrored=True)
    frame = fake_backend.opened[0].frames[0]
    assert tuple(frame[240, 100]) == (0, 0, 255) and tuple(frame[240, 540]) == (255, 0, 0)


def test_a_source_that_changes_size_leaves_nothing_in_the_bars(fake_backend):
    camera, _ = fake_camera(size=(640, 480))
    camera.open()
    camera.send(np.full((480, 640, 3), 200, np.uint8))
    camera.send(np.full((480, 320, 3), 100, np.uint8))
    frame = fake_backend.opened[0].frames[1]
    assert (frame[:, :150] == 0).all() and (frame[:, 170:470] == 100).all()


def test_no_device_says_what_to_install(fake_backend):
    fake_backend.fail_open = "No v4l2 loopback device found at /dev/video[0-99]. Did you run 'modprobe v4l2loopback'?"
    camera, _ = fake_camera()
    with pytest.raises(VirtualCameraError) as caught:
        camera.open()
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"no virtual camera found: {setup_hint()}"  # this platform's install line


@pytest.mark.parametrize(("system", "words"), [("Linux", "v4l2loopback-dkms"), ("Windows", "OBS"), ("Darwin", "OBS")])
def test_the_install_line_fits_the_platform(system, words):
    assert words in describe_failure(RuntimeError("No v4l2 loopback device found"), system)
    if system == "Linux":
        assert "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=arfilter" in setup_hint(system)


def test_a_device_held_by_another_program_is_one_line(fake_backend):
    fake_backend.fail_open = "Device /dev/video4 is busy"
    camera, _ = fake_camera()
    with pytest.raises(VirtualCameraError, match="held by another program"):
        camera.open()


def test_a_lost_device_is_one_line_then_retried_until_it_is_back(fake_backend):
    now = [0.0]
    said: list[str] = []
    camera = VirtualCamera(30.0, VirtualCameraOptions(backend="arfilter-fake", retry_s=2.0), say=said.append,
                           clock=lambda: now[0])
    camera.open()
    fake_backend.fail_send = "write: No such device"
    camera.send(left_red())
    assert said == ["the virtual camera /dev/video-fake was lost (write: No such device); trying again every 2 s"]
    assert fake_backend.opened[0].closed
    fake_backend.fail_send, fake_backend.fail_open = None, "No v4l2 loopback device found"
    for step in range(10):  # 1 s: not yet time to retry; then the device is still missing: silence
        now[0] = 0.1 * step
        camera.send(left_red())
    now[0] = 2.5
    camera.send(left_red())
    assert len(said) == 1 and len(fake_backend.opened) == 1
    fake_backend.fail_open = None
    now[0] = 5.0
    camera.send(left_red())
    assert said[1] == "the virtual camera /dev/video-fake is back"
    assert len(fake_backend.opened) == 2 and len(fake_backend.opened[1].frames) == 1


@pytest.mark.parametrize("text", ["1280", "1280x", "x720", "big", "1280x720x3", "-2x4"])
def test_a_size_that_is_not_wxh_is_one_line(text):
    with pytest.raises(VirtualCameraError, match=r"not WIDTHxHEIGHT; pass e.g. 1280x720"):
        parse_size(text)


@pytest.mark.parametrize("text", ["1281x720", "0x0", "8192x4320"])
def test_odd_or_huge_sizes_are_one_line(text):
    with pytest.raises(VirtualCameraError, match="even numbers"):
        parse_size(text)


def test_sizes_parse():
    assert parse_size("640x360") == (640, 360) and parse_size(" 1920X1080 ") == (1920, 1080)


def test_the_headless_sink_sends_every_frame_the_right_way_round(fake_backend):
    from arfilter.io.sinks.virtual_camera import VirtualCameraSink

    sink = VirtualCameraSink(30.0, VirtualCameraOptions(size=(640, 480), backend="arfilter-fake"), mirrored=lambda: True,
                             say=print)
    for _ in range(3):
        sink.write(None, left_red())  # type: ignore[arg-type]  # the result is not looked at
    sink.close()
    backend = fake_backend.opened[0]
    assert len(backend.frames) == 3 and backend.closed
    assert tuple(backend.frames[0][240, 100]) == (0, 0, 255)  # unmirrored
    assert sink.describe() == "virtual camera /dev/video-fake (3 frames)"


def test_the_headless_sink_without_a_device_is_one_error(fake_backend):
    from arfilter.io.sinks.virtual_camera import VirtualCameraSink

    fake_backend.fail_open = "No v4l2 loopback device found at /dev/video[0-99]."
    with pytest.raises(VirtualCameraError, match="no virtual camera found"):
        VirtualCameraSink(30.0, VirtualCameraOptions(backend="arfilter-fake"), mirrored=lambda: False, say=print)
