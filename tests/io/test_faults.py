"""Faults of sources and outputs: outputs never overwrite inputs, signals finalise every output,
damaged videos, full disks and unusable paths (each one line, nothing lost)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.errors import OutputError
from arfilter.io.sinks.jsonl import JsonLinesSink
from tests.faults import (
    ASTRONAUT,
    CLIP_FRAMES,
    cli_process,
    damage,
    decodable_frames,
    digest,
    json_lines,
    messages,
    one_error,
    run_cli,
    run_process,
    subprocess_env,
    video_frames,
    write_clip,
)

# --------------------------------------------------------------------------- 1. outputs never overwrite inputs


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", frames=12)


@pytest.mark.parametrize("flag", ["--json", "--record"])
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_an_output_onto_the_source_video_is_refused(tmp_path, capsys, clip, flag, link):
    before = digest(clip)
    target = {"same": clip, "symlink": tmp_path / "link.mp4", "hardlink": tmp_path / "hard.mp4"}[link]
    if link == "symlink":
        target.symlink_to(clip)
    elif link == "hardlink":
        os.link(clip, target)
    code, _, err = run_cli(capsys, "--source", clip, "--headless", flag, target)
    line = one_error(code, err, flag, target, "would overwrite it", "pass another file")
    assert digest(clip) == before
    assert (".jsonl" if flag == "--json" else "-annotated.mp4") in line


def test_an_image_folder_output_onto_its_source_folder_is_refused(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(ASTRONAUT, photos / name)
    before = {path.name: digest(path) for path in photos.iterdir()}
    code, _, err = run_cli(capsys, "--source", photos, "--headless", "--out-dir", photos)
    one_error(code, err, "--out-dir", "photos-annotated")
    code, _, err = run_cli(capsys, "--source", photos / "a.png", "--headless", "--out-dir", photos, "--json",
                           tmp_path / "out.jsonl")
    one_error(code, err, "--out-dir", photos / "a.png")
    assert {path.name: digest(path) for path in photos.iterdir()} == before
    assert not (tmp_path / "out.jsonl").exists(), "nothing is written before the refusal"


def test_json_and_record_on_one_file_are_refused(tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--json", out, "--record", out)
    one_error(code, err, "--record and --json", out)
    assert not out.exists()


def test_a_recording_that_is_not_mp4_names_the_real_cause(tmp_path, capsys):
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--record", tmp_path / "out.avi")
    one_error(code, err, "MP4", "--record", tmp_path / "out.mp4")
    assert not (tmp_path / "out.avi").exists()


def test_a_one_pixel_frame_cannot_be_recorded_and_says_why(tmp_path, capsys):
    dot = tmp_path / "dot.png"
    cv2.imwrite(str(dot), np.zeros((1, 1, 3), np.uint8))
    json_path = tmp_path / "dot.jsonl"
    code, _, err = run_cli(capsys, "--source", dot, "--headless", "--record", tmp_path / "dot.mp4", "--json", json_path)
    one_error(code, err, "1x1 px", "at least 2x2")
    json_lines(json_path)  # whatever was written parses


# --------------------------------------------------------------------------- 2. signals finalise every output


def demo_run_under_way(tmp_path: Path, lines: int) -> tuple[subprocess.Popen[str], Path, Path]:
    """A real headless run on the demo, recording and writing JSON, once it has written `lines` lines."""
    record, json_path = tmp_path / "demo.mp4", tmp_path / "demo.jsonl"
    process = subprocess.Popen(cli_process("--source", "demo", "--headless", "--record", record, "--json", json_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(tmp_path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not json_path.exists() or json_path.read_text().count("\n") < lines):
        time.sleep(0.05)
    return process, record, json_path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_leaves_a_playable_recording_and_complete_json(tmp_path, signum):
    process, record, json_path = demo_run_under_way(tmp_path, lines=10)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    lines = messages(stderr)
    assert lines == [f"arfilter: interrupted by {signal.Signals(signum).name}; "
                     "the outputs written so far are complete and kept"], stderr
    records = json_lines(json_path)
    assert len(records) >= 10
    assert [record["frame"] for record in records] == list(range(len(records)))
    frames = video_frames(record)
    # The frame being processed when the signal came may be in the video and not yet in the JSON.
    assert len(records) <= frames <= len(records) + 1


def test_a_second_signal_during_finalising_is_ignored(tmp_path):
    """An impatient double Ctrl-C (or TERM then HUP) must not break the file being saved."""
    process, record, json_path = demo_run_under_way(tmp_path, lines=5)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode in (128 + signal.SIGTERM, 128 + signal.SIGHUP, 130), stderr
    assert "Traceback" not in stderr and len(messages(stderr)) == 1, stderr
    assert video_frames(record) >= len(json_lines(json_path)) >= 5


# --------------------------------------------------------------------------- 3. damaged videos


def test_a_damaged_stretch_is_skipped_and_the_run_goes_to_the_end(tmp_path, capsys):
    video = write_clip(tmp_path / "damaged.mp4")
    damage(video, 0.2, 0.6)
    before, decodable = digest(video), decodable_frames(video)
    assert 20 < decodable < CLIP_FRAMES - 30, "the damage must hit a long stretch (more than 30 frames) in the middle"
    json_path, record = tmp_path / "out.jsonl", tmp_path / "out.mp4"
    code, _out, err = run_cli(capsys, "--source", video, "--headless", "--json", json_path, "--record", record)
    assert code == 0, err
    records = json_lines(json_path)
    assert len(records) == decodable, "every decodable frame after the damage is processed"
    assert records[-1]["frame"] == CLIP_FRAMES - 1
    skipped = CLIP_FRAMES - decodable
    assert [line for line in err if line.startswith("arfilter: ")] == err[:1], err  # one warning, then the summary
    assert err[0].startswith("arfilter: warning: ") and f"skipped {skipped} unreadable frame(s)" in err[0]
    assert "first at frame" in err[0] and "last at frame" in err[0]
    assert f"processed {decodable} frame(s)" in err[1]
    assert decodable <= video_frames(record) <= CLIP_FRAMES  # gaps keep their time, as repeated frames
    assert digest(video) == before


def _atoms(data: bytes | bytearray, start: int, end: int):
    """(kind, offset, header length, size) of the MP4 boxes between `start` and `end`."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position:position + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[position + 8:position + 16])[0], 16
        yield kind, position, header, size or end - position
        position += size or end - position


def index_first(path: Path) -> None:
    """Move an MP4's index (moov) in front of its data, as web video is served ("faststart"),
    so that a partial download opens and plays up to where it stops."""
    data = path.read_bytes()
    boxes = list(_atoms(data, 0, len(data)))
    _, moov_at, _, moov_size = next(box for box in boxes if box[0] == b"moov")
    moov = bytearray(data[moov_at:moov_at + moov_size])

    def shift_chunk_offsets(start: int, end: int) -> None:
        for kind, position, header, size in _atoms(moov, start, end):
            if kind in (b"trak", b"mdia", b"minf", b"stbl"):
                shift_chunk_offsets(position + header, position + size)
            elif kind == b"stco":
                count = struct.unpack(">I", moov[position + 12:position + 16])[0]
                for at in range(position + 16, position + 16 + 4 * count, 4):
                    moov[at:at + 4] = struct.pack(">I", struct.unpack(">I", moov[at:at + 4])[0] + len(moov))

    shift_chunk_offsets(8, len(moov))
    reordered = bytearray()
    for kind, position, _, size in boxes:
        if kind == b"mdat":
            reordered += moov
        if kind != b"moov":
            reordered += data[position:position + size]
    path.write_bytes(bytes(reordered))


@pytest.mark.parametrize("name", ["partial.mp4", "partial.avi"])
def test_a_file_that_ends_early_exits_non_zero_with_a_warning(tmp_path, capsys, name):
    """A partly downloaded file: an MP4 with its index first (as web video is served), and
    MJPG in AVI, which announces its frame count in the header; both play up to the cut."""
    video = write_clip(tmp_path / name, fourcc="mp4v" if name.endswith(".mp4") else "MJPG")
    if name.endswith(".mp4"):
        index_first(video)
    video.write_bytes(video.read_bytes()[: video.stat().st_size * 6 // 10])
    before, decodable = digest(video), decodable_frames(video)
    assert 0 < decodable < CLIP_FRAMES - 10
    json_path = tmp_path / "out.jsonl"
    code, _out, err = run_cli(capsys, "--source", video, "--headless", "--json", json_path)
    assert code == 3, err
    assert [line for line in err if line.startswith("arfilter: ")] == err[:1], err  # one warning, then the summary
    assert "ended early" in err[0] and f"of the {CLIP_FRAMES}" in err[0], err
    assert f"processed {decodable} frame(s)" in err[1]
    assert f"frames {decodable}-{CLIP_FRAMES - 1}" in err[0]
    assert len(json_lines(json_path)) == decodable
    assert digest(video) == before


def test_a_truncated_mp4_without_its_index_is_one_line(tmp_path, capsys):
    video = write_clip(tmp_path / "cut.mp4", frames=20)
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    before = digest(video)
    code, _, err = run_cli(capsys, "--source", video, "--headless", "--json", tmp_path / "out.jsonl")
    one_error(code, err, video, "not a readable video")
    assert digest(video) == before


# --------------------------------------------------------------------------- 6. one line instead of a traceback


def test_a_full_disk_while_writing_json_is_one_line_and_the_recording_still_plays(tmp_path, capsys):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this platform; the fake full disk below covers the logic")
    record = tmp_path / "out.mp4"
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "5", "--record", record,
                           "--json", "/dev/full")
    one_error(code, err, "/dev/full", "no space left")
    # The video got the first frame before the JSON write failed; the error still finalised it.
    assert video_frames(record) == 1


def test_a_disk_that_fills_mid_line_keeps_only_complete_lines(tmp_path, monkeypatch):
    path = tmp_path / "out.jsonl"
    writer = JsonLinesSink(path)
    writer.write_record({"frame": 0, "value": float("nan")})
    real_write = os.write

    def full_after_ten_bytes(fd, data):
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full_after_ten_bytes)
    with pytest.raises(OutputError, match="no space left on the device"):
        writer.write_record({"frame": 1, "faces": []})
    monkeypatch.undo()
    writer.close()
    assert json_lines(path) == [{"frame": 0, "value": None}], "the torn line is cut off and NaN became null"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: "²", "no such file or folder: ²"),
        (lambda tmp: str(tmp / ("n" * 300 + ".mp4")), "name too long"),
        (lambda tmp: _symlink_loop(tmp), "symlink loop"),
        (lambda tmp: _dangling(tmp), "which does not exist"),
    ],
    ids=["superscript-digit", "name-over-255-bytes", "symlink-loop", "dangling-symlink"],
)
def test_bad_source_paths_are_one_line(tmp_path, capsys, make, expected):
    source = make(tmp_path)
    code, _, err = run_cli(capsys, "--source", source, "--headless", "--json", tmp_path / "out.jsonl")
    one_error(code, err, expected)


def _symlink_loop(tmp: Path) -> str:
    (tmp / "a.mp4").symlink_to(tmp / "b.mp4")
    (tmp / "b.mp4").symlink_to(tmp / "a.mp4")
    return str(tmp / "a.mp4")


def _dangling(tmp: Path) -> str:
    (tmp / "gone.mp4").symlink_to(tmp / "never-there.mp4")
    return str(tmp / "gone.mp4")


def test_a_source_in_an_unreadable_folder_is_one_line(tmp_path, locked_folder):
    code, _, err = run_process(tmp_path, "--source", locked_folder / "photo.png", "--headless", "--json",
                               tmp_path / "out.jsonl", privileged=False)
    one_error(code, err, "permission denied", locked_folder / "photo.png")


def test_an_output_in_a_read_only_folder_is_one_line_and_nothing_is_written(tmp_path):
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        code, _, err = run_process(tmp_path, "--source", ASTRONAUT, "--headless", "--json", read_only / "out.jsonl",
                                   privileged=False)
    finally:
        read_only.chmod(0o755)
    one_error(code, err, read_only, "not writable")
    assert list(read_only.iterdir()) == []
