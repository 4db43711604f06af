"""Staging for the fault suites (tests/*/test_*faults.py): generated clips and packs, running the CLI
in-process or as a real process (with file-permission capabilities dropped where the test needs a user
that permissions stop), and checking outputs (digests, JSON lines, decodable frames).

Every fault case asserts the exit code, the one line the user sees, that every input is byte-identical
afterwards, and that every output is complete. Inputs are generated here, so the suites need no shared data.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.apps.cli import main

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"
CLIP_FRAMES = 120
CLIP_SIZE = (160, 120)



def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def one_error(code: int, err: list[str], *names: object, exit_code: int = 2) -> str:
    assert code == exit_code, err
    assert len(err) == 1, f"expected one stderr line, got {err}"
    assert err[0].startswith("arfilter: error: "), err
    for name in names:
        assert str(name) in err[0], err[0]
    return err[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def json_lines(path: Path) -> list[dict]:
    """Every line must parse: a torn or half-written line fails here."""
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the last line is incomplete"
    return [json.loads(line) for line in text.splitlines()]


def video_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"{path} does not open: not finalised"
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames


def write_clip(path: Path, fourcc: str = "mp4v", frames: int = CLIP_FRAMES) -> Path:
    """A clip with a face (the astronaut, small) and per-frame noise, so frames compress apart."""
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), CLIP_SIZE)
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 30.0, CLIP_SIZE)
    assert writer.isOpened()
    for _ in range(frames):
        noise = rng.integers(0, 24, face.shape, dtype=np.uint8)
        writer.write(cv2.add(face, noise))
    writer.release()
    return path


def damage(path: Path, start: float, stop: float, seed: int = 1) -> None:
    """Overwrite the bytes between fractions `start` and `stop` of the file with noise."""
    data = bytearray(path.read_bytes())
    first, last = int(len(data) * start), int(len(data) * stop)
    data[first:last] = np.random.default_rng(seed).integers(0, 256, last - first, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def decodable_frames(path: Path) -> int:
    """Frames OpenCV can decode when it keeps reading past failures up to the frame count."""
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    good = sum(1 for _ in range(count) if capture.read()[0])
    capture.release()
    return good


def rgba_png(path: Path, size: tuple[int, int] = (8, 8)) -> Path:
    Image.fromarray(np.full((size[1], size[0], 4), 255, np.uint8)).save(path)
    return path


def write_pack(folder: Path, name: str, images: list[str] | None = None, manifest: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    images = images if images is not None else ["dot.png"]
    layers = "".join(f'[[emotions.default.layers]]\nimage = "{image}"\nanchor = "nose_tip"\nscale = 1.0\n\n'
                     for image in images)
    (folder / "pack.toml").write_text(manifest if manifest is not None else f'name = "{name}"\n\n{layers}')
    for image in images:
        if "\\" not in image and "/" not in image and len(image.encode()) <= 255:
            rgba_png(folder / image)
    return folder


SETPRIV = shutil.which("setpriv")


def unprivileged_command(argv: list[str]) -> list[str]:
    """`argv` run by a user that file permissions stop; skips when this cannot be arranged."""
    if os.geteuid() != 0:
        return argv
    if SETPRIV is None:
        pytest.skip("running as root without setpriv: permissions do not stop root, so this case cannot be staged")
    return [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", "--", *argv]


def cli_process(*argv: object, env: dict[str, str] | None = None, privileged: bool = True) -> list[str]:
    command = [sys.executable, str(PROJECT_ROOT / "main.py"), *[str(arg) for arg in argv]]
    return command if privileged else unprivileged_command(command)


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", XDG_CONFIG_HOME=str(tmp_path / "config"),
                PYTHONPATH=str(PROJECT_ROOT))


def run_process(tmp_path: Path, *argv: object, privileged: bool = True) -> tuple[int, str, list[str]]:
    completed = subprocess.run(cli_process(*argv, privileged=privileged), capture_output=True, text=True,
                               env=subprocess_env(tmp_path), timeout=60)
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.returncode, completed.stdout, completed.stderr.splitlines()


def model_copy(tmp_path: Path, change, model_source: Path | None = None) -> Path:
    """A copy of the shipped emotion model whose metadata `change` edits; returns emotion.json."""
    from arfilter.resources import MODELS_DIR

    folder = tmp_path / "model"
    folder.mkdir()
    metadata = json.loads((MODELS_DIR / "emotion.json").read_text())
    shutil.copy(model_source or MODELS_DIR / metadata["model_file"], folder / metadata["model_file"])
    change(metadata)
    path = folder / "emotion.json"
    path.write_text(json.dumps(metadata))  # allow_nan: NaN is written as the bare token a broken export would write
    return path


def corrupt_pixels_keep_checksums(path: Path) -> None:
    """Scramble a PNG's compressed pixels but recompute the chunk CRCs: the header and the
    checksums verify, decoding fails. That is a pack only found broken when it is drawn."""
    data = bytearray(path.read_bytes())
    position = 8
    while position < len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = bytes(data[position + 4:position + 8])
        body = position + 8
        if kind == b"IDAT":
            data[body + 2:body + length] = b"\xff" * (length - 2)
            data[body + length:body + length + 4] = struct.pack(">I", zlib.crc32(data[position + 4:body + length]))
        position = body + length + 4
    path.write_bytes(bytes(data))


def messages(stderr: str) -> list[str]:
    """The stderr lines other than the progress lines a slow (loaded) machine prints every 2 s."""
    return [line for line in stderr.splitlines()
            if not re.match(r"\d+ frames, [\d.]+ frames/s$|\d+/\d+ frames \(\d+%\)", line)]
