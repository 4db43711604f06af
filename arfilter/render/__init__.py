"""Drawing a `FrameResult`: filter packs on the faces, the HUD beside them, composed in one place.

`packs/` (the pack format: layer, pack, manifest, catalogue), `overlay` (sprite compositing),
`hud` (bars, stats, toasts with pygame), `compose` (the one composer every front end and output uses).
Imports core, vision and the ground modules; never io or apps.
"""
