"""Where outputs go: folders made on demand with one clear error, and names that never overwrite."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from arfilter.errors import OutputError


def prepare_folder(folder: Path, what: str, for_file: Path | None = None) -> bool:
    """Make sure `folder` can be written; one OutputError line when it cannot. Returns whether it was created.

    Creates at most what the user clearly asked for: an output folder itself (`--out-dir DIR`,
    the screenshot folder) when its parent exists, never a chain of parents (a typo such as
    `--json /nonexistent/dir/out.jsonl` must not leave folders behind), and never the folder of
    an output file (`for_file`, which names the file so the message points at what the user typed).
    """
    target = f"the {what} {for_file}" if for_file is not None else f"the {what} folder {folder}"
    created = False
    try:
        if not folder.is_dir():
            if folder.exists():
                raise OutputError(f"cannot write {target}: {folder} is a file, not a folder; choose a writable folder")
            if for_file is not None:
                raise OutputError(f"cannot write {target}: the folder {folder} does not exist; create it first "
                                  "or choose an existing folder")
            if folder.parent.exists() and not folder.parent.is_dir():
                raise OutputError(f"cannot write {target}: {folder.parent} is a file, not a folder; "
                                  "choose a writable folder")
            if not folder.parent.is_dir():
                raise OutputError(f"cannot write {target}: its parent {folder.parent} does not exist; create it "
                                  "first or choose a folder whose parent exists")
            folder.mkdir()
            created = True
    except OSError as error:
        reason = f"{error.filename} is a file, not a folder" if isinstance(error, FileExistsError) else error.strerror or error
        raise OutputError(f"cannot write {target}: {reason}; choose a writable folder") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {target}: {folder} is not writable; choose a writable folder")
    return created


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
