"""The window's choices kept between runs, in `settings.toml` under the user's config folder.

A user who picks the crown pack, hides the bars and turns mirroring off should find the lens
that way next time. The file is `$XDG_CONFIG_HOME/arfilter/settings.toml` (by default
`~/.config/arfilter/settings.toml`), next to the user's own filter packs. It is TOML, read with
the standard library's `tomllib` and written with `tomli-w` (the same authors' small writer),
so a person can read and edit it.

A file that cannot be read or holds nonsense is one warning and the defaults: remembered
choices are a comfort, and must never keep the lens from starting. Each value is checked on
its own, so one bad value loses only itself. The file is written through a temporary file and
a rename, so a crash mid-write leaves the previous file whole. Flags given on the command line
win over the file; `--reset-settings` deletes it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import tomli_w

from arfilter.errors import OutputError, os_reason
from arfilter.io.safe_write import write_atomically

SETTINGS_FILE_NAME = "settings.toml"


def config_dir(environ: dict[str, str] | None = None) -> Path:
    """arfilter's config folder: `$XDG_CONFIG_HOME/arfilter`, or `~/.config/arfilter` (the XDG default)."""
    environ = dict(os.environ) if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME", "")
    # The XDG spec: a relative path in the variable is invalid and must be ignored.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "arfilter"


def settings_path(environ: dict[str, str] | None = None) -> Path:
    return config_dir(environ) / SETTINGS_FILE_NAME


@dataclass(frozen=True)
class Settings:
    """What the window remembers. None means "not chosen yet": the source's or the flag's default applies.

    pack: the filter pack last shown (F). show_bars: the bars on or off (B). mirror: mirroring
    (M). capture_hud: screenshots and recordings with the HUD (D). camera: the camera last
    opened, as --source takes it ("0", "/dev/video2").
    """

    pack: str | None = None
    show_bars: bool | None = None
    mirror: bool | None = None
    capture_hud: bool | None = None
    camera: str | None = None

    def updated(self, changes: Settings) -> Settings:
        """These settings with every value chosen in `changes` taking over."""
        return Settings(**{**asdict(self), **{key: value for key, value in asdict(changes).items() if value is not None}})

    def to_toml(self) -> str:
        """The TOML text: only the values chosen (TOML has no null)."""
        return tomli_w.dumps({key: value for key, value in asdict(self).items() if value is not None})


# What each field must be: a value of another type is dropped with a warning.
FIELD_TYPES: dict[str, type] = {"pack": str, "show_bars": bool, "mirror": bool, "capture_hud": bool, "camera": str}


def parse_settings(text: str, where: Path) -> tuple[Settings, list[str]]:
    """Settings from TOML text, and one warning per problem (a broken file gives the defaults)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return Settings(), [f"ignored the settings in {where}: not valid TOML ({error}); fix or delete the file "
                            "(arfilter --reset-settings), the defaults are used"]
    values: dict[str, object] = {}
    warnings = []
    for key, value in data.items():
        expected = FIELD_TYPES.get(key)
        if expected is None:
            warnings.append(f"ignored the unknown setting {key!r} in {where}; known: {', '.join(FIELD_TYPES)}")
        elif type(value) is not expected:  # bool is an int subclass: exact types only
            warnings.append(f"ignored the setting {key} = {value!r} in {where}: it must be "
                            f"{'true or false' if expected is bool else 'a string'}")
        else:
            values[key] = value
    return Settings(**values), warnings  # type: ignore[arg-type]


def load_settings(path: Path | None = None, warn: Callable[[str], None] | None = None) -> Settings:
    """The settings in `path` (default: `settings_path()`); missing file: the defaults, silently.

    Problems go to `warn` as one line (all of them joined), so a broken file is one warning.
    """
    path = settings_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as error:
        reason = os_reason(error) if isinstance(error, OSError) else "not UTF-8 text"
        if warn is not None:
            warn(f"ignored the settings in {path} ({reason}); the defaults are used")
        return Settings()
    settings, warnings = parse_settings(text, path)
    if warnings and warn is not None:
        warn("; ".join(warnings))
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write `settings` atomically (creating the folder); returns the path. Raises OutputError."""
    path = settings_path() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot save the settings in {path} ({os_reason(error)}); "
                          "check that the folder is writable") from None
    write_atomically(path, settings.to_toml().encode(), "XDG_CONFIG_HOME")
    return path


def reset_settings(path: Path | None = None) -> Path | None:
    """Delete the settings file; returns its path, or None when there was none. Raises OutputError."""
    path = settings_path() if path is None else path
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise OutputError(f"cannot delete the settings file {path} ({os_reason(error)}); delete it by hand") from None
    return path

