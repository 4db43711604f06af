"""Preview a filter pack on a head turning from one side to the other, without a camera.

    python3 scripts/preview_pack.py shades --label neutral --out shades_turn.png
    python3 scripts/preview_pack.py facepaint --packs-dir ~/my-packs --expressions mouth_open

The head is MediaPipe's canonical face mesh (arfilter's face_geometry data) turned to each yaw,
shaded by its own normals, in front of the skull's silhouette, and the pack is drawn on it by
the same renderer as the app's. For pack authors: does the paint stay on the face, do the eyes
show through, does a behind_head layer go behind the head as it turns?
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arfilter.core.expressions import EXPRESSIONS
from arfilter.core.types import FaceResult
from arfilter.errors import ArfilterError
from arfilter.render.mesh import OPEN_REGIONS, face_mesh, triangle_facing
from arfilter.render.occlusion import HeadSilhouette
from arfilter.render.packs import BUILTIN_PACKS_DIR, discover_packs
from arfilter.vision.geometry import FaceGeometry, landmark_box
from arfilter.vision.labels import EMOTION_LABELS

TILE = (360, 400)  # width, height
SKIN, HAIR, BACKGROUND = np.array([228, 184, 160]), (58, 40, 30), (70, 82, 100)
LIGHT = np.array([-0.35, -0.45, -0.82])  # from above, the left and the camera (z away from it)


def synthetic_head(yaw_deg: float, interocular_px: float = 70.0) -> tuple[np.ndarray, np.ndarray]:
    """A frame showing the canonical face turned by `yaw_deg`, and its (468, 3) landmarks."""
    mesh = face_mesh()
    landmarks = mesh.posed(yaw_deg, pitch_deg=5.0, center_xy=(TILE[0] / 2, TILE[1] / 2 + 20), interocular_px=interocular_px)
    frame = np.empty((TILE[1], TILE[0], 3), np.uint8)
    frame[:] = BACKGROUND
    outline = HeadSilhouette.from_landmarks(landmarks).silhouette()
    cv2.fillPoly(frame, [np.round(outline).astype(np.int32)], HAIR, cv2.LINE_AA)
    facing = triangle_facing(landmarks)
    order = np.argsort(-landmarks[mesh.triangles, 2].mean(axis=1))
    for index in order:
        if facing[index] <= 0:
            continue
        corners = landmarks[mesh.triangles[index]]
        normal = np.cross(corners[2] - corners[0], corners[1] - corners[0])  # towards the camera
        normal /= np.linalg.norm(normal) + 1e-9
        shade = 0.35 + 0.65 * max(float(np.dot(normal, LIGHT / np.linalg.norm(LIGHT))), 0.0)
        colour = tuple(int(value) for value in np.clip(SKIN * shade, 0, 255))
        cv2.fillConvexPoly(frame, np.round(corners[:, :2] * 16).astype(np.int32), colour, cv2.LINE_AA, 4)
    for indices in OPEN_REGIONS["eyes"]:
        eye = landmarks[list(indices), :2]
        cv2.fillPoly(frame, [np.round(eye * 16).astype(np.int32)], (240, 240, 235), cv2.LINE_AA, 4)
        centre = eye.mean(axis=0)
        cv2.circle(frame, (round(centre[0] * 16), round(centre[1] * 16)), round(0.09 * interocular_px * 16), (70, 45, 30), -1, cv2.LINE_AA, 4)
    mouth = landmarks[list(OPEN_REGIONS["mouth"][0]), :2]
    cv2.fillPoly(frame, [np.round(mouth * 16).astype(np.int32)], (120, 40, 50), cv2.LINE_AA, 4)
    return frame, landmarks


def face_result(landmarks: np.ndarray, label: str, expressions: frozenset[str]) -> FaceResult:
    probabilities = np.zeros(len(EMOTION_LABELS), np.float32)
    probabilities[EMOTION_LABELS.index(label)] = 1.0
    return FaceResult(track_id=0, landmarks=landmarks, geometry=FaceGeometry.from_landmarks(landmarks),
                      box=landmark_box(landmarks), probabilities=probabilities, labels=EMOTION_LABELS, label=label,
                      confidence=1.0, expressions=expressions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", help="the pack's name (built-in, or in --packs-dir)")
    parser.add_argument("--packs-dir", type=Path, action="append", default=[], help="a folder of packs, or a pack")
    parser.add_argument("--label", default="neutral", choices=EMOTION_LABELS, help="the emotion shown (default neutral)")
    parser.add_argument("--expressions", nargs="*", default=[], choices=EXPRESSIONS, help="expressions on")
    parser.add_argument("--yaws", type=float, nargs="+", default=[-60.0, -45.0, -20.0, 0.0, 20.0, 45.0, 60.0],
                        help="head turns, in degrees (nose to image-right positive)")
    parser.add_argument("--time", type=float, default=0.5, help="seconds into the animation (scrolling textures)")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    arguments = parser.parse_args()

    packs, errors = discover_packs(BUILTIN_PACKS_DIR, arguments.packs_dir, EMOTION_LABELS)
    for error in errors:
        print(f"preview_pack: {error}", file=sys.stderr)
    chosen = [pack for pack in packs if pack.name == arguments.pack]
    if not chosen:
        sys.exit(f"preview_pack: no pack named {arguments.pack!r}; available: {', '.join(pack.name for pack in packs)}")
    try:
        pack = chosen[0].prepare()
    except ArfilterError as error:
        sys.exit(f"preview_pack: {error}")
    tiles = []
    for yaw in arguments.yaws:
        frame, landmarks = synthetic_head(yaw)
        pack.render(frame, [face_result(landmarks, arguments.label, frozenset(arguments.expressions))], arguments.time)
        cv2.putText(frame, f"yaw {yaw:+.0f}", (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(frame)
    Image.fromarray(np.hstack(tiles)).save(arguments.out)
    print(f"{arguments.out}: {arguments.pack}/{arguments.label} at yaw {', '.join(f'{yaw:g}' for yaw in arguments.yaws)}")


if __name__ == "__main__":
    main()
