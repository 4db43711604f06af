"""Emotion model latency through LiteRT: one face, and per face in a batch of four.

    python3 -m bench.emotion [--repeats 1000] [--threads 1] [--metadata arfilter/models/emotion.json] [--json out.json]

Times arfilter.vision.emotion.EmotionNetwork.infer (set input, invoke, read output) on a real aligned
face (the astronaut photo through align_face_crop + preprocess_faces), for the model the
metadata ships (`model_file`) and for the float model (emotion.tflite) when it is present.
Also times the pipeline's whole emotion stage for one face: alignment, preprocessing, the
network and the temperature-calibrated softmax. Target: the whole stage <= 1.0 ms for one face.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from arfilter.errors import ModelError
from arfilter.vision.emotion import (
    DEFAULT_METADATA_PATH,
    EmotionClassifier,
    EmotionMetadata,
    EmotionNetwork,
    EmotionOptions,
)
from arfilter.vision.geometry import FaceGeometry
from arfilter.vision.preprocessing import align_face_crop, preprocess_faces
from bench import PHOTO, PHOTO_LANDMARKS, Stats, describe_context, format_table, machine_context, verdict, write_json

TARGET_MS_PER_FACE = 1.0
FLOAT_MODEL_FILE = "emotion.tflite"
BATCH = 4


def time_ms(function: Callable[[], object], repeats: int, warmup: int) -> Stats:
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000.0)
    return Stats.of(samples)


def photo_and_eyes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    if image is None or not PHOTO_LANDMARKS.is_file():
        raise SystemExit(f"bench.emotion: {PHOTO} or {PHOTO_LANDMARKS} is missing; restore tests/data from git")
    geometry = FaceGeometry.from_landmarks(np.load(PHOTO_LANDMARKS))
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), geometry.left_eye, geometry.right_eye


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata", type=Path, default=DEFAULT_METADATA_PATH, help="emotion model metadata (default arfilter/models/emotion.json)")
    parser.add_argument("--threads", type=int, default=1, help="LiteRT threads (default 1, what the app uses)")
    parser.add_argument("--repeats", type=int, default=1000, help="timed calls per measurement (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls first (default 50)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the full report as JSON")
    arguments = parser.parse_args()
    if arguments.repeats < 1 or arguments.warmup < 0 or arguments.threads < 1:
        parser.error("--repeats and --threads must be at least 1, --warmup at least 0")

    photo, left_eye, right_eye = photo_and_eyes()
    face = preprocess_faces([align_face_crop(photo, left_eye, right_eye)])
    # Four slightly different faces (brightness), so the batch is not four identical inputs.
    batch = np.concatenate([np.clip(face * gain, 0.0, 1.0) for gain in (1.0, 0.9, 1.1, 0.8)])
    try:
        shipped = EmotionMetadata.load(arguments.metadata).model_file
    except ModelError as error:
        parser.exit(1, f"bench.emotion: {error}\n")
    models = [("shipped", shipped)] + ([("float", FLOAT_MODEL_FILE)] if shipped != FLOAT_MODEL_FILE else [])

    rows, records, skipped = [], [], []
    for role, file_name in models:
        path = arguments.metadata.parent / file_name
        if not path.is_file():
            skipped.append(f"{role} model {path} not found, skipped")
            continue
        single_network = EmotionNetwork(path, arguments.threads)
        batch_network = EmotionNetwork(path, arguments.threads)
        single = time_ms(functools.partial(single_network.infer, face), arguments.repeats, arguments.warmup)
        batched = time_ms(functools.partial(batch_network.infer, batch), arguments.repeats, arguments.warmup)
        per_face = Stats(batched.median / BATCH, batched.p95 / BATCH, batched.count)
        records.append({"role": role, "model_file": file_name, "size_kb": round(path.stat().st_size / 1024),
                        "single_ms": single.as_dict(), f"batch{BATCH}_ms": batched.as_dict(),
                        f"batch{BATCH}_per_face_ms": per_face.as_dict()})
        for what, stats in (("1 face", single), (f"batch of {BATCH}, per face", per_face)):
            rows.append((f"{role} ({file_name})", what, f"{stats.median:.3f}", f"{stats.p95:.3f}", ""))

    classifier = EmotionClassifier(EmotionOptions(metadata_path=arguments.metadata, num_threads=arguments.threads))
    landmarks = [np.load(PHOTO_LANDMARKS)]
    stage = time_ms(lambda: classifier.infer(photo, landmarks), arguments.repeats, arguments.warmup)
    rows.append(("pipeline emotion stage", "1 face: align+preprocess+infer+softmax", f"{stage.median:.3f}", f"{stage.p95:.3f}",
                 verdict(stage.median <= TARGET_MS_PER_FACE)))

    print(f"emotion bench: {arguments.threads} thread(s), {arguments.repeats} calls each after {arguments.warmup} warm-up, "
          f"input: the astronaut face aligned to 48x48")
    print(describe_context(machine_context()))
    print(format_table(("model", "input", "median ms", "p95 ms", f"stage <= {TARGET_MS_PER_FACE:g} ms"), rows))
    for line in skipped:
        print(line)
    tensorflow = "tensorflow" in sys.modules
    print(f"tensorflow imported: {tensorflow} ({verdict(not tensorflow)})")
    write_json(arguments.json, {
        "bench": "emotion", "machine": machine_context(), "threads": arguments.threads, "models": records,
        "skipped": skipped, "pipeline_stage_one_face_ms": stage.as_dict(), "tensorflow_imported": tensorflow,
        "target_ms_per_face": TARGET_MS_PER_FACE,
    })


if __name__ == "__main__":
    main()
