"""`python -m arfilter`: the same command line as the `arfilter` console script."""

import sys

from arfilter.apps.cli import main

sys.exit(main())
