"""Where outputs go: folders made on demand with one clear error, and names that never overwrite."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from arfilter.errors import OutputError


def prepare_folder(folder: Path, what: str, for_file: Path | None = None) -> None:
    """Create `folder` if needed; one OutputError line when it cannot be created or written.

    `for_file` names the output file the folder is for, so the message points at what the user typed.
    """
    target = f"the {what} {for_file}" if for_file is not None else f"the {what} folder {folder}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = f"{error.filename} is a file, not a folder" if isinstance(error, FileExistsError) else error.strerror or error
        raise OutputError(f"cannot write {target}: {reason}; choose a writable folder") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {target}: {folder} is not writable; choose a writable folder")


def timestamped_path(folder: Path, prefix: str, suffix: str, now: datetime.datetime | None = None) -> Path:
    """folder/prefix-YYYYmmdd-HHMMSS-mmm.suffix, with -2, -3... added if that name is taken."""
    now = now or datetime.datetime.now()
    stem = f"{prefix}-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
    path = folder / f"{stem}{suffix}"
    counter = 2
    while path.exists():
        path = folder / f"{stem}-{counter}{suffix}"
        counter += 1
    return path
