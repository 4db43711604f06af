"""Output files that are whole whenever anyone looks.

`write_atomically` writes next to the target and renames over it, so a reader (or an
interrupted run) sees the old file or the new one, never half of one. `os_reason` says why a
write failed in the user's words (a full disk above all).
"""

from __future__ import annotations

import os
from pathlib import Path

from arfilter.errors import OutputError, os_reason
from arfilter.io.signals import deferred_signals


def write_atomically(path: Path, data: bytes, flag: str) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    temporary = path.with_name(f".{path.name}.partial")
    with deferred_signals():
        try:
            with open(temporary, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except OSError as error:
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass
            raise OutputError(f"cannot write {path} ({os_reason(error)}); free some space or pass another {flag}") from None
