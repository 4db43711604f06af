"""Filter packs: manifest validation, layer geometry, cross-fades, discovery, the built-in packs."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.core.smoothing import SmoothingOptions
from arfilter.core.types import FaceResult
from arfilter.errors import PackError
from arfilter.render.overlay import PopFrame, Sprite, pop_frame
from arfilter.render.packs import (
    BUILTIN_PACKS_DIR,
    FilterPack,
    Layer,
    PackImage,
    default_user_packs_dir,
    discover_packs,
    fit_in_frame,
    layer_placement,
    load_pack,
)
from arfilter.vision.geometry import NAMED_POINT_INDICES, FaceGeometry
from arfilter.vision.labels import EMOTION_LABELS
from tests.fakes import BUILTIN_PACK_NAMES, make_face

DATA_DIR = Path(__file__).parent.parent / "data"
BUILTIN_NAMES = ("emoji", "party", "shades")

# A synthetic face in its own frame: eye centres at (-0.5, 0) and (0.5, 0), so lengths are in
# interocular distances; cheeks 2.0 apart, so face width = 2 interocular distances.
FACE_POINTS = {
    "left_eye": (-0.5, 0.0),
    "right_eye": (0.5, 0.0),
    "between_eyes": (0.0, -0.1),
    "nose_bridge": (0.0, 0.05),
    "nose_tip": (0.0, 0.6),
    "forehead": (0.0, -0.55),
    "forehead_top": (0.0, -0.8),
    "chin": (0.0, 1.65),
    "mouth_center": (0.0, 0.9),
    "mouth_left": (-0.45, 0.9),
    "mouth_right": (0.45, 0.9),
    "left_cheek": (-1.0, 0.25),
    "right_cheek": (1.0, 0.25),
    "left_eyebrow": (-0.55, -0.3),
    "right_eyebrow": (0.55, -0.3),
}
# Named points made of other named points' landmarks: they land on their mean.
UNION_POINTS = {"eyes": ("left_eye", "right_eye")}
FACE_POINTS["eyes"] = tuple(np.mean([FACE_POINTS[part] for part in UNION_POINTS["eyes"]], axis=0))
OTHER_POINTS = {205: (-0.65, 0.55), 425: (0.65, 0.55), 10: (0.0, -0.8), 152: (0.0, 1.65)}


def rotation(angle_deg: float) -> np.ndarray:
    """Turns clockwise on screen for positive angles (image coordinates, y down)."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return np.array([[c, -s], [s, c]])


def synthetic_landmarks(center=(320.0, 240.0), interocular: float = 60.0, roll_deg: float = 0.0) -> np.ndarray:
    """(468, 3) landmarks whose named points sit at FACE_POINTS, scaled, turned and moved.

    Points not named stay on the nose tip; nothing here reads them.
    """
    face = np.tile(np.array(FACE_POINTS["nose_tip"]), (468, 1))
    for name, point in FACE_POINTS.items():
        if name in UNION_POINTS:
            continue  # its indices are the eyes' own, placed by their entries
        face[list(NAMED_POINT_INDICES[name])] = point
    for index, point in OTHER_POINTS.items():
        face[index] = point
    image_points = face @ rotation(roll_deg).T * interocular + np.array(center)
    return np.hstack([image_points, np.zeros((468, 1))]).astype(np.float32)


def to_image(face_point, center=(320.0, 240.0), interocular: float = 60.0, roll_deg: float = 0.0) -> np.ndarray:
    return rotation(roll_deg) @ np.asarray(face_point, float) * interocular + np.array(center)


def face_result(landmarks: np.ndarray, label: str, previous_label: str | None = None, transition: float = 1.0) -> FaceResult:
    return make_face(landmarks, label, box=(0, 0, 1, 1), confidence=0.5, previous_label=previous_label,
                     transition=transition)


def solid_rgba(width: int, height: int, colour=(255, 0, 255)) -> np.ndarray:
    sprite = np.zeros((height, width, 4), np.uint8)
    sprite[:, :, :3] = colour
    sprite[:, :, 3] = 255
    return sprite


def make_layer(anchor_indices, scale_ref="interocular", scale=1.0, offset=(0.0, 0.0), rotate=True, sprite=None) -> Layer:
    return Layer(
        image="test.png",
        anchor_indices=tuple(anchor_indices),
        scale_ref=scale_ref,
        scale=scale,
        offset=offset,
        rotate=rotate,
        png=PackImage.from_sprite(sprite or Sprite.from_rgba(solid_rgba(20, 10))),
    )


def coverage_centroid(canvas: np.ndarray) -> np.ndarray:
    """Centre of what a magenta (255, 0, 255) sprite drew on a black canvas."""
    moments = cv2.moments(np.ascontiguousarray(canvas[:, :, 0]))
    return np.array([moments["m10"], moments["m01"]]) / moments["m00"]


# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize("roll", [-30.0, 0.0, 12.5, 30.0])
@pytest.mark.parametrize("anchor", sorted(NAMED_POINT_INDICES))
def test_each_named_anchor_lands_on_its_point(anchor, roll):
    landmarks = synthetic_landmarks(interocular=50.0, roll_deg=roll)
    placement = layer_placement(make_layer(NAMED_POINT_INDICES[anchor], scale=1.5), landmarks)
    expected = to_image(FACE_POINTS[anchor], interocular=50.0, roll_deg=roll)
    assert np.allclose(placement.center_xy, expected, atol=1e-3)
    assert placement.width_px == pytest.approx(75.0, rel=1e-5)
    assert placement.angle_deg == pytest.approx(roll, abs=1e-4)


@pytest.mark.parametrize("roll", [-30.0, 0.0, 25.0])
@pytest.mark.parametrize("scale_ref, reference", [("interocular", 1.0), ("face_width", 2.0)])
def test_offsets_are_in_reference_lengths_and_turn_with_the_head(roll, scale_ref, reference):
    landmarks = synthetic_landmarks(center=(300.0, 200.0), interocular=40.0, roll_deg=roll)
    layer = make_layer([10, 152], scale_ref=scale_ref, scale=2.5, offset=(0.3, -0.6))
    placement = layer_placement(layer, landmarks)
    anchor = (np.array(OTHER_POINTS[10]) + np.array(OTHER_POINTS[152])) / 2
    expected = to_image(anchor + np.array([0.3, -0.6]) * reference, center=(300.0, 200.0), interocular=40.0, roll_deg=roll)
    assert np.allclose(placement.center_xy, expected, atol=1e-3)
    assert placement.width_px == pytest.approx(2.5 * reference * 40.0, rel=1e-5)


def test_rotate_false_keeps_the_sprite_upright_but_offsets_still_turn():
    landmarks = synthetic_landmarks(roll_deg=20.0)
    placement = layer_placement(make_layer(NAMED_POINT_INDICES["nose_tip"], offset=(0.0, 1.0), rotate=False), landmarks)
    assert placement.angle_deg == 0.0
    assert np.allclose(placement.center_xy, to_image((0.0, 1.6), roll_deg=20.0), atol=1e-3)


# ---------------------------------------------------------------- manifest validation

VALID_LAYER = {"image": "dot.png", "anchor": "nose_tip", "scale_ref": "interocular", "scale": 1.0, "offset": [0.0, 0.0]}


def valid_manifest() -> dict:
    return {
        "name": "test-pack",
        "description": "for tests",
        "author": "tests",
        "licence": "CC0-1.0",
        "emotions": {
            "happy": {"layers": [dict(VALID_LAYER), dict(VALID_LAYER, anchor=[33, 263], rotate=False)]},
            "default": {"layers": [dict(VALID_LAYER, scale_ref="face_width")]},
        },
    }


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    return repr(value)


def write_pack(folder: Path, manifest: dict, images=("dot.png",)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} = {toml_value(value)}" for key, value in manifest.items() if key != "emotions"]
    if "emotions" in manifest:
        emotions = manifest["emotions"]
        if isinstance(emotions, dict):
            lines.append("[emotions]")
            lines += [f"{label} = {toml_value(entry)}" for label, entry in emotions.items()]
        else:
            lines.insert(0, f"emotions = {toml_value(emotions)}")
    (folder / "pack.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for image in images:
        Image.fromarray(solid_rgba(8, 8)).save(folder / image)
    return folder


def happy_layer(manifest: dict, index: int = 0) -> dict:
    return manifest["emotions"]["happy"]["layers"][index]


def set_layer(key, value, index=0):
    def change(manifest):
        happy_layer(manifest, index)[key] = value

    return change


def drop_layer_key(key):
    def change(manifest):
        del happy_layer(manifest)[key]

    return change


def mesh_layer(**fields):
    """Replace the first happy layer by a mesh layer painted with dot.png, with `fields` set (None: left out)."""
    def change(manifest):
        layer = {"kind": "mesh", "texture": "dot.png", **fields}
        manifest["emotions"]["happy"]["layers"][0] = {key: value for key, value in layer.items() if value is not None}

    return change


BAD_MANIFESTS = [
    ("name-missing", lambda m: m.pop("name"), "name must be lowercase letters, digits, '-' or '_' (e.g. \"my-pack\"), got None"),
    ("name-spaces", lambda m: m.update(name="My Pack"), "name must be lowercase letters, digits, '-' or '_' (e.g. \"my-pack\"), got 'My Pack'"),
    ("description", lambda m: m.update(description=3), "description must be a string, got 3"),
    ("author", lambda m: m.update(author=["me"]), "author must be a string, got ['me']"),
    ("licence", lambda m: m.update(licence=True), "licence must be a string, got True"),
    ("unknown-top", lambda m: m.update(colour="red"), "unknown key 'colour' in the manifest; known keys: name, description"),
    ("no-emotions", lambda m: m.pop("emotions"), "emotions must be a table with an entry per label"),
    ("emotions-list", lambda m: m.update(emotions=[1]), "emotions must be a table with an entry per label"),
    ("unknown-label", lambda m: m["emotions"].update(joy={"layers": []}), "unknown key 'joy' in emotions; known keys: angry"),
    (
        "label-not-covered",
        lambda m: m["emotions"].pop("default"),
        "emotions has no entry for angry, disgust, fear, neutral, sad, surprise and no 'default' entry; add them",
    ),
    ("entry-not-table", lambda m: m["emotions"].update(sad=3), "emotions.sad must be a table with a 'layers' list, got 3"),
    ("layers-missing", lambda m: m["emotions"].update(sad={}), "emotions.sad.layers must be a non-empty list of layer tables, got None"),
    ("unknown-entry-key", lambda m: m["emotions"].update(sad={"layers": [], "speed": 2}), "unknown key 'speed' in emotions.sad"),
    ("layer-not-table", lambda m: m["emotions"].update(sad={"layers": [3]}), "layers[0] for 'sad' must be a table, got 3"),
    ("unknown-layer-key", set_layer("opacity", 0.5), "unknown key 'opacity' in layers[0] for 'happy'; known keys: image, anchor"),
    ("image-missing", drop_layer_key("image"), "layers[0].image for 'happy' is missing; it must be a PNG file name"),
    ("image-number", set_layer("image", 5), "layers[0].image for 'happy' must be a PNG file name relative to the pack folder, got 5"),
    ("anchor-missing", drop_layer_key("anchor"), "layers[0].anchor for 'happy' is missing; it must be a named point"),
    ("anchor-unknown", set_layer("anchor", "ear"), "layers[0].anchor for 'happy' must be a named point (between_eyes, chin"),
    ("anchor-empty", set_layer("anchor", []), "layers[0].anchor for 'happy' must be a named point or a non-empty list of landmark indices 0..467, got []"),
    ("anchor-range", set_layer("anchor", [1, 468]), "non-empty list of landmark indices 0..467, got [1, 468]"),
    ("anchor-float", set_layer("anchor", [1.5]), "non-empty list of landmark indices 0..467, got [1.5]"),
    ("anchor-bool", set_layer("anchor", [True]), "non-empty list of landmark indices 0..467, got [True]"),
    ("scale-ref", set_layer("scale_ref", "height"), "layers[0].scale_ref for 'happy' must be 'interocular' or 'face_width', got 'height'"),
    ("scale-negative", set_layer("scale", -2, index=1), "layers[1].scale for 'happy' must be a number from 0.01 to 20 (reference lengths), got -2"),
    ("scale-zero", set_layer("scale", 0), "layers[0].scale for 'happy' must be a number from 0.01 to 20 (reference lengths), got 0"),
    ("scale-string", set_layer("scale", "2"), "layers[0].scale for 'happy' must be a number from 0.01 to 20 (reference lengths), got '2'"),
    ("scale-bool", set_layer("scale", True), "layers[0].scale for 'happy' must be a number from 0.01 to 20 (reference lengths), got True"),
    ("scale-nan", set_layer("scale", float("nan")), "layers[0].scale for 'happy' must be a number from 0.01 to 20 (reference lengths), got nan"),
    ("scale-missing", drop_layer_key("scale"), "layers[0].scale for 'happy' is missing; it must be a number from 0.01 to 20 (reference lengths)"),
    ("offset-short", set_layer("offset", [1.0]), "layers[0].offset for 'happy' must be a list of two numbers [x, y], each within +-10 reference lengths, got [1.0]"),
    ("offset-text", set_layer("offset", [1.0, "a"]), "layers[0].offset for 'happy' must be a list of two numbers [x, y], each within +-10 reference lengths, got [1.0, 'a']"),
    ("offset-number", set_layer("offset", 3), "layers[0].offset for 'happy' must be a list of two numbers [x, y], each within +-10 reference lengths, got 3"),
    ("rotate", set_layer("rotate", "yes"), "layers[0].rotate for 'happy' must be true or false, got 'yes'"),
    ("traversal", set_layer("image", "../outside.png"), "layers[0].image for 'happy': '../outside.png' leaves the pack folder"),
    ("deep-traversal", set_layer("image", "sub/../../outside.png"), "'sub/../../outside.png' leaves the pack folder"),
    ("windows-traversal", set_layer("image", "..\\outside.png"), "leaves the pack folder"),
    ("absolute", set_layer("image", "/etc/outside.png"), "layers[0].image for 'happy': '/etc/outside.png' is an absolute path"),
    ("drive", set_layer("image", "C:/outside.png"), "'C:/outside.png' is an absolute path"),
    ("not-png", set_layer("image", "dot.jpg"), "layers[0].image for 'happy': 'dot.jpg' is not a .png file"),
    ("missing-png", set_layer("image", "ghost.png"), "layers[0].image for 'happy': missing PNG {folder}/ghost.png"),
    ("kind", set_layer("kind", "hologram"), "layers[0].kind for 'happy' must be 'sprite' or 'mesh', got 'hologram'"),
    ("when-unknown", set_layer("when", "wink"), "layers[0].when for 'happy' must be an expression or a list of them, all of which must show (mouth_open, smile, eyebrows_raised, eyes_closed), got 'wink'"),
    ("when-list", set_layer("when", ["smile", 3]), "layers[0].when for 'happy' must be an expression or a list of them"),
    ("behind-head", set_layer("behind_head", 1), "layers[0].behind_head for 'happy' must be true or false, got 1"),
    ("sprite-key-on-mesh", mesh_layer(anchor="eyes"), "unknown key 'anchor' in layers[0] for 'happy'; known keys: texture, opacity"),
    ("mesh-key-on-sprite", set_layer("texture", "dot.png"), "unknown key 'texture' in layers[0] for 'happy'; known keys: image"),
    ("texture-missing-field", mesh_layer(texture=None), "layers[0].texture for 'happy' is missing; it must be a square RGBA PNG painted on the UV template"),
    ("texture-missing-file", mesh_layer(texture="paint.png"), "layers[0].texture for 'happy': missing PNG {folder}/paint.png"),
    ("texture-traversal", mesh_layer(texture="../paint.png"), "layers[0].texture for 'happy': '../paint.png' leaves the pack folder"),
    ("opacity", mesh_layer(opacity=1.5), "layers[0].opacity for 'happy' must be a number above 0 and at most 1, got 1.5"),
    ("blend", mesh_layer(blend="screen"), "layers[0].blend for 'happy' must be 'normal' or 'multiply', got 'screen'"),
    ("open", mesh_layer(open=["nose"]), "layers[0].open for 'happy' must be a list of the regions left open (eyes, mouth), [] for none, got ['nose']"),
    ("lit", mesh_layer(lit="yes"), "layers[0].lit for 'happy' must be true or false, got 'yes'"),
    ("scroll", mesh_layer(scroll=[0.1]), "layers[0].scroll for 'happy' must be a list of two numbers [u, v]"),
    ("envelope", mesh_layer(envelope="ghost.png"), "layers[0].envelope for 'happy': missing PNG {folder}/ghost.png"),
    ("mesh-when", mesh_layer(when="frown"), "layers[0].when for 'happy' must be an expression or a list of them"),
]


@pytest.mark.parametrize("change, message", [case[1:] for case in BAD_MANIFESTS], ids=[case[0] for case in BAD_MANIFESTS])
def test_each_bad_field_gets_a_one_line_message_naming_file_and_field(tmp_path, change, message):
    manifest = valid_manifest()
    change(manifest)
    folder = write_pack(tmp_path / "pack", manifest)
    with pytest.raises(PackError) as caught:
        load_pack(folder, EMOTION_LABELS)
    text = str(caught.value)
    assert text.startswith(f"{folder / 'pack.toml'}: ")
    assert message.format(folder=folder) in text
    assert "\n" not in text


def test_the_valid_manifest_loads(tmp_path):
    pack = load_pack(write_pack(tmp_path / "pack", valid_manifest()), EMOTION_LABELS)
    assert (pack.name, pack.description, pack.author, pack.licence) == ("test-pack", "for tests", "tests", "CC0-1.0")
    happy = pack.layers_for("happy")
    assert [layer.anchor_indices for layer in happy] == [NAMED_POINT_INDICES["nose_tip"], (33, 263)]
    assert [layer.rotate for layer in happy] == [True, False]
    # One PNG used by three layers is decoded once.
    assert happy[0].sprite is happy[1].sprite is pack.layers_for("sad")[0].sprite
    # Labels without their own entry use `default`.
    assert pack.layers_for("sad")[0].scale_ref == "face_width"
    assert pack.layers_for("no-such-label") == pack.layers_for("default")


def test_a_symlink_out_of_the_pack_is_refused(tmp_path):
    Image.fromarray(solid_rgba(4, 4)).save(tmp_path / "secret.png")
    manifest = valid_manifest()
    happy_layer(manifest)["image"] = "link.png"
    folder = write_pack(tmp_path / "pack", manifest)
    os.symlink(tmp_path / "secret.png", folder / "link.png")
    with pytest.raises(PackError, match=r"'link\.png' links outside the pack folder"):
        load_pack(folder, EMOTION_LABELS)


def test_unreadable_png_and_bad_toml_and_missing_manifest(tmp_path):
    folder = write_pack(tmp_path / "corrupt", valid_manifest())
    (folder / "dot.png").write_bytes(b"not a png")
    with pytest.raises(PackError, match=r"layers\[0\]\.image for 'happy': cannot read PNG .*dot\.png"):
        load_pack(folder, EMOTION_LABELS)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pack.toml").write_text("name = [\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"broken/pack\.toml: invalid TOML \("):
        load_pack(broken, EMOTION_LABELS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackError, match=r"empty/pack\.toml: manifest not found"):
        load_pack(tmp_path / "empty", EMOTION_LABELS)
    with pytest.raises(PackError, match=r"nowhere: pack folder not found"):
        load_pack(tmp_path / "nowhere", EMOTION_LABELS)


# ---------------------------------------------------------------- discovery


def test_discovery_loads_builtins_and_user_packs_and_reports_broken_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    default_dir = default_user_packs_dir()
    assert default_dir == tmp_path / "config" / "arfilter" / "packs"
    write_pack(default_dir / "mine", dict(valid_manifest(), name="mine"))
    broken = dict(valid_manifest(), name="broken")
    happy_layer(broken)["scale"] = -1
    user_dir = tmp_path / "user"
    write_pack(user_dir / "broken", broken)
    # A user pack named like a built-in replaces it.
    write_pack(user_dir / "shades", dict(valid_manifest(), name="shades", description="my shades"))
    single = write_pack(tmp_path / "single", dict(valid_manifest(), name="single"))
    (user_dir / "no-manifest").mkdir()
    (user_dir / ".hidden").mkdir()

    packs, errors = discover_packs(BUILTIN_PACKS_DIR, [user_dir, single, tmp_path / "missing"], EMOTION_LABELS)
    by_name = {pack.name: pack for pack in packs}
    assert [pack.name for pack in packs] == [*BUILTIN_PACK_NAMES, "mine", "single"]
    assert by_name["shades"].description == "my shades"
    assert by_name["shades"].source_folder == user_dir / "shades"
    assert by_name["emoji"].source_folder == BUILTIN_PACKS_DIR / "emoji"
    assert by_name["mine"].source_folder == default_dir / "mine"
    assert len(errors) == 3
    assert errors[0].startswith(f"{user_dir / 'broken' / 'pack.toml'}: layers[0].scale for 'happy'")
    assert errors[1].startswith(f"{user_dir / 'no-manifest' / 'pack.toml'}: manifest not found")
    assert errors[2].startswith(f"{tmp_path / 'missing'}: pack folder not found")


def test_missing_default_user_folder_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing-here"))
    packs, errors = discover_packs(BUILTIN_PACKS_DIR, [], EMOTION_LABELS)
    assert [pack.name for pack in packs] == list(BUILTIN_PACK_NAMES)
    assert errors == []


# ---------------------------------------------------------------- rendering


def two_colour_pack() -> FilterPack:
    """happy draws a red square, sad a blue one, both on the nose tip."""
    red = make_layer(NAMED_POINT_INDICES["nose_tip"], sprite=Sprite.from_rgba(solid_rgba(10, 10, (255, 0, 0))))
    blue = make_layer(NAMED_POINT_INDICES["nose_tip"], sprite=Sprite.from_rgba(solid_rgba(10, 10, (0, 0, 255))))
    return FilterPack("two", "", "", "", Path("."), {"happy": (red,), "sad": (blue,)})


@pytest.mark.parametrize(
    "previous, transition, expected",
    [
        (None, 1.0, (0, 0, 255)),
        ("happy", 1.0, (0, 0, 255)),
        ("happy", 0.0, (255, 0, 0)),
        # Early in the pop only the outgoing red is drawn, fading; the blue has not appeared yet.
        ("happy", 0.2, (pop_frame(0.2).outgoing[1] * 255 + (1 - pop_frame(0.2).outgoing[1]) * 100,) + ((1 - pop_frame(0.2).outgoing[1]) * 100,) * 2),
        # Late in the pop only the incoming blue is drawn, fully opaque.
        ("happy", 0.7, (0, 0, 255)),
        # A new face pops in from nothing: not drawn at first, fully drawn late in the pop.
        (None, 0.0, (100, 100, 100)),
        (None, 0.8, (0, 0, 255)),
    ],
)
def test_pop_on_label_change(previous, transition, expected):
    landmarks = synthetic_landmarks()
    canvas = np.full((480, 640, 3), 100, np.uint8)
    two_colour_pack().render(canvas, [face_result(landmarks, "sad", previous, transition)])
    x, y = np.round(to_image(FACE_POINTS["nose_tip"])).astype(int)
    assert np.allclose(canvas[y, x], expected, atol=1.5)


def test_pop_never_shows_two_sprites_at_half_opacity():
    """A label change is a pop, not a double exposure: whenever both sprites are drawn, one
    of them is faint (at most a fifth opaque), and the whole change is short."""
    for transition in np.linspace(0.0, 1.0, 201):
        pop = pop_frame(float(transition))
        assert min(pop.outgoing[1], pop.incoming[1]) <= 0.2
        assert 0.5 <= pop.incoming[0] <= 1.15 and pop.outgoing[0] <= 1.0
    assert pop_frame(1.0) == PopFrame(outgoing=(0.7, 0.0), incoming=(1.0, 1.0))
    assert SmoothingOptions().transition_s <= 0.15


def test_render_refuses_malformed_landmarks():
    face = face_result(synthetic_landmarks(), "sad")
    face.landmarks = face.landmarks[:10]
    with pytest.raises(ValueError, match=r"landmarks must have shape \(468, 3\)"):
        two_colour_pack().render(np.zeros((10, 10, 3), np.uint8), [face])


def layer_footprint(layer: Layer, landmarks: np.ndarray, shape) -> np.ndarray:
    """Where one layer, drawn alone and fully opaque, would touch the frame."""
    solo = FilterPack("solo", "", "", "", Path("."), {"x": (dataclasses.replace(layer, png=PackImage.from_sprite(opaque_like(layer.sprite))),)})
    canvas = np.zeros(shape, np.uint8)
    solo.render(canvas, [face_result(landmarks, "x")])
    return canvas[:, :, 0] > 0


def opaque_like(sprite: Sprite) -> Sprite:
    return Sprite.from_rgba(solid_rgba(sprite.width, sprite.height))


@pytest.fixture(scope="module")
def builtin_packs() -> dict[str, FilterPack]:
    return {name: load_pack(BUILTIN_PACKS_DIR / name, EMOTION_LABELS) for name in BUILTIN_NAMES}


@pytest.mark.parametrize("roll", [0.0, -25.0])
@pytest.mark.parametrize("pack_name", BUILTIN_NAMES)
def test_every_builtin_pack_draws_on_the_face_and_nowhere_else(builtin_packs, pack_name, roll):
    pack = builtin_packs[pack_name]
    landmarks = synthetic_landmarks(center=(320.0, 260.0), interocular=60.0, roll_deg=roll)
    background = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for label in EMOTION_LABELS:
        layers = pack.layers_for(label)
        assert layers, f"{pack_name} draws nothing for {label}"
        canvas = background.copy()
        pack.render(canvas, [face_result(landmarks, label)])
        changed = (canvas != background).any(axis=2)
        footprints = [layer_footprint(layer, landmarks, canvas.shape) for layer in layers]
        for layer, footprint in zip(layers, footprints):
            # Each layer changes a good part of its own footprint...
            assert changed[footprint].mean() > 0.05, f"{pack_name}/{label}: {layer.image} drew almost nothing"
            # ...and stays on or around the face: its centre within 2.5 interocular distances of
            # the eyes (a hat's centre is about 1.9 above them), all of it within 3.6.
            ys, xs = np.nonzero(footprint)
            assert np.hypot(xs.mean() - 320.0, ys.mean() - 260.0) < 2.5 * 60.0, f"{pack_name}/{label}: {layer.image}"
            assert np.hypot(xs - 320.0, ys - 260.0).max() < 3.6 * 60.0, f"{pack_name}/{label}: {layer.image}"
        # Nothing changes outside the layers' footprints.
        assert not (changed & ~np.logical_or.reduce(footprints)).any()


def real_or_synthetic_face():
    """The astronaut's real landmarks when present, else the synthetic face."""
    path = DATA_DIR / "astronaut_landmarks.npy"
    if path.is_file():
        return np.load(path).astype(np.float32), "astronaut"
    return synthetic_landmarks(center=(226.0, 120.0), interocular=43.0), "synthetic"


ROLLS = (-30.0, -15.0, 0.0, 15.0, 30.0)


@pytest.mark.parametrize("pack_name", BUILTIN_NAMES)
def test_layers_follow_a_real_face_within_5_percent_of_interocular_at_any_roll(builtin_packs, pack_name):
    """Render each layer as a flat magenta box on the (padded) frame, turn the frame about the
    face and check the box's pixel centroid lands where the layer was on the upright frame, turned
    the same way. Offsets that did not turn with the head, or a wrong rotation sign, miss by far
    more than the allowed 5% of the interocular distance."""
    landmarks, _ = real_or_synthetic_face()
    padding = 200
    landmarks = landmarks.copy()
    landmarks[:, :2] += padding
    shape = (512 + 2 * padding, 512 + 2 * padding, 3)
    pivot = landmarks[:, :2].mean(axis=0)
    interocular = FaceGeometry.from_landmarks(landmarks).interocular
    pack = builtin_packs[pack_name]
    layers = {layer.image: layer for label in EMOTION_LABELS for layer in pack.layers_for(label)}
    for image, layer in sorted(layers.items()):
        test_layer = dataclasses.replace(layer, png=PackImage.from_sprite(opaque_like(layer.sprite)))
        solo = FilterPack("solo", "", "", "", Path("."), {"x": (test_layer,)})

        def rendered_centre(face_landmarks: np.ndarray, solo: FilterPack = solo) -> np.ndarray:
            canvas = np.zeros(shape, np.uint8)
            solo.render(canvas, [face_result(face_landmarks, "x")])
            return coverage_centroid(canvas)

        upright = rendered_centre(landmarks)
        intended = np.array(layer_placement(test_layer, landmarks).center_xy)
        assert np.hypot(*(upright - intended)) < 0.05 * interocular, f"{pack_name}/{image} upright"
        for roll in ROLLS:
            # cv2 turns counter-clockwise for positive angles; ours turn clockwise.
            matrix = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), -roll, 1.0)
            turned = landmarks.copy()
            turned[:, :2] = landmarks[:, :2] @ matrix[:, :2].T + matrix[:, 2]
            expected = matrix[:, :2] @ upright + matrix[:, 2]
            error = np.hypot(*(rendered_centre(turned) - expected))
            assert error < 0.05 * interocular, f"{pack_name}/{image} at roll {roll}: off by {error:.2f} px"


def face_frame(point, landmarks: np.ndarray) -> np.ndarray:
    """`point` in the face's own frame: interocular units from the eye centre, y down the face."""
    geometry = FaceGeometry.from_landmarks(landmarks)
    return rotation(geometry.roll_deg).T @ (np.asarray(point) - geometry.eye_center) / geometry.interocular


def test_builtin_layers_sit_where_they_belong_on_a_real_face(builtin_packs):
    """Hats above the forehead, glasses on the eyes, tears under them, the emoji over the face."""
    landmarks, _ = real_or_synthetic_face()

    def where(pack_name: str, image: str) -> np.ndarray:
        layers = [layer for label in EMOTION_LABELS for layer in builtin_packs[pack_name].layers_for(label)]
        layer = next(layer for layer in layers if layer.image == image)
        return face_frame(layer_placement(layer, landmarks).center_xy, landmarks)

    forehead_top = face_frame(landmarks[10, :2], landmarks)
    chin = face_frame(landmarks[152, :2], landmarks)
    for glasses in ("wayfarers.png", "hearts.png", "stars.png", "visor_red.png"):
        assert np.hypot(*where("shades", glasses)) < 0.1
    assert 0.2 < where("shades", "over_the_rim.png")[1] < 0.5  # slid down the nose
    for hat in ("top_hat.png", "party_hat.png", "crown.png", "horns.png", "rain_cloud.png"):
        x, y = where("party", hat)
        assert abs(x) < 0.2 and forehead_top[1] - 2.0 < y < forehead_top[1]
    tear_x, tear_y = where("shades", "tear.png")
    assert -0.7 < tear_x < -0.3 and 0.3 < tear_y < 0.9
    emoji_centre = where("emoji", "happy.png")
    assert abs(emoji_centre[0]) < 0.1 and 0.0 < emoji_centre[1] < (forehead_top[1] + chin[1]) / 2 + 0.1


def test_packs_are_checked_against_the_models_own_labels(tmp_path: Path) -> None:
    """A model with another label set: packs must cover its labels, and may name only those."""
    manifest = valid_manifest()
    manifest["emotions"] = {"yay": {"layers": [dict(VALID_LAYER)]}, "boo": {"layers": [dict(VALID_LAYER)]}}
    pack = load_pack(write_pack(tmp_path / "own", manifest), ("yay", "boo"))
    assert set(pack.layers_by_label) == {"yay", "boo"}
    with pytest.raises(PackError, match="no entry for meh and no 'default' entry"):
        load_pack(write_pack(tmp_path / "short", manifest), ("yay", "boo", "meh"))
    with pytest.raises(PackError, match="unknown key 'yay' in emotions"):
        load_pack(write_pack(tmp_path / "fer", manifest), EMOTION_LABELS)


# ---------------------------------------------------------------- frame edges and head pose


def test_a_prop_cut_by_the_frame_edge_is_pulled_back_within_limits():
    frame = (640, 480)
    # A 200x120 hat centred on the top edge: half of it would be cut.
    center, scale = fit_in_frame((320.0, 0.0), (200.0, 120.0), frame)
    top = center[1] - scale * 120 / 2
    assert center[0] == 320.0 and center[1] > 0.0
    assert center[1] <= 0.35 * 120 + 1e-9, "it moves at most 35% of its size"
    assert scale == 1.0 and -top == pytest.approx(120 / 3), "a third is cut once pulled back"
    # Inside the frame (or cut by less than a third) nothing changes.
    assert fit_in_frame((320.0, 240.0), (200.0, 120.0), frame) == ((320.0, 240.0), 1.0)
    assert fit_in_frame((320.0, 50.0), (200.0, 120.0), frame) == ((320.0, 50.0), 1.0)
    # Far outside, the limits hold: a prop never leaves its face to chase the frame.
    center, scale = fit_in_frame((-300.0, 240.0), (200.0, 120.0), frame)
    assert center[0] == pytest.approx(-300.0 + 0.35 * 200) and scale == 0.75


def test_a_hat_on_a_close_up_stays_mostly_in_the_frame():
    landmarks = synthetic_landmarks(center=(320.0, 150.0), interocular=120.0)
    hat = make_layer(NAMED_POINT_INDICES["forehead_top"], sprite=Sprite.from_rgba(solid_rgba(40, 30, (255, 0, 0))),
                     scale=2.0, offset=(0.0, -0.6))
    pack = FilterPack("hat", "", "", "", Path("."), {"default": (hat,)})
    canvas = np.zeros((480, 640, 3), np.uint8)
    pack.render(canvas, [face_result(landmarks, "happy")])
    drawn_rows = np.flatnonzero(canvas[:, :, 0].max(axis=1) > 0)
    # Unfitted, the 180 px tall hat would be centred at y = 150 - 96 - 72 = -18: 72 rows visible.
    assert drawn_rows.size >= 180 * 2 / 3 - 2


def test_turned_faces_foreshorten_offsets_and_sprites():
    frontal = FaceGeometry.from_landmarks(synthetic_landmarks())
    turned = dataclasses.replace(frontal, yaw_deg=50.0, pitch_deg=40.0)
    layer = make_layer(NAMED_POINT_INDICES["nose_tip"], scale=2.0, offset=(0.5, -1.0))
    landmarks = synthetic_landmarks()
    straight = layer_placement(layer, landmarks, frontal)
    foreshortened = layer_placement(layer, landmarks, turned)
    anchor = to_image(FACE_POINTS["nose_tip"])
    assert foreshortened.width_px == straight.width_px, "sizes come from 3D lengths, not from the turn"
    assert foreshortened.squash == pytest.approx(math.cos(math.radians(50.0)))
    assert foreshortened.center_xy[0] - anchor[0] == pytest.approx((straight.center_xy[0] - anchor[0]) * math.cos(math.radians(50)))
    assert foreshortened.center_xy[1] - anchor[1] == pytest.approx((straight.center_xy[1] - anchor[1]) * math.cos(math.radians(40)))
