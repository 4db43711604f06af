"""User-facing errors.

Every bad input (a camera that will not open, a corrupt model, a broken filter pack, an
unwritable folder) raises one of these with a single-line message that names the thing and
says what to do. The CLI prints the message alone, without a traceback, and exits non-zero.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable


class ArfilterError(Exception):
    """Base class: the message is complete, one line, and meant for the user."""


class SourceError(ArfilterError):
    """A frame source (camera, video, image, folder, demo) cannot be opened or read."""


class ModelError(ArfilterError):
    """A model file or its metadata is missing or unusable."""


class PackError(ArfilterError):
    """A filter pack (manifest or image) is invalid."""


class OutputError(ArfilterError):
    """An output file or folder cannot be written."""


# The cause of a failed file operation, in the user's words; every message that reports one
# uses this, so a full disk or a missing permission reads the same from every corner.
_OS_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "file name too long (at most 255 bytes a name, 4096 a path)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "a symlink loop (it leads back to itself)",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "no such file or folder",
    errno.EROFS: "the file system is read-only",
    errno.EPIPE: "the program reading the output stopped reading",
}


def os_reason(error: OSError | ValueError) -> str:
    """Why a file operation failed, without the subject or the remedy (the caller adds those).

    ValueError is what Python raises for a path with a NUL character in it.
    """
    if isinstance(error, ValueError):
        return "a name holds a NUL character"
    return _OS_REASONS.get(error.errno or 0) or error.strerror or str(error)


# How alike a typo and a name must be (difflib's ratio, 0..1) to be suggested; 0.6 is difflib's
# default and catches one or two wrong, missing or swapped letters in a flag-length word.
SUGGESTION_CUTOFF = 0.6


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """" (did you mean X?)" with the closest of `choices`, ignoring case; "" when none is close.

    Every message about a mistyped name (a flag, a pack) ends the same way.
    """
    lowered = {choice.lower(): choice for choice in choices}
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=SUGGESTION_CUTOFF)
    return f" (did you mean {lowered[matches[0]]}?)" if matches else ""
