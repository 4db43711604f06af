"""Frame sources on tiny generated data: images, folders, videos, fake cameras and streams, and the demo."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.errors import SourceError
from arfilter.io.sources import SOURCE_KINDS, list_cameras, open_source
from arfilter.io.sources.camera import (
    CameraLostError,
    CameraSource,
    CameraUnavailableError,
    describe_target,
    open_camera,
    open_stream,
)
from arfilter.io.sources.demo import DemoSource
from arfilter.io.sources.demo_scene import FRAME_HEIGHT, FRAME_WIDTH, LOOP_FRAMES, DemoRenderer, demo_face_poses
from arfilter.io.sources.files import ImageListSource, VideoFileSource
from tests.fakes import FakeCameraRig, asymmetric_bgr


def write_image(path: Path, image_bgr: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image_bgr)
    return path


def write_video(path: Path, frame_count: int, fourcc: str = "mp4v", size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 30.0, size)
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for index in range(frame_count):
        image = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8) if fourcc == "MJPG" else \
            np.full((size[1], size[0], 3), index * 20, np.uint8)
        writer.write(image)
    writer.release()
    return path


def assert_one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert message and "\n" not in message
    return message


# --------------------------------------------------------------------------- stills


def test_image_gives_one_rgb_still_frame_then_ends(tmp_path: Path) -> None:
    path = write_image(tmp_path / "face.png", asymmetric_bgr())
    with open_source(str(path)) as source:
        assert isinstance(source, ImageListSource) and not source.is_live and not source.mirror
        frames = list(source)
    assert len(frames) == 1
    frame = frames[0]
    assert frame.is_still and frame.source == str(path) and frame.index == 0
    assert frame.image.dtype == np.uint8 and frame.image.shape == (48, 64, 3)
    assert tuple(frame.image[0, 0]) == (255, 0, 0)  # converted to RGB: red stays red
    assert tuple(frame.image[0, -1]) == (0, 0, 0)


def test_mirror_flips_file_frames_only_when_asked(tmp_path: Path) -> None:
    path = write_image(tmp_path / "face.png", asymmetric_bgr())
    with open_source(str(path), mirror=True) as source:
        image = source.read().image
    assert tuple(image[0, -1]) == (255, 0, 0) and tuple(image[0, 0]) == (0, 0, 0)


def test_folder_is_read_in_path_order_and_skips_corrupt_images(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    write_image(folder / "b.png", asymmetric_bgr(value=20))
    write_image(folder / "a.jpg", asymmetric_bgr(value=10))
    (folder / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    write_image(folder / "d.bmp", asymmetric_bgr(value=40))
    (folder / "notes.txt").write_text("not an image")
    with open_source(str(folder)) as source:
        frames = list(source)
        skipped = source.skipped_frames
    assert [Path(frame.source).name for frame in frames] == ["a.jpg", "b.png", "d.bmp"]
    assert all(frame.is_still for frame in frames)
    assert skipped == 1


def test_empty_folder_says_it_has_no_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("nothing to see")
    with pytest.raises(SourceError) as error:
        open_source(str(tmp_path))
    assert "has no images" in assert_one_line(error)


def test_missing_path_and_corrupt_image_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        open_source(str(tmp_path / "nope.mp4"))
    assert "no such file or folder" in assert_one_line(error) and "--source demo" in str(error.value)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"garbage")
    with pytest.raises(SourceError) as error:
        open_source(str(broken))
    assert "not a readable image" in assert_one_line(error)


# --------------------------------------------------------------------------- video


def test_video_frames_in_order_then_clean_end(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 10)
    with open_source(str(path)) as source:
        assert isinstance(source, VideoFileSource) and source.fps == pytest.approx(30.0)
        frames = list(source)
        assert source.read() is None  # stays ended
    assert [frame.index for frame in frames] == list(range(10))
    assert not any(frame.is_still for frame in frames)
    assert frames[0].image.shape == (48, 64, 3)
    # the gray levels written (index * 20) come back, within codec error
    assert [round(float(frame.image.mean()) / 20) for frame in frames] == list(range(10))


def test_unreadable_video_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 255, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(SourceError) as error:
        open_source(str(path))
    assert assert_one_line(error).startswith(f"video {path} is not a readable video")


def test_corrupt_video_frame_is_skipped_and_counted(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", 10, fourcc="MJPG")
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]  # JPEG starts
    assert len(starts) == 10
    data[starts[4]: starts[4] + 400] = bytes(400)  # wipe the header of frame 4
    path.write_bytes(bytes(data))
    with open_source(str(path)) as source:
        frames = list(source)
        assert source.skipped_frames == 1
    assert [frame.index for frame in frames] == [0, 1, 2, 3, 5, 6, 7, 8, 9]


# --------------------------------------------------------------------------- cameras


def test_camera_is_mirrored_rgb_and_delivers_fresh_frames() -> None:
    rig = FakeCameraRig()
    with open_camera("0", None, opener=rig) as camera:
        assert isinstance(camera, CameraSource) and camera.is_live and camera.mirror
        assert camera.name == "camera 0" and camera.fps == 30.0
        first = camera.read()
        second = camera.read()
        assert second.index > first.index and camera.status == "live"
        assert tuple(first.image[0, -1]) == (255, 0, 0)  # mirrored: the red left half is on the right
        camera.mirror = False
        time.sleep(0.05)
        assert tuple(camera.read().image[0, 0]) == (255, 0, 0)
    assert camera.status == "closed" and camera.read() is None and rig.released >= 1


def test_camera_poll_never_returns_the_same_frame_twice() -> None:
    with CameraSource(0, opener=FakeCameraRig()) as camera:
        seen = []
        deadline = time.monotonic() + 2.0
        while len(seen) < 5 and time.monotonic() < deadline:
            frame = camera.poll()
            if frame is not None:
                seen.append(frame.index)
            time.sleep(0.003)
    assert len(seen) == 5 and seen == sorted(set(seen))


def test_lost_camera_raises_then_comes_back() -> None:
    rig = FakeCameraRig(fail_after=3, outage_opens=2)
    with CameraSource(0, opener=rig, retry_interval_s=0.05) as camera:
        statuses, lost_errors, frames_after = set(), 0, []
        deadline = time.monotonic() + 5.0
        while len(frames_after) < 3 and time.monotonic() < deadline:
            statuses.add(camera.status)
            try:
                frame = camera.read(timeout_s=0.5)
            except CameraLostError as error:
                lost_errors += 1
                assert "camera 0 lost" in str(error)
                time.sleep(0.02)
                continue
            if lost_errors:
                frames_after.append(frame)
    assert lost_errors >= 1 and "lost" in statuses
    assert len(frames_after) == 3 and camera.status == "closed"
    assert rig.opens >= 4  # first open, two refused retries, the successful reopen


def test_missing_camera_is_a_one_line_unavailable_error() -> None:
    with pytest.raises(CameraUnavailableError) as error:
        open_camera("3", None, opener=FakeCameraRig(present=(0,)))
    message = assert_one_line(error)
    assert message.startswith("cannot open camera 3 (") and "--source demo" in message
    assert error.value.detail.startswith("cannot open camera 3")


def test_default_camera_opener_reports_a_missing_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("arfilter.io.sources.camera._camera_device_path", lambda index: f"/nonexistent/video{index}")
    with pytest.raises(CameraUnavailableError) as error:
        open_source("0")
    assert "no device at /nonexistent/video0" in assert_one_line(error)


def test_list_cameras_returns_the_ones_that_deliver() -> None:
    assert list_cameras(6, opener=FakeCameraRig(present=(0, 2))) == [0, 2]


def test_device_path_opens_a_mirrored_camera_by_path() -> None:
    rig = FakeCameraRig(present=("/dev/video2",))
    with open_camera("/dev/video2", None, opener=rig) as camera:
        assert camera.is_live and camera.mirror and camera.name == "camera /dev/video2"
        assert camera.read().image.shape == (48, 64, 3)
    assert rig.targets[0] == "/dev/video2"  # handed to the opener as typed, not as an index


def test_stream_url_is_live_unmirrored_and_named_without_credentials() -> None:
    url = "rtsp://admin:secret@192.0.2.7:554/stream1?channel=2"
    rig = FakeCameraRig(present=(url,))
    with open_stream(url, None, opener=rig) as stream:
        assert stream.is_live and not stream.mirror and stream.status == "live"
        assert stream.name == "stream rtsp://192.0.2.7:554/stream1"
        assert "secret" not in stream.name and stream.read() is not None
    assert rig.targets[0] == url
    assert describe_target("http://cam.local/mjpeg") == "stream http://cam.local/mjpeg"


def test_unreachable_stream_is_a_one_line_error_not_a_demo_fallback() -> None:
    url = "http://user:pw@192.0.2.9/video"
    with pytest.raises(SourceError) as error:
        open_stream(url, None, opener=FakeCameraRig(present=()))
    message = assert_one_line(error)
    assert not isinstance(error.value, CameraUnavailableError)
    assert message.startswith("cannot open stream http://192.0.2.9/video") and "pw" not in message


def test_source_table_dispatches_on_what_was_typed(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.png", asymmetric_bgr())
    video = write_video(tmp_path / "clip.mp4", 2)
    kinds = {kind.name: kind for kind in SOURCE_KINDS}
    expected = {"demo": "DEMO", "camera": "0", "stream": "rtsp://h/s", "folder": str(tmp_path),
                "image": str(image), "video": str(video)}
    for name, spec in expected.items():
        first = next(kind.name for kind in SOURCE_KINDS if kind.matches(spec))
        assert first == name, spec
    assert kinds["camera"].matches("/dev/video10") and not kinds["camera"].matches("/dev/sda")
    assert not any(kind.matches(str(tmp_path / "missing.mp4")) for kind in SOURCE_KINDS)


# --------------------------------------------------------------------------- demo


def test_demo_is_deterministic_endless_and_loops() -> None:
    with open_source("demo") as demo:
        assert isinstance(demo, DemoSource) and not demo.mirror and not demo.is_live and demo.fps == 30.0
        frames = [demo.read() for _ in range(3)]
    assert [frame.index for frame in frames] == [0, 1, 2]
    assert frames[0].image.shape == (FRAME_HEIGHT, FRAME_WIDTH, 3) and frames[0].image.dtype == np.uint8
    assert frames[0].source == "demo" and not frames[0].is_still
    assert not np.array_equal(frames[0].image, frames[1].image)  # it moves
    renderer = DemoRenderer()
    assert np.array_equal(renderer.render(7), DemoRenderer().render(7))  # same frame from a fresh renderer
    assert np.array_equal(renderer.render(0), frames[0].image)
    assert np.array_equal(renderer.render(LOOP_FRAMES), renderer.render(0))


def test_demo_motion_stays_in_the_promised_ranges() -> None:
    poses = [pose for index in range(LOOP_FRAMES) for pose in demo_face_poses(index)]
    rolls = [pose.roll_deg for pose in poses]
    assert max(abs(roll) for roll in rolls) <= 30.0 and max(rolls) > 20 and min(rolls) < -20
    for side in (0, 1):
        scales = [demo_face_poses(index)[side].scale for index in range(LOOP_FRAMES)]
        assert max(scales) / min(scales) == pytest.approx(1.3 / 0.7, rel=0.01)


def test_demo_heads_stay_whole_inside_the_frame_and_apart() -> None:
    """The feathered head masks never touch the frame edge and never overlap each other."""
    renderer = DemoRenderer()
    for index in range(0, LOOP_FRAMES, 6):
        masks = []
        for head, pose in zip(renderer._heads, demo_face_poses(index)):
            mask = cv2.warpAffine(head.mask, head.placement(pose), (FRAME_WIDTH, FRAME_HEIGHT))
            edges = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
            assert edges.max() < 0.05, f"frame {index}: a head is cut by the frame edge"
            masks.append(mask > 0.02)
        assert not (masks[0] & masks[1]).any(), f"frame {index}: heads overlap"


def test_demo_mirror_flips_the_frame() -> None:
    with DemoSource(mirror=True) as demo:
        mirrored = demo.read().image
    assert np.array_equal(mirrored, DemoRenderer().render(0)[:, ::-1])
