"""arfilter against a peer, whole process against whole process, on the same clip.

    python3 -m bench.peers                  # the generated 512x512 one-face clip, 10 s
    python3 -m bench.peers --source clip.mp4

Times `arfilter --source CLIP --headless --json OUT` and the PyPI `fer` package doing the same job
(bench/fer_reference.py: every frame through `FER().detect_emotions`, one JSON line per frame) as a
user would wait for them: wall clock from launch to exit, start-up included. fer needs its own
environment with TensorFlow (`python3 -m venv .venv-fer && .venv-fer/bin/pip install fer==22.5.1
"moviepy<2" tensorflow-cpu`). Target: arfilter at least 12x faster.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO_ROOT, describe_context, format_table, machine_context, verdict, write_json
from bench.pipeline import make_clip

FER_PYTHON = REPO_ROOT / ".venv-fer" / "bin" / "python"
TARGET_LEAD = 12.0


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return time.monotonic() - start, completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="a video file (default: the generated 512x512 one-face clip, 10 s)")
    parser.add_argument("--fer-python", type=Path, default=FER_PYTHON, help=f"fer's Python (default {FER_PYTHON})")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the report as JSON")
    arguments = parser.parse_args()
    if not arguments.fer_python.is_file():
        parser.exit(1, f"bench.peers: {arguments.fer_python} not found; make fer's environment first (see --help)\n")
    with tempfile.TemporaryDirectory(prefix="arfilter-bench-") as folder:
        clip = arguments.source or str(make_clip(Path(folder), 10.0))
        ours_s, ours = timed([sys.executable, "main.py", "--source", clip, "--headless", "--json", f"{folder}/ours.jsonl"])
        fer_s, fer = timed([str(arguments.fer_python), "bench/fer_reference.py", clip, f"{folder}/fer.jsonl"])
        for name, completed in (("arfilter", ours), ("fer", fer)):
            if completed.returncode != 0:
                parser.exit(1, f"bench.peers: {name} failed: {completed.stderr.strip().splitlines()[-1:]}\n")
        frames = json.loads(fer.stdout.strip().splitlines()[-1])["frames"]
        ours_faces = sum(len(json.loads(line)["faces"]) for line in Path(f"{folder}/ours.jsonl").read_text().splitlines())
        fer_faces = sum(len(json.loads(line)["faces"]) for line in Path(f"{folder}/fer.jsonl").read_text().splitlines())
    context = machine_context()
    lead = fer_s / ours_s
    report = {"bench": "peers", "source": arguments.source or "generated 512x512 one-face clip", "frames": frames,
              "machine": context, "arfilter_s": ours_s, "fer_s": fer_s, "lead": lead,
              "faces_found": {"arfilter": ours_faces, "fer": fer_faces}}
    print(f"peers bench: {report['source']}, {frames} frames, whole process (start-up included)")
    print(describe_context(context))
    print(format_table(("process", "wall s", "frames/s", "faces found"), [
        ("arfilter --headless --json", f"{ours_s:.1f}", f"{frames / ours_s:.1f}", ours_faces),
        ("fer 22.5.1 detect_emotions", f"{fer_s:.1f}", f"{frames / fer_s:.1f}", fer_faces),
    ]))
    print(f"\narfilter's lead: {lead:.1f}x; target >= {TARGET_LEAD:g}x: {verdict(lead >= TARGET_LEAD)}")
    write_json(arguments.json, report)


if __name__ == "__main__":
    main()
