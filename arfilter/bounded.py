"""Reading files and images with bounds: nothing the app reads can make it read forever or without limit.

A source folder may hold a 3 GB sparse file named like a photo, a FIFO, or a device; a pack
folder may hold a 2 GB manifest; a model folder may hold metadata nested 100,000 levels deep; a
network client may send a 600-byte JPEG that declares 4096 x 4096 pixels. Every reader (images,
videos, pack manifests and sprites, model metadata and model files, training data) goes through
this module first:

- `check_readable_file` / `read_bounded`: a regular file (not a FIFO, a device or a folder) of a
  sane size, opened without blocking, read with a byte limit; otherwise one line naming it.
- `load_json`: bounded, UTF-8, and a `RecursionError` from deep nesting is one line too.
- `image_header` / `decode_image_data`: the format, size and EXIF orientation from the header
  (Pillow parses headers without decoding pixels), refused before decoding when it declares more
  pixels than allowed or far more than its bytes can hold (a decompression bomb), then decoded by
  OpenCV, which applies the EXIF orientation the way phones expect.
- `echo`: what an error message may quote of a bad value (a 500 kB list is not a "line").

It lives at the ground level because every layer reads files: the models (vision), the packs
(render), the sources (io), uploads (apps) and the training data.
"""

from __future__ import annotations

import errno
import io
import json
import os
import reprlib
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from arfilter.errors import ArfilterError

MiB = 1024 * 1024
# Bounds per kind of file: generous for real files, far below what would exhaust memory.
MAX_TEXT_BYTES = 4 * MiB  # pack manifests, model metadata
MAX_MODEL_BYTES = 512 * MiB  # .tflite and .keras files (the shipped ones are a few MB)
MAX_IMAGE_BYTES = 256 * MiB  # one still image (a 100 Mpx 16-bit TIFF is ~600 MB: none such is a face photo)

# EXIF orientations 5-8 turn the picture a quarter turn: the decoded image's sides are swapped.
_QUARTER_TURN_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION_TAG = 0x0112

_ECHO = reprlib.Repr()
_ECHO.maxstring, _ECHO.maxother, _ECHO.maxlist, _ECHO.maxdict, _ECHO.maxlevel = 60, 60, 6, 6, 2


def echo(value: Any) -> str:
    """`repr(value)` cut to a short line: error messages quote bad values, never whole files."""
    return _ECHO.repr(value)


def describe_size(size: int) -> str:
    return f"{size / MiB:.1f} MB" if size >= MiB else f"{size} bytes"


def _not_readable(path: Path, what: str, error: OSError | ValueError) -> str:
    if isinstance(error, ValueError):
        return f"{what} {path}: a path cannot hold a NUL character"
    if error.errno == errno.ENOENT:
        return f"{what} {path} not found"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"{what} {path}: permission denied"
    if error.errno == errno.ELOOP:
        return f"{what} {path} is a symlink loop"
    if error.errno == errno.EISDIR:
        return f"{what} {path} is a folder, not a file"
    return f"{what} {path} cannot be read ({error.strerror or error})"


def _checked(path: Path, what: str, status: os.stat_result, max_bytes: int) -> str | None:
    """Why a file with `status` may not be read, or None."""
    if stat.S_ISDIR(status.st_mode):
        return f"{what} {path} is a folder, not a file"
    if not stat.S_ISREG(status.st_mode):
        return f"{what} {path} is not a regular file (a pipe, socket or device)"
    if status.st_size > max_bytes:
        return (f"{what} {path} is {describe_size(status.st_size)}; at most {describe_size(max_bytes)} "
                "are read, so it cannot be what it claims to be")
    return None


def check_readable_file(path: str | os.PathLike[str], what: str, max_bytes: int,
                        error: type[Exception] = ArfilterError, remedy: str = "") -> int:
    """The size of `path`, a regular file of at most `max_bytes`; otherwise `error` with one line
    naming `what` and `path` (and `remedy`, when given). Nothing is opened or read."""
    path = Path(path)
    try:
        status = os.stat(path)
    except (OSError, ValueError) as failure:
        raise error(_with_remedy(_not_readable(path, what, failure), remedy)) from None
    problem = _checked(path, what, status, max_bytes)
    if problem is not None:
        raise error(_with_remedy(problem, remedy))
    return status.st_size


def read_bounded(path: str | os.PathLike[str], what: str, max_bytes: int,
                 error: type[Exception] = ArfilterError, remedy: str = "") -> bytes:
    """The bytes of `path`, checked as `check_readable_file` does on the opened file itself (so a
    file swapped in between cannot slip through) and read with a limit (so one that grows cannot)."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a file.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as failure:
        raise error(_with_remedy(_not_readable(path, what, failure), remedy)) from None
    with os.fdopen(fd, "rb") as file:
        try:
            problem = _checked(path, what, os.fstat(fd), max_bytes)
            if problem is not None:
                raise error(_with_remedy(problem, remedy))
            data = file.read(max_bytes + 1)
        except OSError as failure:
            raise error(_with_remedy(_not_readable(path, what, failure), remedy)) from None
    if len(data) > max_bytes:
        raise error(_with_remedy(f"{what} {path} grew past {describe_size(max_bytes)} while being read", remedy))
    return data


def load_json(path: str | os.PathLike[str], what: str, error: type[Exception] = ArfilterError,
              remedy: str = "", max_bytes: int = MAX_TEXT_BYTES) -> Any:
    """The JSON value in `path`: bounded, UTF-8, and every way it can be broken is one line."""
    data = read_bounded(path, what, max_bytes, error, remedy)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as failure:
        problem = f"{what} {path} is not UTF-8 text (byte {failure.start})"
    except RecursionError:
        problem = f"{what} {path} is nested too deeply to be JSON this program wrote"
    except ValueError as failure:
        problem = f"{what} {path} is not valid JSON ({echo(str(failure))[1:-1]})"
    raise error(_with_remedy(problem, remedy))


def _with_remedy(problem: str, remedy: str) -> str:
    return f"{problem}; {remedy}" if remedy else problem


# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageLimits:
    """What one image may cost before it is decoded.

    max_bytes: the encoded file. max_side_px / max_pixels: what it declares (decoded, 3 bytes a
    pixel). max_expansion: decoded bytes per encoded byte, above `expansion_from_pixels`: a
    photo compresses 5-50 times, a flat screenshot a few hundred; a 600-byte JPEG declaring
    4096 x 4096 px (80,000 times) is a decompression bomb whose decoding costs a second of CPU.
    """

    max_bytes: int = MAX_IMAGE_BYTES
    max_side_px: int = 30_000
    max_pixels: int = 120_000_000
    max_expansion: float = 1024.0
    expansion_from_pixels: int = 2_000_000

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.max_side_px, self.max_pixels) < 1 or self.max_expansion <= 0:
            raise ValueError(f"image limits must be positive, got {self}")


@dataclass(frozen=True)
class ImageHeader:
    """What an image file declares: its format (Pillow's name), stored size and EXIF orientation."""

    format: str
    width: int
    height: int
    orientation: int = 1

    @property
    def shown_size(self) -> tuple[int, int]:
        """(width, height) once the EXIF orientation is applied, as OpenCV decodes it."""
        if self.orientation in _QUARTER_TURN_ORIENTATIONS:
            return self.height, self.width
        return self.width, self.height


class ImageRefusedError(ValueError):
    """An image refused before or while decoding; the message is one line.

    `kind` says why, for callers that answer differently: "too_large" (bytes, pixels, or a
    decompression bomb), "not_an_image" (no header any decoder knows), "format" (a format
    not accepted here) or "corrupt" (the header is fine, the pixels are not).
    """

    def __init__(self, message: str, kind: str = "corrupt") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    @property
    def too_large(self) -> bool:
        return self.kind == "too_large"


def image_header(data: bytes) -> ImageHeader:
    """The header of the image in `data`, read without decoding a pixel; ImageRefusedError if there is none."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            orientation = 1
            if opened.format == "JPEG" or "exif" in opened.info:
                try:
                    value = opened.getexif().get(_EXIF_ORIENTATION_TAG, 1)
                    orientation = value if isinstance(value, int) and 1 <= value <= 8 else 1
                except Exception:  # a damaged EXIF block: OpenCV ignores it as well
                    orientation = 1
            return ImageHeader(str(opened.format), int(opened.size[0]), int(opened.size[1]), orientation)
    except Image.DecompressionBombError:
        raise ImageRefusedError("the image declares more pixels than any photo has", "too_large") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageRefusedError("not an image (or one whose header is damaged)", "not_an_image") from None


def check_image_header(header: ImageHeader, encoded_bytes: int, limits: ImageLimits) -> None:
    """Refuse, before decoding, an image that would cost more than `limits` allow."""
    width, height = header.width, header.height
    if min(width, height) < 1:
        raise ImageRefusedError(f"the image is {width}x{height} px; it has no pixels")
    if max(width, height) > limits.max_side_px or width * height > limits.max_pixels:
        raise ImageRefusedError(f"the image is {width}x{height} px; at most {limits.max_side_px} px a side and "
                           f"{limits.max_pixels / 1e6:g} Mpx are accepted, scale it down", "too_large")
    expansion = width * height * 3 / max(encoded_bytes, 1)
    if width * height > limits.expansion_from_pixels and expansion > limits.max_expansion:
        raise ImageRefusedError(f"the image declares {width}x{height} px in {describe_size(encoded_bytes)} (it would expand "
                           f"{expansion:,.0f} times: a decompression bomb, not a photo); send a real photo",
                           "too_large")


def check_image_data(data: bytes, limits: ImageLimits, formats: frozenset[str] | None = None) -> ImageHeader:
    """The header of the image in `data` when decoding it stays within `limits` (and its format is
    one of `formats`, Pillow's names, when given); ImageRefusedError otherwise. Decodes no pixel:
    a server refuses bombs with it before waiting for a decoding slot."""
    if len(data) > limits.max_bytes:
        raise ImageRefusedError(f"the image is {describe_size(len(data))}; at most {describe_size(limits.max_bytes)} "
                           "are accepted", "too_large")
    if not data:
        raise ImageRefusedError("the image is empty (0 bytes)")
    try:
        header = image_header(data)
    except ImageRefusedError as refused:
        if not refused.too_large:
            raise
        raise ImageRefusedError(f"{refused.message}; at most {limits.max_side_px} px a side are accepted",
                                "too_large") from None
    if formats is not None and header.format not in formats:
        raise ImageRefusedError(f"{header.format} images are not accepted; send {', '.join(sorted(formats))}", "format")
    check_image_header(header, len(data), limits)
    return header


def decode_image_data(data: bytes, limits: ImageLimits, formats: frozenset[str] | None = None,
                      grayscale: bool = False) -> np.ndarray:
    """The image in `data` as BGR uint8 (H, W, 3), or (H, W) with `grayscale`, EXIF orientation
    applied; ImageRefusedError otherwise (see `check_image_data` for `limits` and `formats`)."""
    header = check_image_data(data, limits, formats)
    try:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR)
    except cv2.error:
        bgr = None
    # OpenCV turns JPEGs by their EXIF orientation; it may leave other formats as stored.
    if bgr is None or bgr.shape[1::-1] not in (header.shown_size, (header.width, header.height)):
        raise ImageRefusedError(f"the {header.format} image is corrupt or truncated; send a complete image")
    return bgr


class _UnreadableError(ArfilterError):
    """A file `read_image_file` cannot read; turned into ImageRefusedError."""


def read_image_file(path: str | os.PathLike[str], limits: ImageLimits = ImageLimits(), grayscale: bool = False
                    ) -> np.ndarray:
    """The image file at `path` as BGR, read and decoded within `limits`; ImageRefusedError (one line
    naming the file) when it is not a regular file of a sane size holding a complete image."""
    try:
        data = read_bounded(path, "image", limits.max_bytes, _UnreadableError)
    except _UnreadableError as failure:
        raise ImageRefusedError(str(failure)) from None
    try:
        return decode_image_data(data, limits, grayscale=grayscale)
    except ImageRefusedError as refused:
        raise ImageRefusedError(f"image {path}: {refused.message}", refused.kind) from None
