"""Measure how FER2013 frames its faces, so the app's aligned crops match the training data.

    python training/measure_framing.py --data ../shared/datasets/fer2013 --samples 400

Runs the app's face tracker over FER2013 images (upscaled, padded) and prints the median eye-line
height and inter-ocular distance as fractions of the 48x48 crop: the EYE_LINE_Y and
INTEROCULAR_FRACTION constants of arfilter/preprocessing.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from arfilter.core.tracking import FaceTracker
from arfilter.vision.geometry import FaceGeometry
from training.data import load_image_folder

UPSCALE = 4  # 48 -> 192 px, the landmark model's own input size
PADDING = 96  # room around the face so the detector sees a whole head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared/datasets/fer2013")
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args(argv)
    dataset = load_image_folder(args.data / "val")
    rng = np.random.default_rng(0)
    tracker = FaceTracker.create()
    eye_line, interocular, rolls = [], [], []
    for index in rng.choice(len(dataset), min(args.samples, len(dataset)), replace=False):
        big = cv2.resize(dataset.images[index], None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_REPLICATE)
        faces = tracker.update(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), is_still=True)
        if len(faces) != 1:
            continue
        geometry = FaceGeometry.from_landmarks(faces[0].landmarks)
        eye_line.append((geometry.eye_center[1] - PADDING) / UPSCALE / 48)
        interocular.append(geometry.interocular / UPSCALE / 48)
        rolls.append(geometry.roll_deg)
    print(f"faces measured: {len(eye_line)} of {args.samples}")
    print(f"EYE_LINE_Y = {np.median(eye_line):.3f}  (IQR {np.percentile(eye_line, 25):.3f}-{np.percentile(eye_line, 75):.3f})")
    print(f"INTEROCULAR_FRACTION = {np.median(interocular):.3f}  "
          f"(IQR {np.percentile(interocular, 25):.3f}-{np.percentile(interocular, 75):.3f})")
    print(f"roll: median |roll| {np.median(np.abs(rolls)):.1f} deg, 90th percentile {np.percentile(np.abs(rolls), 90):.1f} deg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
