"""A folder of videos as `--source`: each video in turn into its own outputs, one summary at the end.

Someone with a folder of interviews wants one command, not a shell loop. Each video gets its
JSON Lines file, annotated recording and report under `--out-dir`, named after the video
(`talk.mp4` -> `talk.jsonl`, `talk.mp4`, `talk.html`). A run that is stopped or fails half
way is started again with the same command: videos already complete are skipped (unless
`--overwrite`), so only the rest is done.

"Complete" cannot be read from the outputs themselves: an interrupted run closes them
cleanly too (every JSON line parses, the MP4 plays), only shorter. So the batch keeps
`arfilter-summary.json` in the output folder, rewritten atomically after every video: for
each video its status, frames, outputs, and the size and modification time it had when it
was processed. A video is skipped when its entry says done, the video has not changed since,
and every output it lists is still there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arfilter.errors import ArfilterError, OutputError, SourceError, os_reason
from arfilter.io.safe_write import write_atomically

# What `--source FOLDER` counts as a video (a folder of images stays one run over its images).
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp")
SUMMARY_FILE_NAME = "arfilter-summary.json"


def folder_videos(folder: Path) -> list[Path]:
    """The videos directly in `folder`, sorted by name (hidden files left out)."""
    try:
        return sorted(path for path in folder.iterdir()
                      if path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".") and path.is_file())
    except OSError as error:
        raise SourceError(f"cannot list the folder {folder} ({os_reason(error)}); check that it is readable") from None


def output_names(videos: Sequence[Path]) -> dict[Path, str]:
    """The base name of each video's outputs: its stem, or its whole name where two videos share a stem."""
    stems = [video.stem for video in videos]
    return {video: video.stem if stems.count(video.stem) == 1 else video.name.replace(".", "_") for video in videos}


@dataclass(frozen=True)
class VideoRun:
    """What processing one video gave, as the `process` callback reports it."""

    frames: int
    outputs: tuple[str, ...]  # what was written, as the sinks describe it
    warnings: tuple[str, ...] = ()


@dataclass
class VideoOutcome:
    """One video's line in the summary."""

    video: str
    status: str  # "done", "skipped" (complete from an earlier run), "failed" or "interrupted"
    frames: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)  # paths
    error: str = ""
    size: int = 0
    mtime_ns: int = 0


@dataclass
class BatchSummary:
    folder: Path
    out_dir: Path
    outcomes: list[VideoOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def describe(self) -> str:
        frames = sum(outcome.frames for outcome in self.outcomes if outcome.status == "done")
        seconds = sum(outcome.seconds for outcome in self.outcomes if outcome.status == "done")
        skipped = self.count("skipped")
        parts = [f"{len(self.outcomes)} video(s) in {self.folder}: {self.count('done')} processed "
                 f"({frames} frames in {seconds:.1f} s)"]
        if skipped:
            parts.append(f"{skipped} skipped as complete (--overwrite redoes them)")
        if self.failed:
            names = ", ".join(outcome.video for outcome in self.outcomes if outcome.status == "failed")
            parts.append(f"{self.count('failed')} failed ({names})")
        return "; ".join(parts) + f"; outputs and {SUMMARY_FILE_NAME} in {self.out_dir.resolve()}"


def _read_summary(path: Path) -> dict[str, dict[str, Any]]:
    """The videos of an earlier summary; an unreadable one counts as none (everything is redone)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        videos = data["videos"]
        return {name: entry for name, entry in videos.items() if isinstance(entry, dict)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _stat(video: Path) -> tuple[int, int]:
    status = video.stat()
    return status.st_size, status.st_mtime_ns


def is_complete(entry: Mapping[str, Any] | None, video: Path) -> bool:
    """True when an earlier summary entry says `video` was done, as it is now, and its outputs are all there."""
    if not entry or entry.get("status") != "done":
        return False
    try:
        unchanged = (entry.get("size"), entry.get("mtime_ns")) == _stat(video)
    except OSError:
        return False
    outputs = entry.get("outputs")
    return unchanged and isinstance(outputs, list) and all(Path(str(output)).is_file() for output in outputs)


def run_batch(folder: Path, out_dir: Path, suffixes: Mapping[str, str],
              process: Callable[[Path, dict[str, Path]], VideoRun], *, overwrite: bool = False,
              log: Callable[[str], None] = print) -> BatchSummary:
    """Process every video of `folder` with `process(video, {output name: path})`.

    `suffixes` maps each output (an OutputKind name: "json", "record", "report") to its file
    suffix. A video that fails (a damaged file) is noted and the batch goes on; Ctrl-C
    stops the batch, and the summary keeps what was finished.
    """
    videos = folder_videos(folder)
    if not videos:
        raise SourceError(f"folder {folder}/ has no videos ({'/'.join(VIDEO_EXTENSIONS)}) and no images; "
                          "pass a folder that holds some, or one video file")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the output folder {out_dir} ({os_reason(error)}); "
                          "pass another --out-dir") from None
    summary_path = out_dir / SUMMARY_FILE_NAME
    earlier = _read_summary(summary_path)
    summary = BatchSummary(folder, out_dir)
    names = output_names(videos)
    for number, video in enumerate(videos, start=1):
        entry = earlier.get(video.name)
        if not overwrite and is_complete(entry, video):
            assert entry is not None
            summary.outcomes.append(VideoOutcome(video.name, "skipped", int(entry.get("frames", 0)),
                                                 outputs=list(entry.get("outputs", [])), size=int(entry["size"]),
                                                 mtime_ns=int(entry["mtime_ns"])))
            log(f"[{number}/{len(videos)}] {video.name}: complete from an earlier run, skipped")
            continue
        log(f"[{number}/{len(videos)}] {video.name}")
        outputs = {kind: out_dir / f"{names[video]}{suffix}" for kind, suffix in suffixes.items()}
        outcome = VideoOutcome(video.name, "failed")
        start = time.monotonic()
        try:
            outcome.size, outcome.mtime_ns = _stat(video)
            run = process(video, outputs)
            outcome.status, outcome.frames = "done", run.frames
            outcome.outputs = [str(path.resolve()) for path in outputs.values() if path.is_file()]
            for warning in run.warnings:
                log(f"  warning: {warning}")
        except (ArfilterError, OSError) as error:
            outcome.error = str(error) if isinstance(error, ArfilterError) else os_reason(error)
            log(f"  failed: {outcome.error}")
        except KeyboardInterrupt:
            outcome.status = "interrupted"  # its outputs hold what was read; the next run redoes it
            raise
        finally:
            outcome.seconds = round(time.monotonic() - start, 3)
            summary.outcomes.append(outcome)
            _write_summary(summary_path, summary, earlier)
    return summary


def _write_summary(path: Path, summary: BatchSummary, earlier: Mapping[str, Any]) -> None:
    """The summary file: this run's outcomes over the earlier ones (videos no longer there are kept)."""
    videos = dict(earlier)
    for outcome in summary.outcomes:
        entry = asdict(outcome)
        del entry["video"]
        videos[outcome.video] = entry
    data = {"folder": str(summary.folder.resolve()), "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "videos": videos}
    write_atomically(path, (json.dumps(data, indent=2) + "\n").encode(), "--out-dir")

