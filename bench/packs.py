"""Filter-pack timings: loading every built-in pack, drawing a 3-layer pack on 4 faces, and a
full-face mesh layer (face paint) on one face and on four at 1280x720.

    python3 bench/packs.py [--repeats 200]

Targets: loading < 100 ms, drawing < 2 ms per 640x480 frame; a full-face mesh layer <= 2.5 ms
per face at 1280x720 on a 2-core CPU without AVX-512. The faces are synthetic (eye centres
70 px apart, turned 0..30 degrees; MediaPipe's canonical face for the mesh layers) so the
numbers do not depend on the face models. The first line names the SIMD the libraries use; to
measure as on an AVX2 host on one with AVX-512, run with
NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" OPENCV_CPU_DISABLE="AVX512-SKX,AVX512-CLX,AVX512-CNL,AVX512-ICL".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arfilter.core.types import FaceResult
from arfilter.render.mesh import MeshStyle, draw_mesh_texture, face_mesh
from arfilter.render.packs import BUILTIN_PACKS_DIR, MeshLayer, discover_packs, load_pack
from arfilter.vision.geometry import NAMED_POINT_INDICES, FaceGeometry
from arfilter.vision.labels import EMOTION_LABELS

# Where the named points of a frontal face sit, in interocular distances from the eye centre.
FACE_POINTS = {
    "left_eye": (-0.5, 0.0), "right_eye": (0.5, 0.0), "between_eyes": (0.0, -0.07), "nose_bridge": (0.0, 0.05),
    "nose_tip": (0.0, 0.62), "forehead": (0.0, -0.55), "forehead_top": (0.0, -0.78), "chin": (0.0, 1.68),
    "mouth_center": (0.0, 0.93), "mouth_left": (-0.5, 0.9), "mouth_right": (0.5, 0.9), "left_cheek": (-1.07, 0.27),
    "right_cheek": (1.07, 0.27), "left_eyebrow": (-0.55, -0.3), "right_eyebrow": (0.55, -0.3),
}  # fmt: skip


def synthetic_face(center: tuple[float, float], interocular: float, roll_deg: float, label: str) -> FaceResult:
    points = np.tile(np.array(FACE_POINTS["nose_tip"]), (468, 1))
    for name, point in FACE_POINTS.items():
        points[list(NAMED_POINT_INDICES[name])] = point
    points[10], points[152], points[205], points[425] = (0.0, -0.78), (0.0, 1.68), (-0.69, 0.57), (0.69, 0.57)
    angle = np.radians(roll_deg)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = np.zeros((468, 3), np.float32)
    landmarks[:, :2] = points @ turn.T * interocular + np.array(center)
    return FaceResult(
        track_id=0,
        landmarks=landmarks,
        geometry=FaceGeometry.from_landmarks(landmarks),
        box=(0, 0, 1, 1),
        probabilities=np.zeros(len(EMOTION_LABELS)),
        labels=EMOTION_LABELS,
        label=label,
        confidence=1.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="frames to draw (default 200)")
    arguments = parser.parse_args()
    print(f"OpenCV {cv2.__version__} SIMD: {cv2.getCPUFeaturesLine()}; threads: {cv2.getNumThreads()}")

    load_times, decode_times = [], []
    for _ in range(5):
        start = time.perf_counter()
        packs, errors = discover_packs(BUILTIN_PACKS_DIR, [], EMOTION_LABELS)
        loaded = time.perf_counter()
        for pack in packs:
            pack.prepare()
        load_times.append((loaded - start) * 1000)
        decode_times.append((time.perf_counter() - loaded) * 1000)
    if errors:
        sys.exit("\n".join(errors))
    # Start-up pays the load of every pack and the decode of the chosen one; the others decode
    # when first chosen.
    print(f"load all built-in packs ({', '.join(pack.name for pack in packs)}): median {statistics.median(load_times):.1f} ms"
          f" (validated, PNG headers checked); decoding all their PNGs: median {statistics.median(decode_times):.1f} ms")

    # party/angry: horns on the forehead and a steam puff at each side of the head.
    pack = load_pack(BUILTIN_PACKS_DIR / "party", EMOTION_LABELS).prepare()
    label = "angry"
    faces = [
        synthetic_face((130.0, 150.0), 60.0, 0.0, label),
        synthetic_face((480.0, 150.0), 70.0, 15.0, label),
        synthetic_face((160.0, 360.0), 55.0, -20.0, label),
        synthetic_face((470.0, 350.0), 65.0, 30.0, label),
    ]
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    canvas = frame.copy()
    draw_times = []
    for _ in range(arguments.repeats):
        canvas[...] = frame
        start = time.perf_counter()
        pack.render(canvas, faces)
        draw_times.append((time.perf_counter() - start) * 1000)
    layers = len(pack.layers_for(label))
    print(
        f"draw {pack.name}/{label} ({layers} layers) on {len(faces)} faces at 640x480: "
        f"median {statistics.median(draw_times):.2f} ms, p90 {np.percentile(draw_times, 90):.2f} ms"
    )
    bench_mesh(arguments.repeats)


def timed(draw: Callable[[], None], canvas: np.ndarray, frame: np.ndarray, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        canvas[...] = frame
        start = time.perf_counter()
        draw()
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench_mesh(repeats: int) -> None:
    """facepaint/happy's full-face texture on a close face (face 300 px wide, 380 px tall) and on
    four faces of a group shot, turned up to 30 degrees, at 1280x720. On a machine shared with
    other work the best run is the closest to the uncontended cost."""
    pack = load_pack(BUILTIN_PACKS_DIR / "facepaint", EMOTION_LABELS).prepare()
    layer = pack.layers_for("happy")[0]
    assert isinstance(layer, MeshLayer)
    texture = layer.png.sprite()
    frame = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    canvas = frame.copy()
    close = face_mesh().posed(10.0, 5.0, 0.0, center_xy=(640.0, 360.0), interocular_px=110.0)
    box = np.ptp(close[:, :2], axis=0)
    for lit in (False, True):
        times = timed(partial(draw_mesh_texture, canvas, close, texture, MeshStyle(lit=lit)), canvas, frame, repeats)
        print(f"mesh layer ({'lit' if lit else 'unlit'}) on one {box[0]:.0f}x{box[1]:.0f} px face at 1280x720: "
              f"median {statistics.median(times):.2f} ms, p90 {np.percentile(times, 90):.2f} ms, best {min(times):.2f} ms")
    group = [face_mesh().posed(yaw, 0.0, roll, center_xy=center, interocular_px=70.0)
             for yaw, roll, center in ((0.0, 0.0, (250.0, 220.0)), (20.0, 10.0, (640.0, 200.0)),
                                       (-30.0, -8.0, (1030.0, 240.0)), (10.0, 5.0, (640.0, 520.0)))]
    results = [synthetic_mesh_face(landmarks, "happy") for landmarks in group]
    times = timed(lambda: pack.render(canvas, results), canvas, frame, repeats)
    print(f"draw {pack.name}/happy (one lit mesh layer) on {len(results)} faces at 1280x720: "
          f"median {statistics.median(times):.2f} ms, p90 {np.percentile(times, 90):.2f} ms, best {min(times):.2f} ms")


def synthetic_mesh_face(landmarks: np.ndarray, label: str) -> FaceResult:
    return FaceResult(track_id=0, landmarks=landmarks, geometry=FaceGeometry.from_landmarks(landmarks), box=(0, 0, 1, 1),
                      probabilities=np.zeros(len(EMOTION_LABELS)), labels=EMOTION_LABELS, label=label, confidence=1.0)


if __name__ == "__main__":
    main()
