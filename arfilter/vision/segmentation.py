"""Who is the person in the frame: MediaPipe's selfie segmentation, run with LiteRT.

The models are MediaPipe's (Apache-2.0), carried byte for byte in arfilter/models/mediapipe/
with their licence and NOTICE (scripts/vendor_segmentation_model.py says where they come from
and why). Pre- and post-processing are our own, following MediaPipe's graph
`modules/selfie_segmentation/selfie_segmentation_cpu.pbtxt`: the whole frame is stretched to
the model's input (no letterbox), scaled to [0, 1], and the output is already the probability
that a pixel belongs to a person. The mask is returned at the model's resolution: whoever
uses it smooths, feathers and scales it once (arfilter/render/background.py), which costs less
than scaling it up here and again there.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from arfilter.errors import ModelError
from arfilter.resources import FACE_MODELS_DIR
from arfilter.vision.litert import LiteRTModel, load_interpreter

SEGMENTATION_MODEL_REMEDY = "reinstall arfilter (or restore arfilter/models/mediapipe/ from git)"

SegmenterModel = Literal["general", "landscape"]
SEGMENTER_MODEL_FILES: dict[SegmenterModel, str] = {
    "general": "selfie_segmentation.tflite",
    "landscape": "selfie_segmentation_landscape.tflite",
}


@dataclass(frozen=True)
class SelfieSegmenterOptions:
    """How the person is told apart from the background.

    model: "landscape" (144x256 input: the shape of a 16:9 webcam frame, about half the cost of
        the general model, hence the default) or "general" (256x256, for portrait or square
        frames, which the landscape model would squash).
    num_threads: LiteRT CPU threads; 1 because the face models and the app share the cores, and
        a model this small gains little from a second thread.
    """

    model: SegmenterModel = "landscape"
    num_threads: int = 1

    def __post_init__(self) -> None:
        if self.model not in SEGMENTER_MODEL_FILES:
            raise ValueError(f"unknown segmentation model {self.model!r}; use one of {', '.join(SEGMENTER_MODEL_FILES)}")


def find_segmentation_model(model: SegmenterModel) -> pathlib.Path:
    """The path of a segmentation model shipped inside the package."""
    path = FACE_MODELS_DIR / SEGMENTER_MODEL_FILES[model]
    if not path.is_file():
        raise ModelError(f"segmentation model {path} not found: {SEGMENTATION_MODEL_REMEDY}")
    return path


class SelfieSegmenter(LiteRTModel):
    """Frame in, person probability per pixel out (at the model's resolution)."""

    def __init__(self, model_path: str | pathlib.Path, options: SelfieSegmenterOptions | None = None) -> None:
        self.options = options or SelfieSegmenterOptions()
        self.model_path = pathlib.Path(model_path)
        self._interpreter = load_interpreter(model_path, self.options.num_threads, "segmentation model",
                                             SEGMENTATION_MODEL_REMEDY)
        input_detail = self._interpreter.get_input_details()[0]
        output_detail = self._interpreter.get_output_details()[0]
        shape = [int(side) for side in input_detail["shape"]]
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or list(output_detail["shape"][:3]) != shape[:3]:
            raise ModelError(f"segmentation model {self.model_path} is not a selfie segmentation model "
                             f"(input {shape}, output {list(output_detail['shape'])}): {SEGMENTATION_MODEL_REMEDY}")
        self.input_size = (shape[2], shape[1])  # (width, height), read from the model rather than assumed
        self._input_index = input_detail["index"]
        self._output_index = output_detail["index"]

    @classmethod
    def create(cls, options: SelfieSegmenterOptions | None = None) -> SelfieSegmenter:
        """Segmenter with the model file of `options.model` shipped in the package."""
        options = options or SelfieSegmenterOptions()
        return cls(find_segmentation_model(options.model), options)

    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        """(height, width) float32 in [0, 1] at `input_size`: how likely each pixel shows a person."""
        if not isinstance(image_rgb, np.ndarray) or image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 \
                or image_rgb.shape[2] != 3 or 0 in image_rgb.shape:
            description = f"{image_rgb.dtype} {image_rgb.shape}" if isinstance(image_rgb, np.ndarray) else type(image_rgb).__name__
            raise ValueError(f"the segmentation model needs a non-empty RGB uint8 image (H, W, 3), got {description}")
        interpreter = self._require_open()
        # Averaging by a whole factor first keeps bilinear from aliasing fine stripes into the mask, at a
        # fifth of what INTER_AREA costs for a fractional factor such as 640x360 -> 256x144.
        factor = min(image_rgb.shape[1] // self.input_size[0], image_rgb.shape[0] // self.input_size[1])
        if factor >= 2:
            image_rgb = cv2.resize(image_rgb, (image_rgb.shape[1] // factor, image_rgb.shape[0] // factor),
                                   interpolation=cv2.INTER_AREA)
        resized = cv2.resize(image_rgb, self.input_size, interpolation=cv2.INTER_LINEAR)
        interpreter.set_tensor(self._input_index, (resized.astype(np.float32) * (1.0 / 255.0))[None])
        interpreter.invoke()
        mask: np.ndarray = interpreter.get_tensor(self._output_index)[0, :, :, 0]
        return np.clip(mask, 0.0, 1.0)
