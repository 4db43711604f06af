"""The JSON Lines sink (`--json`): one JSON object per processed frame (schema in the README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from arfilter.errors import OutputError
from arfilter.labels import EMOTION_LABELS
from arfilter.recording import prepare_folder
from arfilter.types import FrameResult


def frame_record(result: FrameResult) -> dict[str, Any]:
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


class JsonLinesSink:
    """Appends one line per frame to `path` (the file is created, or emptied, when the sink opens)."""

    needs_image = False

    def __init__(self, path: Path) -> None:
        prepare_folder(path.parent, "JSON file", for_file=path)
        self.path = path
        self.lines = 0
        try:
            self._file = path.open("w")
        except OSError as error:
            raise OutputError(f"cannot write the JSON file {path} ({error.strerror or error}); "
                              "pass a writable --json path") from None

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        self._file.write(json.dumps(frame_record(result)) + "\n")
        self.lines += 1

    def close(self) -> None:
        self._file.close()

    def describe(self) -> str:
        return f"{self.path} ({self.lines} lines)"
