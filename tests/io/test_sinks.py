"""Sinks and the headless runner on a fake pipeline: what each sink writes, and the loop over sinks."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.apps.cli import build_parser
from arfilter.apps.runner import run_headless
from arfilter.core.types import Frame, FrameResult
from arfilter.errors import OutputError
from arfilter.io.sinks import OUTPUT_KINDS, ImageFolderSink, JsonLinesSink, VideoSink, open_sinks
from arfilter.io.sources.base import FrameSource
from tests.fakes import OneFaceLens


class StripesSource(FrameSource):
    """`count` 64x48 frames at 30 fps; `stills` makes them unrelated images named img_N.png."""

    name = "stripes"

    def __init__(self, count: int, stills: bool = False) -> None:
        super().__init__()
        self.count, self.stills, self._next = count, stills, 0

    def _read_frame(self) -> Frame | None:
        if self._next >= self.count:
            return None
        index, self._next = self._next, self._next + 1
        image = np.full((48, 64, 3), index * 10, np.uint8)
        source = f"/in/img_{index}.png" if self.stills else self.name
        return Frame(image=image, index=index, source=source, timestamp_s=index / self.fps, is_still=self.stills)


class ListSink:
    """A sink of our own: proves the protocol is all the runner needs."""

    needs_image = False

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.closed = 0

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        self.frames.append(result.frame.index)

    def close(self) -> None:
        self.closed += 1

    def describe(self) -> str:
        return f"{len(self.frames)} frames in a list"


def test_runner_hands_every_frame_to_every_sink_and_closes_them(tmp_path: Path) -> None:
    pipeline, own = OneFaceLens(), ListSink()
    sinks = [own, JsonLinesSink(tmp_path / "out.jsonl"), VideoSink(tmp_path / "out.mp4", 30.0)]
    summary = run_headless(pipeline, StripesSource(5), sinks)
    assert own.frames == [0, 1, 2, 3, 4] and own.closed == 1
    assert pipeline.packs.renders == 5  # drawn once per frame, shared by the sinks that need it
    assert summary.frames == 5 and summary.faces == 5
    assert summary.outputs == ["5 frames in a list", f"{tmp_path / 'out.jsonl'} (5 lines)", f"{tmp_path / 'out.mp4'} (5 frames)"]
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [record["frame"] for record in records] == [0, 1, 2, 3, 4]
    assert records[1]["faces"][0]["label"] == "happy" and records[1]["t_ms"] == pytest.approx(1000 / 30, abs=1e-3)
    capture = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    capture.release()


def test_nothing_is_drawn_when_no_sink_needs_an_image(tmp_path: Path) -> None:
    pipeline = OneFaceLens()
    run_headless(pipeline, StripesSource(3), [JsonLinesSink(tmp_path / "out.jsonl")], max_frames=2)
    assert pipeline.packs.renders == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2


def test_sinks_are_closed_when_the_run_is_interrupted(tmp_path: Path) -> None:
    class Interrupting(OneFaceLens):
        def process(self, frame: Frame) -> FrameResult:
            if frame.index == 3:
                raise KeyboardInterrupt
            return super().process(frame)

    own = ListSink()
    with pytest.raises(KeyboardInterrupt):
        run_headless(Interrupting(), StripesSource(10), [own, JsonLinesSink(tmp_path / "out.jsonl")])
    assert own.closed == 1 and own.frames == [0, 1, 2]
    assert [json.loads(line)["frame"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [0, 1, 2]


def test_image_folder_sink_keeps_still_names_and_numbers_video_frames(tmp_path: Path) -> None:
    run_headless(OneFaceLens(), StripesSource(2, stills=True), [ImageFolderSink(tmp_path / "stills")])
    run_headless(OneFaceLens(), StripesSource(2), [ImageFolderSink(tmp_path / "video")])
    assert sorted(path.name for path in (tmp_path / "stills").iterdir()) == ["img_0.png", "img_1.png"]
    assert sorted(path.name for path in (tmp_path / "video").iterdir()) == ["frame_000000.png", "frame_000001.png"]
    assert cv2.imread(str(tmp_path / "video" / "frame_000001.png")).mean() == pytest.approx(10, abs=1)


def test_open_sinks_follows_the_table_and_closes_what_it_opened_on_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    sinks = open_sinks({"json": tmp_path / "a.jsonl", "record": tmp_path / "a.mp4", "out_dir": None}, StripesSource(1))
    assert [type(sink) for sink in sinks] == [VideoSink, JsonLinesSink]  # table order
    for sink in sinks:
        sink.close()
    with pytest.raises(OutputError, match="cannot write the recording"):
        open_sinks({"record": blocker / "a.mp4", "json": tmp_path / "b.jsonl"}, StripesSource(1))
    assert not (tmp_path / "b.jsonl").exists()  # nothing created before the failing sink


def test_every_output_kind_is_a_command_line_flag() -> None:
    help_text = build_parser().format_help()
    for kind in OUTPUT_KINDS:
        assert kind.flag in help_text and kind.metavar in help_text
    args = build_parser().parse_args(["--headless", "--json", "x.jsonl"])
    assert {kind.name: getattr(args, kind.name) for kind in OUTPUT_KINDS} == {"record": None, "out_dir": None,
                                                                             "json": Path("x.jsonl"), "report": None}
