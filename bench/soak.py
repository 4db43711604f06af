"""Soak: the real command line, headless on the demo with --record and --json, for N minutes.

    python3 -m bench.soak --minutes 10 [--sample-s 5] [--keep DIR] [--json out.json]

Runs `main.py --source demo --headless --record soak.mp4 --json soak.jsonl` in a child process,
samples its resident memory (RSS, from /proc) every few seconds, then stops it with SIGTERM,
the way `timeout`, `docker stop` or systemd would. Reports RSS at the start (the first sample
after the warm-up: models loaded, writers open), the middle and the end, the peak, and the
growth from start to end, against the target: flat within 10%. It also checks what a stopped
long run must leave behind: exit status 143, an MP4 that decodes to as many frames as the JSON
Lines file has lines (give or take the frame in flight), and every line parsing.

Linux only (RSS is read from /proc/PID/status).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2

from bench import REPO_ROOT, describe_context, format_table, machine_context, verdict, write_json

RSS_GROWTH_TARGET = 0.10
WARMUP_S = 20.0  # models loaded, first frames through, writers open: RSS before this is start-up


def rss_mb(pid: int) -> float | None:
    """Resident memory of process `pid` in MB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def count_video_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.isOpened() and capture.read()[0]:
        frames += 1
    capture.release()
    return frames


def parse_json_lines(path: Path) -> tuple[int, int]:
    """(lines that parse, lines that do not)."""
    good = bad = 0
    with path.open() as file:
        for line in file:
            try:
                json.loads(line)
                good += 1
            except ValueError:
                bad += 1
    return good, bad


def soak(minutes: float, sample_s: float, folder: Path) -> dict[str, Any]:
    record, json_path = folder / "soak.mp4", folder / "soak.jsonl"
    command = [sys.executable, str(REPO_ROOT / "main.py"), "--source", "demo", "--headless",
               "--record", str(record), "--json", str(json_path)]
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO_ROOT))
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    samples: list[tuple[float, float]] = []  # (seconds since start, RSS MB)
    deadline = start + minutes * 60.0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(min(sample_s, max(0.0, deadline - time.monotonic())))
        rss = rss_mb(process.pid)
        if rss is not None:
            samples.append((time.monotonic() - start, rss))
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    elapsed = time.monotonic() - start

    settled = [sample for sample in samples if sample[0] >= min(WARMUP_S, minutes * 60.0 / 10)] or samples
    first, middle, last = settled[0], settled[len(settled) // 2], settled[-1]
    lines, bad_lines = parse_json_lines(json_path) if json_path.exists() else (0, 0)
    frames = count_video_frames(record) if record.exists() else 0
    growth = (last[1] - first[1]) / first[1]
    return {
        "minutes": minutes,
        "elapsed_s": round(elapsed, 1),
        "rss_mb": {"start": round(first[1], 1), "start_at_s": round(first[0], 1),
                   "middle": round(middle[1], 1), "middle_at_s": round(middle[0], 1),
                   "end": round(last[1], 1), "end_at_s": round(last[0], 1),
                   "peak": round(max(rss for _, rss in settled), 1), "samples": len(samples)},
        "rss_growth": round(growth, 4),
        "rss_flat_within_10_percent": abs(growth) <= RSS_GROWTH_TARGET,
        "frames_processed": lines,
        "frames_per_s": round(lines / elapsed, 1),
        "json_lines_bad": bad_lines,
        "video_frames": frames,
        "video_bytes": record.stat().st_size if record.exists() else 0,
        "exit_code": process.returncode,
        "stderr_last_line": stderr.strip().splitlines()[-1] if stderr.strip() else "",
        "stopped_cleanly": (process.returncode == 128 + signal.SIGTERM and bad_lines == 0
                            and lines > 0 and lines <= frames <= lines + 1),
        "samples": [(round(t, 1), round(rss, 1)) for t, rss in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default: 10)")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between RSS samples (default: 5)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the recording and JSON here and keep them")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the full report here")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("bench.soak needs Linux (/proc) to read the child's RSS", file=sys.stderr)
        return 2
    context = machine_context()
    with tempfile.TemporaryDirectory(prefix="arfilter-soak-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        report = soak(args.minutes, args.sample_s, folder)
    rss = report["rss_mb"]
    assert isinstance(rss, dict)
    rows = [
        ("RSS start / middle / end", f"{rss['start']} / {rss['middle']} / {rss['end']} MB "
                                     f"(at {rss['start_at_s']:.0f} / {rss['middle_at_s']:.0f} / {rss['end_at_s']:.0f} s)",
         "", ""),
        ("RSS growth start->end", f"{100 * float(report['rss_growth']):+.1f}% (peak {rss['peak']} MB)", "<= 10%",
         verdict(bool(report["rss_flat_within_10_percent"]))),
        ("frames processed", f"{report['frames_processed']} ({report['frames_per_s']} frames/s)", "", ""),
        ("stopped by SIGTERM", f"exit {report['exit_code']}, video {report['video_frames']} frames "
                               f"({int(report['video_bytes']) / 1e6:.0f} MB), {report['json_lines_bad']} bad JSON lines",
         "143, playable, all parse", verdict(bool(report["stopped_cleanly"]))),
    ]
    print(f"soak: {args.minutes:g} min headless on the demo with --record and --json; {describe_context(context)}")
    print(format_table(("what", "result", "target", ""), rows))
    write_json(args.json, {"bench": "soak", "context": context, **report})
    return 0 if report["rss_flat_within_10_percent"] and report["stopped_cleanly"] else 1


if __name__ == "__main__":
    sys.exit(main())
