"""Filter-pack timings: loading every built-in pack, and drawing a 3-layer pack on 4 faces.

    python3 bench/packs.py [--repeats 200]

Targets: loading < 100 ms, drawing < 2 ms per 640x480 frame. The faces are synthetic (eye
centres 70 px apart, turned 0..30 degrees) so the numbers do not depend on the face models.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arfilter.core.types import FaceResult
from arfilter.render.packs import BUILTIN_PACKS_DIR, discover_packs, load_pack
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


if __name__ == "__main__":
    main()
