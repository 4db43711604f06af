"""Frame sources: cameras, network streams, video files, images, folders of images and the demo.

`open_source` turns what the user typed into a source by asking each row of `SOURCE_KINDS`
in order whether the text is its kind. Adding a kind of source is one module with a
`FrameSource` subclass, a `matches(spec)` test and an `open(spec, mirror)` function, plus one
row here. Consumers then use the source's capabilities (`is_live`, `status`, `poll()`; see
`arfilter.io.sources.base`), never its class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arfilter.errors import SourceError
from arfilter.io.sources import camera, demo, files
from arfilter.io.sources.base import WHAT_TO_PASS, FrameSource, SourceLostError, SourceUnavailableError
from arfilter.io.sources.camera import list_cameras

__all__ = ["SOURCE_KINDS", "WHAT_TO_PASS", "FrameSource", "SourceKind", "SourceLostError",
           "SourceUnavailableError", "list_cameras", "open_source"]


@dataclass(frozen=True)
class SourceKind:
    """One row of the table: a name for messages, a test on the spec, and how to open it.

    `open(spec, mirror)` gets `mirror=None` for "the kind's default" (local cameras mirror).
    """

    name: str
    matches: Callable[[str], bool]
    open: Callable[[str, bool | None], FrameSource]


# Asked in order: the fixed words and URL forms first, then what the path is on disk.
SOURCE_KINDS: tuple[SourceKind, ...] = (
    SourceKind("demo", demo.is_demo, demo.open_demo),
    SourceKind("camera", camera.is_camera, camera.open_camera),
    SourceKind("stream", camera.is_stream, camera.open_stream),
    SourceKind("folder", files.is_folder, files.open_folder),
    SourceKind("image", files.is_image, files.open_image),
    SourceKind("video", files.is_video, files.open_video),
)


def open_source(spec: str, *, mirror: bool | None = None) -> FrameSource:
    """Open a source from what the user typed; `mirror=None` keeps the kind's default.

    Raises `SourceError` (`SourceUnavailableError` for a camera that is not there) with a
    one-line message.
    """
    spec = spec.strip()
    if not spec:
        raise SourceError(f"empty source: {WHAT_TO_PASS}")
    for kind in SOURCE_KINDS:
        try:
            matched = kind.matches(spec)
        except (OSError, ValueError) as error:  # a path the file system refuses to examine
            raise SourceError(files.unopenable(spec, error)) from None
        if matched:
            return kind.open(spec, mirror)
    raise SourceError(files.not_a_source(spec))
