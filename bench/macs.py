"""Multiply-accumulates of the lens's networks, per run and per face-frame: a cost that does not depend on the CPU.

    python3 -m bench.macs
    python3 -m bench.macs --classifications-per-face-frame 0.33 --detections-per-frame 0.0

Timings differ 5-25x between hosts with and without AVX-512 VNNI; the work the networks ask for
does not. Counted from each .tflite graph as LiteRT holds it before delegation (convolutions,
depthwise convolutions and fully connected layers; the element-wise rest is a few percent), then
combined with how often the lens runs each network: the landmark model once per face per frame,
the emotion model `classifications-per-face-frame` times (the schedule: `bench.pipeline` prints the
measured rate), the detector only while a face slot is free.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from arfilter.resources import FACE_MODELS_DIR, MODELS_DIR
from bench import describe_context, format_table, machine_context, write_json


def graph_macs(path: Path) -> int:
    """Multiply-accumulates of one run of the graph at its declared input size."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    shapes = {detail["index"]: tuple(int(size) for size in detail["shape"]) for detail in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():
        inputs, outputs = list(op["inputs"]), list(op["outputs"])
        if not outputs or outputs[0] not in shapes:
            continue
        output = int(np.prod(shapes[outputs[0]]))
        weights = shapes.get(inputs[1]) if len(inputs) > 1 else None
        if weights is None:
            continue
        if op["op_name"] == "CONV_2D":  # weights (out, kh, kw, in)
            total += output * weights[1] * weights[2] * weights[3]
        elif op["op_name"] == "DEPTHWISE_CONV_2D":  # weights (1, kh, kw, out)
            total += output * weights[1] * weights[2]
        elif op["op_name"] == "FULLY_CONNECTED":  # weights (out, in)
            total += output * weights[1]
    return total


def emotion_model() -> Path:
    metadata = json.loads((MODELS_DIR / "emotion.json").read_text())
    return MODELS_DIR / str(metadata["model_file"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classifications-per-face-frame", type=float, default=1 / 3,
                        help="emotion runs per face per frame (default 1/3: 10 Hz at 30 frames/s)")
    parser.add_argument("--detections-per-frame", type=float, default=0.0,
                        help="detector runs per frame (default 0: every face slot taken or faces steady)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the counts as JSON")
    arguments = parser.parse_args()
    models = {"face detector (short range)": FACE_MODELS_DIR / "face_detection_short_range.tflite",
              "face detector (full range)": FACE_MODELS_DIR / "face_detection_full_range.tflite",
              "face landmarks (468 points)": FACE_MODELS_DIR / "face_landmark.tflite",
              f"emotion ({emotion_model().name})": emotion_model()}
    macs = {name: graph_macs(path) for name, path in models.items()}
    landmark, emotion = macs["face landmarks (468 points)"], macs[f"emotion ({emotion_model().name})"]
    per_face_frame = landmark + arguments.classifications_per_face_frame * emotion
    context = machine_context()
    print(describe_context(context))
    print(format_table(("network", "M MACs per run"), [(name, f"{count / 1e6:.1f}") for name, count in macs.items()]))
    print(f"\nper face per frame: landmarks {landmark / 1e6:.1f} M + emotion {arguments.classifications_per_face_frame:.2f} x "
          f"{emotion / 1e6:.1f} M = {per_face_frame / 1e6:.1f} M MACs; detector {arguments.detections_per_frame:g} runs "
          "per frame on top")
    report: dict[str, Any] = {"bench": "macs", "machine": context, "macs_per_run": macs,
                              "classifications_per_face_frame": arguments.classifications_per_face_frame,
                              "macs_per_face_frame": per_face_frame}
    write_json(arguments.json, report)


if __name__ == "__main__":
    main()
