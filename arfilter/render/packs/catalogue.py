"""Which packs there are (built-in, then the user's) and which one is current: `discover_packs` and `PackSet`.

Discovery reads the built-in packs, then user packs. A user pack whose name is already taken
replaces the earlier pack of that name, so users can restyle a built-in by copying it into their
pack folder; the precedence is: folders given explicitly (later ones win over earlier ones), over
the default user folder, over the built-ins. Packs are loaded in isolation: anything that goes
wrong in one (an unreadable folder, a file name the file system refuses, a NUL in a name, a bug)
becomes one warning line and the other packs still load.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from arfilter.bounded import echo
from arfilter.core.types import FrameResult
from arfilter.errors import PackError, did_you_mean, os_reason
from arfilter.render.packs.manifest import MANIFEST_NAME, load_pack
from arfilter.render.packs.pack import FilterPack
from arfilter.resources import PACKS_DIR

log = logging.getLogger(__name__)

BUILTIN_PACKS_DIR = PACKS_DIR
DEFAULT_PACK = "emoji"

def default_user_packs_dir() -> Path:
    """`$XDG_CONFIG_HOME/arfilter/packs`, else `~/.config/arfilter/packs`."""
    config_home = os.environ.get("XDG_CONFIG_HOME")
    base = Path(config_home) if config_home else Path.home() / ".config"
    return base / "arfilter" / "packs"


def discover_packs(
    builtin_dir: str | os.PathLike[str],
    user_dirs: Iterable[str | os.PathLike[str]],
    labels: Sequence[str],
) -> tuple[list[FilterPack], list[str]]:
    """Load the built-in packs and the user's packs, validated against the emotion model's `labels`.

    Returns the packs (built-ins first in name order, then user packs; a user pack replaces a
    pack of the same name in place, see the module docstring for the precedence) and one line
    per pack that could not be loaded. A broken pack is skipped, so one bad user pack never
    keeps the others, or the built-ins, from loading. Each user folder may be a pack itself or
    a folder of packs. A user folder given explicitly that does not exist is an error; a missing
    default user folder is normal and ignored.
    """
    packs: dict[str, FilterPack] = {}
    errors: list[str] = []
    sources: list[tuple[Path, bool]] = [(Path(builtin_dir), True), (default_user_packs_dir(), False)]
    sources += [(Path(user_dir), True) for user_dir in user_dirs]
    for folder, must_exist in sources:
        try:
            if not folder.is_dir():
                if must_exist:
                    errors.append(f"{folder}: pack folder not found; give a folder holding {MANIFEST_NAME} or pack folders")
                continue
            pack_folders = _pack_folders(folder)
        except (OSError, ValueError) as error:
            errors.append(f"{folder}: cannot list the pack folder ({os_reason(error)})")
            continue
        for pack_folder in pack_folders:
            try:
                pack = load_pack(pack_folder, labels)
            except PackError as error:
                errors.append(str(error))
                continue
            except Exception as error:  # one user pack must never stop the app, whatever goes wrong in it
                errors.append(f"{pack_folder}: cannot load the pack ({type(error).__name__}: {error})")
                continue
            packs[pack.name] = pack
    return list(packs.values()), errors


class PackSet:
    """The drawing half of the lens: the packs on offer, which one is current, and drawing it.

    The pipeline analyses frames; this draws the current pack on a result. Packs are decoded
    when first chosen; one whose images turn out undecodable is dropped (its reason added to
    `errors`) and the next one taken instead, so switching never fails.
    """

    def __init__(self, packs: Sequence[FilterPack], current: str, errors: Sequence[str] = ()) -> None:
        if not packs:
            raise PackError("no filter packs could be loaded; reinstall arfilter")
        self.available = list(packs)
        self.errors = list(errors)
        current = self.find(current)
        self._index = self.names.index(current)
        self.initial = current  # the pack chosen at start, which a stateless request falls back to
        self.available[self._index].prepare()  # the chosen pack fails now, not at the first face

    @property
    def names(self) -> list[str]:
        return [pack.name for pack in self.available]

    @property
    def current(self) -> str:
        return self.available[self._index].name

    def next(self) -> str:
        """Switch to the next pack (wrapping around, skipping undecodable ones) and return its name."""
        current = self.available[self._index]
        while True:
            self._index = (self._index + 1) % len(self.available)
            candidate = self.available[self._index]
            if candidate is current:
                return self.current
            try:
                candidate.prepare()
                return self.current
            except PackError as error:
                self.errors.append(str(error))
                log.warning("skipped filter pack: %s", error)
                del self.available[self._index]
                self._index -= 1

    def find(self, name: str) -> str:
        """The pack called `name`, whatever its case ("Shades" is shades); PackError with the
        closest name otherwise."""
        if name in self.names:
            return name
        matches = [pack for pack in self.names if pack.lower() == name.lower()]
        if len(matches) == 1:  # two packs differing only in case need the exact name
            return matches[0]
        raise PackError(f"no filter pack named {name!r}{did_you_mean(name, self.names)}; "
                        f"available: {', '.join(self.names)} (see --list-packs)")

    def select(self, name: str) -> None:
        """Switch to the pack called `name` (the web page picks packs by name, not in turn).

        An undecodable pack is refused with its PackError and dropped from the list, so it is
        neither offered nor decoded again."""
        name = self.find(name)
        try:
            self.available[self.names.index(name)].prepare()
        except PackError as error:
            self._drop(self.names.index(name), str(error))
            raise
        self._index = self.names.index(name)

    def _drop(self, index: int, reason: str) -> None:
        """Take the pack at `index` off the list (never the last one), keeping the current pack."""
        self.errors.append(reason)
        log.warning("skipped filter pack: %s", reason)
        if len(self.available) == 1:
            return
        current = self.available[self._index]
        del self.available[index]
        self._index = self.available.index(current) if current in self.available else 0

    def prop_boxes(self, result: FrameResult) -> list[tuple[int, int, int, int]]:
        """Where the current pack draws on `result`'s faces, (x, y, w, h) each (for the HUD to keep clear of)."""
        height, width = result.frame.image.shape[:2]
        return self.available[self._index].prop_boxes(result.faces, (width, height))

    def render(self, result: FrameResult) -> np.ndarray:
        """A copy of the frame with the current pack drawn on every face (the result is not changed).

        A pack that fails to draw (a placement no check foresaw) is dropped and the next one
        drawn instead: one pack's failure stays inside that pack, the frame is still shown."""
        while True:
            canvas = result.frame.image.copy()
            pack = self.available[self._index]
            try:
                pack.render(canvas, result.faces, result.frame.timestamp_s)
                return canvas
            except (ArithmeticError, ValueError, PackError, cv2.error) as error:
                if len(self.available) == 1:
                    raise
                self._drop(self._index, f"{pack.source_folder}: cannot draw the pack {pack.name!r} "
                                        f"({type(error).__name__}: {echo(str(error))[1:-1]})")


def _pack_folders(folder: Path) -> list[Path]:
    """`folder` itself if it is a pack, else its visible subfolders (each must be a pack).

    A subfolder without a manifest is returned too, so that loading it reports the missing
    pack.toml instead of the pack silently not showing up.
    """
    if (folder / MANIFEST_NAME).is_file():
        return [folder]
    return sorted(child for child in folder.iterdir() if not child.name.startswith(".") and _is_dir(child))


def _is_dir(path: Path) -> bool:
    """`path.is_dir()`, counting an entry that cannot be examined as a folder, so that loading
    it reports the reason instead of the pack vanishing silently."""
    try:
        return path.is_dir()
    except OSError:
        return True


