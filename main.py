"""Entry point: `python main.py --help` lists every flag."""

import sys

from arfilter.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
