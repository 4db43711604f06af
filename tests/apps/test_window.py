"""The pygame app driven by posted key events, a fake pipeline and fake sources (no window, no camera)."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"

import re
import time
from pathlib import Path

import cv2
import numpy as np
import pygame
import pytest

from arfilter.apps.window.app import App, FpsMeter
from arfilter.apps.window.launch import run_app, run_headless_fallback
from arfilter.apps.window.options import KEY_ACTIONS, AppOptions, KeyMap
from arfilter.apps.window.surfaces import letterbox_rect, surface_to_rgb
from arfilter.core.types import Frame, FrameResult
from arfilter.io.sources import FrameSource
from arfilter.io.sources.camera import CameraSource, CameraUnavailableError
from arfilter.io.virtual_camera import VirtualCameraOptions
from tests.fakes import FakeCameraRig, OneFaceLens

FRAME_SIZE = (320, 240)  # width, height
FACE_BOX = (40, 60, 90, 110)


class FakePipeline(OneFaceLens):
    """One face at FACE_BOX in every frame; `quit_after` frames close the window like the user would."""

    def __init__(self, quit_after: int | None = None) -> None:
        super().__init__(box=FACE_BOX, confidence=0.4)
        self.quit_after = quit_after

    def process(self, frame: Frame) -> FrameResult:
        result = super().process(frame)
        if self.quit_after is not None and len(self.processed) >= self.quit_after:
            pygame.event.post(pygame.event.Event(pygame.QUIT))
        return result


class CountingSource(FrameSource):
    """A file-like source: frame i is gray level i with a red left quarter (to see mirroring)."""

    name = "/videos/counting.mp4"
    fps = 30.0
    can_seek = True

    def __init__(self, frame_count: int = 1000) -> None:
        super().__init__()
        self.frame_count = frame_count
        self._next = 0

    def seek(self, index: int) -> int:
        self._next = min(max(0, index), self.frame_count - 1)
        return self._next

    def _read_frame(self) -> Frame | None:
        if self._next >= self.frame_count:
            return None
        index = self._next
        self._next += 1
        width, height = FRAME_SIZE
        image = np.full((height, width, 3), index % 200, np.uint8)
        image[:, : width // 4] = (0, 0, 255)
        return Frame(image=self._to_rgb(image), index=index, source=self.name, timestamp_s=index / self.fps)


@pytest.fixture
def window():
    pygame.display.init()
    pygame.font.init()
    yield pygame.display.set_mode((480, 400))
    pygame.quit()


@pytest.fixture
def options(tmp_path: Path) -> AppOptions:
    # No start-up hint: its toast would keep the window busy in the timing tests.
    return AppOptions(screenshot_dir=tmp_path / "shots", first_hint_s=0.0)


def make_app(window, options, source: FrameSource | None = None) -> App:
    app = App(FakePipeline(), source or CountingSource(), options, window)
    assert app.step(now=0.0)
    return app


def press(app: App, key: int) -> None:
    """Post a real key event and let the app take it from pygame's queue."""
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    app.handle_events()


# --------------------------------------------------------------------------- keys


def test_s_saves_a_timestamped_png_of_the_frame_size(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_s)
    files = list(options.screenshot_dir.iterdir())
    assert len(files) == 1
    assert re.fullmatch(r"screenshot-\d{8}-\d{6}-\d{3}\.png", files[0].name)
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = cv2.imread(str(files[0]))
    assert saved.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3)
    # what people share: the composited frame (the pipeline's box), without the HUD
    assert np.array_equal(saved[FACE_BOX[1], FACE_BOX[0] + 20], (0, 255, 0))
    lens = cv2.cvtColor(app.lens.packs.render(app.result), cv2.COLOR_RGB2BGR)
    assert np.array_equal(saved, lens), "the default screenshot is the lens alone"
    assert any("Screenshot saved to" in text for text, _ in app.toasts.visible())
    press(app, pygame.K_s)
    assert len(list(options.screenshot_dir.iterdir())) == 2  # a second press never overwrites


@pytest.mark.parametrize("include_hud", ["key", "option"])
def test_screenshots_include_the_hud_on_request(window, tmp_path: Path, include_hud) -> None:
    options = AppOptions(screenshot_dir=tmp_path / "shots", capture_hud=include_hud == "option")
    app = make_app(window, options)
    if include_hud == "key":
        press(app, pygame.K_d)
    press(app, pygame.K_s)
    (saved,) = [cv2.imread(str(path)) for path in options.screenshot_dir.iterdir()]
    lens = cv2.cvtColor(app.lens.packs.render(app.result), cv2.COLOR_RGB2BGR)
    assert not np.array_equal(saved, lens), "the bars and stats are in the picture"
    assert np.array_equal(saved, cv2.cvtColor(surface_to_rgb(app.compose()), cv2.COLOR_RGB2BGR))


def test_the_fps_readout_waits_for_a_measurement() -> None:
    meter = FpsMeter()
    meter.tick(0.0)
    meter.tick(1 / 30)
    assert meter.fps is None, "two frames are no measurement (a recording's first frame read 0.0 fps)"
    for index in range(2, 31):
        meter.tick(index / 30)
    assert meter.fps == pytest.approx(30.0)


def test_a_first_hint_names_the_help_key(window, tmp_path: Path) -> None:
    app = make_app(window, AppOptions(screenshot_dir=tmp_path / "shots"))
    assert ("H: help", 1.0) in app.toasts.visible()


def test_unwritable_screenshot_folder_is_a_toast_not_a_crash(window, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where the folder should be")
    app = make_app(window, AppOptions(screenshot_dir=blocker / "shots"))
    press(app, pygame.K_s)
    press(app, pygame.K_r)
    messages = [text for text, _ in app.toasts.visible()]
    assert any("cannot write the screenshot folder" in text for text in messages)
    assert any("cannot write the recording " in text for text in messages)
    assert app.running and app.outputs.recorder is None


def test_b_toggles_the_bars(window, options) -> None:
    options.show_stats = False  # so that the bars are all the HUD there is
    app = make_app(window, options)
    rendered = app.lens.packs.render(app.result)
    assert not np.array_equal(surface_to_rgb(app.compose()), rendered)
    press(app, pygame.K_b)
    assert not app.show_bars
    assert np.array_equal(surface_to_rgb(app.compose()), rendered)
    press(app, pygame.K_b)
    assert app.show_bars and not np.array_equal(surface_to_rgb(app.compose()), rendered)


def test_space_holds_the_frame(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_SPACE)
    assert app.paused
    for second in range(1, 5):
        assert not app.step(now=float(second))
    assert app.result.frame.index == 0
    app.draw()
    press(app, pygame.K_SPACE)
    assert app.step(now=10.0) and app.result.frame.index == 1


def test_files_play_at_their_frame_rate(window, options) -> None:
    app = make_app(window, options)  # frame 0 at t=0
    assert not app.step(now=0.01)
    assert app.step(now=1 / 30 + 0.001) and app.result.frame.index == 1


def test_a_lens_slower_than_the_file_drops_frames_instead_of_playing_in_slow_motion(window, options) -> None:
    """Steps every 0.1 s (a lens at 10 frames/s) on a 30 frames/s file: every third frame is shown,
    the file keeps its own clock, and the stats line says the source's rate."""
    app = make_app(window, options)  # frame 0 at t=0
    shown = []
    for step in range(1, 6):
        assert app.step(now=step * 0.1 + 0.001)
        shown.append(app.result.frame.index)
    assert shown == [3, 6, 9, 12, 15]
    assert app.dropped_frames == 10
    assert app.hud_layers().stats.source_fps == 30.0


@pytest.mark.parametrize("key", [pygame.K_q, pygame.K_ESCAPE])
def test_q_and_escape_quit_cleanly(window, options, key) -> None:
    app = make_app(window, options)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    assert app.run() == 0 and not app.running


def test_window_close_quits(window, options) -> None:
    app = make_app(window, options)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert app.run() == 0


def test_f_switches_to_the_next_pack(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_f)
    assert app.lens.packs.current == "party"
    assert any(text == "Filter: party" for text, _ in app.toasts.visible())


def test_m_flips_mirror_and_keeps_the_tracks(window, options) -> None:
    source = CountingSource()
    app = make_app(window, options, source)
    assert tuple(app.result.frame.image[0, 0]) == (255, 0, 0)
    press(app, pygame.K_m)
    assert source.mirror and app.lens.resets == 0 and app.lens.mirrors == 1
    assert app.step(now=1.0)
    assert tuple(app.result.frame.image[0, -1]) == (255, 0, 0) and tuple(app.result.frame.image[0, 0]) != (255, 0, 0)


def test_h_shows_help_and_unbound_keys_do_nothing(window, options) -> None:
    app = make_app(window, options)
    before = surface_to_rgb(app.compose())
    press(app, pygame.K_h)
    assert app.show_help
    app.draw()
    press(app, pygame.K_z)
    assert app.running and np.array_equal(before, surface_to_rgb(app.compose()))  # help is not saved


def test_r_records_an_mp4_in_real_time(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_r)
    assert app.outputs.recorder is not None
    start = time.monotonic()
    for step in range(10):
        app.step(now=step / 30)
        app.record(now=start + step / 30)
    press(app, pygame.K_r)
    assert app.outputs.recorder is None
    (video,) = options.screenshot_dir.glob("recording-*.mp4")
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    ok, image = capture.read()
    capture.release()
    assert ok and image.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3)


def test_end_of_a_file_holds_the_last_frame(window, options) -> None:
    app = make_app(window, options, CountingSource(frame_count=2))
    assert app.step(now=1.0)
    assert not app.step(now=2.0) and app.ended and app.running
    assert app.result.frame.index == 1
    assert app.end_message() == "End of counting.mp4: Enter plays it again, L loops it"
    assert app.hud_layers().stats.fps is None, "no stale rate on an ended video"
    assert "ended" in app.hud_layers().stats.notes


def test_enter_replays_an_ended_video_and_l_loops_it(window, options) -> None:
    source = CountingSource(frame_count=2)
    app = make_app(window, options, source)
    frame_time = 1 / 30 + 0.001
    assert app.step(now=frame_time) and not app.step(now=2 * frame_time) and app.ended
    press(app, pygame.K_RETURN)
    assert not app.ended and app.step(now=3.0) and app.result.frame.index == 0
    press(app, pygame.K_l)
    assert app.loop and "loop" in app.hud_layers().stats.notes
    assert app.step(now=3.0 + frame_time) and app.result.frame.index == 1
    assert app.step(now=3.0 + 2 * frame_time) and app.result.frame.index == 0 and not app.ended, \
        "a looping video starts over"


def test_arrow_keys_seek_by_seconds(window, options) -> None:
    app = make_app(window, options, CountingSource(frame_count=1000))
    press(app, pygame.K_RIGHT)
    assert app.step(now=1.0) and app.result.frame.index == 150  # 5 s at 30 fps
    press(app, pygame.K_LEFT)
    assert app.step(now=2.0) and app.result.frame.index == 0
    press(app, pygame.K_SPACE)
    press(app, pygame.K_RIGHT)  # paused: the new frame is shown at once
    assert app.paused and app.result.frame.index == 150


def test_tab_hides_everything_and_p_shows_the_frame_own_bars(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_TAB)
    assert app.hud_layers().empty
    press(app, pygame.K_TAB)
    press(app, pygame.K_p)
    assert app.hud_layers().raw and not app.hud_layers().empty


def test_stats_show_the_source_rate_and_a_recording_timer(window, options) -> None:
    app = make_app(window, options)
    assert app.hud_layers().stats.source_fps == 30.0
    press(app, pygame.K_r)
    assert app.hud_layers().stats.recording_s is not None and app.hud_layers().stats.recording_s >= 0.0
    press(app, pygame.K_r)
    assert app.hud_layers().stats.recording_s is None


def test_saved_files_are_printed_with_their_full_path(window, options, capsys) -> None:
    app = make_app(window, options)
    press(app, pygame.K_s)
    (shot,) = options.screenshot_dir.glob("screenshot-*.png")
    assert capsys.readouterr().out.strip() == f"Screenshot saved to {shot.resolve()}"
    press(app, pygame.K_r)
    app.record()
    press(app, pygame.K_r)
    (video,) = options.screenshot_dir.glob("recording-*.mp4")
    assert capsys.readouterr().out.splitlines() == [f"Recording to {video.resolve()}", f"Recording saved to {video.resolve()}"]


def test_choices_are_handed_over_to_be_remembered(window, options) -> None:
    remembered = []
    app = App(FakePipeline(), CountingSource(), options, window, remember=remembered.append)
    press(app, pygame.K_b)
    press(app, pygame.K_f)
    press(app, pygame.K_d)
    assert [(item.show_bars, item.pack, item.capture_hud) for item in remembered] == [
        (False, None, None), (None, "party", None), (None, None, True)]


def test_an_ended_or_paused_file_idles_until_the_user_acts(window, options) -> None:
    """Idle drops the loop from the 60 Hz redraw cap to IDLE_FPS (the window used ~9% of a
    core after a video ended); a recording keeps it at full rate."""
    app = make_app(window, options, CountingSource(frame_count=1))
    assert not app.idle()
    assert not app.step(now=1.0) and app.ended
    assert app.idle()
    press(app, pygame.K_r)
    assert app.outputs.recorder is not None and not app.idle(), "a recording keeps the loop at full rate"
    press(app, pygame.K_r)
    assert app.idle()
    playing = make_app(window, options)
    assert not playing.idle()
    press(playing, pygame.K_SPACE)
    assert playing.paused and playing.idle()


# --------------------------------------------------------------------------- camera


def test_lost_camera_keeps_the_window_alive_and_resumes(window, options) -> None:
    rig = FakeCameraRig(fail_after=5, outage_opens=3)
    camera = CameraSource(0, opener=rig, retry_interval_s=0.05)
    app = App(FakePipeline(), camera, options, window)
    saw_lost = False
    deadline = time.monotonic() + 5.0
    try:
        while time.monotonic() < deadline:
            app.step()
            app.handle_events()
            app.draw()
            saw_lost = saw_lost or app.camera_lost
            if saw_lost and not app.camera_lost and len(app.lens.processed) >= 10:
                break
            time.sleep(0.005)
    finally:
        camera.close()
    assert saw_lost and not app.camera_lost and app.running
    assert app.lens.resets == 1  # tracks forgotten when the camera came back
    indices = [frame.index for frame in app.lens.processed]
    assert indices == sorted(set(indices)) and len(indices) >= 10


def test_missing_camera_falls_back_to_the_demo(options, capsys) -> None:
    def no_camera() -> FrameSource:
        raise CameraUnavailableError("camera 0", "no device at /dev/video0")

    pipeline = FakePipeline(quit_after=2)
    assert run_app(pipeline, no_camera, options) == 0
    assert capsys.readouterr().out.startswith("No camera: cannot open camera 0 (no device at /dev/video0); showing")
    assert {frame.source for frame in pipeline.processed} == {"demo"}


def test_run_app_runs_the_source_as_opened(options) -> None:
    """Mirroring is the source's (open_source applies --mirror once); the window shows it as it comes."""
    pipeline = FakePipeline(quit_after=3)

    def mirrored() -> CountingSource:
        source = CountingSource()
        source.mirror = True
        return source

    assert run_app(pipeline, mirrored, options) == 0
    frames = pipeline.processed
    assert [frame.index for frame in frames] == [0, 1, 2]
    assert tuple(frames[0].image[0, -1]) == (255, 0, 0)


# --------------------------------------------------------------------------- no display


def test_no_display_runs_the_demo_headless_and_writes_outputs(tmp_path: Path, monkeypatch, capsys) -> None:
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.chdir(tmp_path)
    options = AppOptions(screenshot_dir=Path("out"), headless_seconds=0.5)  # relative: the message says where in full
    pipeline = FakePipeline()
    assert run_app(pipeline, lambda: pytest.fail("no source is opened without a display"), options) == 0
    output = capsys.readouterr().out
    assert "No window (DISPLAY and WAYLAND_DISPLAY are not set)" in output
    (screenshot,) = (tmp_path / "out").resolve().glob("screenshot-*.png")
    (recording,) = (tmp_path / "out").resolve().glob("recording-*.mp4")
    assert str(screenshot) in output and str(recording) in output
    assert cv2.imread(str(screenshot)).shape == (480, 640, 3)
    capture = cv2.VideoCapture(str(recording))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 15 and capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30)
    capture.release()
    assert len(pipeline.processed) == 15


def test_headless_fallback_can_be_called_directly(tmp_path: Path, capsys) -> None:
    options = AppOptions(screenshot_dir=tmp_path, headless_seconds=0.2)
    assert run_headless_fallback(FakePipeline(), options, reason="test") == 0
    assert len(list(tmp_path.glob("*.png"))) == 1 and len(list(tmp_path.glob("*.mp4"))) == 1


# --------------------------------------------------------------------------- pieces


def test_keymap_has_every_action_and_rejects_double_bindings() -> None:
    keys = KeyMap()
    assert [keys.action_for(pygame.key.name(key)) for key in (pygame.K_b, pygame.K_s, pygame.K_r, pygame.K_m, pygame.K_SPACE,
                                                              pygame.K_f, pygame.K_h, pygame.K_q, pygame.K_ESCAPE)] == \
        ["toggle_bars", "screenshot", "record", "mirror", "pause", "next_pack", "help", "quit", "quit"]
    entries = keys.help_entries()
    assert len(entries) == len(KEY_ACTIONS) and ("Q / Esc", "quit") in entries and ("Space", "pause / resume") in entries
    with pytest.raises(ValueError, match="bound to both"):
        KeyMap(screenshot=("b",))


def test_letterbox_keeps_the_aspect_ratio_centred() -> None:
    assert letterbox_rect((640, 480), (960, 720)) == pygame.Rect(0, 0, 960, 720)
    assert letterbox_rect((640, 480), (1000, 480)) == pygame.Rect(180, 0, 640, 480)
    assert letterbox_rect((640, 360), (640, 640)) == pygame.Rect(0, 140, 640, 360)


def test_n_takes_the_faces_in_view_as_neutral_and_n_again_forgets_it(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_n)
    assert app.lens.calibrated == {1}
    assert "Neutral face recorded for 1 face" in app.toasts.visible()[0][0]
    assert app.step(now=1 / 30 + 0.001) and app.result.faces[0].calibrated
    assert "neutral set" in app.hud_layers().stats.notes
    press(app, pygame.K_n)
    assert app.lens.calibrated == set() and "forgotten" in app.toasts.visible()[-1][0]


# --------------------------------------------------------------------------- calls and sharing (issue 22)


def test_g_records_a_gif_of_the_next_four_seconds_and_says_where(window, options) -> None:
    app = make_app(window, options)
    press(app, pygame.K_g)
    assert app.outputs.gif is not None and not app.idle()
    for index in range(150):  # 5 s of a 30 frames/s file, wall clock as the window's
        app.step(now=index / 30)
        app.record(now=index / 30)
    assert app.outputs.gif is None  # done after 4 s, written on another thread
    app.outputs.close()
    app.show_messages()
    (path,) = options.screenshot_dir.glob("clip-*.gif")
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == 60 and gif.size == (480, 360)
    assert any(text == f"GIF saved to {path.resolve()}" for text, _ in app.toasts.visible())


def test_k_cycles_the_background_and_packs_draw_on_top(window, options) -> None:
    app = make_app(window, options)
    lens_before = app.lens.render(app.result)
    press(app, pygame.K_k)
    assert app.lens.background.mode == "blur"
    assert any(text == "Background: blur" for text, _ in app.toasts.visible())
    app.step(now=1.0)
    blurred = surface_to_rgb(app.lens_frame())
    # FakeSegmenter: the left half is the person (kept), the right half blurred; the pack's box is drawn on top.
    assert not np.array_equal(blurred, lens_before)
    assert np.array_equal(blurred[FACE_BOX[1], FACE_BOX[0] + 20], (0, 255, 0))
    press(app, pygame.K_k)
    assert app.lens.background.mode == "none"


def test_v_sends_the_lens_to_the_call_without_hud_unmirrored_at_a_steady_size(window, tmp_path, fake_backend) -> None:
    options = AppOptions(screenshot_dir=tmp_path / "shots", first_hint_s=0.0,
                         virtual_camera=VirtualCameraOptions(size=(640, 480), backend="arfilter-fake"))
    source = CountingSource()
    source.mirror = True  # as a camera starts
    app = make_app(window, options, source)
    press(app, pygame.K_v)
    assert app.outputs.virtual_camera is not None
    assert any(text.startswith("Virtual camera on: /dev/video-fake") for text, _ in app.toasts.visible())
    for index in range(1, 6):
        app.step(now=index / 30)
        app.draw(now=index / 30)  # the window shows bars and stats...
        app.send_to_call()
        app.send_to_call()  # ...and a frame already sent is not sent twice
    backend = fake_backend.opened[0]
    assert backend.fps == CountingSource.fps and len(backend.frames) == 5
    sent = backend.frames[-1]
    assert sent.shape == (480, 640, 3)
    expected = cv2.resize(np.fliplr(app.lens.render(app.result)), (640, 480), interpolation=cv2.INTER_LINEAR)
    assert np.abs(sent.astype(int) - expected).max() <= 2  # the lens alone (no bars, no stats), unmirrored, in RGB
    assert (sent[:, :150] == (255, 0, 0)).all()  # the camera's red left quarter, on the right on screen, is on the left again
    press(app, pygame.K_v)
    assert app.outputs.virtual_camera is None and backend.closed


def test_v_without_a_virtual_camera_says_what_to_install_and_the_window_goes_on(window, tmp_path, fake_backend) -> None:
    fake_backend.fail_open = "No v4l2 loopback device found at /dev/video[0-99]. Did you run 'modprobe v4l2loopback'?"
    options = AppOptions(screenshot_dir=tmp_path / "shots", first_hint_s=0.0,
                         virtual_camera=VirtualCameraOptions(backend="arfilter-fake"))
    app = make_app(window, options)
    press(app, pygame.K_v)
    assert app.outputs.virtual_camera is None and app.running
    (text,) = [text for text, _ in app.toasts.visible()]
    assert text.startswith("no virtual camera found: ") and "modprobe v4l2loopback" in text


def test_c_switches_to_the_next_camera_and_shows_its_name(window, options, monkeypatch) -> None:
    from arfilter.apps.window import app as window_app
    from arfilter.io.sources.cameras import CameraCycle, CameraInfo

    opened: list[str] = []

    def open_camera(spec: str, mirror: bool | None = None) -> FrameSource:
        opened.append(spec)
        return CountingSource()

    monkeypatch.setattr(window_app, "open_source", open_camera)
    first = CountingSource()
    app = make_app(window, options, first)
    app.cameras = CameraCycle(lambda: [0, 2])
    monkeypatch.setattr(window_app.CameraCycle, "after", lambda self, current: CameraInfo(2, "Logitech BRIO"))
    press(app, pygame.K_c)
    assert opened == ["2"] and first.closed and app.source is not first
    assert any(text == "Camera: camera 2: Logitech BRIO" for text, _ in app.toasts.visible())
    assert app.lens.resets == 1


def test_c_with_no_other_camera_says_so(window, options) -> None:
    from arfilter.io.sources.cameras import CameraCycle

    app = make_app(window, options)
    app.cameras = CameraCycle(lambda: [])
    press(app, pygame.K_c)
    assert any("No other camera" in text for text, _ in app.toasts.visible())
