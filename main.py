"""Entry point: `python main.py --help` lists every flag."""

import sys

if __name__ == "__main__":
    try:
        from arfilter.__main__ import run
    except KeyboardInterrupt:  # Ctrl-C in the very first moments, while Python imports the package
        sys.exit(130)
    sys.exit(run())
