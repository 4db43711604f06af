"""arfilter: a real-time AR emoji/filter lens driven by facial-emotion recognition.

The folders are the architecture (see the README): `vision` (the networks and the face
vocabulary), `core` (one-way analysis), `render` (drawing a result), `io` (sources, sinks and
output-file policy) and `apps` (the command line, the window, the headless runner, the web
server), over the ground modules `errors`, `checks`, `lifecycle` and `resources`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("arfilter")  # written once, in pyproject.toml
except PackageNotFoundError:  # a bare checkout on sys.path, never installed
    __version__ = "0+unknown"
