"""A folder of videos: each into its own outputs, complete ones skipped on the next run, one summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arfilter.apps.batch import SUMMARY_FILE_NAME, VideoRun, folder_videos, output_names, run_batch
from arfilter.errors import SourceError

SUFFIXES = {"json": ".jsonl", "report": ".html"}


class FakeProcess:
    """Writes every output it is asked for; fails on videos whose name holds "bad"."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, video: Path, outputs: dict[str, Path]) -> VideoRun:
        self.seen.append(video.name)
        if "bad" in video.name:
            raise SourceError(f"video {video} is not a readable video")
        for path in outputs.values():
            path.write_text("x")
        return VideoRun(frames=10, outputs=tuple(str(path) for path in outputs.values()))


@pytest.fixture
def folder(tmp_path) -> Path:
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mov", "bad.mp4", "notes.txt", ".hidden.mp4"):
        (videos / name).write_bytes(b"video")
    return videos


def test_each_video_gets_its_own_outputs_and_a_failure_does_not_stop_the_rest(folder, tmp_path):
    out, process, lines = tmp_path / "out", FakeProcess(), []
    summary = run_batch(folder, out, SUFFIXES, process, log=lines.append)
    assert process.seen == ["a.mp4", "b.mov", "bad.mp4"]
    assert sorted(path.name for path in out.iterdir()) == ["a.html", "a.jsonl", "arfilter-summary.json", "b.html",
                                                           "b.jsonl"]
    assert [outcome.status for outcome in summary.outcomes] == ["done", "done", "failed"]
    assert summary.failed
    described = summary.describe()
    assert "3 video(s)" in described and "2 processed (20 frames" in described and "1 failed (bad.mp4)" in described
    assert str(out.resolve()) in described
    assert lines[0] == "[1/3] a.mp4" and any("failed: video" in line for line in lines)
    recorded = json.loads((out / SUMMARY_FILE_NAME).read_text())["videos"]
    assert recorded["a.mp4"]["status"] == "done" and recorded["bad.mp4"]["status"] == "failed"


def test_second_run_skips_complete_videos_unless_overwrite(folder, tmp_path):
    out = tmp_path / "out"
    run_batch(folder, out, SUFFIXES, FakeProcess(), log=lambda line: None)
    again = FakeProcess()
    summary = run_batch(folder, out, SUFFIXES, again, log=lambda line: None)
    assert again.seen == ["bad.mp4"]  # only what failed is redone
    assert "2 skipped as complete" in summary.describe()
    (out / "a.jsonl").unlink()  # an output gone: redone
    stat = (folder / "b.mov").stat()
    os.utime(folder / "b.mov", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a changed video: redone
    third = FakeProcess()
    run_batch(folder, out, SUFFIXES, third, log=lambda line: None)
    assert third.seen == ["a.mp4", "b.mov", "bad.mp4"]
    forced = FakeProcess()
    run_batch(folder, out, SUFFIXES, forced, overwrite=True, log=lambda line: None)
    assert forced.seen == ["a.mp4", "b.mov", "bad.mp4"]


def test_interrupted_video_is_redone(folder, tmp_path):
    out = tmp_path / "out"

    def interrupted(video: Path, outputs: dict[str, Path]) -> VideoRun:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(folder, out, SUFFIXES, interrupted, log=lambda line: None)
    assert json.loads((out / SUMMARY_FILE_NAME).read_text())["videos"]["a.mp4"]["status"] == "interrupted"


def test_same_stem_videos_get_distinct_outputs(tmp_path):
    names = output_names([tmp_path / "talk.mp4", tmp_path / "talk.mov", tmp_path / "other.mp4"])
    assert sorted(names.values()) == ["other", "talk_mov", "talk_mp4"]


def test_folder_without_videos_is_one_clear_line(tmp_path):
    assert folder_videos(tmp_path) == []
    with pytest.raises(SourceError, match="has no videos"):
        run_batch(tmp_path, tmp_path / "out", SUFFIXES, FakeProcess())
