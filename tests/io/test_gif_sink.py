"""GIFs: size, rate, length, one palette, under the size limit, whole on disk, and bad paths as one line."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from arfilter.errors import OutputError
from arfilter.io.sinks.gif import GifOptions, GifSink, frame_delays_ms


def gradient_frame(index: int, width: int = 640, height: int = 360) -> np.ndarray:
    """A moving colour gradient: many colours, and frames that differ."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = (x + index * 8) % 256
    image[..., 1] = y
    image[..., 2] = 255 - (x + y) / 2
    return image


def frames_and_delays(path) -> tuple[int, list[int], tuple[int, int], int | None]:
    with Image.open(path) as gif:
        delays = []
        for index in range(gif.n_frames):
            gif.seek(index)
            delays.append(gif.info["duration"])
        return gif.n_frames, delays, gif.size, gif.info.get("loop")


def test_four_seconds_of_30_fps_become_a_480_px_gif_at_15_fps(tmp_path):
    path = tmp_path / "clip.gif"
    sink = GifSink(path)
    for index in range(200):  # 6.7 s offered, 4 s kept
        sink.add(gradient_frame(index), index / 30.0)
    assert sink.full
    sink.close()
    count, delays, size, loop = frames_and_delays(path)
    assert size == (480, 270) and loop == 0
    assert count == 60
    assert sum(delays) == pytest.approx(4000, abs=10)
    assert path.stat().st_size <= 5_000_000
    assert "the first 4 s" in sink.describe()


def test_one_palette_for_the_whole_clip(tmp_path):
    path = tmp_path / "clip.gif"
    sink = GifSink(path, GifOptions(max_duration_s=1.0))
    for index in range(30):
        sink.add(gradient_frame(index), index / 30.0)
    sink.close()
    global_table, local_tables, images = gif_colour_tables(path.read_bytes())
    assert global_table and images == 15 and local_tables == 0  # 1 s at 15 frames/s, no frame with a palette of its own


def gif_colour_tables(data: bytes) -> tuple[bool, int, int]:
    """(has a global colour table, images with a local one, images), read from the GIF's blocks."""
    flags = data[10]
    offset = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    local, images = 0, 0
    while data[offset] != 0x3B:  # trailer
        if data[offset] == 0x21:  # extension: label, then sub-blocks
            offset += 2
        else:  # image descriptor: 10 bytes, an optional local table, the LZW minimum code size, sub-blocks
            image_flags = data[offset + 9]
            images += 1
            local += bool(image_flags & 0x80)
            offset += 10 + (3 * 2 ** ((image_flags & 7) + 1) if image_flags & 0x80 else 0) + 1
        while data[offset]:
            offset += data[offset] + 1
        offset += 1
    return bool(flags & 0x80), local, images


def test_an_oversized_clip_is_made_to_fit(tmp_path):
    path = tmp_path / "noise.gif"
    sink = GifSink(path, GifOptions(max_bytes=400_000, max_duration_s=2.0))
    rng = np.random.default_rng(0)
    for index in range(60):
        sink.add(rng.integers(0, 255, (360, 640, 3), np.uint8), index / 30.0)
    sink.close()
    assert path.stat().st_size <= 400_000
    _, delays, _, _ = frames_and_delays(path)
    assert sum(delays) == pytest.approx(2000, abs=20)  # fewer or smaller frames, never a shorter clip


def test_delays_keep_the_length_in_gif_ticks():
    delays = frame_delays_ms([index / 15.0 for index in range(15)], 1.0)
    assert all(delay % 10 == 0 for delay in delays) and sum(delays) == 1000


def test_nothing_is_written_without_frames_and_no_temporary_is_left(tmp_path):
    sink = GifSink(tmp_path / "empty.gif")
    sink.close()
    assert list(tmp_path.iterdir()) == []
    sink = GifSink(tmp_path / "one.gif")
    sink.add(gradient_frame(0), 0.0)
    sink.close()
    assert [p.name for p in tmp_path.iterdir()] == ["one.gif"]


def test_a_path_that_is_not_gif_is_one_line(tmp_path):
    with pytest.raises(OutputError, match=r"a GIF's name ends in \.gif; pass e\.g\. .*clip\.gif"):
        GifSink(tmp_path / "clip.png")


def test_an_unwritable_gif_path_is_one_line_before_any_frame(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=r"cannot write the GIF .*is a file, not a folder") as caught:
        GifSink(blocker / "clip.gif")
    assert "\n" not in str(caught.value)
    (tmp_path / "folder.gif").mkdir()
    with pytest.raises(OutputError, match="it is a folder"):
        GifSink(tmp_path / "folder.gif")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this platform")
def test_a_full_disk_at_close_is_one_line(tmp_path, monkeypatch):
    import arfilter.io.safe_write as safe_write

    real_open = open

    def full_open(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).endswith(".partial"):
            return real_open("/dev/full", mode, *args, **kwargs)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(safe_write, "open", full_open, raising=False)
    sink = GifSink(tmp_path / "clip.gif")
    sink.add(gradient_frame(0), 0.0)
    with pytest.raises(OutputError, match="no space left on the device"):
        sink.close()
    assert not (tmp_path / "clip.gif").exists()


def test_record_to_a_gif_name_writes_a_gif_headless(tmp_path, capsys):
    from arfilter.apps.cli import main

    path = tmp_path / "demo.gif"
    assert main(["--source", "demo", "--headless", "--max-frames", "20", "--record", str(path)]) == 0
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.size == (480, 360) and gif.n_frames == 10  # 20 frames at 30/s -> 15/s
    assert f"wrote {path} (0.6 s," in capsys.readouterr().err  # the summary is a message


def test_record_to_another_name_says_mp4_or_gif(tmp_path, capsys):
    from arfilter.apps.cli import main

    assert main(["--source", "demo", "--headless", "--max-frames", "2", "--record", str(tmp_path / "x.avi")]) == 2
    assert "recordings are MP4 (H.264) or GIF files; pass a name ending in .mp4 or .gif" in capsys.readouterr().err
