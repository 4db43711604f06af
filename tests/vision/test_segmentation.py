"""The selfie segmenter: the shipped models load, find the person, and refuse what they cannot use."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arfilter.errors import ModelError
from arfilter.resources import FACE_MODELS_DIR
from arfilter.vision.segmentation import SelfieSegmenter, SelfieSegmenterOptions
from tests.fakes import PROJECT_ROOT

ASTRONAUT = PROJECT_ROOT / "tests" / "data" / "astronaut.png"


def astronaut_rgb() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize(("model", "size"), [("landscape", (256, 144)), ("general", (256, 256))])
def test_input_size_is_read_from_the_model(model, size):
    with SelfieSegmenter.create(SelfieSegmenterOptions(model=model)) as segmenter:
        assert segmenter.input_size == size
        mask = segmenter.segment(astronaut_rgb())
    assert mask.shape == (size[1], size[0]) and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0


def test_the_person_is_in_the_mask_and_the_wall_is_not():
    """The astronaut's face (centre top) is a person; the grey wall above her right shoulder is not."""
    with SelfieSegmenter.create(SelfieSegmenterOptions(model="general")) as segmenter:
        image = astronaut_rgb()
        mask = cv2.resize(segmenter.segment(image), (image.shape[1], image.shape[0]))
    assert mask[120, 230] > 0.9  # her face
    assert mask[60, 330] < 0.1  # the wall between her head and the shuttle


def test_a_frame_of_any_size_and_shape_is_accepted():
    with SelfieSegmenter.create() as segmenter:
        for height, width in ((1, 1), (720, 1280), (480, 270), (1080, 1920)):
            assert segmenter.segment(np.zeros((height, width, 3), np.uint8)).shape == (144, 256)


def test_bad_images_are_refused_with_what_was_given():
    with SelfieSegmenter.create() as segmenter, pytest.raises(ValueError, match="float64"):
        segmenter.segment(np.zeros((10, 10, 3)))


def test_a_closed_segmenter_says_so():
    segmenter = SelfieSegmenter.create()
    segmenter.close()
    with pytest.raises(RuntimeError, match="closed"):
        segmenter.segment(np.zeros((10, 10, 3), np.uint8))


def test_a_face_model_is_not_taken_for_a_segmentation_model():
    with pytest.raises(ModelError, match="not a selfie segmentation model"):
        SelfieSegmenter(FACE_MODELS_DIR / "face_detection_short_range.tflite")


def test_a_missing_model_is_one_line(tmp_path):
    with pytest.raises(ModelError, match="not found: reinstall arfilter"):
        SelfieSegmenter(tmp_path / "missing.tflite")


def test_unknown_model_name():
    with pytest.raises(ValueError, match="landscape"):
        SelfieSegmenterOptions(model="portrait")  # type: ignore[arg-type]
