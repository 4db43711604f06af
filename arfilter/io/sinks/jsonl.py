"""The JSON Lines sink (`--json`): one JSON object per processed frame (schema in the README).

Each line reaches the operating system in one `write`, inside a `deferred_signals()` section,
so a signal never splits a line and nothing waits in a Python buffer: whatever a killed run
wrote parses. When the disk fills up, the file is cut back to its last complete line and the
error is one `OutputError` line. Values JSON cannot hold (NaN, infinities) are written as null.

`--json -` writes the lines to standard output (every message of a run goes to standard error,
so the stream holds records only). A reader that leaves early (`| head -1`) is a broken pipe,
raised as `BrokenPipeError` for the command line to end quietly, not reported as a full disk.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from arfilter.core.types import FrameResult
from arfilter.errors import OutputError, os_reason
from arfilter.io.paths import prepare_folder
from arfilter.io.signals import deferred_signals


def frame_record(result: FrameResult) -> dict[str, Any]:
    """The JSON Lines record of one frame (schema documented in the README).

    `probs` is the distribution the label is decided from (smoothed over time for videos and
    cameras), so `label` is its biggest unless `state` says why not ("held": another label
    leads but not yet for long enough; "settling": a new face); `raw_probs` is the frame's
    own. `untracked_faces` counts faces seen but left out (more than --max-faces).
    """

    def distribution(labels: tuple[str, ...], values: np.ndarray) -> dict[str, float]:
        return {label: round(float(p), 4) for label, p in zip(labels, values, strict=True)}

    return {
        "frame": result.frame.index,
        "source": result.frame.source,
        "t_ms": round(result.frame.timestamp_s * 1000.0, 3),
        "untracked_faces": len(result.untracked),
        "faces": [
            {
                "id": face.track_id,
                "box": [int(value) for value in face.box],
                "roll_deg": round(float(face.roll_deg), 2),
                "label": face.label,
                "confidence": round(float(face.confidence), 4),
                "state": face.state,
                "probs": distribution(face.labels, face.probabilities),
                "raw_probs": distribution(face.labels, face.frame_probabilities),
                "calibrated": face.calibrated,
                "expressions": sorted(face.expressions),
            }
            for face in result.faces
        ],
    }


def finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


STDOUT = Path("-")


class JsonLinesSink:
    """Appends one line per frame to `path` (the file is created, or emptied, when the sink opens);
    `-` is standard output."""

    needs_image = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._size = 0  # bytes of complete lines written
        if path == STDOUT:
            self._fd: int | None = os.dup(1)  # closing the sink leaves the process's stdout alone
            return
        prepare_folder(path.parent, "JSON file", for_file=path)
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        except OSError as error:
            raise self._error(error) from None

    def _error(self, error: OSError) -> OutputError:
        return OutputError(f"cannot write the JSON file {self.path} ({os_reason(error)}); "
                           "free some space or pass another --json path")

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        self.write_record(frame_record(result))

    def write_record(self, record: dict[str, Any]) -> None:
        """Write one object as one complete line."""
        if self._fd is None:
            raise OutputError(f"the JSON file {self.path} is already closed")
        data = (json.dumps(finite(record), allow_nan=False) + "\n").encode()
        with deferred_signals():
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
            except BrokenPipeError:
                raise  # the reader left: not a failure of this output
            except OSError as error:
                self._cut_back(self._fd)
                raise self._error(error) from None
        self._size += len(data)
        self.lines += 1

    def _cut_back(self, fd: int) -> None:
        """Drop a partly written line, so the file stays a sequence of complete lines."""
        try:
            os.ftruncate(fd, self._size)
            os.lseek(fd, self._size, os.SEEK_SET)
        except OSError:
            pass  # a device such as /dev/full cannot be truncated, and holds nothing to fix

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def describe(self) -> str:
        return f"{'standard output' if self.path == STDOUT else self.path.resolve()} ({self.lines} lines)"
