"""The headless path stays light: no TensorFlow (training only) and no pygame (the window only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ASTRONAUT = PROJECT_ROOT / "tests" / "data" / "astronaut.png"

PROBE = """
import json, sys
from arfilter.apps.cli import main
code = main(sys.argv[1:])
heavy = sorted(name for name in ("tensorflow", "keras", "pygame") if name in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_a_headless_run_imports_neither_tensorflow_nor_pygame(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, "--source", str(ASTRONAUT), "--headless", "--json", str(out),
         "--record", str(tmp_path / "out.mp4"), "--out-dir", str(tmp_path / "images")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    assert report == {"code": 0, "heavy": []}
    assert len(out.read_text().splitlines()) == 1  # it did run: one frame processed and written
