"""Filter packs: folders of RGBA PNGs plus a `pack.toml` saying where each one goes on a face.

A pack's manifest names, per emotion label, the layers drawn in order; `default` covers every
label without an entry of its own. Every label must be covered, either directly or by
`default`, so that a pack never silently shows nothing.

    name = "shades"                 # lowercase letters, digits, '-' and '_' (used on the command line)
    description = "Sunglasses that change with your mood"
    author = "arfilter"
    licence = "Apache-2.0"

    [[emotions.happy.layers]]
    image = "heart_glasses.png"     # relative to the pack folder, and inside it
    anchor = "between_eyes"         # a named face point, or a list of landmark indices averaged
    scale_ref = "interocular"       # or "face_width"
    scale = 2.4                     # sprite width = scale x reference length
    offset = [0.0, 0.1]             # in reference lengths, in the face's own frame (y down the face)
    rotate = true                   # turn the sprite with the head's roll

`scale_ref`, `offset` and `rotate` may be left out (interocular, [0, 0], true). Offsets always
turn with the head, so that a hat above the forehead stays above it when the head tilts.

Everything is validated when the pack is loaded (manifest fields, and every PNG's header and
checksums), so a broken pack fails with one `PackError` line naming the file and the field,
before the first frame rather than in the middle of a video. Pixels are decoded only when a
pack is first used (`FilterPack.prepare`): user packs are read at every start, and decoding
packs nobody selected would cost memory and seconds for nothing. A pack is also held to a
budget (MAX_PACK_LAYERS layers, MAX_PACK_PIXELS decoded pixels), so a pack of forty blank
2048 px PNGs (under 1 MB on disk, 1 GB decoded) is refused instead of exhausting memory.

Discovery (`discover_packs`) reads the built-in packs, then user packs. A user pack whose name is
already taken replaces the earlier pack of that name, so users can restyle a built-in by copying
it into their pack folder; the precedence is: folders given explicitly (later ones win over
earlier ones), over the default user folder, over the built-ins. Packs are loaded in
isolation: anything that goes wrong in one (an unreadable folder, a file name the file system
refuses, a NUL in a name, a bug) becomes one warning line and the other packs still load.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import re
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
from PIL import Image

from arfilter.errors import PackError
from arfilter.geometry import NAMED_POINT_INDICES, FaceGeometry
from arfilter.overlay import Sprite, composite_sprite, pop_frame
from arfilter.resources import PACKS_DIR
from arfilter.types import FaceResult, FrameResult

log = logging.getLogger(__name__)

MANIFEST_NAME = "pack.toml"
DEFAULT_LABEL = "default"
BUILTIN_PACKS_DIR = PACKS_DIR
SCALE_REFERENCES = ("interocular", "face_width")
LANDMARK_COUNT = 468
# Larger sprites only cost memory and load time: no face on screen needs more pixels.
MAX_SPRITE_SIDE_PX = 2048
# Per-pack budget: the built-in packs use 8-16 layers and under 1 Mpx; these limits leave
# ample room for rich packs while bounding what one pack can cost (16 Mpx is ~85 MB of
# prepared sprites with their mip levels).
MAX_PACK_LAYERS = 64
MAX_PACK_PIXELS = 16_000_000

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PACK_KEYS = ("name", "description", "author", "licence", "emotions")
_LAYER_KEYS = ("image", "anchor", "scale_ref", "scale", "offset", "rotate")


@dataclass(frozen=True)
class Layer:
    """One sprite of a pack, and how it sits on the face."""

    image: str  # as written in the manifest, relative to the pack folder
    anchor_indices: tuple[int, ...]  # landmark indices whose mean is the anchor point
    scale_ref: str  # "interocular" or "face_width"
    scale: float
    offset: tuple[float, float]
    rotate: bool
    png: PackImage = field(repr=False, compare=False)

    @property
    def sprite(self) -> Sprite:
        """The prepared sprite, decoded on first use (see `FilterPack.prepare`)."""
        return self.png.sprite()


class PackImage:
    """One PNG of a pack: checked when the pack loads, decoded once when first drawn.

    Shared by every layer that names the same file, so a PNG used by three layers is decoded once.
    """

    def __init__(self, path: Path, label: str, size: tuple[int, int]) -> None:
        self.path = path
        self.label = label  # how error messages name it: '<manifest>: layers[i].image for ...'
        self.size = size
        self._sprite: Sprite | None = None

    @classmethod
    def from_sprite(cls, sprite: Sprite, name: str = "sprite.png") -> PackImage:
        """An image already in memory (tests, packs drawn by code)."""
        image = cls(Path(name), name, (sprite.width, sprite.height))
        image._sprite = sprite
        return image

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]

    def sprite(self) -> Sprite:
        if self._sprite is None:
            try:
                with Image.open(self.path) as opened:
                    rgba = np.asarray(opened.convert("RGBA"))
            except (OSError, ValueError, Image.DecompressionBombError) as error:
                raise PackError(f"{self.label}: cannot decode PNG {self.path} ({error})") from None
            self._sprite = Sprite.from_rgba(rgba)
        return self._sprite


@dataclass(frozen=True)
class Placement:
    """Where a layer lands on one face, in frame pixels and degrees."""

    center_xy: tuple[float, float]
    width_px: float
    angle_deg: float
    squash: float = 1.0  # horizontal foreshortening of a turned face: width times this, height unchanged


# A face turned 60 degrees away shows half its width; past that the sprite stays at half width
# rather than becoming a sliver.
MIN_SQUASH = 0.5


def layer_placement(layer: Layer, landmarks: np.ndarray, geometry: FaceGeometry | None = None) -> Placement:
    """Place `layer` on the face described by (468, 2 or 3) `landmarks`.

    The anchor is the mean of the layer's landmarks; the offset is measured in reference lengths
    along the face's own axes (x along the eye line from image-left to image-right eye, y at
    right angles to it, down the face), so it turns with the head, and it is foreshortened
    as the face does: by the cosine of the yaw along the eye line and of the pitch down the
    face, so a hat offset above the forehead stays on the forehead when the head nods. The
    reference lengths are measured in 3D (`FaceGeometry`), so sprites keep their size on a
    turned face, and the sprite itself is squashed by the yaw's cosine. Pass `geometry` when
    placing several layers on one face to measure it once.
    """
    if geometry is None:
        geometry = FaceGeometry.from_landmarks(landmarks)
    reference = geometry.interocular if layer.scale_ref == "interocular" else geometry.face_width
    anchor = landmarks[list(layer.anchor_indices), :2].mean(axis=0)
    cos_roll, sin_roll = math.cos(math.radians(geometry.roll_deg)), math.sin(math.radians(geometry.roll_deg))
    cos_yaw = max(MIN_SQUASH, math.cos(math.radians(geometry.yaw_deg)))
    cos_pitch = max(MIN_SQUASH, math.cos(math.radians(geometry.pitch_deg)))
    along, down = layer.offset[0] * reference * cos_yaw, layer.offset[1] * reference * cos_pitch
    center_x = float(anchor[0]) + along * cos_roll - down * sin_roll
    center_y = float(anchor[1]) + along * sin_roll + down * cos_roll
    return Placement(
        center_xy=(center_x, center_y),
        width_px=layer.scale * reference,
        angle_deg=geometry.roll_deg if layer.rotate else 0.0,
        squash=cos_yaw,
    )


# A prop may lose at most this share of its size off the frame before it is pulled back in...
MAX_CUT_FRACTION = 1.0 / 3.0
# ...by moving at most this share of its size, and shrinking to no less than this.
MAX_EDGE_SHIFT = 0.35
MIN_EDGE_SCALE = 0.75


def fit_in_frame(center_xy: tuple[float, float], size_px: tuple[float, float],
                 frame_size: tuple[int, int]) -> tuple[tuple[float, float], float]:
    """Where to draw a prop that the frame edge would cut by more than a third, and how much
    smaller: (centre, scale). A hat on a close-up whose forehead touches the top edge slides
    down and shrinks a little, within limits (a prop never leaves its face); as the face
    moves back in, the prop follows it back, since nothing is remembered between frames.
    """
    width, height = size_px
    scale = 1.0
    center = [float(center_xy[0]), float(center_xy[1])]
    for axis, (extent, limit) in enumerate(((width, frame_size[0]), (height, frame_size[1]))):
        if extent <= 0:
            continue
        low, high = center[axis] - extent / 2, center[axis] + extent / 2
        cut = max(0.0, -low) + max(0.0, high - limit)
        allowed = MAX_CUT_FRACTION * extent
        if cut <= allowed:
            continue
        shift = min(cut - allowed, MAX_EDGE_SHIFT * extent)
        center[axis] += shift if low < 0 else -shift
        remaining = cut - allowed - shift
        if remaining > 0:
            scale = min(scale, max(MIN_EDGE_SCALE, 1.0 - 2.0 * remaining / extent))
    return (center[0], center[1]), scale


@dataclass(frozen=True)
class FilterPack:
    """A loaded, validated pack, ready to draw."""

    name: str
    description: str
    author: str
    licence: str
    source_folder: Path
    layers_by_label: dict[str, tuple[Layer, ...]]

    def prepare(self) -> FilterPack:
        """Decode every PNG of the pack now (raises PackError), so drawing never fails later."""
        for layers in self.layers_by_label.values():
            for layer in layers:
                layer.png.sprite()
        return self

    def layers_for(self, label: str) -> tuple[Layer, ...]:
        """The layers drawn for `label`: its own entry, else the `default` one, else none."""
        return self.layers_by_label.get(label, self.layers_by_label.get(DEFAULT_LABEL, ()))

    def render(self, canvas: np.ndarray, faces: list[FaceResult]) -> None:
        """Draw every face's layers onto `canvas` (RGB uint8, in place).

        While a face changes label, the previous label's layers pop out and the new
        label's layers pop in (`overlay.pop_frame`), never both at half opacity; a new face
        (no previous label) pops in from nothing.
        """
        for face in faces:
            if face.landmarks.ndim != 2 or face.landmarks.shape[0] != LANDMARK_COUNT or face.landmarks.shape[1] < 2:
                raise ValueError(
                    f"face {face.track_id}: landmarks must have shape ({LANDMARK_COUNT}, 3), got {face.landmarks.shape}"
                )
            geometry = face.geometry
            transition = min(max(float(face.transition), 0.0), 1.0)
            if transition < 1.0:
                pop = pop_frame(transition)
                if face.previous_label is not None and face.previous_label != face.label:
                    self._draw_label(canvas, face, geometry, face.previous_label, *pop.outgoing)
                self._draw_label(canvas, face, geometry, face.label, *pop.incoming)
            else:
                self._draw_label(canvas, face, geometry, face.label, 1.0, 1.0)

    def _draw_label(self, canvas: np.ndarray, face: FaceResult, geometry: FaceGeometry, label: str,
                    size: float, opacity: float) -> None:
        if opacity <= 0.0:
            return
        frame_size = (canvas.shape[1], canvas.shape[0])
        for layer in self.layers_for(label):
            placement = layer_placement(layer, face.landmarks, geometry)
            sprite = layer.sprite
            width = size * placement.width_px
            extent = _turned_extent(width * placement.squash, width * sprite.height / sprite.width, placement.angle_deg)
            center, fit = fit_in_frame(placement.center_xy, extent, frame_size)
            composite_sprite(canvas, sprite, center, fit * width, placement.angle_deg, opacity, squash=placement.squash)


def _turned_extent(width: float, height: float, angle_deg: float) -> tuple[float, float]:
    """Width and height of the upright box around a width x height sprite turned by angle_deg."""
    cos_angle, sin_angle = abs(math.cos(math.radians(angle_deg))), abs(math.sin(math.radians(angle_deg)))
    return cos_angle * width + sin_angle * height, sin_angle * width + cos_angle * height


def load_pack(folder: str | os.PathLike[str], labels: Sequence[str]) -> FilterPack:
    """Load and validate the pack in `folder` for a model with `labels`; raises PackError with a one-line message."""
    return _ManifestReader(Path(folder), tuple(labels)).read()


def default_user_packs_dir() -> Path:
    """`$XDG_CONFIG_HOME/arfilter/packs`, else `~/.config/arfilter/packs`."""
    config_home = os.environ.get("XDG_CONFIG_HOME")
    base = Path(config_home) if config_home else Path.home() / ".config"
    return base / "arfilter" / "packs"


def discover_packs(
    builtin_dir: str | os.PathLike[str],
    user_dirs: Iterable[str | os.PathLike[str]],
    labels: Sequence[str],
) -> tuple[list[FilterPack], list[str]]:
    """Load the built-in packs and the user's packs, validated against the emotion model's `labels`.

    Returns the packs (built-ins first in name order, then user packs; a user pack replaces a
    pack of the same name in place, see the module docstring for the precedence) and one line
    per pack that could not be loaded. A broken pack is skipped, so one bad user pack never
    keeps the others, or the built-ins, from loading. Each user folder may be a pack itself or
    a folder of packs. A user folder given explicitly that does not exist is an error; a missing
    default user folder is normal and ignored.
    """
    packs: dict[str, FilterPack] = {}
    errors: list[str] = []
    sources: list[tuple[Path, bool]] = [(Path(builtin_dir), True), (default_user_packs_dir(), False)]
    sources += [(Path(user_dir), True) for user_dir in user_dirs]
    for folder, must_exist in sources:
        try:
            if not folder.is_dir():
                if must_exist:
                    errors.append(f"{folder}: pack folder not found; give a folder holding {MANIFEST_NAME} or pack folders")
                continue
            pack_folders = _pack_folders(folder)
        except (OSError, ValueError) as error:
            errors.append(f"{folder}: cannot list the pack folder ({_os_reason(error)})")
            continue
        for pack_folder in pack_folders:
            try:
                pack = load_pack(pack_folder, labels)
            except PackError as error:
                errors.append(str(error))
                continue
            except Exception as error:  # one user pack must never stop the app, whatever goes wrong in it
                errors.append(f"{pack_folder}: cannot load the pack ({type(error).__name__}: {error})")
                continue
            packs[pack.name] = pack
    return list(packs.values()), errors


class PackSet:
    """The drawing half of the lens: the packs on offer, which one is current, and drawing it.

    The pipeline analyses frames; this draws the current pack on a result. Packs are decoded
    when first chosen; one whose images turn out undecodable is dropped (its reason added to
    `errors`) and the next one taken instead, so switching never fails.
    """

    def __init__(self, packs: Sequence[FilterPack], current: str, errors: Sequence[str] = ()) -> None:
        if not packs:
            raise PackError("no filter packs could be loaded; reinstall arfilter")
        self.available = list(packs)
        self.errors = list(errors)
        if current not in self.names:
            raise PackError(f"no filter pack named {current!r}; available: {', '.join(self.names)} (see --list-packs)")
        self._index = self.names.index(current)
        self.available[self._index].prepare()  # the chosen pack fails now, not at the first face

    @property
    def names(self) -> list[str]:
        return [pack.name for pack in self.available]

    @property
    def current(self) -> str:
        return self.available[self._index].name

    def next(self) -> str:
        """Switch to the next pack (wrapping around, skipping undecodable ones) and return its name."""
        current = self.available[self._index]
        while True:
            self._index = (self._index + 1) % len(self.available)
            candidate = self.available[self._index]
            if candidate is current:
                return self.current
            try:
                candidate.prepare()
                return self.current
            except PackError as error:
                self.errors.append(str(error))
                log.warning("skipped filter pack: %s", error)
                del self.available[self._index]
                self._index -= 1

    def select(self, name: str) -> None:
        """Switch to the pack called `name` (the web page picks packs by name, not in turn)."""
        if name not in self.names:
            raise PackError(f"no filter pack named {name!r}; available: {', '.join(self.names)}")
        self.available[self.names.index(name)].prepare()  # an undecodable pack is refused, not switched to
        self._index = self.names.index(name)

    def render(self, result: FrameResult) -> np.ndarray:
        """A copy of the frame with the current pack drawn on every face."""
        start = time.perf_counter()
        canvas = result.frame.image.copy()
        self.available[self._index].render(canvas, result.faces)
        result.timings_ms["overlay"] = (time.perf_counter() - start) * 1000
        return canvas


def _os_reason(error: Exception) -> str:
    """What went wrong, in the user's terms, for the file-system errors a pack can meet."""
    if isinstance(error, ValueError):
        return "a name holds a NUL character"
    if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:
        return "a file name is too long for the file system (at most 255 bytes)"
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def _pack_folders(folder: Path) -> list[Path]:
    """`folder` itself if it is a pack, else its visible subfolders (each must be a pack).

    A subfolder without a manifest is returned too, so that loading it reports the missing
    pack.toml instead of the pack silently not showing up.
    """
    if (folder / MANIFEST_NAME).is_file():
        return [folder]
    return sorted(child for child in folder.iterdir() if not child.name.startswith(".") and _is_dir(child))


def _is_dir(path: Path) -> bool:
    """`path.is_dir()`, counting an entry that cannot be examined as a folder, so that loading
    it reports the reason instead of the pack vanishing silently."""
    try:
        return path.is_dir()
    except OSError:
        return True


class _ManifestReader:
    """Validates one manifest, producing messages of the form '<file>: <field> must be ..., got ...'."""

    def __init__(self, folder: Path, labels: tuple[str, ...]) -> None:
        self.folder = folder
        self.labels = labels  # the emotion model's, which every pack must cover
        self.manifest_path = folder / MANIFEST_NAME
        self.images: dict[Path, PackImage] = {}
        self.layer_count = 0

    def fail(self, message: str) -> PackError:
        return PackError(f"{self.manifest_path}: {message}")

    def read(self) -> FilterPack:
        try:
            if not self.folder.is_dir():
                raise PackError(f"{self.folder}: pack folder not found")
            if not self.manifest_path.resolve().is_relative_to(self.folder.resolve()):
                raise self.fail(f"links outside the pack folder; the {MANIFEST_NAME} must be a file inside it")
            with open(self.manifest_path, "rb") as manifest_file:
                manifest = tomllib.load(manifest_file)
        except FileNotFoundError:
            raise PackError(f"{self.manifest_path}: manifest not found; a pack folder needs a {MANIFEST_NAME}") from None
        except (OSError, ValueError) as error:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
            if isinstance(error, tomllib.TOMLDecodeError):
                raise self.fail(f"invalid TOML ({error})") from None
            raise PackError(f"{self.manifest_path}: cannot read the manifest ({_os_reason(error)})") from None

        self.reject_unknown_keys(manifest, _PACK_KEYS, "the manifest")
        name = manifest.get("name")
        if not isinstance(name, str) or not _NAME_PATTERN.match(name):
            raise self.fail(f"name must be lowercase letters, digits, '-' or '_' (e.g. \"my-pack\"), got {name!r}")
        text_fields = {key: manifest.get(key, "") for key in ("description", "author", "licence")}
        for key, value in text_fields.items():
            if not isinstance(value, str):
                raise self.fail(f"{key} must be a string, got {value!r}")
        layers_by_label = self.read_emotions(manifest.get("emotions"))
        pixels = sum(image.pixels for image in self.images.values())
        if pixels > MAX_PACK_PIXELS:
            raise self.fail(f"its {len(self.images)} PNGs hold {pixels / 1e6:.1f} Mpx; a pack may hold at most "
                            f"{MAX_PACK_PIXELS / 1e6:g} Mpx, so use fewer or smaller images")
        return FilterPack(name=name, source_folder=self.folder, layers_by_label=layers_by_label, **text_fields)

    def read_emotions(self, emotions: Any) -> dict[str, tuple[Layer, ...]]:
        known_labels = (*self.labels, DEFAULT_LABEL)
        if not isinstance(emotions, dict) or not emotions:
            raise self.fail(f"emotions must be a table with an entry per label ({', '.join(known_labels)}), got {emotions!r}")
        self.reject_unknown_keys(emotions, known_labels, "emotions")
        if DEFAULT_LABEL not in emotions:
            missing = [label for label in self.labels if label not in emotions]
            if missing:
                raise self.fail(f"emotions has no entry for {', '.join(missing)} and no '{DEFAULT_LABEL}' entry; add them")
        layers_by_label = {}
        for label, entry in emotions.items():
            if not isinstance(entry, dict):
                raise self.fail(f"emotions.{label} must be a table with a 'layers' list, got {entry!r}")
            self.reject_unknown_keys(entry, ("layers",), f"emotions.{label}")
            layers = entry.get("layers")
            if not isinstance(layers, list) or not layers:
                raise self.fail(f"emotions.{label}.layers must be a non-empty list of layer tables, got {layers!r}")
            self.layer_count += len(layers)
            if self.layer_count > MAX_PACK_LAYERS:
                raise self.fail(f"has more than {MAX_PACK_LAYERS} layers in all; a pack may have at most {MAX_PACK_LAYERS}")
            layers_by_label[label] = tuple(self.read_layer(layer, index, label) for index, layer in enumerate(layers))
        return layers_by_label

    def read_layer(self, layer: Any, index: int, label: str) -> Layer:
        where = f"layers[{index}]"
        if not isinstance(layer, dict):
            raise self.fail(f"{where} for '{label}' must be a table, got {layer!r}")
        self.reject_unknown_keys(layer, _LAYER_KEYS, f"{where} for '{label}'")

        def bad(key: str, expected: str) -> PackError:
            if key not in layer:
                return self.fail(f"{where}.{key} for '{label}' is missing; it must be {expected}")
            return self.fail(f"{where}.{key} for '{label}' must be {expected}, got {layer[key]!r}")

        image = layer.get("image")
        if not isinstance(image, str) or not image:
            raise bad("image", "a PNG file name relative to the pack folder")
        anchor_indices = self.read_anchor(layer.get("anchor"), lambda expected: bad("anchor", expected))
        scale_ref = layer.get("scale_ref", "interocular")
        if scale_ref not in SCALE_REFERENCES:
            raise bad("scale_ref", " or ".join(f"'{reference}'" for reference in SCALE_REFERENCES))
        scale = layer.get("scale")
        if not isinstance(scale, (int, float)) or not _is_number(scale) or scale <= 0:
            raise bad("scale", "a positive number")
        offset = layer.get("offset", [0.0, 0.0])
        if not isinstance(offset, list) or len(offset) != 2 or not all(_is_number(value) for value in offset):
            raise bad("offset", "a list of two numbers [x, y]")
        rotate = layer.get("rotate", True)
        if not isinstance(rotate, bool):
            raise bad("rotate", "true or false")
        return Layer(
            image=image,
            anchor_indices=anchor_indices,
            scale_ref=scale_ref,
            scale=float(scale),
            offset=(float(offset[0]), float(offset[1])),
            rotate=rotate,
            png=self.check_image(image, f"{self.manifest_path}: {where}.image for '{label}'"),
        )

    @staticmethod
    def read_anchor(anchor: Any, bad: Any) -> tuple[int, ...]:
        if isinstance(anchor, str):
            if anchor not in NAMED_POINT_INDICES:
                raise bad(f"a named point ({', '.join(sorted(NAMED_POINT_INDICES))}) or a list of landmark indices")
            return NAMED_POINT_INDICES[anchor]
        if (
            isinstance(anchor, list)
            and anchor
            and all(isinstance(index, int) and not isinstance(index, bool) and 0 <= index < LANDMARK_COUNT for index in anchor)
        ):
            return tuple(anchor)
        raise bad(f"a named point or a non-empty list of landmark indices 0..{LANDMARK_COUNT - 1}")

    def check_image(self, image: str, label: str) -> PackImage:
        """Check `image` (inside the pack, a readable PNG within the size limit) without decoding it.

        Every file-system failure (permissions, a name the file system refuses) becomes a
        PackError naming the layer; nothing here may raise anything else.
        """
        def bad(problem: str) -> PackError:
            return PackError(f"{label}: {problem}")

        if "\0" in image:
            raise bad(f"{image!r} holds a NUL character; rename the file")
        as_posix = PurePosixPath(image.replace("\\", "/"))
        if as_posix.is_absolute() or PureWindowsPath(image).drive:
            raise bad(f"{image!r} is an absolute path; give a path relative to the pack folder")
        if ".." in as_posix.parts:
            raise bad(f"{image!r} leaves the pack folder; images must be inside it")
        if as_posix.suffix.lower() != ".png":
            raise bad(f"{image!r} is not a .png file")
        try:
            path = (self.folder / as_posix).resolve()
            if not path.is_relative_to(self.folder.resolve()):
                raise bad(f"{image!r} links outside the pack folder; images must be inside it")
            if path in self.images:
                return self.images[path]
            if not path.is_file():
                raise bad(f"missing PNG {self.folder / as_posix}")
            with Image.open(path) as opened:
                size = opened.size
                if max(size) > MAX_SPRITE_SIDE_PX:
                    raise bad(f"{image!r} is {size[0]}x{size[1]} px; at most {MAX_SPRITE_SIDE_PX} px a side")
                opened.verify()  # chunk checksums, without decoding pixels
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            reason = _os_reason(error) if isinstance(error, OSError) and error.errno else str(error)
            raise bad(f"cannot read PNG {self.folder / as_posix} ({reason})") from None
        self.images[path] = PackImage(path, label, size)
        return self.images[path]

    def reject_unknown_keys(self, table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in known:
                raise self.fail(f"unknown key {key!r} in {where}; known keys: {', '.join(known)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
