"""Time training steps of a network shape on one core: the CPU cost column of the ablation table.

    taskset -c 0 python training/step_time.py --depth 1.5
    taskset -c 0 python training/step_time.py --network-input-size 64

Takes `train.py`'s own flags, builds the model it would build, and times steps on a random batch
of the training batch size, so shapes can be compared on an idle machine even when their training
runs shared the CPU with other jobs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `arfilter` and `training` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np

from arfilter.vision.labels import EMOTION_LABELS
from arfilter.vision.preprocessing import INPUT_SIZE
from training.train import build_compiled_model, parse_args

WARMUP_STEPS = 5
TIMED_STEPS = 30
FER2013_TRAIN_FACES = 28_709


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, len(EMOTION_LABELS), args.batch_size)
    faces = rng.random((args.batch_size, INPUT_SIZE, INPUT_SIZE, 1), np.float32)
    targets = np.eye(len(EMOTION_LABELS), dtype=np.float32)[labels]
    steps_per_epoch = FER2013_TRAIN_FACES // args.batch_size
    model = build_compiled_model(args, steps_per_epoch, labels)
    for _ in range(WARMUP_STEPS):
        model.train_on_batch(faces, targets)
    start = time.perf_counter()
    for _ in range(TIMED_STEPS):
        model.train_on_batch(faces, targets)
    step = (time.perf_counter() - start) / TIMED_STEPS
    print(f"{model.count_params():,} parameters; {step * 1000:.0f} ms per step of {args.batch_size}; "
          f"{step * steps_per_epoch:.0f} s per epoch of the network alone (augmentation not included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
