"""The whole lens (the per-frame pipeline and its packs) with the real face models, emotion model files and built-in packs.

The emotion model in models/ may be a placeholder, so no test relies on which label a face gets:
only on the shape of the results and on how labels, tracks and packs behave.
"""

from __future__ import annotations

import pathlib

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.apps.lens import Lens, LensOptions, build_lens
from arfilter.core.types import Frame, FrameResult
from arfilter.errors import PackError
from arfilter.render.packs import PackSet
from arfilter.vision.geometry import FaceGeometry, landmark_box
from arfilter.vision.labels import EMOTION_LABELS

DATA = pathlib.Path(__file__).parent.parent / "data"
REFERENCE_LANDMARKS = np.load(DATA / "astronaut_landmarks.npy")
FPS = 30.0


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(DATA / "astronaut.png").convert("RGB"))


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Lens:
    # Only the built-in packs: packs in the developer's own ~/.config must not change the results.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        return build_lens()


@pytest.fixture()
def fresh(pipeline: Lens) -> Lens:
    """The shared pipeline with no tracks and the default pack, as a new one would be."""
    pipeline.reset()
    while pipeline.packs.current != LensOptions().pack:
        pipeline.packs.next()
    return pipeline


def still(image: np.ndarray, index: int = 0) -> Frame:
    return Frame(image=image, index=index, source=f"image{index}.png", timestamp_s=float(index), is_still=True)


def video_frame(image: np.ndarray, index: int) -> Frame:
    return Frame(image=image, index=index, source="clip.mp4", timestamp_s=index / FPS, is_still=False)


def box_iou(first: tuple[int, int, int, int], second: tuple[int, int, int, int]) -> float:
    (x0, y0, w0, h0), (x1, y1, w1, h1) = first, second
    width = max(0, min(x0 + w0, x1 + w1) - max(x0, x1))
    height = max(0, min(y0 + h0, y1 + h1) - max(y0, y1))
    overlap = width * height
    return overlap / (w0 * h0 + w1 * h1 - overlap)


def check_face_schema(result: FrameResult) -> None:
    for face in result.faces:
        assert face.landmarks.shape == (468, 3)
        assert face.probabilities.shape == (len(EMOTION_LABELS),)
        assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        assert np.all(face.probabilities >= 0.0)
        assert face.label in EMOTION_LABELS
        assert face.confidence == pytest.approx(float(face.probabilities[EMOTION_LABELS.index(face.label)]))
        assert face.box == landmark_box(face.landmarks)
        assert 0.0 <= face.transition <= 1.0


def test_still_image_gives_one_face_around_the_real_face(fresh: Lens, astronaut: np.ndarray) -> None:
    result = fresh.process(still(astronaut))
    assert len(result.faces) == 1
    face = result.faces[0]
    check_face_schema(result)
    assert box_iou(face.box, landmark_box(REFERENCE_LANDMARKS)) > 0.85
    assert face.roll_deg == pytest.approx(FaceGeometry.from_landmarks(REFERENCE_LANDMARKS).roll_deg, abs=1.5)
    # A still is not smoothed: the label is the model's top class and nothing fades.
    assert face.label == EMOTION_LABELS[int(np.argmax(face.probabilities))]
    assert (face.previous_label, face.transition) == (None, 1.0)
    assert set(result.timings_ms) >= {"faces", "emotion", "smoothing"}
    assert all(value >= 0.0 for value in result.timings_ms.values())


@pytest.mark.parametrize("clockwise_deg", [15.0, -20.0])
def test_roll_follows_a_turned_head(fresh: Lens, astronaut: np.ndarray, clockwise_deg: float) -> None:
    eye_center = FaceGeometry.from_landmarks(REFERENCE_LANDMARKS).eye_center
    # OpenCV's positive angle turns counter-clockwise on screen (y down).
    matrix = cv2.getRotationMatrix2D((float(eye_center[0]), float(eye_center[1])), -clockwise_deg, 1.0)
    turned = cv2.warpAffine(astronaut, matrix, astronaut.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    (face,) = fresh.process(still(turned)).faces
    expected = FaceGeometry.from_landmarks(REFERENCE_LANDMARKS).roll_deg + clockwise_deg
    assert face.roll_deg == pytest.approx(expected, abs=2.0)


def test_image_without_faces_gives_no_faces(fresh: Lens, astronaut: np.ndarray) -> None:
    blank = np.full_like(astronaut, 128)
    result = fresh.process(still(blank))
    assert result.faces == []
    assert np.array_equal(fresh.packs.render(result), blank)


def test_render_draws_on_the_face_only_and_leaves_the_input_alone(fresh: Lens, astronaut: np.ndarray) -> None:
    original = astronaut.copy()
    result = fresh.process(still(astronaut))
    x, y, width, height = result.faces[0].box
    # Hats and horns may sit above the head: allow most of a face size around the box, no more.
    margin = int(0.75 * max(width, height))
    near_face = np.zeros(astronaut.shape[:2], bool)
    near_face[max(0, y - margin) : y + height + margin, max(0, x - margin) : x + width + margin] = True
    for _ in fresh.packs.names:
        rendered = fresh.packs.render(result)
        assert rendered is not astronaut and rendered.shape == astronaut.shape and rendered.dtype == np.uint8
        assert np.array_equal(astronaut, original), "render must not draw on the frame it was given"
        changed = np.any(rendered != astronaut, axis=2)
        assert changed[near_face].sum() > 0.1 * width * height, f"pack {fresh.packs.current} drew almost nothing"
        assert not changed[~near_face].any(), f"pack {fresh.packs.current} drew far from the face"
        fresh.packs.next()
    assert set(result.timings_ms) == {"faces", "emotion", "smoothing"}, "drawing does not write into the analysis record"


def test_next_pack_cycles_through_every_pack_and_wraps(fresh: Lens) -> None:
    names = fresh.packs.names
    assert len(names) == len(set(names)) >= 2
    start = names.index(fresh.packs.current)
    seen = [fresh.packs.next() for _ in range(len(names))]
    assert seen == [names[(start + step) % len(names)] for step in range(1, len(names) + 1)]
    assert fresh.packs.current == names[start]


def test_unknown_pack_name_is_an_error_naming_the_available_packs(pipeline: Lens) -> None:
    with pytest.raises(PackError) as raised:
        PackSet(pipeline.packs.available, "no-such-pack")
    message = str(raised.value)
    assert "no-such-pack" in message and "\n" not in message
    assert all(name in message for name in pipeline.packs.names)


def test_video_frames_keep_one_track_and_reset_forgets_it(fresh: Lens, astronaut: np.ndarray) -> None:
    results = [fresh.process(video_frame(astronaut, index)) for index in range(8)]
    assert all(len(result.faces) == 1 for result in results)
    for result in results:
        check_face_schema(result)
    track_ids = {result.faces[0].track_id for result in results}
    assert len(track_ids) == 1
    # The same picture every frame: the smoothed label never changes, so nothing fades.
    assert len({result.faces[0].label for result in results}) == 1
    assert all(result.faces[0].previous_label is None for result in results)
    assert box_iou(results[-1].faces[0].box, landmark_box(REFERENCE_LANDMARKS)) > 0.85

    fresh.reset()
    after_reset = fresh.process(video_frame(astronaut, 8)).faces[0]
    assert after_reset.track_id not in track_ids
    # No smoothing history either: the first frame of a new track is the landmark model's own output,
    # the same as for a still image.
    unsmoothed = fresh.process(still(astronaut)).faces[0]
    np.testing.assert_allclose(after_reset.landmarks, unsmoothed.landmarks, atol=1e-3)
    np.testing.assert_allclose(after_reset.frame_probabilities, unsmoothed.probabilities, atol=1e-5)


def test_face_that_leaves_and_comes_back_gets_a_new_track(fresh: Lens, astronaut: np.ndarray) -> None:
    first = fresh.process(video_frame(astronaut, 0)).faces[0].track_id
    assert fresh.process(video_frame(np.full_like(astronaut, 128), 1)).faces == []
    assert fresh.process(video_frame(astronaut, 2)).faces[0].track_id != first


def test_every_still_is_a_new_face(fresh: Lens, astronaut: np.ndarray) -> None:
    ids = [fresh.process(still(astronaut, index)).faces[0].track_id for index in range(2)]
    assert ids[0] != ids[1]
