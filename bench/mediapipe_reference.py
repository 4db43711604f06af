"""MediaPipe's own face-mesh graph on a clip: the reference `bench.pipeline --mediapipe` compares against.

    .venv-mediapipe/bin/python bench/mediapipe_reference.py CLIP.mp4 --frames 300 --warmup 10 --max-faces 1

Runs in MediaPipe's own environment (scripts/setup_bench_mediapipe.sh makes it: MediaPipe 0.10.21
pins NumPy < 2), so it imports nothing of arfilter. It times what a user of MediaPipe's legacy
`solutions.face_mesh` gets: decode each frame with OpenCV, convert to RGB, run the graph (BlazeFace
and the same 468-point model arfilter carries, with MediaPipe's C++ pre/post-processing and
tracking), and prints one JSON line: frames/s after the warm-up, and faces found per frame.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import mediapipe as mp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-faces", type=int, default=1)
    args = parser.parse_args()
    capture = cv2.VideoCapture(args.clip)
    faces_seen, timed, start = 0, 0, None
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=args.max_faces,
                                         refine_landmarks=False) as mesh:
        for index in range(args.warmup + args.frames):
            if index == args.warmup:
                start = time.perf_counter()
            ok, frame = capture.read()
            if not ok:
                break
            result = mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            if index >= args.warmup:
                timed += 1
                faces_seen += len(result.multi_face_landmarks or [])
    elapsed = time.perf_counter() - start if start is not None else 0.0
    print(json.dumps({"frames_timed": timed, "fps": timed / elapsed if elapsed > 0 else float("nan"),
                      "faces_per_frame": faces_seen / timed if timed else 0.0,
                      "mediapipe": mp.__version__}))


if __name__ == "__main__":
    main()
