"""The annotated-images sink (`--out-dir`): one PNG (or the input's own format) per frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from arfilter.core.types import FrameResult
from arfilter.errors import OutputError
from arfilter.io.paths import prepare_folder
from arfilter.io.safe_write import write_atomically


def image_output_path(out_dir: Path, result: FrameResult) -> Path:
    """The input's own file name for stills (so names never collide), numbered frames otherwise."""
    if result.frame.is_still:
        return out_dir / Path(result.frame.source).name
    return out_dir / f"frame_{result.frame.index:06d}.png"


class ImageFolderSink:
    """Writes each drawn frame as an image file into `out_dir` (created when needed)."""

    needs_image = True

    def __init__(self, out_dir: Path) -> None:
        self.created = prepare_folder(out_dir, "output")
        self.out_dir = out_dir
        self.written = 0

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        if image is None:
            raise ValueError("ImageFolderSink needs the drawn image")
        path = image_output_path(self.out_dir, result)
        ok, encoded = cv2.imencode(path.suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise OutputError(f"cannot encode {path} as {path.suffix}; pass another --out-dir")
        write_atomically(path, encoded.tobytes(), "--out-dir")  # never a half-written image
        self.written += 1

    def close(self) -> None:
        """Nothing to finalise: every image is complete once written."""

    def describe(self) -> str:
        created = ", in the folder created for them" if self.created else ""
        return f"{self.out_dir.resolve()}/ ({self.written} images{created})"
