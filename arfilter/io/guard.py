"""Refuse outputs that would destroy an input, before anything is written.

`--source clip.mp4 --json clip.mp4` once truncated the video it was about to read, and
`--source photos/ --out-dir photos/` replaced every photo with its annotated copy. Files are
compared by identity (device and inode), so a symlink or a hard link to an input, or the same
file spelled another way, is caught as well as the same name. Outputs are checked against each
other too: `--json X --record X` would interleave two formats into one broken file.

Every refusal is one `OutputError` line naming the flag and saying what to pass instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from arfilter.errors import OutputError


@dataclass(frozen=True)
class PlannedOutput:
    """One output a run is asked for: its flag (for messages), where it goes, and what it is."""

    flag: str
    path: Path
    is_folder: bool = False  # a folder of files named after the inputs (or numbered)
    suffix: str = ""  # the output's usual file suffix, for suggesting another name


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what `path` leads to, or None when it does not exist or cannot be examined."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def input_files(source_spec: str) -> list[Path]:
    """The files a source reads: the file itself, or the files directly in a source folder.

    Anything that is not a path (a camera index, `demo`) or cannot be examined reads no file
    that an output could overwrite; opening the source reports those cases.
    """
    path = Path(source_spec.strip()).expanduser()
    try:
        if path.is_dir():
            return [child for child in path.iterdir() if child.is_file()]
        if path.is_file():
            return [path]
    except (OSError, ValueError):
        pass
    return []


def _alternative(path: Path, suffix: str) -> str:
    """A suggested name next to `path` that does not clash with it."""
    suffix = suffix or path.suffix
    stem = path.stem if path.suffix.lower() != suffix.lower() else f"{path.stem}-annotated"
    return str(path.with_name(f"{stem}{suffix}"))


def check_outputs(source_spec: str, outputs: Sequence[PlannedOutput]) -> None:
    """Raise OutputError when an output would overwrite an input or another output."""
    inputs = input_files(source_spec)
    identities = {identity: path for path in inputs if (identity := _identity(path)) is not None}
    files = [output for output in outputs if not output.is_folder]
    for output in files:
        clobbered = identities.get(_identity(output.path))  # type: ignore[arg-type]
        if clobbered is not None:
            raise OutputError(f"{output.flag} {output.path} is the source {clobbered} and would overwrite it; "
                              f"pass another file, e.g. {output.flag} {_alternative(output.path, output.suffix)}")
    for index, first in enumerate(files):
        for second in files[index + 1:]:
            if _same_output(first.path, second.path):
                raise OutputError(f"{first.flag} and {second.flag} both name {second.path}; give each its own file, "
                                  f"e.g. {second.flag} {_alternative(second.path, second.suffix)}")
    for output in outputs:
        if not output.is_folder:
            continue
        for path in inputs:
            identity = _identity(path)
            if identity is not None and _identity(output.path / path.name) == identity:
                folder = output.path.resolve()
                raise OutputError(f"{output.flag} {output.path} holds the source image {path} and would overwrite it; "
                                  f"pass another folder, e.g. {output.flag} {folder.parent / (folder.name + '-annotated')}")


def _same_output(first: Path, second: Path) -> bool:
    """Two output paths that end up in one file (same name, or links to one existing file)."""
    if os.path.abspath(first) == os.path.abspath(second):
        return True
    identity = _identity(first)
    return identity is not None and identity == _identity(second)
