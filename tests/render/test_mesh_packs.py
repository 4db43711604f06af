"""Packs with mesh layers, expression triggers and props behind the head: the manifest's
checks for textures, and what each layer draws on faces that turn and pull faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from arfilter.errors import PackError
from arfilter.render.mesh import face_mesh
from arfilter.render.packs import BUILTIN_PACKS_DIR, FilterPack, load_pack
from arfilter.vision.labels import EMOTION_LABELS
from tests.fakes import make_face


def write(folder: Path, manifest: str, images: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text('name = "mesh-test"\n' + manifest, encoding="utf-8")
    for name, pixels in images.items():
        Image.fromarray(pixels).save(folder / name)
    return folder


def rgba(width: int, height: int, colour=(0, 0, 255, 255)) -> np.ndarray:
    return np.full((height, width, 4), colour, np.uint8)


PAINT = """
[[emotions.default.layers]]
kind = "mesh"
texture = "paint.png"
lit = false
"""


@pytest.mark.parametrize("image, problem", [
    (rgba(256, 128), "'paint.png' is 256x128 px; a mesh texture must be square, like the UV template (e.g. 1024x1024)"),
    (rgba(64, 64)[:, :, :3], "'paint.png' is a RGB PNG; a mesh texture must be RGBA, transparent where the face shows through"),
], ids=["not-square", "not-rgba"])
def test_a_texture_that_is_not_square_or_not_rgba_is_refused_in_one_line(tmp_path, image, problem):
    folder = write(tmp_path / "pack", PAINT, {"paint.png": image})
    with pytest.raises(PackError) as caught:
        load_pack(folder, EMOTION_LABELS)
    assert str(caught.value) == f"{folder / 'pack.toml'}: layers[0].texture for 'default': {problem}"


def face_at(yaw_deg: float = 0.0, label: str = "happy", expressions: frozenset[str] = frozenset()):
    landmarks = face_mesh().posed(yaw_deg, center_xy=(200, 200), interocular_px=70)
    return make_face(landmarks, label, expressions=expressions)


def drawn(pack: FilterPack, face, time_s: float = 0.0) -> np.ndarray:
    canvas = np.zeros((400, 400, 3), np.uint8)
    pack.render(canvas, [face], time_s)
    return canvas


def test_a_mesh_layer_paints_the_face_and_leaves_the_eyes_open(tmp_path):
    pack = load_pack(write(tmp_path / "pack", PAINT, {"paint.png": rgba(64, 64)}), EMOTION_LABELS).prepare()
    face = face_at()
    canvas = drawn(pack, face)
    cheek = np.round(face.landmarks[205, :2]).astype(int)
    assert tuple(canvas[cheek[1], cheek[0]]) == (0, 0, 255)
    eye = np.round(face.landmarks[[159, 145], :2].mean(axis=0)).astype(int)
    assert canvas[eye[1], eye[0]].max() == 0


TRIGGERED = """
[[emotions.happy.layers]]
kind = "mesh"
texture = "paint.png"
lit = false
when = "mouth_open"

[[emotions.default.layers]]
kind = "mesh"
texture = "paint.png"
lit = false
when = ["smile", "eyebrows_raised"]
"""


def test_layers_show_on_their_expression_combined_with_the_emotion(tmp_path):
    pack = load_pack(write(tmp_path / "pack", TRIGGERED, {"paint.png": rgba(64, 64)}), EMOTION_LABELS).prepare()
    assert drawn(pack, face_at(label="happy")).max() == 0
    assert drawn(pack, face_at(label="happy", expressions=frozenset({"mouth_open"}))).max() > 0
    assert drawn(pack, face_at(label="sad", expressions=frozenset({"mouth_open"}))).max() == 0  # happy's layer only
    assert drawn(pack, face_at(label="sad", expressions=frozenset({"smile"}))).max() == 0  # both are needed
    assert drawn(pack, face_at(label="sad", expressions=frozenset({"smile", "eyebrows_raised"}))).max() > 0


ARMS = """
[[emotions.default.layers]]
image = "arms.png"
anchor = "eyes"
scale = 2.6
behind_head = true
"""


def test_glasses_arms_vanish_behind_the_head_at_45_degrees(tmp_path):
    """Two arms reaching past the sides of the face: both show facing the camera; at 45 degrees
    of yaw the far one (on the side the nose turns to) is gone and the near one stays."""
    arms = np.zeros((20, 260, 4), np.uint8)
    arms[:, :60] = arms[:, -60:] = (255, 255, 255, 255)
    pack = load_pack(write(tmp_path / "pack", ARMS, {"arms.png": arms}), EMOTION_LABELS).prepare()
    frontal = drawn(pack, face_at(0.0))[:, :, 0] > 0
    middle = int(face_at(0.0).landmarks[168, 0])
    assert frontal[:, :middle].sum() == pytest.approx(frontal[:, middle:].sum(), rel=0.1)
    for yaw in (45.0, -45.0):
        face = face_at(yaw)
        canvas = drawn(pack, face)[:, :, 0] > 0
        middle = int(face.landmarks[168, 0])
        near, far = (canvas[:, :middle], canvas[:, middle:]) if yaw > 0 else (canvas[:, middle:], canvas[:, :middle])
        assert far.sum() == 0, f"yaw {yaw}: the far arm shows"
        assert near.sum() > 0.6 * frontal[:, :middle].sum(), f"yaw {yaw}: the near arm is hidden"


SCROLLING = """
[[emotions.default.layers]]
kind = "mesh"
texture = "drops.png"
envelope = "tracks.png"
scroll = [0.0, 0.5]
lit = false
"""


def test_a_scrolling_texture_runs_with_the_frames_time_inside_its_envelope(tmp_path):
    drops = np.zeros((128, 128, 4), np.uint8)
    drops[::32] = (0, 0, 255, 255)
    tracks = np.zeros((128, 128, 4), np.uint8)
    tracks[60:100, 30:50] = 255  # a strip down the image-left cheek
    pack = load_pack(write(tmp_path / "pack", SCROLLING, {"drops.png": drops, "tracks.png": tracks}),
                     EMOTION_LABELS).prepare()
    face = face_at()
    first, later = drawn(pack, face, 0.0), drawn(pack, face, 0.1)
    assert first.max() > 0 and not np.array_equal(first, later)
    painted_columns = np.flatnonzero(first.max(axis=(0, 2)))
    assert painted_columns.max() < face.landmarks[1, 0]  # only on the image-left cheek


@pytest.mark.parametrize("pack_name", ["facepaint", "masquerade", "reactions"])
def test_the_builtin_mesh_packs_paint_every_label_on_the_face(pack_name):
    """Every label draws, on and around the face only; the reactions pack's effects wait for
    their expressions, and the angry face breathes fire where the others breathe a rainbow."""
    pack = load_pack(BUILTIN_PACKS_DIR / pack_name, EMOTION_LABELS).prepare()
    face_width = np.ptp(face_at().landmarks[:, 0])
    for label in EMOTION_LABELS:
        canvas = drawn(pack, face_at(label=label))
        ys, xs = np.nonzero(canvas.max(axis=2))
        assert xs.size > 500, f"{pack_name}/{label} draws almost nothing"
        assert np.hypot(xs - 200, ys - 200).max() < 1.6 * face_width, f"{pack_name}/{label} strays from the face"
    if pack_name == "reactions":
        quiet = drawn(pack, face_at(label="angry"))
        fire = drawn(pack, face_at(label="angry", expressions=frozenset({"mouth_open"})))
        rainbow = drawn(pack, face_at(label="happy", expressions=frozenset({"mouth_open"})))
        below_mouth = slice(int(face_at().landmarks[14, 1]) + 10, None)
        assert quiet[below_mouth].sum() < fire[below_mouth].sum()
        assert not np.array_equal(fire[below_mouth], rainbow[below_mouth])
