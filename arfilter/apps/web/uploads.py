"""Turn bytes from the network into an RGB frame, refusing what could hurt the server.

Every image that reaches the server (an /api/analyze body, a frame of the live page) comes
through `decode_image`. It reads the format and the size from the file header first, with
Pillow's lazy `Image.open`, which parses the header but decodes no pixel: a 20 kB PNG that
claims to be 60000 x 60000 px is refused before it can ask for 10 GB of memory. Only then does
OpenCV decode the pixels (three times faster than Pillow on a 640x480 JPEG).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

# Pillow format names accepted, and how people write them: the still formats the command line
# reads (browsers send JPEG from canvas.toBlob, tools PNG), plus GIF, whose first frame is used.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "TIFF": "TIFF", "GIF": "GIF"}
SEND = "send a JPEG, PNG, WebP, BMP, TIFF or GIF image"


@dataclass(frozen=True)
class UploadLimits:
    """What one image may cost: `max_bytes` on the wire and `max_side_px` per side."""

    max_bytes: int = 10 * 1024 * 1024
    max_side_px: int = 4096

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_side_px < 1:
            raise ValueError(f"upload limits must be positive, got {self}")


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


def decode_image(data: bytes, limits: UploadLimits) -> np.ndarray:
    """The image in `data` as an (H, W, 3) uint8 RGB array; raises ImageRejectedError."""
    if len(data) > limits.max_bytes:
        raise too_large_body(len(data), limits)
    if not data:
        raise ImageRejectedError(400, f"the body is empty; {SEND}")
    try:
        with Image.open(io.BytesIO(data)) as header:
            image_format, (width, height) = header.format, header.size
    except Image.DecompressionBombError:
        raise ImageRejectedError(413, f"the image is too large; at most {limits.max_side_px} px a side") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejectedError(400, f"the body is not an image; {SEND}") from None
    if image_format not in ACCEPTED_FORMATS:
        raise ImageRejectedError(400, f"{image_format} images are not accepted; {SEND}")
    if max(width, height) > limits.max_side_px:
        raise ImageRejectedError(413, f"the image is {width}x{height} px; at most {limits.max_side_px} px a side "
                                 "are accepted, scale it down")
    if min(width, height) < 1:
        raise ImageRejectedError(400, f"the image is {width}x{height} px; it has no pixels")
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.shape[:2] != (height, width):
        raise ImageRejectedError(400, f"the {ACCEPTED_FORMATS[image_format]} image is corrupt or truncated; "
                                 "send a complete image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
