"""The PyPI `fer` package's pipeline on a clip: the peer `bench.peers` compares arfilter against.

    .venv-fer/bin/python bench/fer_reference.py CLIP.mp4 OUT.jsonl

Runs in fer's own environment (fer 22.5.1 with TensorFlow and moviepy < 2: see bench/README.md),
importing nothing of arfilter: decode every frame with OpenCV, `FER().detect_emotions` on it (fer's
default OpenCV face detector and its mini-Xception), one JSON line per frame. `bench.peers` times the
whole process, start-up included, as a user running it would wait for it.
"""

from __future__ import annotations

import json
import sys

import cv2
from fer import FER


def main() -> None:
    clip, out = sys.argv[1], sys.argv[2]
    detector = FER()
    capture = cv2.VideoCapture(clip)
    with open(out, "w") as lines:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            faces = detector.detect_emotions(frame)
            lines.write(json.dumps({"frame": index, "faces": [{"box": [int(v) for v in face["box"]],
                                                               "probs": {k: float(v) for k, v in face["emotions"].items()}}
                                                              for face in faces]}) + "\n")
            index += 1
    print(json.dumps({"frames": index}))


if __name__ == "__main__":
    main()
