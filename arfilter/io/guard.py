"""Refuse outputs that would destroy anything the run reads, before anything is written.

`--source clip.mp4 --json clip.mp4` once truncated the video it was about to read,
`--json m/emotion.json` replaced the model's metadata, `--json <pack>/pack.toml` destroyed a
pack, and `--out-dir <pack folder>` with a source named like a sprite replaced the sprite.
Every output is therefore checked against every file the run reads: the source, the emotion
model (metadata and network), the face models and every file of every loaded pack. Files are
compared by identity (device and inode), so a symlink or a hard link to an input, or the same
file spelled another way, is caught as well as the same name. Outputs are checked against each
other too: `--json X --record X` would interleave two formats into one broken file.

Every refusal is one `OutputError` line naming the flag, the file and what it is, and saying
what to pass instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from arfilter.errors import OutputError

# The names an image-folder output writes for frames that are not stills (see sinks/images.py).
NUMBERED_FRAME = re.compile(r"frame_\d{6}\.png")
STDOUT = "-"  # `--json -`: the results go to standard output, which no input can be


@dataclass(frozen=True)
class PlannedOutput:
    """One output a run is asked for: its flag (for messages), where it goes, and what it is."""

    flag: str
    path: Path
    is_folder: bool = False  # a folder of files named after the inputs (or numbered)
    suffix: str = ""  # the output's usual file suffix, for suggesting another name


@dataclass(frozen=True)
class ReadFile:
    """A file the run reads, and how messages name it ("the source", "the emotion model metadata")."""

    what: str
    path: Path


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what `path` leads to, or None when it does not exist or cannot be examined."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def source_files(source_spec: str) -> list[ReadFile]:
    """The files a source reads: the file itself, or the files directly in a source folder.

    Anything that is not a path (a camera index, `demo`) or cannot be examined reads no file
    that an output could overwrite; opening the source reports those cases.
    """
    path = Path(source_spec.strip()).expanduser()
    try:
        if path.is_dir():
            return [ReadFile("the source", child) for child in path.iterdir() if child.is_file()]
        if path.is_file():
            return [ReadFile("the source", path)]
    except (OSError, ValueError):
        pass
    return []


def files_under(folder: Path, what: str, limit: int = 10_000) -> list[ReadFile]:
    """Every regular file under `folder` (a pack), at most `limit` of them."""
    found: list[ReadFile] = []
    for root, _, names in os.walk(folder):
        for name in names:
            found.append(ReadFile(what, Path(root) / name))
            if len(found) >= limit:
                return found
    return found


def _alternative(path: Path, suffix: str) -> str:
    """A suggested name next to `path` that does not clash with it."""
    suffix = suffix or path.suffix
    stem = path.stem if path.suffix.lower() != suffix.lower() else f"{path.stem}-annotated"
    return str(path.with_name(f"{stem}{suffix}"))


def check_outputs(source_spec: str, outputs: Sequence[PlannedOutput], reads: Iterable[ReadFile] = ()) -> None:
    """Raise OutputError when an output would overwrite the source, another file the run reads
    (`reads`), or another output."""
    sources = source_files(source_spec)
    everything = [*sources, *reads]
    identities = {identity: read for read in everything if (identity := _identity(read.path)) is not None}
    files = [output for output in outputs if not output.is_folder and str(output.path) != STDOUT]
    for output in files:
        clobbered = identities.get(_identity(output.path))  # type: ignore[arg-type]
        if clobbered is not None:
            raise OutputError(f"{output.flag} {output.path} is {clobbered.what} {clobbered.path} and would overwrite "
                              f"it; pass another file, e.g. {output.flag} {_alternative(output.path, output.suffix)}")
    for index, first in enumerate(files):
        for second in files[index + 1:]:
            if _same_output(first.path, second.path):
                raise OutputError(f"{first.flag} and {second.flag} both name {second.path}; give each its own file, "
                                  f"e.g. {second.flag} {_alternative(second.path, second.suffix)}")
    source_names = {read.path.name for read in sources}
    for output in outputs:
        if output.is_folder:
            _check_folder(output, everything, source_names)


def _check_folder(output: PlannedOutput, reads: Sequence[ReadFile], source_names: set[str]) -> None:
    """A folder output writes files named after the source images (or numbered frames): none of
    those names may be a file the run reads."""
    for read in reads:
        name = read.path.name
        if name not in source_names and not NUMBERED_FRAME.fullmatch(name):
            continue
        identity = _identity(read.path)
        if identity is not None and _identity(output.path / name) == identity:
            folder = output.path.resolve()
            raise OutputError(f"{output.flag} {output.path} holds {read.what} {read.path}, which the output {name} "
                              f"would overwrite; pass another folder, e.g. "
                              f"{output.flag} {folder.parent / (folder.name + '-annotated')}")


def _same_output(first: Path, second: Path) -> bool:
    """Two output paths that end up in one file (same name, or links to one existing file)."""
    if os.path.abspath(first) == os.path.abspath(second):
        return True
    identity = _identity(first)
    return identity is not None and identity == _identity(second)
