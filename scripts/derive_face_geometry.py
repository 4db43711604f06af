"""Derive arfilter's compact face-mesh data from MediaPipe's canonical face model (run once; the
result is committed).

    python3 scripts/derive_face_geometry.py [--source ../shared/face-geometry]

Reads `canonical_face_model.obj` (468 vertices in landmark order, their UV coordinates, 898
triangles as `f vertex/uv` triples) and writes arfilter/assets/face_geometry/face_mesh.npz:

- `uv` (468, 2) float32: landmark i's texture coordinate, with (0, 0) the texture's top-left
  corner and v growing downwards as image rows do (the OBJ's v grows upwards). Taken through
  the `f` lines, since the OBJ numbers its UVs in an order of their own.
- `triangles` (898, 3) int16: landmark indices, wound clockwise on screen (y down) for a face
  that looks at the camera, so a triangle with anticlockwise screen winding faces away.
- `vertices` (468, 3) float32: the canonical face in centimetres in landmark axes (x to
  image-right, y down the face, z away from the camera), for the head's volume behind the mesh.

The licence and the NOTICE line travel with it (arfilter/assets/face_geometry/).
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = REPO_ROOT / "arfilter" / "assets" / "face_geometry"
LANDMARKS = 468


def parse_obj(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, uv per vertex, triangles) of the canonical face OBJ, in the OBJ's own axes."""
    vertices: list[list[float]] = []
    texcoords: list[list[float]] = []
    triangles: list[list[int]] = []
    uv_of_vertex: dict[int, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "v":
            vertices.append([float(value) for value in fields[1:4]])
        elif fields[0] == "vt":
            texcoords.append([float(value) for value in fields[1:3]])
        elif fields[0] == "f":
            corners = [tuple(int(part) - 1 for part in corner.split("/")[:2]) for corner in fields[1:]]
            if len(corners) != 3:
                raise SystemExit(f"expected triangles, got a face of {len(corners)} corners")
            for vertex, texcoord in corners:
                if uv_of_vertex.setdefault(vertex, texcoord) != texcoord:
                    raise SystemExit(f"vertex {vertex + 1} has two UV coordinates; the mesh must have no UV seams")
            triangles.append([vertex for vertex, _ in corners])
    if len(vertices) != LANDMARKS or len(uv_of_vertex) != LANDMARKS:
        raise SystemExit(f"expected {LANDMARKS} vertices, each with a UV, got {len(vertices)} and {len(uv_of_vertex)}")
    uv = np.array([texcoords[uv_of_vertex[vertex]] for vertex in range(LANDMARKS)])
    return np.array(vertices), uv, np.array(triangles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=REPO_ROOT.parent / "shared" / "face-geometry",
                        help="folder with canonical_face_model.obj and LICENSE")
    arguments = parser.parse_args()
    obj_path = arguments.source / "canonical_face_model.obj"
    if not obj_path.is_file():
        sys.exit(f"{obj_path}: not found; give --source, the folder of MediaPipe's face_geometry data")
    vertices, uv, triangles = parse_obj(obj_path.read_text())
    # Landmark axes: y down the face and z away from the camera (the OBJ has y up, z towards the viewer).
    vertices = vertices * np.array([1.0, -1.0, -1.0])
    uv = np.column_stack([uv[:, 0], 1.0 - uv[:, 1]])
    # Flipping y turns the OBJ's anticlockwise (front-facing) winding clockwise on screen.
    corners = vertices[triangles][:, :, :2]
    edges_a, edges_b = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    signed = edges_a[:, 0] * edges_b[:, 1] - edges_a[:, 1] * edges_b[:, 0]
    facing = signed > 0  # clockwise in y-down axes
    if facing.mean() < 0.5:
        triangles = triangles[:, ::-1]
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, uv=uv.astype(np.float32), triangles=triangles.astype(np.int16),
                        vertices=vertices.astype(np.float32))
    (OUTPUT_DIR / "face_mesh.npz").write_bytes(buffer.getvalue())
    shutil.copyfile(arguments.source / "LICENSE", OUTPUT_DIR / "LICENSE")
    print(f"wrote {OUTPUT_DIR / 'face_mesh.npz'}: {LANDMARKS} vertices, {len(triangles)} triangles "
          f"({int(facing.sum())} front-facing as read)")


if __name__ == "__main__":
    main()
