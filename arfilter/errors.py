"""User-facing errors.

Every bad input (a camera that will not open, a corrupt model, a broken filter pack, an
unwritable folder) raises one of these with a single-line message that names the thing and
says what to do. The CLI prints the message alone, without a traceback, and exits non-zero.
"""


class ArfilterError(Exception):
    """Base class: the message is complete, one line, and meant for the user."""


class SourceError(ArfilterError):
    """A frame source (camera, video, image, folder, demo) cannot be opened or read."""


class ModelError(ArfilterError):
    """A model file or its metadata is missing or unusable."""


class PackError(ArfilterError):
    """A filter pack (manifest or image) is invalid."""


class OutputError(ArfilterError):
    """An output file or folder cannot be written."""
