""""Did you mean ...?" for mistyped flags and names.

`--sorce clip.mp4` used to print the whole usage block and "unrecognized arguments", leaving
the user to spot the typo. Python 3.14's argparse suggests close flags by itself; until the
project requires it, `SuggestingParser` does the same for unknown flags, with the standard
library's `difflib` (the same matcher argparse uses) through `arfilter.errors.did_you_mean`,
which pack names use too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from arfilter.errors import did_you_mean


class SuggestingParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors about unknown flags name the closest known flag.

    With a subcommand, `--sorce clip.mp4` reads to argparse as the command "clip.mp4"; the
    unknown flag is then the real mistake, and the one reported.
    """

    _argv: Sequence[str] = ()

    def parse_known_args(  # type: ignore[override]  # argparse overloads it by namespace type
            self, args: Sequence[str] | None = None, namespace: Any = None) -> tuple[Any, list[str]]:
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def _flags(self) -> list[str]:
        return [flag for action in self._actions for flag in action.option_strings]

    def error(self, message: str) -> NoReturn:
        prefix = "unrecognized arguments: "
        flags = self._flags()
        if message.startswith(prefix):
            words = message[len(prefix):].split()
        elif "invalid choice" in message and (unknown := [word for word in self._argv if word.startswith("-")
                                                          and word.split("=", 1)[0] not in flags]):
            words = unknown
        else:
            super().error(message)
        parts = []
        for word in words:
            name = word.split("=", 1)[0]
            parts.append(f"{word}{did_you_mean(name, flags) if name.startswith('-') else ''}")
        super().error(prefix + " ".join(parts))
