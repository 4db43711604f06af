"""The networks and the face vocabulary: one small class per model, each owning its contract.

`detector` (BlazeFace), `landmarker` (the 468-point face mesh), `emotion` (our emotion model and its
metadata schema), `litert` (loading .tflite files), `preprocessing` (face crop to model input),
`geometry` (named face points, head pose from the mesh), `labels`. Imports only the ground modules.
Add a model: one file here with an options dataclass and a `close()`-able wrapper class.
"""
