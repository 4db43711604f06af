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

Modules: `layer` (one sprite and its placement), `pack` (a validated pack, drawing), `manifest`
(reading and validating pack.toml), `catalogue` (discovery and the current pack). The names
below are the wing's public interface.
"""

from arfilter.render.packs.catalogue import (
    BUILTIN_PACKS_DIR,
    DEFAULT_PACK,
    PackSet,
    default_user_packs_dir,
    discover_packs,
)
from arfilter.render.packs.layer import Layer, MeshLayer, PackImage, PackLayer, Placement, fit_in_frame, layer_placement
from arfilter.render.packs.manifest import MANIFEST_NAME, MAX_PACK_LAYERS, MAX_PACK_PIXELS, load_pack
from arfilter.render.packs.pack import DEFAULT_LABEL, FilterPack

__all__ = [
    "BUILTIN_PACKS_DIR", "DEFAULT_LABEL", "DEFAULT_PACK", "MANIFEST_NAME", "MAX_PACK_LAYERS", "MAX_PACK_PIXELS",
    "FilterPack", "Layer", "MeshLayer", "PackImage", "PackLayer", "PackSet", "Placement", "default_user_packs_dir", "discover_packs",
    "fit_in_frame", "layer_placement", "load_pack",
]
