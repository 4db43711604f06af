"""Where arfilter's own data files are: the emotion model, MediaPipe's face models, packs, demo art.

They are package data, found with importlib.resources, so an installed wheel finds them
wherever pip put it and a checkout finds them in the source tree. The returned paths are real
files because LiteRT and OpenCV open models and images by file name; pip always installs
wheels unpacked, so that holds for every supported installation (not for a zip import).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """The path of a file or folder shipped inside the arfilter package."""
    resource = files("arfilter")
    for part in parts:
        resource = resource.joinpath(part)
    return Path(str(resource))


MODELS_DIR = data_path("models")  # the emotion model, its metadata and model card
FACE_MODELS_DIR = data_path("models", "mediapipe")  # BlazeFace and the face mesh, with LICENSE and NOTICE
PACKS_DIR = data_path("assets", "packs")  # the built-in filter packs
DEMO_DIR = data_path("assets", "demo")  # imagery of the built-in demo source
HUD_FONT = data_path("assets", "fonts", "DejaVuSans.ttf")  # the HUD's font (licence beside it)
