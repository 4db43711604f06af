"""Frames in and results out: `sources/` (cameras, streams, files, the demo), `sinks/` (video, images,
JSON Lines), and the output-file policy (`guard`: never overwrite an input; `safe_write`: whole files
or none; `paths`: folders and names; `recording`: the MP4 writer; `signals`: finishing outputs on a
signal). Imports core, vision and the ground modules; never render or apps.
"""
