"""The H.264 writer: what players see (codec, pixels, length, index first), and what a hostile world leaves."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from arfilter.errors import OutputError
from arfilter.io.video_writer import H264Options, H264Recorder
from tests.fakes import PROJECT_ROOT
from tests.faults import video_frames


def noisy_frame(index: int, width: int = 160, height: int = 120) -> np.ndarray:
    """A frame that does not compress away, with the index in its brightness."""
    rng = np.random.default_rng(index)
    image = rng.integers(0, 255, (height, width, 3), np.uint8)
    image[: height // 2, : width // 2] = (255, 0, 0)  # a red top-left quarter, in RGB
    return image


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    offset, boxes = 0, []
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def test_a_recording_is_h264_yuv420p_with_its_index_first(tmp_path):
    path = tmp_path / "clip.mp4"
    recorder = H264Recorder(path, 30.0, (161, 121))  # odd sizes are rounded down to even
    for index in range(45):
        recorder.write(noisy_frame(index, 161, 121), index / 30.0)
    assert recorder.close() == path
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
        assert container.duration / 1e6 == pytest.approx(1.5, abs=0.05)
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    boxes = top_level_boxes(path)
    assert boxes[:2] == ["ftyp", "moov"] and "mdat" in boxes  # the index before the data ("faststart")
    assert video_frames(path) == 45
    assert np.abs(first[10:50, 10:70].astype(int) - (255, 0, 0)).max() < 12  # RGB stays RGB


def test_a_slow_app_gets_repeated_frames_and_a_stall_is_skipped(tmp_path):
    recorder = H264Recorder(tmp_path / "clip.mp4", 30.0, (64, 48))
    recorder.write(noisy_frame(0, 64, 48), 5.0)
    recorder.write(noisy_frame(1, 64, 48), 5.1)  # 3 frames late: written 3 times
    assert recorder.frames_written == 4 and not recorder.wants_frame(5.11)
    recorder.write(noisy_frame(5, 128, 96), 5.2)  # another size is letterboxed, not an error
    assert recorder.frames_written == 7
    recorder.write(noisy_frame(2, 64, 48), 50.0)  # a long stall: one second of copies, not 45 seconds
    assert recorder.frames_written == 1351 and not recorder.wants_frame(50.0)
    recorder.close()
    assert video_frames(tmp_path / "clip.mp4") == 37


def test_fractional_rates_are_kept(tmp_path):
    path = tmp_path / "ntsc.mp4"
    recorder = H264Recorder(path, 30000 / 1001, (64, 48))
    for index in range(10):
        recorder.write(noisy_frame(index, 64, 48), index * 1001 / 30000)
    recorder.close()
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == Fraction(30000, 1001)


def test_tiny_frames_are_refused_in_one_line(tmp_path):
    with pytest.raises(OutputError, match="1x1 px and MP4 needs at least 2x2"):
        H264Recorder(tmp_path / "dot.mp4", 30.0, (1, 1))


def test_close_twice_is_harmless(tmp_path):
    recorder = H264Recorder(tmp_path / "clip.mp4", 30.0, (64, 48))
    recorder.write(noisy_frame(0, 64, 48), 0.0)
    recorder.close()
    recorder.close()


def test_bad_options():
    with pytest.raises(ValueError, match="crf"):
        H264Options(crf=60)


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"})


def test_a_killed_run_keeps_every_complete_second(tmp_path):
    """SIGKILL (here: _exit without closing) leaves a playable file with the fragments written so far."""
    path = tmp_path / "killed.mp4"
    result = run_python(f"""
        import os, numpy as np
        from pathlib import Path
        from arfilter.io.video_writer import H264Recorder
        recorder = H264Recorder(Path({str(path)!r}), 10.0, (160, 120))
        rng = np.random.default_rng(0)
        for index in range(35):  # 3.5 s at 10 frames/s: three keyframes have closed three fragments
            recorder.write(rng.integers(0, 255, (120, 160, 3), np.uint8), index / 10)
        os._exit(9)
    """, tmp_path)
    assert result.returncode == 9, result.stderr
    assert top_level_boxes(path)[:2] == ["ftyp", "moov"]
    assert 30 <= video_frames(path) <= 35


def test_a_full_disk_is_one_line_and_never_reported_as_written(tmp_path):
    """A file-size limit makes writes fail the way a full disk does; both write() and close() must say so."""
    path = tmp_path / "full.mp4"
    result = run_python(f"""
        import resource, signal, sys, numpy as np
        from pathlib import Path
        from arfilter.errors import OutputError
        from arfilter.io.video_writer import H264Recorder
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        recorder = H264Recorder(Path({str(path)!r}), 10.0, (320, 240))
        rng = np.random.default_rng(0)
        try:
            for index in range(200):
                recorder.write(rng.integers(0, 255, (240, 320, 3), np.uint8), index / 10)
        except OutputError as error:
            print("write:", error)
        try:
            recorder.close()
            print("close: ok")
        except OutputError as error:
            print("close:", error)
    """, tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].startswith(f"write: cannot write recording {path} (") and "record to another folder" in lines[0]
    assert lines[1].startswith("close: cannot write recording"), lines
