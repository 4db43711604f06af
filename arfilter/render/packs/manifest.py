"""Reading and validating a pack's `pack.toml` (the format is in arfilter.render.packs).

Everything is checked when the pack loads (manifest fields, every PNG's header and checksums, the
pack's budget), so a broken pack fails with one `PackError` line naming the file and the field,
before the first frame rather than in the middle of a video.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from PIL import Image

from arfilter.bounded import echo, read_bounded
from arfilter.checks import is_finite_number
from arfilter.core.expressions import EXPRESSIONS
from arfilter.errors import PackError, os_reason
from arfilter.render.mesh import BLEND_MODES, OPEN_REGIONS, MeshStyle
from arfilter.render.packs.layer import MAX_SPRITE_SIDE_PX, SCALE_REFERENCES, Layer, MeshLayer, PackImage, PackLayer
from arfilter.render.packs.pack import DEFAULT_LABEL, LANDMARK_COUNT, FilterPack
from arfilter.vision.geometry import NAMED_POINT_INDICES

MANIFEST_NAME = "pack.toml"
# Per-pack budget: the built-in packs use 8-16 layers and under 1 Mpx; these limits leave
# ample room for rich packs while bounding what one pack can cost (16 Mpx is ~85 MB of
# prepared sprites with their mip levels).
MAX_PACK_LAYERS = 64
MAX_MANIFEST_BYTES = 1024 * 1024
# A layer is placed in reference lengths (the distance between the eyes, or the face's width):
# the shipped packs use 0.3-3.2 and offsets under 1; far outside, a sprite would be larger than
# any frame or land off it, and 1e306 overflowed the drawing on the first face.
LAYER_SCALE_RANGE = (0.01, 20.0)
MAX_LAYER_OFFSET = 10.0
MAX_PACK_PIXELS = 16_000_000

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PACK_KEYS = ("name", "description", "author", "licence", "emotions")
LAYER_KINDS = ("sprite", "mesh")
_SPRITE_KEYS = ("image", "anchor", "scale_ref", "scale", "offset", "rotate", "behind_head", "kind", "when")
_MESH_KEYS = ("texture", "opacity", "blend", "open", "lit", "scroll", "envelope", "kind", "when")


def load_pack(folder: str | os.PathLike[str], labels: Sequence[str]) -> FilterPack:
    """Load and validate the pack in `folder` for a model with `labels`; raises PackError with a one-line message."""
    return ManifestReader(Path(folder), tuple(labels)).read()



class ManifestReader:
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
            if not self.manifest_path.exists():
                raise FileNotFoundError(self.manifest_path)
            # Bounded: a FIFO or a 2 GB file named pack.toml is one line, not a hang or a memory spike.
            manifest = tomllib.loads(read_bounded(self.manifest_path, "manifest", MAX_MANIFEST_BYTES, PackError,
                                                  "a pack manifest is a small TOML file").decode("utf-8"))
        except FileNotFoundError:
            raise PackError(f"{self.manifest_path}: manifest not found; a pack folder needs a {MANIFEST_NAME}") from None
        except (OSError, ValueError) as error:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
            if isinstance(error, tomllib.TOMLDecodeError):
                raise self.fail(f"invalid TOML ({error})") from None
            raise PackError(f"{self.manifest_path}: cannot read the manifest ({os_reason(error)})") from None

        self.reject_unknown_keys(manifest, _PACK_KEYS, "the manifest")
        name = manifest.get("name")
        if not isinstance(name, str) or not _NAME_PATTERN.match(name):
            raise self.fail(f"name must be lowercase letters, digits, '-' or '_' (e.g. \"my-pack\"), got {echo(name)}")
        text_fields = {key: manifest.get(key, "") for key in ("description", "author", "licence")}
        for key, value in text_fields.items():
            if not isinstance(value, str):
                raise self.fail(f"{key} must be a string, got {echo(value)}")
        layers_by_label = self.read_emotions(manifest.get("emotions"))
        pixels = sum(image.pixels for image in self.images.values())
        if pixels > MAX_PACK_PIXELS:
            raise self.fail(f"its {len(self.images)} PNGs hold {pixels / 1e6:.1f} Mpx; a pack may hold at most "
                            f"{MAX_PACK_PIXELS / 1e6:g} Mpx, so use fewer or smaller images")
        return FilterPack(name=name, source_folder=self.folder, layers_by_label=layers_by_label, **text_fields)

    def read_emotions(self, emotions: Any) -> dict[str, tuple[PackLayer, ...]]:
        known_labels = (*self.labels, DEFAULT_LABEL)
        if not isinstance(emotions, dict) or not emotions:
            raise self.fail(f"emotions must be a table with an entry per label ({', '.join(known_labels)}), got {echo(emotions)}")
        self.reject_unknown_keys(emotions, known_labels, "emotions")
        if DEFAULT_LABEL not in emotions:
            missing = [label for label in self.labels if label not in emotions]
            if missing:
                raise self.fail(f"emotions has no entry for {', '.join(missing)} and no '{DEFAULT_LABEL}' entry; add them")
        layers_by_label = {}
        for label, entry in emotions.items():
            if not isinstance(entry, dict):
                raise self.fail(f"emotions.{label} must be a table with a 'layers' list, got {echo(entry)}")
            self.reject_unknown_keys(entry, ("layers",), f"emotions.{label}")
            layers = entry.get("layers")
            if not isinstance(layers, list) or not layers:
                raise self.fail(f"emotions.{label}.layers must be a non-empty list of layer tables, got {echo(layers)}")
            self.layer_count += len(layers)
            if self.layer_count > MAX_PACK_LAYERS:
                raise self.fail(f"has more than {MAX_PACK_LAYERS} layers in all; a pack may have at most {MAX_PACK_LAYERS}")
            layers_by_label[label] = tuple(self.read_layer(layer, index, label) for index, layer in enumerate(layers))
        return layers_by_label

    def read_layer(self, layer: Any, index: int, label: str) -> PackLayer:
        where = f"layers[{index}]"
        if not isinstance(layer, dict):
            raise self.fail(f"{where} for '{label}' must be a table, got {echo(layer)}")

        def bad(key: str, expected: str) -> PackError:
            if key not in layer:
                return self.fail(f"{where}.{key} for '{label}' is missing; it must be {expected}")
            return self.fail(f"{where}.{key} for '{label}' must be {expected}, got {echo(layer[key])}")

        kind = layer.get("kind", "sprite")
        if kind not in LAYER_KINDS:
            raise bad("kind", " or ".join(f"'{known}'" for known in LAYER_KINDS))
        self.reject_unknown_keys(layer, _MESH_KEYS if kind == "mesh" else _SPRITE_KEYS, f"{where} for '{label}'")
        when = layer.get("when", [])
        when = [when] if isinstance(when, str) else when
        if not isinstance(when, list) or not all(isinstance(name, str) and name in EXPRESSIONS for name in when):
            raise bad("when", f"an expression or a list of them, all of which must show ({', '.join(EXPRESSIONS)})")
        if kind == "mesh":
            return self.read_mesh_layer(layer, where, label, bad, tuple(when))

        image = layer.get("image")
        if not isinstance(image, str) or not image:
            raise bad("image", "a PNG file name relative to the pack folder")
        anchor_indices = self.read_anchor(layer.get("anchor"), lambda expected: bad("anchor", expected))
        scale_ref = layer.get("scale_ref", "interocular")
        if scale_ref not in SCALE_REFERENCES:
            raise bad("scale_ref", " or ".join(f"'{reference}'" for reference in SCALE_REFERENCES))
        scale = layer.get("scale")
        low, high = LAYER_SCALE_RANGE
        if not isinstance(scale, (int, float)) or not is_finite_number(scale) or not low <= scale <= high:
            raise bad("scale", f"a number from {low:g} to {high:g} (reference lengths)")
        offset = layer.get("offset", [0.0, 0.0])
        if (not isinstance(offset, list) or len(offset) != 2
                or not all(is_finite_number(value) and abs(value) <= MAX_LAYER_OFFSET for value in offset)):
            raise bad("offset", f"a list of two numbers [x, y], each within +-{MAX_LAYER_OFFSET:g} reference lengths")
        rotate = layer.get("rotate", True)
        if not isinstance(rotate, bool):
            raise bad("rotate", "true or false")
        behind_head = layer.get("behind_head", False)
        if not isinstance(behind_head, bool):
            raise bad("behind_head", "true or false")
        return Layer(
            image=image,
            anchor_indices=anchor_indices,
            scale_ref=scale_ref,
            scale=float(scale),
            offset=(float(offset[0]), float(offset[1])),
            rotate=rotate,
            png=self.check_image(image, f"{self.manifest_path}: {where}.image for '{label}'"),
            behind_head=behind_head,
            when=tuple(when),
        )

    def read_mesh_layer(self, layer: dict[str, Any], where: str, label: str, bad: Any, when: tuple[str, ...]) -> MeshLayer:
        """A `kind = "mesh"` layer: a texture in the face mesh's UV space and how it is drawn."""
        texture = layer.get("texture")
        if not isinstance(texture, str) or not texture:
            raise bad("texture", "a square RGBA PNG painted on the UV template, relative to the pack folder")
        opacity = layer.get("opacity", 1.0)
        if not is_finite_number(opacity) or not 0.0 < opacity <= 1.0:
            raise bad("opacity", "a number above 0 and at most 1")
        blend = layer.get("blend", "normal")
        if blend not in BLEND_MODES:
            raise bad("blend", " or ".join(f"'{mode}'" for mode in BLEND_MODES))
        regions = layer.get("open", list(OPEN_REGIONS))
        if not isinstance(regions, list) or not all(isinstance(region, str) and region in OPEN_REGIONS for region in regions):
            raise bad("open", f"a list of the regions left open ({', '.join(OPEN_REGIONS)}), [] for none")
        lit = layer.get("lit", True)
        if not isinstance(lit, bool):
            raise bad("lit", "true or false")
        scroll = layer.get("scroll", [0.0, 0.0])
        if not isinstance(scroll, list) or len(scroll) != 2 or not all(is_finite_number(value) for value in scroll):
            raise bad("scroll", "a list of two numbers [u, v], in texture widths per second")
        envelope = layer.get("envelope")
        if envelope is not None and (not isinstance(envelope, str) or not envelope):
            raise bad("envelope", "a square RGBA PNG whose alpha bounds the scrolling texture, relative to the pack folder")
        style = MeshStyle(opacity=float(opacity), blend=blend, open_regions=tuple(dict.fromkeys(regions)), lit=lit,
                          scroll=(float(scroll[0]), float(scroll[1])))
        return MeshLayer(
            texture=texture,
            style=style,
            png=self.check_image(texture, f"{self.manifest_path}: {where}.texture for '{label}'", texture=True),
            envelope=None if envelope is None else self.check_image(
                envelope, f"{self.manifest_path}: {where}.envelope for '{label}'", texture=True),
            when=when,
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

    def check_image(self, image: str, label: str, texture: bool = False) -> PackImage:
        """Check `image` (inside the pack, a readable PNG within the size limit; for a mesh
        `texture`, square and RGBA) without decoding it.

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
                if texture and size[0] != size[1]:
                    raise bad(f"{image!r} is {size[0]}x{size[1]} px; a mesh texture must be square, "
                              "like the UV template (e.g. 1024x1024)")
                if texture and opened.mode != "RGBA":
                    raise bad(f"{image!r} is a {opened.mode} PNG; a mesh texture must be RGBA, transparent "
                              "where the face shows through")
                opened.verify()  # chunk checksums, without decoding pixels
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            reason = os_reason(error) if isinstance(error, OSError) and error.errno else str(error)
            raise bad(f"cannot read PNG {self.folder / as_posix} ({reason})") from None
        self.images[path] = PackImage(path, label, size)
        return self.images[path]

    def reject_unknown_keys(self, table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in known:
                raise self.fail(f"unknown key {echo(key)} in {where}; known keys: {', '.join(known)}")


