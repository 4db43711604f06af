"""Overlay roll accuracy: the astronaut photo turned by known angles, roll measured by the pipeline.

    python3 -m bench.roll [--step 5] [--max-angle 30] [--json out.json]

The photo is rotated about the face (between the eyes) by -30..30 degrees with OpenCV, and each
copy goes through Pipeline.process as a still image. The roll the overlay is drawn with
(FaceResult.roll_deg) is compared with the truth: the roll measured on the unrotated photo
plus the rotation. Signs: our roll is positive clockwise on screen, while a positive
cv2.getRotationMatrix2D angle turns counter-clockwise, so a rotation by +a gives roll - a.
Target: every error within 3 degrees.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from arfilter.core.pipeline import Pipeline
from arfilter.core.types import Frame
from arfilter.vision.geometry import FaceGeometry
from bench import PHOTO, PHOTO_LANDMARKS, describe_context, format_table, machine_context, verdict, write_json

TARGET_MAX_ERROR_DEG = 3.0


def load_photo() -> tuple[np.ndarray, np.ndarray]:
    """The photo (RGB) and its saved reference landmarks."""
    image = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    if image is None or not PHOTO_LANDMARKS.is_file():
        raise SystemExit(f"bench.roll: {PHOTO} or {PHOTO_LANDMARKS} is missing; restore tests/data from git")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), np.load(PHOTO_LANDMARKS)


def rotate_about(image: np.ndarray, pivot: np.ndarray, counter_clockwise_deg: float) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), counter_clockwise_deg, 1.0)
    return cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def measured_rolls(pipeline: Pipeline, image: np.ndarray) -> list[float]:
    """roll_deg of every face the pipeline finds in `image` taken as a still."""
    result = pipeline.process(Frame(image=image, index=0, source="bench.roll", timestamp_s=0.0, is_still=True))
    return [face.roll_deg for face in result.faces]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-angle", type=int, default=30, help="largest rotation in degrees (default 30)")
    parser.add_argument("--step", type=int, default=5, help="degrees between rotations (default 5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the full report as JSON")
    arguments = parser.parse_args()
    if arguments.step < 1 or arguments.max_angle < 0:
        parser.error("--step must be at least 1 and --max-angle at least 0")

    photo, reference = load_photo()
    pivot = FaceGeometry.from_landmarks(reference).eye_center
    pipeline = Pipeline()
    base = measured_rolls(pipeline, photo)
    if len(base) != 1:
        raise SystemExit(f"bench.roll: expected one face in the unrotated photo, found {len(base)}")
    base_roll = base[0]

    rows, records = [], []
    for angle in range(-arguments.max_angle, arguments.max_angle + 1, arguments.step):
        truth = base_roll - angle
        rolls = measured_rolls(pipeline, rotate_about(photo, pivot, angle))
        measured = rolls[0] if len(rolls) == 1 else None
        error = measured - truth if measured is not None else None
        records.append({"rotation_ccw_deg": angle, "truth_deg": truth, "measured_deg": measured,
                        "error_deg": error, "faces": len(rolls)})
        rows.append((f"{angle:+d}", f"{truth:+.2f}", "-" if measured is None else f"{measured:+.2f}",
                     f"{len(rolls)} faces found" if error is None else f"{error:+.2f}"))
    errors = [abs(record["error_deg"]) for record in records if record["error_deg"] is not None]
    all_found = len(errors) == len(records)
    max_error = max(errors) if errors else float("nan")

    print(f"roll bench: {PHOTO.name} rotated about the eyes, roll of the unrotated photo {base_roll:+.2f} deg "
          f"(saved reference landmarks: {FaceGeometry.from_landmarks(reference).roll_deg:+.2f})")
    print(describe_context(machine_context()))
    print(format_table(("rotation ccw", "truth roll", "overlay roll", "error"), rows))
    print(f"max abs error {max_error:.2f} deg over {len(errors)}/{len(records)} rotations with one face; "
          f"target <= {TARGET_MAX_ERROR_DEG:g} deg: {verdict(all_found and max_error <= TARGET_MAX_ERROR_DEG)}")
    write_json(arguments.json, {
        "bench": "roll", "machine": machine_context(), "base_roll_deg": base_roll, "rotations": records,
        "max_abs_error_deg": max_error, "target_deg": TARGET_MAX_ERROR_DEG,
        "pass": all_found and max_error <= TARGET_MAX_ERROR_DEG,
    })


if __name__ == "__main__":
    main()
