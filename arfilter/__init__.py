"""arfilter: a real-time AR emoji/filter lens driven by facial-emotion recognition.

The folders are the architecture (see the README): `vision` (the networks and the face
vocabulary), `core` (one-way analysis), `render` (drawing a result), `io` (sources, sinks and
output-file policy) and `apps` (the command line, the window, the headless runner, the web
server), over the ground modules `errors`, `checks`, `lifecycle`, `resources` and `bounded`.
"""


def __getattr__(name: str) -> str:
    """`arfilter.__version__`, looked up on first use: importing the package stays instant, so
    Ctrl-C in the first moments of a start reaches the command line's own handler."""
    if name != "__version__":
        raise AttributeError(f"module 'arfilter' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("arfilter")  # written once, in pyproject.toml
    except PackageNotFoundError:  # a bare checkout on sys.path, never installed
        return "0+unknown"
