"""`python -m arfilter`, `python main.py` and the `arfilter` console script all start here."""

import sys

INTERRUPTED_WHILE_STARTING = "arfilter: interrupted by SIGINT while starting; nothing was written"


def _interrupted(error: BaseException) -> bool:
    """A KeyboardInterrupt, or an error it caused: a C extension interrupted while it
    initialises raises "ImportError: initialization failed" from it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def run() -> int:
    """The command line; Ctrl-C while Python imports and sets it up (the first half second, before
    any output exists) is one line, not an import traceback."""
    try:
        from arfilter.apps.cli import main

        return main()
    except (KeyboardInterrupt, ImportError) as error:
        if not _interrupted(error):
            raise
        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run())
