"""End-to-end benchmark of the headless lens: decode, faces, emotion, smoothing, overlay, JSON.

    python3 -m bench.pipeline                       # makes a 10 s 512x512 one-face clip first
    python3 -m bench.pipeline --mediapipe           # ... and runs MediaPipe's face mesh on it too
    python3 -m bench.pipeline --source demo         # two faces at 640x480
    python3 -m bench.pipeline --source four-faces   # four faces at 1280x720 (full-range detector)
    python3 -m bench.pipeline --source clip.mp4 [--frames 300] [--pack emoji] [--json out.json]

Every frame goes through source.read() + Lens.process + Lens.render + one JSON Lines record, as in
`arfilter --headless --json` (the annotated images are not encoded). Prints the host's instruction
set, per-stage median and p95 milliseconds, end-to-end frames/s, emotion network runs per face
per frame, peak RSS, and the start-up time to the first processed frame measured in a fresh
interpreter. With --mediapipe, MediaPipe's own face-mesh graph (the same two face models, nothing
else) runs on the same clip in the same run (bench/mediapipe_reference.py, in its own environment
made by scripts/setup_bench_mediapipe.sh), and the lens's speed is given as a share of it.
Targets: >= 0.8x MediaPipe's face mesh with one face; >= 60 frames/s with the demo's two faces;
>= 40 frames/s with four faces at 1280x720 (on a 2-core host without AVX-512); start-up <= 2 s;
peak RSS <= 350 MB; TensorFlow never imported.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from arfilter.apps.lens import Lens, LensOptions, build_lens
from arfilter.core.pipeline import EmotionModel, PipelineOptions
from arfilter.core.schedule import EmotionScheduleOptions
from arfilter.core.tracking import TrackerOptions
from arfilter.errors import ArfilterError
from arfilter.io.sinks.jsonl import JsonLinesSink
from arfilter.io.sources import open_source
from arfilter.render.packs import DEFAULT_PACK
from arfilter.vision.detector import DetectorModel, FaceDetectorOptions
from bench import REPO_ROOT, Stats, describe_context, format_table, machine_context, verdict, write_json

STAGES = ("decode", "faces", "emotion", "smoothing", "overlay", "json")  # decode: source.read() (demo: rendering)
ONE_FACE_TARGET_FPS = 100.0
TWO_FACE_TARGET_FPS = 60.0
FOUR_FACE_TARGET_FPS = 40.0
MEDIAPIPE_SHARE_TARGET = 0.8
MEDIAPIPE_PYTHON = REPO_ROOT / ".venv-mediapipe" / "bin" / "python"
STARTUP_TARGET_S = 2.0
RSS_TARGET_MB = 350.0

# Runs in a fresh interpreter: what `python main.py --headless` does up to its first frame.
# Prints wall-clock marks (time.time(), comparable with the parent's) as one JSON line.
STARTUP_PROBE = """
import json, resource, sys, time
marks = {"interpreter_ready": time.time()}
from arfilter.io.sources import open_source
from arfilter.apps.lens import LensOptions, build_lens
marks["imported"] = time.time()
lens = build_lens(LensOptions(pack=sys.argv[2]))
marks["models_loaded"] = time.time()
with open_source(sys.argv[1]) as source:
    result = lens.process(source.read())
    lens.render(result)
marks["first_frame"] = time.time()
print(json.dumps({"marks": marks, "faces": len(result.faces), "tensorflow_imported": "tensorflow" in sys.modules,
                  "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def peak_rss_mb(max_rss: int) -> float:
    """ru_maxrss is kilobytes on Linux and bytes on macOS."""
    return max_rss / (1024.0 * 1024.0) if sys.platform == "darwin" else max_rss / 1024.0


def measure_startup(source_spec: str, pack: str) -> dict[str, Any]:
    """Seconds from spawning a fresh interpreter to its first processed and rendered frame."""
    spawned = time.time()
    completed = subprocess.run([sys.executable, "-c", STARTUP_PROBE, source_spec, pack], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"start-up probe failed: {completed.stderr.strip().splitlines()[-1:]}")
    probe = json.loads(completed.stdout.strip().splitlines()[-1])
    marks = probe["marks"]
    return {
        "to_first_frame_s": marks["first_frame"] - spawned,
        "interpreter_s": marks["interpreter_ready"] - spawned,
        "imports_s": marks["imported"] - marks["interpreter_ready"],
        "model_and_pack_load_s": marks["models_loaded"] - marks["imported"],
        "first_frame_s": marks["first_frame"] - marks["models_loaded"],
        "faces_in_first_frame": probe["faces"],
        "rss_at_first_frame_mb": peak_rss_mb(probe["max_rss_kb"]),
        "tensorflow_imported": probe["tensorflow_imported"],
    }


class CountingModel:
    """The lens's emotion model, counting the faces it is asked to classify (network runs per face)."""

    def __init__(self, model: EmotionModel) -> None:
        self.model = model
        self.labels = model.labels
        self.faces = 0

    def infer(self, image_rgb: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray:
        self.faces += len(landmarks)
        return self.model.infer(image_rgb, landmarks)

    def close(self) -> None:
        self.model.close()


def run_frames(lens: Lens, source_spec: str, frames: int, warmup: int,
               snapshot: Path | None, json_path: Path) -> dict[str, Any]:
    """Time `warmup` + `frames` frames (fewer if the video ends); the warm-up ones are not counted."""
    samples: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "total")}
    face_counts: list[int] = []
    last_image = None
    counter = CountingModel(lens.pipeline.classifier)
    lens.pipeline.classifier = counter
    classified_before_timing = 0
    sink = JsonLinesSink(json_path)
    with open_source(source_spec) as source:
        size = None
        timed_start = None
        for index in range(warmup + frames):
            if index == warmup:
                timed_start = time.perf_counter()
                classified_before_timing = counter.faces
            start = time.perf_counter()
            frame = source.read()
            decoded = time.perf_counter()
            if frame is None:
                break
            result = lens.process(frame)
            analysed = time.perf_counter()
            last_image = lens.render(result)
            rendered = time.perf_counter()
            sink.write(result, None)
            end = time.perf_counter()
            size = frame.image.shape[1::-1]
            if index < warmup:
                continue
            samples["decode"].append((decoded - start) * 1000.0)
            for stage in ("faces", "emotion", "smoothing"):
                samples[stage].append(result.timings_ms[stage])
            samples["overlay"].append((rendered - analysed) * 1000.0)
            samples["json"].append((end - rendered) * 1000.0)
            samples["total"].append((end - start) * 1000.0)
            face_counts.append(len(result.faces))
        elapsed = time.perf_counter() - timed_start if timed_start is not None else 0.0
        source_fps = source.fps
    sink.close()
    if not face_counts:
        raise ValueError(f"{source_spec} ended within the {warmup} warm-up frames; pass a longer video or --warmup 0")
    if snapshot is not None and last_image is not None:
        import cv2

        snapshot.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(snapshot), cv2.cvtColor(last_image, cv2.COLOR_RGB2BGR))
    counts, occurrences = np.unique(face_counts, return_counts=True)
    if size is None:
        raise SystemExit(f"bench.pipeline: {source_spec} gave no frame")
    return {
        "frame_size": list(size),
        "source_fps": source_fps,
        "frames_timed": len(face_counts),
        "stages_ms": {stage: Stats.of(values).as_dict() for stage, values in samples.items()},
        "end_to_end_fps": len(face_counts) / elapsed if elapsed > 0 else float("nan"),
        "faces_per_frame": {str(int(count)): int(number) for count, number in zip(counts, occurrences)},
        # One network per face per classification (the shipped graph's own runs: see bench.emotion).
        "classifications_per_face_frame": (counter.faces - classified_before_timing) / max(1, sum(face_counts)),
        "peak_rss_mb": peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "tensorflow_imported": "tensorflow" in sys.modules,
    }


def make_clip(folder: Path, seconds: float, faces: int = 1) -> Path:
    """The 512x512 one-face clip (or the 1280x720 four-face one), written by bench.make_clip in its
    own process so that its memory does not count towards this process's peak RSS."""
    path = folder / f"faces{faces}.mp4"
    subprocess.run([sys.executable, "-m", "bench.make_clip", "--out", str(path), "--seconds", f"{seconds:g}",
                    "--faces", str(faces)], cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    return path


def run_mediapipe(python: Path, clip: str, frames: int, warmup: int, max_faces: int) -> dict[str, Any]:
    """MediaPipe's face-mesh graph on the same clip, in its own environment (bench/mediapipe_reference.py)."""
    if not python.is_file():
        raise RuntimeError(f"{python} not found: run `bash scripts/setup_bench_mediapipe.sh` first "
                           "(MediaPipe is a benchmark-only dependency with its own environment)")
    completed = subprocess.run([str(python), str(REPO_ROOT / "bench" / "mediapipe_reference.py"), clip, "--frames",
                                str(frames), "--warmup", str(warmup), "--max-faces", str(max_faces)],
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the MediaPipe reference failed: {completed.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def print_report(report: dict[str, Any]) -> None:
    run = report["run"]
    startup = report["startup"]
    width, height = run["frame_size"]
    print(f"pipeline bench: {report['source']} ({width}x{height}), pack {report['pack']}, "
          f"{run['frames_timed']} frames timed after {report['warmup']} warm-up")
    print(describe_context(report["machine"]))
    faces = ", ".join(f"{count} in {number}" for count, number in run["faces_per_frame"].items())
    print(f"faces per frame: {faces} of {run['frames_timed']} frames")
    names = {"decode": "decode (demo: rendering)"} if report["source"] == "demo" else {}
    rows = [(names.get(stage, stage), f"{stats['median']:.2f}", f"{stats['p95']:.2f}")
            for stage, stats in run["stages_ms"].items()]
    print(format_table(("stage", "median ms", "p95 ms"), rows))
    print()
    faces = report["faces"]
    target_fps = {1: ONE_FACE_TARGET_FPS, 2: TWO_FACE_TARGET_FPS}.get(faces, FOUR_FACE_TARGET_FPS)
    case = "one face" if faces == 1 else f"{faces} faces"
    results = [
        (f"end-to-end frames/s ({case})", f"{run['end_to_end_fps']:.1f}", f">= {target_fps:g} (AVX2 host)",
         verdict(run["end_to_end_fps"] >= target_fps)),
        ("emotion network runs per face per frame", f"{run['classifications_per_face_frame']:.2f}", "", ""),
        ("start-up to first frame", f"{startup['to_first_frame_s']:.2f} s", f"<= {STARTUP_TARGET_S:g} s",
         verdict(startup["to_first_frame_s"] <= STARTUP_TARGET_S)),
        ("peak RSS", f"{run['peak_rss_mb']:.0f} MB", f"<= {RSS_TARGET_MB:g} MB", verdict(run["peak_rss_mb"] <= RSS_TARGET_MB)),
        ("tensorflow imported (run/start-up)", f"{run['tensorflow_imported']}/{startup['tensorflow_imported']}", "False",
         verdict(not run["tensorflow_imported"] and not startup["tensorflow_imported"])),
    ]
    mediapipe = report.get("mediapipe")
    if mediapipe is not None:
        share = run["end_to_end_fps"] / mediapipe["fps"]
        results.append((f"MediaPipe {mediapipe['mediapipe']} face mesh alone, same clip", f"{mediapipe['fps']:.1f} frames/s",
                        "", ""))
        results.append(("lens / MediaPipe face mesh", f"{share:.2f}x", f">= {MEDIAPIPE_SHARE_TARGET:g}x",
                        verdict(share >= MEDIAPIPE_SHARE_TARGET)))
    print(format_table(("result", "value", "target", ""), results))
    print(f"start-up: interpreter {startup['interpreter_s']:.2f} s + imports {startup['imports_s']:.2f} s + models/packs "
          f"{startup['model_and_pack_load_s']:.2f} s + first frame {startup['first_frame_s']:.2f} s; "
          f"RSS then {startup['rss_at_first_frame_mb']:.0f} MB, {startup['faces_in_first_frame']} face(s) found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="a video file, 'demo' (two faces, 640x480) or 'four-faces' (a generated "
                                         "1280x720 clip; default: a generated 512x512 one-face clip)")
    parser.add_argument("--detector", choices=("short_range", "full_range"),
                        help="face detector (default: short_range; full_range for four-faces)")
    parser.add_argument("--max-faces", type=int, default=4, help="faces tracked at once (default 4)")
    parser.add_argument("--every-frame", action="store_true",
                        help="classify every face on every frame (the emotion schedule off), for comparison")
    parser.add_argument("--mediapipe", nargs="?", const=MEDIAPIPE_PYTHON, type=Path, metavar="PYTHON",
                        help="also time MediaPipe's face mesh on the same clip with this Python "
                             f"(default {MEDIAPIPE_PYTHON.relative_to(REPO_ROOT)})")
    parser.add_argument("--frames", type=int, default=300, help="frames to time (default 300; fewer if the video ends)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first (default 10)")
    parser.add_argument("--pack", default=DEFAULT_PACK, help=f"filter pack to draw (default {DEFAULT_PACK})")
    parser.add_argument("--snapshot", type=Path, metavar="PNG", help="save the last rendered frame here, to look at")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the full report as JSON")
    arguments = parser.parse_args()
    if arguments.frames < 1 or arguments.warmup < 0:
        parser.error("--frames must be at least 1 and --warmup at least 0")

    with tempfile.TemporaryDirectory(prefix="arfilter-bench-") as folder:
        source_spec = arguments.source
        if source_spec is not None and Path(source_spec).exists():
            source_spec = str(Path(source_spec).resolve())  # the start-up probe runs from the repository root
        seconds = max(10.0, math.ceil((arguments.frames + arguments.warmup) / 30.0))
        if source_spec is None:
            source_spec = str(make_clip(Path(folder), seconds))
        elif source_spec == "four-faces":
            source_spec = str(make_clip(Path(folder), seconds, faces=4))
        detector: DetectorModel = arguments.detector or ("full_range" if arguments.source == "four-faces" else "short_range")
        tracker = TrackerOptions(max_faces=arguments.max_faces, detector=FaceDetectorOptions(model=detector))
        schedule = EmotionScheduleOptions(classify_hz=0.0) if arguments.every_frame else EmotionScheduleOptions()
        options = LensOptions(pipeline=PipelineOptions(tracker=tracker, schedule=schedule), pack=arguments.pack)
        try:
            startup = measure_startup(source_spec, arguments.pack)
            run = run_frames(build_lens(options), source_spec, arguments.frames, arguments.warmup, arguments.snapshot,
                             Path(folder) / "out.jsonl")
            mediapipe = (run_mediapipe(arguments.mediapipe, source_spec, arguments.frames, arguments.warmup,
                                       arguments.max_faces) if arguments.mediapipe else None)
        except (ArfilterError, ValueError, RuntimeError) as error:
            parser.exit(1, f"bench.pipeline: {error}\n")
    faces = max(int(count) for count, number in run["faces_per_frame"].items() if number > run["frames_timed"] / 2)
    report = {
        "bench": "pipeline",
        "source": arguments.source or "generated 512x512 one-face clip",
        "pack": arguments.pack,
        "detector": detector,
        "emotion_schedule": "every frame" if arguments.every_frame else asdict(schedule),
        "warmup": arguments.warmup,
        "faces": faces,
        "machine": machine_context(),
        "run": run,
        "startup": startup,
        "mediapipe": mediapipe,
    }
    print_report(report)
    write_json(arguments.json, report)


if __name__ == "__main__":
    main()
