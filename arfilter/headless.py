"""Run the pipeline without a window: annotated video, annotated images and per-frame JSON.

Outputs are checked for writability before the first frame is processed, written as frames
arrive (so an interrupted run keeps everything up to that point), and closed properly on
Ctrl-C as on a normal end.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

import cv2

from arfilter.sources import WHAT_TO_PASS, FrameSource
from arfilter.errors import OutputError, SourceError
from arfilter.labels import EMOTION_LABELS
from arfilter.pipeline import Pipeline
from arfilter.recording import Recorder, prepare_folder
from arfilter.types import FrameResult

PROGRESS_INTERVAL_S = 2.0


@dataclass(frozen=True)
class HeadlessOptions:
    """What to write. `max_frames` None runs to the end of the source (or Ctrl-C for endless ones)."""

    max_frames: int | None = None
    record_path: Path | None = None  # annotated video (.mp4)
    out_dir: Path | None = None  # annotated images: the image's own name for image/folder sources
    json_path: Path | None = None  # one JSON object per processed frame (JSON Lines)


@dataclass
class RunSummary:
    frames: int = 0
    faces: int = 0
    skipped_frames: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)

    def describe(self) -> str:
        rate = self.frames / self.seconds if self.seconds > 0 else 0.0
        skipped = f", skipped {self.skipped_frames} unreadable frame(s)" if self.skipped_frames else ""
        written = f"; wrote {', '.join(self.outputs)}" if self.outputs else ""
        return f"processed {self.frames} frame(s) with {self.faces} face(s) in {self.seconds:.1f} s ({rate:.1f} frames/s){skipped}{written}"


def frame_record(result: FrameResult) -> dict:
    """The JSON Lines record of one frame (schema documented in the README)."""
    return {
        "frame": result.frame.index,
        "source": result.frame.source,
        "t_ms": round(result.frame.timestamp_s * 1000.0, 3),
        "faces": [
            {
                "id": face.track_id,
                "box": [int(value) for value in face.box],
                "roll_deg": round(float(face.roll_deg), 2),
                "label": face.label,
                "confidence": round(float(face.confidence), 4),
                "probs": {label: round(float(p), 4) for label, p in zip(EMOTION_LABELS, face.probabilities)},
            }
            for face in result.faces
        ],
    }


def _image_output_path(out_dir: Path, result: FrameResult) -> Path:
    """The input's own file name for stills (so names never collide), numbered frames otherwise."""
    if result.frame.is_still:
        return out_dir / Path(result.frame.source).name
    return out_dir / f"frame_{result.frame.index:06d}.png"


def run_headless(pipeline: Pipeline, source: FrameSource, options: HeadlessOptions,
                 log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> RunSummary:
    """Process `source` to its end (or `max_frames`), writing the requested outputs."""
    summary = RunSummary()
    if options.out_dir is not None:
        prepare_folder(options.out_dir, "output")
    for path, what in ((options.json_path, "JSON file"), (options.record_path, "recording")):
        if path is not None:
            prepare_folder(path.parent, what, for_file=path)
    try:
        json_file: TextIO | None = options.json_path.open("w") if options.json_path else None
    except OSError as error:
        raise OutputError(f"cannot write the JSON file {options.json_path} ({error.strerror or error}); "
                          "pass a writable --json path") from None
    recorder: Recorder | None = None
    start = last_progress = time.monotonic()
    try:
        for frame in source:
            result = pipeline.process(frame)
            needs_image = options.record_path is not None or options.out_dir is not None
            image = pipeline.render(result) if needs_image else None
            if options.record_path is not None:
                if recorder is None:  # the size is known only now; codecs want it even
                    size = (image.shape[1] - image.shape[1] % 2, image.shape[0] - image.shape[0] % 2)
                    recorder = Recorder(options.record_path, source.fps, size)
                recorder.write(image, frame.timestamp_s)
            if options.out_dir is not None:
                path = _image_output_path(options.out_dir, result)
                if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
                    raise OutputError(f"cannot write {path}; pass a writable --out-dir")
            if json_file is not None:
                json_file.write(json.dumps(frame_record(result)) + "\n")
            summary.frames += 1
            summary.faces += len(result.faces)
            now = time.monotonic()
            if now - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = now
                log(f"{summary.frames} frames, {summary.frames / (now - start):.1f} frames/s")
            if options.max_frames is not None and summary.frames >= options.max_frames:
                break
        if summary.frames == 0:
            raise SourceError(f"{source.name} gave no readable frame ({source.skipped_frames} could not be decoded); "
                              f"{WHAT_TO_PASS}")
    finally:
        summary.seconds = time.monotonic() - start
        summary.skipped_frames = source.skipped_frames
        if json_file is not None:
            json_file.close()
            summary.outputs.append(str(options.json_path))
        if recorder is not None:
            recorder.close()
            summary.outputs.append(str(options.record_path))
        if options.out_dir is not None:
            summary.outputs.append(f"{options.out_dir}/")
    return summary
