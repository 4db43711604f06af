"""Turn bytes from the network into an RGB frame, refusing what could hurt the server.

Every image that reaches the server (an /api/analyze body, a frame of the live page) comes
through `decode_image`, which hands it to `arfilter.bounded.decode_image_data`: format, size,
EXIF orientation and compression ratio come from the header (Pillow parses it without decoding
a pixel), so a 20 kB PNG that claims 60000 x 60000 px, or a 600-byte JPEG that declares 4096 x
4096, is refused before it can cost memory or CPU; only then does OpenCV decode the pixels
(three times faster than Pillow on a 640x480 JPEG), turning phone photos upright by their EXIF
orientation. At most `DECODE_SLOTS` images are decoded at once, whatever the number of
requests and live connections, so memory stays bounded under load.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from arfilter.bounded import ImageLimits, ImageRefusedError, check_image_data, decode_image_data

# Pillow format names accepted, and how people write them: the still formats the command line
# reads (browsers send JPEG from canvas.toBlob, tools PNG), plus GIF, whose first frame is used.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "TIFF": "TIFF", "GIF": "GIF"}
SEND = "send a JPEG, PNG, WebP, BMP, TIFF or GIF image"
DECODE_SLOTS = threading.BoundedSemaphore(2)  # images decoded at once, over all requests and live pages


@dataclass(frozen=True)
class UploadLimits:
    """What one image may cost: `max_bytes` on the wire and `max_side_px` per side."""

    max_bytes: int = 10 * 1024 * 1024
    max_side_px: int = 4096

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_side_px < 1:
            raise ValueError(f"upload limits must be positive, got {self}")

    def image_limits(self) -> ImageLimits:
        return ImageLimits(max_bytes=self.max_bytes, max_side_px=self.max_side_px,
                           max_pixels=self.max_side_px * self.max_side_px)


class ImageRejectedError(Exception):
    """An image the server will not process: `status` is the HTTP status that says why
    (400 not an image, 413 too large) and the message is one line for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_large_body(size: int, limits: UploadLimits) -> ImageRejectedError:
    return ImageRejectedError(413, f"the request body is {size} bytes; at most {limits.max_bytes} bytes "
                              f"({limits.max_bytes // (1024 * 1024)} MB) are accepted")


def _checked(data: bytes, limits: UploadLimits) -> None:
    """The body-level refusals (too large, empty) every upload gets first."""
    if len(data) > limits.max_bytes:
        raise too_large_body(len(data), limits)
    if not data:
        raise ImageRejectedError(400, f"the body is empty; {SEND}")


def _rejected(refused: ImageRefusedError) -> ImageRejectedError:
    message = f"the body is not an image; {SEND}" if refused.kind == "not_an_image" else refused.message
    return ImageRejectedError(413 if refused.too_large else 400, message)


def check_image(data: bytes, limits: UploadLimits) -> None:
    """Refuse from the header alone (no pixel decoded) what `decode_image` would refuse before
    decoding: the server answers a bomb at once, without waiting for the analysis lock."""
    _checked(data, limits)
    try:
        check_image_data(data, limits.image_limits(), frozenset(ACCEPTED_FORMATS))
    except ImageRefusedError as refused:
        raise _rejected(refused) from None


def decode_image(data: bytes, limits: UploadLimits) -> np.ndarray:
    """The image in `data` as an (H, W, 3) uint8 RGB array; raises ImageRejectedError."""
    _checked(data, limits)
    try:
        with DECODE_SLOTS:
            bgr = decode_image_data(data, limits.image_limits(), frozenset(ACCEPTED_FORMATS))
    except ImageRefusedError as refused:
        raise _rejected(refused) from None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
