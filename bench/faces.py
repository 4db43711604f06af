"""Micro-benchmark of the face stage on the astronaut photo (512x512, one face).

    python3 -m bench.faces [--threads 1] [--frames 200]    (from the repository root)

Prints median and 90th-percentile milliseconds for the detector, one landmark run and a
whole FaceTracker.update on a slowly panning 512x512 "video" made from the photo.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from arfilter.core.tracking import FaceTracker, TrackerOptions
from arfilter.vision.detector import DETECTOR_MODEL_FILES, FaceDetector, FaceDetectorOptions
from arfilter.vision.landmarker import FaceLandmarker, FaceLandmarkerOptions, region_from_detection
from bench import describe_context, machine_context, write_json

PHOTO = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "astronaut.png"


def time_calls(function, repeats: int, warmup: int = 5) -> tuple[float, float]:
    """Median and 90th-percentile wall time of `function(i)` in milliseconds."""
    for index in range(warmup):
        function(index)
    samples = []
    for index in range(repeats):
        start = time.perf_counter()
        function(index)
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples), statistics.quantiles(samples, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="LiteRT threads per model")
    parser.add_argument("--frames", type=int, default=200, help="timed calls per measurement")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the timings as JSON")
    arguments = parser.parse_args()

    image = np.asarray(Image.open(PHOTO).convert("RGB"))
    # A small pan, so the tracker sees a moving face as it would in a video.
    shifts = [cv2.warpAffine(image, np.array([[1, 0, 8 * np.sin(i / 10)], [0, 1, 4 * np.cos(i / 7)]], np.float32), (512, 512))
              for i in range(60)]

    results = {}
    for model in DETECTOR_MODEL_FILES:
        detector = FaceDetector.create(FaceDetectorOptions(model=model, num_threads=arguments.threads))
        results[f"detector {model}"] = time_calls(lambda i, detector=detector: detector.infer(image), arguments.frames)
    detector = FaceDetector.create(FaceDetectorOptions(num_threads=arguments.threads))
    landmarker = FaceLandmarker.create(FaceLandmarkerOptions(num_threads=arguments.threads))
    region = region_from_detection(detector.infer(image)[0])
    results["landmarks (one face)"] = time_calls(lambda i: landmarker.infer(image, region), arguments.frames)
    tracker = FaceTracker(detector, landmarker, TrackerOptions())
    results["tracker update (one face)"] = time_calls(lambda i: tracker.update(shifts[i % len(shifts)]), arguments.frames)

    context = machine_context()
    print(describe_context(context))
    print(f"threads={arguments.threads}, {arguments.frames} calls each")
    for name, (median, p90) in results.items():
        print(f"  {name:28s} median {median:6.2f} ms   p90 {p90:6.2f} ms")
    write_json(arguments.json, {"bench": "faces", "machine": context, "threads": arguments.threads,
                                "ms": {name: {"median": median, "p90": p90} for name, (median, p90) in results.items()}})


if __name__ == "__main__":
    main()
