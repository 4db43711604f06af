"""The analysis, one way and without drawing or files: frames in, `FrameResult`s out.

`types` (the frozen records that flow downstream), `tracking` (faces followed across frames),
`smoothing` (steady labels and landmarks per track), `pipeline` (one frame through all stages).
Imports vision and the ground modules only.
"""
